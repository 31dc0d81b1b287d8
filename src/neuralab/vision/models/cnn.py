"""The course CNN: stages of [conv k x k -> batch norm -> activation] x 2 then a 2 x 2 pool."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.theory.activations import activation_module


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
