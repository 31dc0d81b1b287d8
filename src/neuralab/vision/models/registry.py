"""The model registry: ``get_model(name, num_classes=..., input_shape=...)`` for image classifiers.

========================  =====================================================================
name                      model
========================  =====================================================================
``cnn``                   the course CNN: stages of [conv k x k -> batch norm -> activation] x 2
                          then 2 x 2 max-pool, widths 32-64-128, then dropout -> fc 256 -> fc K
``fast``                  airbench's block layout for time to accuracy on a CPU: blocks of conv
                          -> 2 x 2 max-pool -> bn -> GELU -> conv -> bn -> GELU, widths 24-48-96,
                          global max-pool, linear / 9 (the ``fast`` recipe's model)
``mlp``                   flatten -> fully connected hidden layers -> K outputs
``spec:<spec>``           any network in the layer spec language (``neuralab.arch.spec``)
``resnet18``              torchvision's ResNet-18, classifier replaced by a new Linear(512, K);
                          ``pretrained`` (ImageNet weights, downloaded by torchvision) or
                          ``weights=FILE|ENUM``; inputs smaller than ``min_size`` (64) are
                          upsampled on the device
``plain`` / ``residual``  CIFAR-style networks of depth 6n + 2 (He et al. 2016, section 4.2),
                          the same widths with and without identity shortcuts
any torchvision name      ``resnet50``, ``vit_b_16``, ... with ``weights=ResNet50_Weights.X`` or a
                          file; ``timm:NAME``; ``package.module:factory`` (:mod:`.external`)
========================  =====================================================================

One module per family (:mod:`.cnn`, :mod:`.fast`, :mod:`.mlp`, :mod:`.spec`, :mod:`.resnet`,
:mod:`.cifar`, :mod:`.external`); every builder is keyword-only (``*, num_classes, input_shape, ...options``),
so unknown options are refused with the list of valid ones. ``freeze_backbone=True`` works for
every model: all parameters outside the classifier head (found by :mod:`.heads`) stop training.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from neuralab.arch.model_memory import build_within_limit
from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.registry import Registry
from neuralab.theory.initialization import init_weights
from neuralab.vision.models.cifar import plain, residual
from neuralab.vision.models.cnn import CourseCNN
from neuralab.vision.models.external import (
    TIMM_PREFIX,
    factory_classifier,
    timm_classifier,
    torchvision_classifier,
    torchvision_names,
)
from neuralab.vision.models.fast import fast_cnn
from neuralab.vision.models.heads import backbone_parameters
from neuralab.vision.models.mlp import mlp
from neuralab.vision.models.resnet import resnet18
from neuralab.vision.models.spec import spec_model

ModelBuilder = Callable[..., nn.Module]
SPEC_PREFIX = "spec:"
_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
# the course's own models: weights files and ImageNet names are for the networks from outside
COURSE_MODELS = ("cnn", "mlp", "plain", "residual")


def _table() -> Registry[ModelBuilder]:
    table: Registry[ModelBuilder] = Registry("model")
    for name, builder in (
        ("cnn", CourseCNN),
        ("fast", fast_cnn),
        ("mlp", mlp),
        ("resnet18", resnet18),
        ("plain", plain),
        ("residual", residual),
    ):
        table.add(name, builder)
    return table


_MODELS = _table()


def get_model(
    name: str,
    *,
    num_classes: int,
    input_shape: Sequence[int],
    init: str | None = None,
    **options: Any,
) -> nn.Module:
    """Return a fresh model ``name`` for ``num_classes`` classes and inputs of ``input_shape`` (C, H, W).

    ``init`` re-initialises every linear and convolution layer with a scheme from
    :mod:`neuralab.theory.initialization` (not allowed with pretrained weights).
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise NeuralabError(f"input shape {shape} must be (C, H, W) with positive sizes")
    if num_classes < 2:
        raise NeuralabError(f"a classifier needs at least 2 classes, got {num_classes}")
    freeze_backbone = bool(options.pop("freeze_backbone", False))
    if name.startswith(SPEC_PREFIX):
        model = spec_model(name[len(SPEC_PREFIX) :], num_classes=num_classes, input_shape=shape)
        if options:
            raise NeuralabError(
                f"spec models take no options (got {sorted(options)}); write them in the spec"
            )
    else:
        builder = model_builder(name)
        valid = [
            p
            for p in inspect.signature(builder).parameters
            if p not in ("num_classes", "input_shape", "source", "name")
        ]
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise NeuralabError(
                f"model {name!r} has no option {', '.join(map(repr, unknown))} "
                f"(valid: {', '.join(valid) or 'none'})"
            )
        if options.get("pretrained") or options.get("weights"):
            model = builder(num_classes=num_classes, input_shape=shape, **options)
        else:  # a width or an image size typed wrong is refused before it is allocated
            model = build_within_limit(
                lambda: builder(num_classes=num_classes, input_shape=shape, **options),
                shape,
                f"model {name}",
            )
    if init is not None:
        if options.get("pretrained") or options.get("weights"):
            raise NeuralabError("init cannot be combined with pretrained weights")
        init_weights(model, init)
    if freeze_backbone:
        for parameter in backbone_parameters(model):
            parameter.requires_grad_(False)
    return model


def model_builder(name: str) -> ModelBuilder:
    """Return the builder of ``name``: a course model, timm:NAME, module:factory or torchvision."""
    if name in _MODELS:
        return _MODELS.get(name)
    if name.startswith(TIMM_PREFIX):
        return functools.partial(timm_classifier, name[len(TIMM_PREFIX) :])
    if _FACTORY.match(name):
        return functools.partial(factory_classifier, name)
    if name in torchvision_names():
        return functools.partial(torchvision_classifier, name)
    raise unknown_model_error(name)


def unknown_model_error(name: str) -> NeuralabError:
    """Return the error for an unknown model: close names among all, then the forms accepted."""
    error = unknown_name_error("model", name, [*_MODELS.names(), *torchvision_names()])
    message = str(error).split(" (valid:")[0]
    return NeuralabError(
        f"{message} (valid: {', '.join(_MODELS.names())}, spec:<spec>, any torchvision "
        "classification model, timm:<name>, package.module:factory)"
    )


def is_model_name(name: str) -> bool:
    """Return whether ``name`` names a model (course, spec:, timm:, module:factory, torchvision)."""
    return (
        name in _MODELS
        or name.startswith((SPEC_PREFIX, TIMM_PREFIX))
        or bool(_FACTORY.match(name))
        or name in torchvision_names()
    )


def list_models() -> list[str]:
    """Return the registered model names (plus the ``spec:<spec>`` form)."""
    return [*_MODELS.names(), "spec:<spec>"]
