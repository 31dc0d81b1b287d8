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

Every builder is keyword-only (``*, num_classes, input_shape, ...options``), so unknown options
are refused with the list of valid ones. The classifier head of a model is named by its
``head_name`` attribute (default: the last ``nn.Linear``), which the trainer uses to give the
backbone a lower learning rate when fine-tuning.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.registry import Registry
from neuralab.theory.activations import activation_module
from neuralab.theory.initialization import init_weights

ModelBuilder = Callable[..., nn.Module]
_MODELS: Registry[ModelBuilder] = Registry("model")
SPEC_PREFIX = "spec:"


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
        model = _spec_model(name[len(SPEC_PREFIX) :], num_classes=num_classes, input_shape=shape)
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


def head_module(model: nn.Module) -> nn.Module:
    """Return the classifier head: ``model.head_name`` if set, else the last ``nn.Linear``."""
    head_name = getattr(model, "head_name", None)
    if isinstance(head_name, str):
        return model.get_submodule(head_name)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise NeuralabError(f"{type(model).__name__} has no nn.Linear head")
    return linears[-1]


def head_parameters(model: nn.Module) -> Iterator[nn.Parameter]:
    """Yield the parameters of the classifier head."""
    yield from head_module(model).parameters()


def backbone_parameters(model: nn.Module) -> Iterator[nn.Parameter]:
    """Yield every parameter that is not in the classifier head."""
    head = {id(p) for p in head_module(model).parameters()}
    for parameter in model.parameters():
        if id(parameter) not in head:
            yield parameter


# -- the course CNN -------------------------------------------------------------------------


class CourseCNN(nn.Module):
    """Stages of [conv -> (bn) -> activation] x ``convs_per_stage`` -> pool, then a dense head.

    Convolutions keep the size (padding k // 2); each stage halves H and W with a 2 x 2 pool
    while the map is at least 2 x 2, so the same network runs on 8 x 8 digits and 32 x 32 signs.
    """

    def __init__(
        self,
        *,
        num_classes: int,
        input_shape: tuple[int, int, int],
        widths: Sequence[int] = (32, 64, 128),
        convs_per_stage: int = 2,
        kernel_size: int = 3,
        batch_norm: bool = True,
        dropout: float = 0.3,
        activation: str = "relu",
        pool: str = "max",
        hidden: int = 256,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise NeuralabError(f"kernel_size must be odd and >= 1, got {kernel_size}")
        if not 0 <= dropout < 1:
            raise NeuralabError(f"dropout must be in [0, 1), got {dropout}")
        if pool not in ("max", "avg"):
            raise NeuralabError(f"pool must be 'max' or 'avg', got {pool!r}")
        if not widths or min(widths) < 1 or convs_per_stage < 1:
            raise NeuralabError(f"widths {tuple(widths)} and convs_per_stage must be positive")
        channels, height, width = input_shape
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for stage, out_channels in enumerate(widths, start=1):
            for index in range(1, convs_per_stage + 1):
                suffix = f"{stage}_{index}"
                layers[f"conv{suffix}"] = nn.Conv2d(
                    channels,
                    out_channels,
                    kernel_size,
                    padding=kernel_size // 2,
                    bias=not batch_norm,
                )
                if batch_norm:
                    layers[f"bn{suffix}"] = nn.BatchNorm2d(out_channels)
                layers[f"act{suffix}"] = activation_module(activation)
                channels = out_channels
            if height >= 2 and width >= 2:
                pool_layer = nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)
                layers[f"pool{stage}"] = pool_layer
                height, width = height // 2, width // 2
        self.features = nn.Sequential(layers)
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                dropout1=nn.Dropout(dropout),
                fc1=nn.Linear(channels * height * width, hidden),
                act=activation_module(activation),
                dropout2=nn.Dropout(dropout),
                fc2=nn.Linear(hidden, num_classes),
            )
        )
        self.head_name = "classifier.fc2"

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))  # (B, C, H, W) -> (B, K)


_MODELS.add("cnn", CourseCNN)


@_MODELS.register("mlp")
def mlp(
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    hidden: Sequence[int] = (256, 128),
    activation: str = "relu",
    dropout: float = 0.0,
) -> nn.Module:
    """Flatten -> [Linear -> activation -> dropout] per hidden size -> Linear(K)."""
    if not hidden or min(hidden) < 1:
        raise NeuralabError(f"hidden sizes must be positive integers, got {tuple(hidden)}")
    layers: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
    features = input_shape[0] * input_shape[1] * input_shape[2]
    for index, size in enumerate(hidden, start=1):
        layers[f"fc{index}"] = nn.Linear(features, size)
        layers[f"act{index}"] = activation_module(activation)
        if dropout:
            layers[f"dropout{index}"] = nn.Dropout(dropout)
        features = size
    layers["head"] = nn.Linear(features, num_classes)
    return nn.Sequential(layers)


def _spec_model(spec: str, *, num_classes: int, input_shape: tuple[int, int, int]) -> nn.Module:
    from neuralab.arch.spec import build_model

    model = build_model(spec, input_shape)
    with torch.no_grad():
        was_training = model.training
        model.eval()
        output = model(torch.zeros(1, *input_shape))
        model.train(was_training)
    if output.dim() != 2 or output.shape[1] != num_classes:
        raise NeuralabError(
            f"spec {spec!r} ends with output shape {tuple(output.shape[1:])}, "
            f"but the data set has {num_classes} classes: end the spec with fc({num_classes})"
        )
    return model


# -- ResNet-18 ------------------------------------------------------------------------------


class _UpsampleSmall(nn.Module):
    """Bilinear upsampling of inputs smaller than ``min_size`` (runs on the model's device)."""

    def __init__(self, min_size: int) -> None:
        super().__init__()
        self.min_size = min_size

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        if min(height, width) >= self.min_size:
            return x
        factor = self.min_size / min(height, width)
        size = (round(height * factor), round(width * factor))
        return nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ResNet18Classifier(nn.Module):
    """torchvision's ResNet-18 behind an on-device upsampler, with a new classifier head."""

    def __init__(self, net: nn.Module, min_size: int) -> None:
        super().__init__()
        self.upsample = _UpsampleSmall(min_size)
        self.net = net
        self.head_name = "net.fc"

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.upsample(x))


@_MODELS.register("resnet18")
def resnet18(
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    pretrained: bool = False,
    weights: str | None = None,
    freeze_backbone: bool = False,
    min_size: int = 64,
) -> nn.Module:
    """ResNet-18 with a new ``Linear(512, num_classes)`` head.

    ``pretrained`` loads torchvision's ImageNet weights (downloaded on first use); ``weights``
    loads them from a local file instead (a state dict, or a checkpoint holding one under
    ``"model"`` / ``"state_dict"``), for clusters without internet. The old classifier is
    dropped either way. Inputs with another channel count than 3 get a new first convolution
    (pretrained: the RGB filters summed, so a grey image sees the luminance filter).
    """
    import torchvision

    if pretrained and weights:
        raise NeuralabError("give either pretrained or weights=FILE, not both")
    tv_weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1 if pretrained else None
    net = torchvision.models.resnet18(weights=tv_weights)
    if weights:
        _load_backbone_weights(net, Path(weights))
    channels = input_shape[0]
    if channels != 3:
        old = net.conv1
        net.conv1 = nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        if pretrained or weights:
            with torch.no_grad():
                net.conv1.weight.copy_(
                    old.weight.sum(dim=1, keepdim=True).repeat(1, channels, 1, 1)
                )
                net.conv1.weight.mul_(1.0 / channels if channels > 1 else 1.0)
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    model = ResNet18Classifier(net, min_size)
    if freeze_backbone:
        for parameter in backbone_parameters(model):
            parameter.requires_grad_(False)
    return model


def _load_backbone_weights(net: nn.Module, path: Path) -> None:
    if not path.is_file():
        raise NeuralabError(f"weights file {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 (any unpickling failure means a bad file)
        raise NeuralabError(
            f"weights file {str(path)!r} cannot be read as PyTorch weights: {error}"
        ) from None
    if isinstance(state, dict):
        for key in ("model", "state_dict"):
            if isinstance(state.get(key), dict):
                state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise NeuralabError(f"weights file {str(path)!r} does not hold a state dict of tensors")
    state = {
        k.removeprefix("net."): v for k, v in state.items() if not k.startswith(("fc.", "net.fc."))
    }
    expected = {k for k in net.state_dict() if not k.startswith("fc.")}
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        raise NeuralabError(
            f"weights file {str(path)!r} is not a ResNet-18 backbone: "
            f"{len(missing)} missing keys (e.g. {missing[:2]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:2]})"
        )
    try:
        net.load_state_dict(state, strict=False)
    except RuntimeError as error:
        raise NeuralabError(f"weights file {str(path)!r} does not fit ResNet-18: {error}") from None


# -- plain and residual CIFAR-style networks -------------------------------------------------


class _Block(nn.Module):
    """Two 3 x 3 conv-bn layers; ``residual`` adds the (projected) input before the last ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU()
        self.residual = residual
        self.shortcut: nn.Module = nn.Identity()
        if residual and (stride != 1 or in_channels != out_channels):
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + self.shortcut(x)
        return self.relu2(out)


class CifarNet(nn.Module):
    """Depth 6n + 2: a 3 x 3 conv, three stages of n blocks (widths w, 2w, 4w), GAP, fc."""

    def __init__(
        self, *, num_classes: int, in_channels: int, depth: int, width: int, residual: bool
    ) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6 != 0:
            raise NeuralabError(
                f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 56, ...), got {depth}"
            )
        blocks = (depth - 2) // 6
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        stages: list[nn.Module] = []
        channels = width
        for stage, out_channels in enumerate((width, 2 * width, 4 * width)):
            for index in range(blocks):
                stride = 2 if stage > 0 and index == 0 else 1
                stages.append(_Block(channels, out_channels, stride, residual))
                channels = out_channels
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        self.head_name = "fc"

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


@_MODELS.register("plain")
def plain(
    *, num_classes: int, input_shape: tuple[int, int, int], depth: int = 20, width: int = 16
) -> nn.Module:
    """A plain (no shortcut) CIFAR-style network of ``depth`` = 6n + 2 layers."""
    return CifarNet(
        num_classes=num_classes,
        in_channels=input_shape[0],
        depth=depth,
        width=width,
        residual=False,
    )


@_MODELS.register("residual")
def residual(
    *, num_classes: int, input_shape: tuple[int, int, int], depth: int = 20, width: int = 16
) -> nn.Module:
    """A residual CIFAR-style network (ResNet-20/56/...) of ``depth`` = 6n + 2 layers."""
    return CifarNet(
        num_classes=num_classes, in_channels=input_shape[0], depth=depth, width=width, residual=True
    )
