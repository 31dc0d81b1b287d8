"""Networks from outside neuralab as classifiers for a data set: torchvision, timm, module:factory.

============================  ==================================================================
``--model``                   network
============================  ==================================================================
``resnet50``, ``vit_b_16``,   any torchvision classification model (``torchvision.models.
``convnext_tiny``, ...        list_models``), random or from ``--weights ResNet50_Weights.
                              IMAGENET1K_V2`` (torchvision's enum name) or ``--weights FILE``
``timm:NAME``                 a timm model (when timm is installed), ``--pretrained`` or a file
``package.module:factory``    a function (or ``nn.Module`` class) of your own code, called
                              without arguments
============================  ==================================================================

Each network is built without weights, given its weights (the old classifier's are dropped), its
classifier head replaced for K classes and its first convolution for C channels
(:mod:`.surgery`), then wrapped in :class:`Classifier`, which resizes small inputs on the device
to the smallest size the network takes (the weights' ``min_size``; ViT: its fixed image size).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.vision.models.surgery import adapt_input_channels, replace_classifier
from neuralab.vision.models.weights import (
    is_weights_enum,
    load_backbone,
    torchvision_weight,
    weights_state_dict,
)

TIMM_PREFIX = "timm:"


class ResizeInput(nn.Module):
    """Bilinear resize on the device: to ``exact`` x ``exact`` if set, else up to ``min_size``."""

    def __init__(self, min_size: int, exact: int | None = None) -> None:
        super().__init__()
        self.min_size, self.exact = min_size, exact

    def forward(self, x: Tensor) -> Tensor:
        # Python ints, so torch.jit.trace (export) records a fixed size rather than failing
        height, width = int(x.shape[-2]), int(x.shape[-1])
        if self.exact is not None:
            size = (self.exact, self.exact)
        elif min(height, width) >= self.min_size:
            return x
        else:
            factor = self.min_size / min(height, width)
            size = (round(height * factor), round(width * factor))
        if (height, width) == size:
            return x
        return nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)


class Classifier(nn.Module):
    """A network behind an on-device input resize; ``head_name`` names its new classifier.

    Networks that return several outputs in training mode (GoogLeNet's auxiliary logits) give
    their main logits only.
    """

    def __init__(self, net: nn.Module, head: str, min_size: int, exact: int | None = None) -> None:
        super().__init__()
        self.upsample = ResizeInput(min_size, exact)
        self.net = net
        self.head_name = f"net.{head}"

    def forward(self, x: Tensor) -> Tensor:
        out = self.net(self.upsample(x))
        if isinstance(out, Tensor):
            return out
        logits = getattr(out, "logits", None)
        return logits if isinstance(logits, Tensor) else out[0]


def torchvision_names() -> list[str]:
    """Return torchvision's classification model names."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def torchvision_classifier(
    name: str,
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    pretrained: bool = False,
    weights: str | None = None,
    min_size: int | None = None,
) -> nn.Module:
    """Return torchvision's ``name`` for ``num_classes`` classes and inputs of ``input_shape``.

    ``weights``: a torchvision enum name (``ResNet50_Weights.IMAGENET1K_V2``, downloaded once into
    ``$TORCH_HOME``) or a local file; ``pretrained``: the model's DEFAULT weights. ``min_size``:
    smaller inputs are upsampled on the device (default: the weights' minimum size).
    """
    import torchvision

    if pretrained and weights:
        raise NeuralabError("give either pretrained or weights=FILE|ENUM, not both")
    enum_class = torchvision.models.get_model_weights(name)
    if pretrained:
        weights = f"{enum_class.__name__}.{enum_class.DEFAULT.name}"
    meta = next(iter(enum_class)).meta
    if weights and is_weights_enum(weights):
        enum = torchvision_weight(weights)
        if type(enum) is not enum_class:
            raise NeuralabError(
                f"weights {weights} are for another model than {name} "
                f"(its weights: {', '.join(f'{enum_class.__name__}.{w.name}' for w in enum_class)})"
            )
        meta = enum.meta
    channels, height, width = input_shape
    smallest = int(meta.get("min_size", (1, 1))[0])
    kwargs: dict[str, Any] = {}
    exact = None
    builder = torchvision.models.get_model_builder(name)
    parameters = inspect.signature(builder).parameters
    if "image_size" in parameters or name.startswith("vit_"):
        # ViT's position embeddings fix its input size: pretrained, the weights' size; random,
        # the data's size rounded up to whole patches
        patch = int(name.rsplit("_", 1)[-1]) if name.rsplit("_", 1)[-1].isdigit() else 16
        exact = smallest if weights else patch * math.ceil(max(height, width) / patch)
        kwargs["image_size"] = exact
    if name in ("googlenet", "inception_v3"):  # no auxiliary heads to train
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = True
    net = torchvision.models.get_model(name, weights=None, **kwargs)
    return _finish(
        net,
        num_classes=num_classes,
        channels=channels,
        weights=weights,
        min_size=min_size if min_size is not None else smallest,
        exact=exact,
        strict_channels=True,
    )


def factory_classifier(
    source: str,
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    weights: str | None = None,
    min_size: int = 1,
) -> nn.Module:
    """Return the network of ``package.module:factory`` with its head replaced for K classes."""
    from neuralab.arch.model_source import load_model

    net = load_model(source, input_shape, check=False)
    return checked(
        _finish(
            net,
            num_classes=num_classes,
            channels=input_shape[0],
            weights=weights,
            min_size=min_size,
            exact=None,
            strict_channels=False,
        ),
        input_shape,
    )


def timm_classifier(
    name: str,
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    pretrained: bool = False,
    weights: str | None = None,
    min_size: int = 1,
) -> nn.Module:
    """Return timm's ``name`` built by timm for K classes and C channels (timm adapts both)."""
    try:
        import timm
    except ImportError:
        raise NeuralabError(
            f"model {TIMM_PREFIX}{name} needs timm: pip install timm (or neuralab[timm])"
        ) from None
    if weights and is_weights_enum(weights):
        raise NeuralabError(f"{weights} names torchvision weights; timm models take a file")
    if name not in timm.list_models():
        from neuralab.errors import unknown_name_error

        raise unknown_name_error("timm model", name, timm.list_models())
    channels = input_shape[0]
    if not weights:  # timm builds the head for K classes and the stem for C channels itself
        try:
            net = timm.create_model(
                name, pretrained=pretrained, num_classes=num_classes, in_chans=channels
            )
        except (RuntimeError, OSError, ValueError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise NeuralabError(
                f"timm cannot build {name} with its pretrained weights: "
                f"{type(error).__name__}: {first}"
            ) from None
        return checked(Classifier(net, _timm_head(net), min_size), input_shape)
    # a weights file is read here, with weights_only=True, as for every other model
    net = timm.create_model(name, pretrained=False)
    setattr(net, "head_name", _timm_head(net))  # noqa: B010 (nn.Module types attributes as tensors)
    model = _finish(
        net,
        num_classes=num_classes,
        channels=channels,
        weights=weights,
        min_size=min_size,
        exact=None,
        strict_channels=False,
    )
    return checked(model, input_shape)


def _timm_head(net: Any) -> str:
    classifier = net.get_classifier()
    return next(n for n, m in net.named_modules() if m is classifier)


def _finish(
    net: nn.Module,
    *,
    num_classes: int,
    channels: int,
    weights: str | None,
    min_size: int,
    exact: int | None,
    strict_channels: bool,
) -> Classifier:
    from neuralab.vision.models.surgery import classifier_path

    if weights:
        state = weights_state_dict(weights)
        load_backbone(net, state, head=classifier_path(net), source=weights)
    head = replace_classifier(net, num_classes)
    if channels != 3:
        first_rgb = any(
            isinstance(m, nn.Conv2d) and m.in_channels == 3 and m.groups == 1 for m in net.modules()
        )
        if strict_channels or first_rgb:
            adapt_input_channels(net, channels, keep_weights=bool(weights))
    return Classifier(net, head, min_size, exact)


def checked(model: nn.Module, input_shape: tuple[int, int, int]) -> nn.Module:
    """Return ``model`` after one forward pass on zeros of ``input_shape``; a misfit is one line.

    A network of unknown make (a factory, timm) may need larger inputs than the data's: the
    layer and the sizes are named here, with ``--image-size`` as the way out.
    """
    from neuralab.arch.model_source import checked_forward

    try:
        checked_forward(model, input_shape)
    except NeuralabError as error:
        raise NeuralabError(f"{error} (resize the data with --image-size)") from None
    return model
