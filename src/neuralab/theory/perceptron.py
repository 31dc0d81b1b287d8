"""The perceptron learner and the Boolean data sets it is tried on.

- :class:`Perceptron` learns w, b with Rosenblatt's rule, one sample at a time:
  y_hat = step(w . x + b) (step(0) = 0), then w <- w + lr (y - y_hat) x, b <- b + lr (y - y_hat).
  Only a mistake moves the weights. An epoch with no mistake ends the training: the data are
  linearly separated. XOR is not linearly separable, so its epochs never stop making mistakes.

Networks of step units, their scaling and the sigmoid limit: :mod:`neuralab.theory.step_network`.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralab.errors import NeuralabError

BOOLEAN_DATASETS = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "xor": (0, 1, 1, 0),
}  # targets for the inputs (0,0), (0,1), (1,0), (1,1)


@dataclass(frozen=True)
class EpochRecord:
    """The weights after one epoch of perceptron training and the mistakes made in it."""

    epoch: int
    coef: tuple[float, ...]
    intercept: float
    mistakes: int


class Perceptron:
    """Rosenblatt's perceptron for two classes, in the scikit-learn style.

    ``fit(X, y)`` returns ``self``; learned state ends in ``_``: ``coef_`` (1, n_features),
    ``intercept_`` (1,), ``classes_``, ``n_iter_`` (epochs run), ``converged_`` (an epoch made no
    mistake) and ``history_`` (an :class:`EpochRecord` per epoch). Weights start at 0.

    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> p = Perceptron().fit(X, [0, 0, 0, 1])
    >>> p.predict(X).tolist(), p.converged_
    ([0, 0, 0, 1], True)
    """

    def __init__(
        self,
        *,
        lr: float = 1.0,
        max_iter: int = 100,
        shuffle: bool = False,
        random_state: int | None = None,
        early_stop: bool = True,
    ) -> None:
        self.lr = lr  # learning rate (eta0 in scikit-learn)
        self.max_iter = max_iter  # most epochs
        self.shuffle = shuffle  # visit the samples in a new random order each epoch
        self.random_state = random_state  # seed of that order
        self.early_stop = early_stop  # stop after the first epoch without a mistake

    def fit(self, X: Any, y: Any) -> Perceptron:
        """Learn w, b from samples ``X`` (n, d) and two-class labels ``y`` (n,); return self."""
        X, labels = _check_xy(X, y)
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise NeuralabError(f"lr {self.lr!r} must be a positive number")
        if int(self.max_iter) < 1:
            raise NeuralabError(f"max_iter {self.max_iter!r} must be at least 1")
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise NeuralabError(
                f"y has one class only ({self.classes_.tolist()}); the perceptron needs two"
            )
        if len(self.classes_) > 2:
            raise NeuralabError(
                f"the perceptron separates two classes; y has {len(self.classes_)}: "
                f"{self.classes_.tolist()}"
            )
        target = (labels == self.classes_[-1]).astype(np.float64)  # the larger class is 1
        w = np.zeros(X.shape[1])
        b = 0.0
        rng = np.random.default_rng(self.random_state)
        self.history_: list[EpochRecord] = []
        self.converged_ = False
        for epoch in range(1, int(self.max_iter) + 1):
            order = rng.permutation(len(X)) if self.shuffle else range(len(X))
            mistakes = 0
            for i in order:
                y_hat = 1.0 if X[i] @ w + b > 0 else 0.0
                error = target[i] - y_hat  # -1, 0 or 1
                if error != 0:
                    w = w + self.lr * error * X[i]
                    b = b + self.lr * error
                    mistakes += 1
            self.history_.append(EpochRecord(epoch, tuple(w.tolist()), float(b), mistakes))
            if mistakes == 0:
                self.converged_ = True
                if self.early_stop:
                    break
        self.coef_ = w.reshape(1, -1)
        self.intercept_ = np.array([b])
        self.n_iter_ = len(self.history_)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Return w . x + b for each sample."""
        X = _as_matrix(X)
        return X @ self.coef_[0] + self.intercept_[0]

    def predict(self, X: Any) -> np.ndarray:
        """Return the class of each sample: the larger class where w . x + b > 0."""
        positive = self.decision_function(X) > 0
        return np.where(positive, self.classes_[-1], self.classes_[0])

    def score(self, X: Any, y: Any) -> float:
        """Return the accuracy (fraction 0..1) of :meth:`predict` on ``X`` against ``y``."""
        X, labels = _check_xy(X, y)
        return float(np.mean(self.predict(X) == labels))


def repeated_state(history: Sequence[EpochRecord]) -> tuple[int, int] | None:
    """Return epochs (i, j), i < j, the first ending in the same w, b with mistakes in epoch j.

    Without shuffling, the same w, b and sample order give the same next epoch: such a repeat
    means the rule cycles forever (the data are not linearly separable). None if none repeats.
    """
    seen: dict[tuple[tuple[float, ...], float], int] = {}
    for record in history:
        state = (record.coef, record.intercept)
        if state in seen and record.mistakes > 0:
            return seen[state], record.epoch
        seen.setdefault(state, record.epoch)
    return None


def boolean_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, y) of a two-input Boolean function: ``and``, ``or``, ``nand`` or ``xor``."""
    key = name.strip().lower()
    if key not in BOOLEAN_DATASETS:
        from neuralab.errors import unknown_name_error

        raise unknown_name_error("data set", name, [*BOOLEAN_DATASETS, "FILE.csv"])
    X = np.array(list(itertools.product((0.0, 1.0), repeat=2)))
    return X, np.array(BOOLEAN_DATASETS[key], dtype=np.float64)


def load_csv_dataset(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Return (X, y) from a CSV file: one sample per row, features first, the label last.

    A first row that is not all numbers is taken as a header.
    """
    from neuralab.paths import input_file

    path = input_file(
        path,
        "data file",
        expected="a CSV file (features..., label per row)",
        hint=" (or use and, or, nand, xor)",
    )
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as error:
        raise NeuralabError(f"{path} is not a readable CSV text file ({error})") from None
    numbers: list[list[float]] = []
    for index, row in enumerate(rows, start=1):
        try:
            numbers.append([float(cell) for cell in row])
        except ValueError:
            if index == 1:
                continue  # header
            raise NeuralabError(
                f"{path}: row {index} {row!r} is not all numbers (features..., label)"
            ) from None
    if not numbers:
        raise NeuralabError(f"{path} has no data rows (expected features..., label per row)")
    widths = {len(r) for r in numbers}
    if len(widths) > 1 or min(widths) < 2:
        raise NeuralabError(
            f"{path}: every row needs the same number (>= 2) of columns: features..., label; "
            f"found {sorted(widths)}"
        )
    data = np.array(numbers)
    if not np.isfinite(data).all():
        raise NeuralabError(f"{path} has entries that are not finite numbers")
    return data[:, :-1], data[:, -1]


def _as_matrix(X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise NeuralabError(f"X has shape {X.shape}; expected samples x features (n, d)")
    if not np.isfinite(X).all():
        raise NeuralabError("X has entries that are not finite numbers")
    return X


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = _as_matrix(X)
    labels = np.asarray(y).reshape(-1)
    if len(labels) != len(X):
        raise NeuralabError(f"X has {len(X)} samples but y has {len(labels)} labels")
    return X, labels
