"""The model registry: ``get_model(name, num_classes=..., input_shape=...)`` for image classifiers.

========================  =====================================================================
name                      model
========================  =====================================================================
``cnn``                   the course CNN: stages of [conv k x k -> batch norm -> activation] x 2
                          then 2 x 2 max-pool, widths 32-64-128, then dropout -> fc 256 -> fc K
``mlp``                   flatten -> fully connected hidden layers -> K outputs
``spec:<spec>``           any network in the layer spec language (``neuralab.arch.spec``)
``resnet18``              torchvision's ResNet-18, classifier replaced by a new Linear(512, K);
                          ``pretrained`` (ImageNet weights, downloaded by torchvision) or
                          ``weights=FILE`` (a local file), ``freeze_backbone``; inputs smaller
                          than ``min_size`` are upsampled on the device
``plain`` / ``residual``  CIFAR-style networks of depth 6n + 2 (He et al. 2016, section 4.2),
                          the same widths with and without identity shortcuts
========================  =====================================================================

One module per family (:mod:`.cnn`, :mod:`.mlp`, :mod:`.spec`, :mod:`.resnet`, :mod:`.cifar`);
every builder is keyword-only (``*, num_classes, input_shape, ...options``), so unknown options
are refused with the list of valid ones. The classifier head is found by :mod:`.heads`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from neuralab.errors import NeuralabError
from neuralab.registry import Registry
from neuralab.theory.initialization import init_weights
from neuralab.vision.models.cifar import plain, residual
from neuralab.vision.models.cnn import CourseCNN
from neuralab.vision.models.mlp import mlp
from neuralab.vision.models.resnet import resnet18
from neuralab.vision.models.spec import spec_model

ModelBuilder = Callable[..., nn.Module]
SPEC_PREFIX = "spec:"


def _table() -> Registry[ModelBuilder]:
    table: Registry[ModelBuilder] = Registry("model")
    for name, builder in (
        ("cnn", CourseCNN),
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
    if name.startswith(SPEC_PREFIX):
        model = spec_model(name[len(SPEC_PREFIX) :], num_classes=num_classes, input_shape=shape)
        if options:
            raise NeuralabError(
                f"spec models take no options (got {sorted(options)}); write them in the spec"
            )
    else:
        builder = _MODELS.get(name)
        valid = [
            p
            for p in inspect.signature(builder).parameters
            if p not in ("num_classes", "input_shape")
        ]
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise NeuralabError(
                f"model {name!r} has no option {', '.join(map(repr, unknown))} "
                f"(valid: {', '.join(valid) or 'none'})"
            )
        model = builder(num_classes=num_classes, input_shape=shape, **options)
    if init is not None:
        if options.get("pretrained") or options.get("weights"):
            raise NeuralabError("init cannot be combined with pretrained weights")
        init_weights(model, init)
    return model


def list_models() -> list[str]:
    """Return the registered model names (plus the ``spec:<spec>`` form)."""
    return [*_MODELS.names(), "spec:<spec>"]
