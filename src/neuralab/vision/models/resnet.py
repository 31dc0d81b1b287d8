"""torchvision's ResNet-18 with a new classifier head, from random, ImageNet or local weights."""

from __future__ import annotations

from torch import nn

from neuralab.vision.models.external import torchvision_classifier


def resnet18(
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    pretrained: bool = False,
    weights: str | None = None,
    min_size: int = 64,
) -> nn.Module:
    """ResNet-18 with a new ``Linear(512, num_classes)`` head, inputs upsampled to ``min_size``.

    ``pretrained`` loads torchvision's ImageNet weights (``ResNet18_Weights.IMAGENET1K_V1``,
    downloaded on first use); ``weights`` is an enum name or a local file instead (a state dict,
    or a checkpoint holding one under ``"model"`` / ``"state_dict"``), for clusters without
    internet. The old classifier is dropped either way. Inputs with another channel count than 3
    get a new first convolution (pretrained: the RGB filters summed, so a grey image sees the
    luminance filter). The generic path for every torchvision model is :mod:`.external`; this
    name keeps the course's default of upsampling 32 x 32 signs to 64 x 64.
    """
    if pretrained and not weights:
        weights, pretrained = "ResNet18_Weights.IMAGENET1K_V1", False
    return torchvision_classifier(
        "resnet18",
        num_classes=num_classes,
        input_shape=input_shape,
        pretrained=pretrained,
        weights=weights,
        min_size=min_size,
    )
