"""Small models that show what a summary does with shared modules and several inputs.

Each is a ``module:factory`` for the command line, e.g.
``neuralab summary neuralab.arch.summary_examples:shared_linear --input 10``.
"""

from __future__ import annotations

import torch
from torch import nn


class SharedLinear(nn.Module):
    """One Linear(10, 10) applied twice (weight sharing): 10 * 10 + 10 = 110 parameters, not 220."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(10, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.fc(x)))


class SharedConv(nn.Module):
    """One 3x3 convolution applied three times, then a classifier: receptive fields 3, 5, 7."""

    def __init__(self, channels: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, channels, 1)
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for _ in range(3):
            x = torch.relu(self.conv(x))
        return self.fc(self.pool(x).flatten(1))


class ImageAndFeatures(nn.Module):
    """Two inputs: an image through a conv, a vector of 10 features through a linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.features = nn.Linear(10, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, image: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        pooled = self.conv(image).mean((2, 3))  # (N, 8)
        return self.head(torch.relu(pooled + self.features(features)))


def shared_linear() -> nn.Module:
    """Return :class:`SharedLinear`."""
    return SharedLinear()


def shared_conv() -> nn.Module:
    """Return :class:`SharedConv` for 1-channel images."""
    return SharedConv()


def image_and_features() -> nn.Module:
    """Return :class:`ImageAndFeatures` (inputs 3xHxW and 10)."""
    return ImageAndFeatures()


__all__ = [
    "ImageAndFeatures",
    "SharedConv",
    "SharedLinear",
    "image_and_features",
    "shared_conv",
    "shared_linear",
]
