"""A multilayer perceptron on flattened images: flatten -> fully connected layers -> K outputs."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from neuralab.errors import NeuralabError
from neuralab.theory.activations import activation_module


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
