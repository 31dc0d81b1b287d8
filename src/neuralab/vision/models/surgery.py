"""Fit a network made for other data to this data set: its classifier head and its first layer.

A classification network ends in a classifier: a ``Linear(features, 1000)`` for ImageNet
(``fc`` in ResNet, ``classifier[-1]`` in MobileNet / EfficientNet / ConvNeXt, ``heads.head`` in
ViT, ``head`` in Swin), or a 1 x 1 convolution to 1000 channels (SqueezeNet). The generic rule
that finds all of these: a ``head_name`` attribute of the model if it has one, else the last
``nn.Linear`` or ``nn.Conv2d`` registered (``named_modules`` order, which is the order
``__init__`` created them, classifier last). It is replaced by a fresh layer of the same shape
with K outputs. The first convolution is rebuilt for C != 3 input channels.
"""

from __future__ import annotations

import torch
from torch import nn

from neuralab.errors import NeuralabError


def classifier_path(net: nn.Module) -> str:
    """Return the dotted name of ``net``'s classifier head (see the module docstring)."""
    head_name = getattr(net, "head_name", None)
    if isinstance(head_name, str):
        return head_name
    last = None
    for name, module in net.named_modules():
        if isinstance(module, nn.Linear | nn.Conv2d) and name:
            last = name
    if last is None:
        raise NeuralabError(
            f"{type(net).__name__} has no nn.Linear or nn.Conv2d layer to use as its classifier "
            "head; give the model a head_name attribute naming it"
        )
    return last


def replace_classifier(net: nn.Module, num_classes: int) -> str:
    """Return the head's dotted name after replacing it by a fresh layer with ``num_classes`` outputs.

    A ``Linear(in, old)`` becomes ``Linear(in, K)``; a ``Conv2d(in, old, k)`` becomes
    ``Conv2d(in, K, k)`` with the same stride and padding. Weights are PyTorch's default init.
    """
    path = classifier_path(net)
    old = net.get_submodule(path)
    new: nn.Module
    if isinstance(old, nn.Linear):
        new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    elif isinstance(old, nn.Conv2d):
        new = nn.Conv2d(
            old.in_channels,
            num_classes,
            old.kernel_size,  # type: ignore[arg-type]
            stride=old.stride,  # type: ignore[arg-type]
            padding=old.padding,  # type: ignore[arg-type]
            bias=old.bias is not None,
        )
    else:
        raise NeuralabError(
            f"the head {path!r} of {type(net).__name__} is a {type(old).__name__}, "
            "not an nn.Linear or nn.Conv2d"
        )
    net.set_submodule(path, new.to(_device_of(old)))
    return path


def adapt_input_channels(net: nn.Module, channels: int, *, keep_weights: bool) -> None:
    """Rebuild the first 3-channel convolution of ``net`` for ``channels`` input channels.

    With ``keep_weights`` (pretrained weights) the new filters are the old RGB filters summed
    over the colour axis, divided by C for C > 1: a grey image (C = 1) sees the luminance
    filter, and C copies of one image give the same response as that image in RGB.
    """
    if channels == 3:
        return
    for name, module in net.named_modules():
        if isinstance(module, nn.Conv2d) and module.in_channels == 3 and module.groups == 1:
            new = nn.Conv2d(
                channels,
                module.out_channels,
                module.kernel_size,  # type: ignore[arg-type]
                stride=module.stride,  # type: ignore[arg-type]
                padding=module.padding,  # type: ignore[arg-type]
                dilation=module.dilation,  # type: ignore[arg-type]
                bias=module.bias is not None,
            ).to(_device_of(module))
            if keep_weights:
                with torch.no_grad():
                    summed = module.weight.sum(dim=1, keepdim=True)
                    new.weight.copy_(summed.repeat(1, channels, 1, 1))
                    new.weight.mul_(1.0 / channels if channels > 1 else 1.0)
                    if module.bias is not None and new.bias is not None:
                        new.bias.copy_(module.bias)
            net.set_submodule(name, new)
            return
    raise NeuralabError(
        f"{type(net).__name__} has no 3-channel first convolution to adapt to {channels} "
        "channels; give 3-channel images (e.g. --image-size with an RGB data set)"
    )


def _device_of(module: nn.Module) -> torch.device:
    for parameter in module.parameters():
        return parameter.device
    return torch.device("cpu")
