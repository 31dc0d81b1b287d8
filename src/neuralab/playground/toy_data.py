"""Toy data sets of the playground: TF Playground's recipes, moons, a 1-D curve and blobs.

The four classification sets and two regression sets follow TF Playground's ``dataset.ts``
(github.com/tensorflow/playground) line by line; the others are added for the course:

===========  ==============  =================================================================
name         task            recipe
===========  ==============  =================================================================
circle       classification  inner r ~ U(0, 2.5) -> +1, outer r ~ U(3.5, 5) -> -1, angle U(0, 2 pi)
xor          classification  x, y ~ U(-5, 5) pushed 0.3 off the axes; label sign(x y)
gauss        classification  N((2, 2), var) -> +1 and N((-2, -2), var) -> -1, var = 0.5 .. 4
spiral       classification  two arms: r = 5 i / n', t = 1.75 * 2 pi i / n' + delta, delta 0 / pi
plane        regression      x, y ~ U(-6, 6); target (x + y) / 10
multi-gauss  regression      x, y ~ U(-6, 6); signed bump of the nearest of six centres
moons        classification  scikit-learn's ``make_moons`` (two interleaved half circles)
curve        regression      1-D: x ~ U(-3, 3), y = sin(1.5 x) + 0.3 x (+ N(0, sigma^2))
blobs        classification  k Gaussian blobs on a circle of radius 4 (multi-class)
===========  ==============  =================================================================

**Noise** is TF Playground's slider value in percent (0..50 in its interface; 0..100 accepted
here); its code uses ``noise / 100``:

- circle and xor: the label is computed at a jittered position ``(x + e_x, y + e_y)`` with
  ``e ~ U(-5, 5) * noise / 100`` while the point is drawn at its clean position, so noise flips
  labels near the boundary (label noise, not position noise);
- spiral: the position moves by ``U(-1, 1) * noise / 100`` per coordinate;
- gauss: the variance grows linearly from 0.5 (noise 0) to 4 (noise 50):
  ``var = 0.5 + 7 * noise / 100`` (TF's ``d3.scale.linear().domain([0, .5]).range([0.5, 4])``);
  blobs use the same variance;
- plane and multi-gauss: the target is computed at a position jittered by
  ``U(-6, 6) * noise / 100``;
- moons and curve: Gaussian noise with standard deviation ``noise / 100``.

As in TF Playground the generated points are shuffled and the first ``floor(n * train_ratio)``
become the training set. Labels are TF's -1 / +1, returned as class ids 0 / 1 (``labels="01"``,
for cross-entropy) or as floats -1 / +1 (``labels="pm1"``, for a tanh output and MSE).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.registry import Registry

Task = Literal["classification", "regression"]

# A generator gets (n, noise fraction, classes, torch generator, seed) and returns the inputs
# (n, D) float64 and the raw targets: -1/+1 for binary sets, 0..k-1 for blobs, floats for
# regression.
_Generate = Callable[[int, float, int, torch.Generator, int], tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class ToyDataSpec:
    """One toy data set: its task, inputs, default size and generator."""

    name: str
    task: Task
    input_dim: int
    default_n: int
    description: str
    generate: _Generate
    multiclass: bool = False


@dataclass
class ToyDataset:
    """A toy data set split into training and test sets (float32 inputs).

    ``y`` holds int64 class ids (``labels="01"`` or multi-class), float32 -1/+1 (``"pm1"``) or
    float32 targets (regression); ``num_classes`` is 0 for regression.
    """

    name: str
    task: Task
    x_train: Tensor  # (N_train, input_dim)
    y_train: Tensor  # (N_train,)
    x_test: Tensor  # (N_test, input_dim)
    y_test: Tensor  # (N_test,)
    num_classes: int
    input_dim: int
    labels: str = "01"  # "01" class ids, "pm1" -1/+1 floats, "value" regression targets
    noise: float = 0.0
    seed: int = 0

    @property
    def out_features(self) -> int:
        """Return the number of network outputs this data needs: k for k > 2 classes, else 1."""
        return self.num_classes if self.num_classes > 2 else 1

    @property
    def x_all(self) -> Tensor:
        """Return the training and test inputs stacked (for plot limits)."""
        return torch.cat([self.x_train, self.x_test])


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)


def _halves(n: int) -> tuple[int, int]:
    """Return the sizes of the +1 half and the -1 half (the +1 half takes the odd point)."""
    return n - n // 2, n // 2


def _circle(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    radius = 5.0
    xs, labels = [], []
    for count, (r_low, r_high) in zip(
        _halves(n), ((0.0, radius * 0.5), (radius * 0.7, radius)), strict=True
    ):
        r = _uniform(count, r_low, r_high, g)
        angle = _uniform(count, 0.0, 2 * math.pi, g)
        x = torch.stack([r * torch.sin(angle), r * torch.cos(angle)], dim=1)
        jitter = _uniform(2 * count, -radius, radius, g).reshape(count, 2) * noise
        # TF labels by the jittered position: label noise near the boundary r = 2.5
        inside = (x + jitter).norm(dim=1) < radius * 0.5
        xs.append(x)
        labels.append(torch.where(inside, 1.0, -1.0).double())
    return torch.cat(xs), torch.cat(labels)


def _xor(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    padding = 0.3
    x = _uniform(2 * n, -5.0, 5.0, g).reshape(n, 2)
    x = x + torch.where(x > 0, padding, -padding)  # keep 0.3 away from the axes
    jitter = _uniform(2 * n, -5.0, 5.0, g).reshape(n, 2) * noise
    shifted = x + jitter
    label = torch.where(shifted[:, 0] * shifted[:, 1] >= 0, 1.0, -1.0).double()
    return x, label


def _gauss_variance(noise: float) -> float:
    # TF: d3.scale.linear().domain([0, .5]).range([0.5, 4])
    return 0.5 + noise * (4.0 - 0.5) / 0.5


def _gauss(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    std = math.sqrt(_gauss_variance(noise))
    xs, labels = [], []
    for count, (centre, label) in zip(
        _halves(n), (((2.0, 2.0), 1.0), ((-2.0, -2.0), -1.0)), strict=True
    ):
        x = torch.tensor(centre, dtype=torch.float64) + std * torch.randn(
            count, 2, generator=g, dtype=torch.float64
        )
        xs.append(x)
        labels.append(torch.full((count,), label, dtype=torch.float64))
    return torch.cat(xs), torch.cat(labels)


def _spiral(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    xs, labels = [], []
    for count, (delta, label) in zip(_halves(n), ((0.0, 1.0), (math.pi, -1.0)), strict=True):
        i = torch.arange(count, dtype=torch.float64)
        r = i / count * 5.0
        t = 1.75 * i / count * 2 * math.pi + delta
        x = torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1)
        x = x + _uniform(2 * count, -1.0, 1.0, g).reshape(count, 2) * noise
        xs.append(x)
        labels.append(torch.full((count,), label, dtype=torch.float64))
    return torch.cat(xs), torch.cat(labels)


def _regression_inputs(n: int, noise: float, g: torch.Generator) -> tuple[Tensor, Tensor]:
    radius = 6.0
    x = _uniform(2 * n, -radius, radius, g).reshape(n, 2)
    jitter = _uniform(2 * n, -radius, radius, g).reshape(n, 2) * noise
    return x, x + jitter


def _plane(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    x, shifted = _regression_inputs(n, noise, g)
    # TF: d3.scale.linear().domain([-10, 10]).range([-1, 1]) applied to x + y (not clamped)
    return x, (shifted[:, 0] + shifted[:, 1]) / 10.0


_GAUSSIANS = torch.tensor(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
    dtype=torch.float64,
)


def multi_gauss_target(points: Tensor) -> Tensor:
    """Return TF Playground's multi-gauss target at ``points`` (N, 2).

    Each of six centres c_j with sign s_j gives s_j * max(0, 1 - |p - c_j| / 2) (a cone of
    radius 2, TF's clamped ``scale.domain([0, 2]).range([1, 0])``); the target is the one of
    largest magnitude.
    """
    distance = torch.cdist(points.double(), _GAUSSIANS[:, :2])  # (N, 6)
    bumps = _GAUSSIANS[:, 2] * (1.0 - distance / 2.0).clamp(0.0, 1.0)
    index = bumps.abs().argmax(dim=1, keepdim=True)
    return bumps.gather(1, index).squeeze(1)


def _multi_gauss(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    x, shifted = _regression_inputs(n, noise, g)
    return x, multi_gauss_target(shifted)


def _moons(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n, noise=noise if noise > 0 else None, random_state=seed)
    # sklearn's 0 is the upper (outer) moon: TF's -1; the lower moon is +1
    return torch.from_numpy(x).double(), torch.from_numpy(y).double() * 2.0 - 1.0


def curve_function(x: Tensor) -> Tensor:
    """Return the curve data set's noiseless target y = sin(1.5 x) + 0.3 x."""
    return torch.sin(1.5 * x) + 0.3 * x


def _curve(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    x = _uniform(n, -3.0, 3.0, g)
    y = curve_function(x) + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return x.unsqueeze(1), y


def _blobs(n: int, noise: float, classes: int, g: torch.Generator, seed: int):
    std = math.sqrt(_gauss_variance(noise))
    counts = [n // classes + (1 if j < n % classes else 0) for j in range(classes)]
    xs, labels = [], []
    for j, count in enumerate(counts):
        angle = 2 * math.pi * j / classes
        centre = torch.tensor([4 * math.cos(angle), 4 * math.sin(angle)], dtype=torch.float64)
        xs.append(centre + std * torch.randn(count, 2, generator=g, dtype=torch.float64))
        labels.append(torch.full((count,), float(j), dtype=torch.float64))
    return torch.cat(xs), torch.cat(labels)


_TOY_DATA: Registry[ToyDataSpec] = Registry("toy data set")


def _add(spec: ToyDataSpec, *aliases: str) -> None:
    _TOY_DATA.add(spec.name, spec, aliases=aliases)


_add(ToyDataSpec("circle", "classification", 2, 400, "inner disc (+1) vs outer ring (-1)", _circle))
_add(ToyDataSpec("xor", "classification", 2, 400, "quadrants, label sign(x1 x2)", _xor))
_add(
    ToyDataSpec("gauss", "classification", 2, 400, "two Gaussians at (2,2) and (-2,-2)", _gauss),
    "gaussian",
)
_add(ToyDataSpec("spiral", "classification", 2, 400, "two interleaved spiral arms", _spiral))
_add(ToyDataSpec("plane", "regression", 2, 400, "target (x1 + x2) / 10", _plane), "reg-plane")
_add(
    ToyDataSpec("multi-gauss", "regression", 2, 400, "signed bumps at six centres", _multi_gauss),
    "reg-gauss",
    "multigauss",
    "multi_gauss",
)
_add(ToyDataSpec("moons", "classification", 2, 400, "two interleaved half circles", _moons))
_add(
    ToyDataSpec("curve", "regression", 1, 100, "1-D: y = sin(1.5 x) + 0.3 x + noise", _curve),
    "1d",
    "regress-1d",
)
_add(ToyDataSpec("blobs", "classification", 2, 400, "k Gaussian blobs (multi-class)", _blobs, True))


def list_toy_data() -> list[str]:
    """Return the names of the toy data sets, sorted."""
    return _TOY_DATA.names()


def get_toy_data_spec(name: str) -> ToyDataSpec:
    """Return the spec of toy data set ``name``; unknown names raise listing the valid ones."""
    return _TOY_DATA.get(name)


def _validate(
    n: int | None, noise: float, train_ratio: float, labels: str, order: str, classes: int
) -> None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 2):
        raise NeuralabError(f"n={n!r} must be an integer of at least 2 (number of examples)")
    if not isinstance(noise, int | float) or not (0.0 <= noise <= 100.0):
        raise NeuralabError(f"noise={noise!r} must be a percentage between 0 and 100")
    if not isinstance(train_ratio, int | float) or not (0.0 < train_ratio <= 1.0):
        raise NeuralabError(f"train_ratio={train_ratio!r} must be in (0, 1]")
    if labels not in ("01", "pm1"):
        raise NeuralabError(f"labels={labels!r} must be '01' (class ids) or 'pm1' (-1/+1)")
    if order not in ("shuffled", "sorted"):
        raise NeuralabError(f"order={order!r} must be 'shuffled' or 'sorted'")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise NeuralabError(f"classes={classes!r} must be an integer of at least 2")


def split_points(
    x: Tensor, y: Tensor, n_train: int, order: str = "shuffled"
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Return (x_train, y_train, x_test, y_test): the first ``n_train`` points train.

    ``order="sorted"`` sorts the training set by label (stable: class 0 / -1 first; regression:
    by target). Inputs come back as contiguous float32.
    """
    x_train, y_train = x[:n_train], y[:n_train]
    if order == "sorted":
        index = torch.sort(y_train, stable=True).indices
        x_train, y_train = x_train[index], y_train[index]
    return (
        x_train.float().contiguous(),
        y_train.contiguous(),
        x[n_train:].float().contiguous(),
        y[n_train:].contiguous(),
    )


def make_toy_data(
    name: str,
    *,
    n: int | None = None,
    noise: float = 0.0,
    seed: int = 0,
    train_ratio: float = 0.5,
    labels: str = "01",
    order: str = "shuffled",
    classes: int = 3,
) -> ToyDataset:
    """Return toy data set ``name`` with ``n`` points split into training and test sets.

    ``n`` defaults to the set's size (400; 100 for the 1-D ``curve``). ``noise`` is TF
    Playground's percentage (see the module docstring). The points are shuffled with ``seed``
    and the first ``floor(n * train_ratio)`` form the training set; ``order="sorted"`` then
    sorts the training set by label (class -1 / 0 first, stable; regression: by target).
    ``classes`` is the number of blobs (only for ``blobs``).

    >>> data = make_toy_data("circle", n=10, seed=1)
    >>> data.x_train.shape, data.y_train.dtype
    (torch.Size([5, 2]), torch.int64)
    """
    spec = _TOY_DATA.get(name)
    _validate(n, noise, train_ratio, labels, order, classes)
    count = spec.default_n if n is None else n
    n_train = math.floor(count * train_ratio)
    if n_train < 1:
        raise NeuralabError(
            f"train_ratio={train_ratio} of n={count} leaves no training example; "
            f"raise n or train_ratio"
        )
    if spec.multiclass and labels == "pm1":
        raise NeuralabError(
            f"labels='pm1' needs two classes, but {spec.name!r} has {classes}; use labels='01'"
        )
    if spec.multiclass and classes > count:
        raise NeuralabError(f"classes={classes} is more than n={count} examples")

    generator = torch.Generator().manual_seed(int(seed))
    x, raw = spec.generate(count, noise / 100.0, classes, generator, int(seed))
    permutation = torch.randperm(count, generator=generator)
    x, raw = x[permutation], raw[permutation]

    if spec.task == "regression":
        y = raw.float()
        num_classes = 0
    elif spec.multiclass:
        y = raw.long()
        num_classes = classes
    elif labels == "pm1":
        y = raw.float()
        num_classes = 2
    else:
        y = ((raw + 1) / 2).long()  # -1 -> 0, +1 -> 1
        num_classes = 2

    x_train, y_train, x_test, y_test = split_points(x, y, n_train, order)
    return ToyDataset(
        name=spec.name,
        task=spec.task,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        num_classes=num_classes,
        input_dim=spec.input_dim,
        labels="value" if spec.task == "regression" else "01" if spec.multiclass else labels,
        noise=float(noise),
        seed=int(seed),
    )


__all__ = [
    "ToyDataSpec",
    "ToyDataset",
    "curve_function",
    "get_toy_data_spec",
    "list_toy_data",
    "make_toy_data",
    "multi_gauss_target",
    "split_points",
]
