"""torchvision's ResNet-18 with a new classifier head, from random, ImageNet or local weights."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.vision.models.heads import backbone_parameters


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
