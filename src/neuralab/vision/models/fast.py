"""The fast CNN: airbench's block layout, narrowed for a laptop CPU (``get_model("fast", ...)``).

Each block is conv 3x3 -> 2x2 max-pool -> batch norm -> GELU -> conv 3x3 -> batch norm -> GELU
(Keller Jordan's airbench CIFAR-10 networks): pooling right after the block's first convolution
runs its second convolution on a quarter of the pixels, so three blocks cost about half the
multiply-accumulates of the course CNN at the same widths. The head is a global max-pool and one
linear layer whose logits are scaled by 1 / ``temperature`` (airbench: 1/9), which keeps the
softmax soft while the pooled features are large.

MACs per 32x32x3 image with the default widths (24, 48, 96), each conv C_in * 9 * C_out * H * W:
0.66M + 1.33M (block 1, its convs at 32x32 then 16x16), 2.65M + 1.33M (block 2), 2.65M + 1.33M
(block 3): 10M, against 38M for the course CNN (32-64-128, two convolutions per stage).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.theory.activations import activation_module


class FastCNN(nn.Module):
    """Blocks of [conv -> pool -> bn -> act -> conv -> bn -> act], global max-pool, linear / T."""

    def __init__(
        self,
        *,
        num_classes: int,
        input_shape: tuple[int, int, int],
        widths: Sequence[int] = (24, 48, 96),
        activation: str = "gelu",
        temperature: float = 9.0,
        batch_norm: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not widths or min(widths) < 1:
            raise NeuralabError(f"widths must be positive channel counts, got {tuple(widths)}")
        if temperature <= 0:
            raise NeuralabError(f"temperature must be > 0, got {temperature}")
        if not 0 <= dropout < 1:
            raise NeuralabError(f"dropout must be in [0, 1), got {dropout}")
        channels, height, width = input_shape
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for block, out_channels in enumerate(widths, start=1):
            layers[f"conv{block}_1"] = nn.Conv2d(channels, out_channels, 3, padding=1, bias=False)
            if height >= 2 and width >= 2:  # 8x8 digits run out of pixels before the blocks do
                layers[f"pool{block}"] = nn.MaxPool2d(2)
                height, width = height // 2, width // 2
            for index in (1, 2):
                if index == 2:
                    layers[f"conv{block}_2"] = nn.Conv2d(
                        out_channels, out_channels, 3, padding=1, bias=False
                    )
                layers[f"bn{block}_{index}"] = (
                    nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
                )
                layers[f"act{block}_{index}"] = activation_module(activation)
            channels = out_channels
        self.features = nn.Sequential(layers)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes, bias=False)
        self.temperature = temperature
        self.head_name = "fc"

    def forward(self, x: Tensor) -> Tensor:
        features = torch.flatten(self.pool(self.features(x)), 1)  # (B, C, H, W) -> (B, C_last)
        return self.fc(self.dropout(features)) / self.temperature  # (B, K)


def fast_cnn(
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    widths: Sequence[int] = (24, 48, 96),
    activation: str = "gelu",
    batch_norm: bool = True,
    dropout: float = 0.0,
) -> nn.Module:
    """Return a :class:`FastCNN` (the registry's ``fast``; options as ``TrainConfig`` names them)."""
    return FastCNN(
        num_classes=num_classes,
        input_shape=input_shape,
        widths=widths,
        activation=activation,
        batch_norm=batch_norm,
        dropout=dropout,
    )
