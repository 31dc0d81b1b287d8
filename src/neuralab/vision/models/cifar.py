"""Plain and residual CIFAR-style networks of depth 6n + 2 (He et al. 2016, section 4.2)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError


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


def residual(
    *, num_classes: int, input_shape: tuple[int, int, int], depth: int = 20, width: int = 16
) -> nn.Module:
    """A residual CIFAR-style network (ResNet-20/56/...) of ``depth`` = 6n + 2 layers."""
    return CifarNet(
        num_classes=num_classes, in_channels=input_shape[0], depth=depth, width=width, residual=True
    )
