"""Input features of the playground: x1, x2, x1^2, x2^2, x1 x2, sin x1, sin x2 (TF Playground's).

A network that gets x1^2 and x2^2 separates the circle data set with no hidden layer at all
(the boundary x1^2 + x2^2 = r^2 is linear in them); one that gets only x1 and x2 needs hidden
units to bend its boundary. The features are computed from the raw coordinates before the
first layer, so the model sees a (N, F) matrix with one column per chosen feature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from neuralab.playground.names import FEATURE_ORDER
from neuralab.playground.names import resolve_features as resolve_features  # re-exported
from neuralab.registry import Registry

if TYPE_CHECKING:
    from neuralab.playground.toy_data import ToyDataset

# name -> (function of the raw inputs (N, D) returning (N,), the raw input columns it needs)
_FEATURES: Registry[tuple[Callable[[Tensor], Tensor], tuple[int, ...]]] = Registry("feature")
_FEATURES.add("x1", (lambda x: x[:, 0], (0,)))
_FEATURES.add("x2", (lambda x: x[:, 1], (1,)))
_FEATURES.add("x1^2", (lambda x: x[:, 0] ** 2, (0,)), aliases=("x1**2", "x1sq", "x1_sq"))
_FEATURES.add("x2^2", (lambda x: x[:, 1] ** 2, (1,)), aliases=("x2**2", "x2sq", "x2_sq"))
_FEATURES.add("x1x2", (lambda x: x[:, 0] * x[:, 1], (0, 1)), aliases=("x1*x2", "x1_x2"))
_FEATURES.add("sin_x1", (lambda x: torch.sin(x[:, 0]), (0,)), aliases=("sin(x1)", "sinx1"))
_FEATURES.add("sin_x2", (lambda x: torch.sin(x[:, 1]), (1,)), aliases=("sin(x2)", "sinx2"))


def list_features() -> list[str]:
    """Return the feature names in TF Playground's order."""
    return list(FEATURE_ORDER)


def feature_matrix(x: Tensor, names: Sequence[str]) -> Tensor:
    """Return the (N, F) matrix of the features ``names`` of the raw inputs ``x`` (N, D)."""
    if x.dim() == 1:
        x = x.unsqueeze(1)
    columns = [_FEATURES.get(name)[0](x) for name in names]
    return torch.stack(columns, dim=1)


@dataclass
class PlaygroundTensors:
    """The data as the network sees it: feature matrices, loss targets and class indices."""

    x_train: Tensor  # (N_train, F)
    t_train: Tensor  # (N_train, out) float, or (N_train,) long for ce
    c_train: Tensor | None  # class index (N_train,), None for regression
    x_test: Tensor
    t_test: Tensor
    c_test: Tensor | None


TARGETS = ("binary01", "binary_pm1", "index", "onehot", "value")


def targets_of(y: Tensor, target: str, num_classes: int) -> tuple[Tensor, Tensor | None]:
    """Return (loss target, class index) for labels ``y`` (0/1, -1/+1, class ids or values).

    ``target``: ``binary01`` (N, 1) 0/1 for a sigmoid output, ``binary_pm1`` (N, 1) -1/+1 for a
    tanh or linear output, ``index`` (N,) class ids for cross-entropy, ``onehot`` (N, k) for mse on
    a softmax output, ``value`` (N, 1) regression targets (no classes).
    """
    y = y.reshape(-1)
    if target == "value":
        return y.to(torch.float32).unsqueeze(1), None
    if num_classes == 2:
        classes = (y > 0).long()  # 0/1 and -1/+1 labels alike
    else:
        classes = y.round().long()
    if target == "binary01":
        return classes.to(torch.float32).unsqueeze(1), classes
    if target == "binary_pm1":
        return (2.0 * classes - 1).to(torch.float32).unsqueeze(1), classes
    if target == "onehot":
        return torch.nn.functional.one_hot(classes, num_classes).to(torch.float32), classes
    return classes, classes


def prepare_tensors(
    data: ToyDataset,
    features: Sequence[str],
    target: str,
    num_classes: int,
    device: torch.device | str = "cpu",
) -> PlaygroundTensors:
    """Return the feature matrices, targets and classes of ``data`` on ``device``."""
    x_train = feature_matrix(data.x_train.to(torch.float32), features)
    x_test = feature_matrix(data.x_test.to(torch.float32), features)
    t_train, c_train = targets_of(data.y_train, target, num_classes)
    t_test, c_test = targets_of(data.y_test, target, num_classes)

    def move(t: Tensor | None) -> Tensor | None:
        return None if t is None else t.to(device)

    return PlaygroundTensors(
        x_train.to(device),
        t_train.to(device),
        move(c_train),
        x_test.to(device),
        t_test.to(device),
        move(c_test),
    )
