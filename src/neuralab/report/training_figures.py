"""Figures of a training run: learning curves, confusion matrix, per-class accuracy, mistakes.

Each function returns a matplotlib ``Figure`` (built without pyplot, so no display is needed);
save it with ``neuralab.atomic.save_figure``. Accuracies are fractions 0..1 in the data and
shown as percentages on the axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

_SPLIT_STYLE = {"train": ("C0", "-"), "val": ("C1", "-"), "test": ("C2", "--")}


def curves_figure(rows: Sequence[Mapping[str, Any]], *, best_epoch: int | None = None) -> Figure:
    """Return the cross-entropy and accuracy per epoch for train, val and test, side by side."""
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    loss_axes, acc_axes = figure.subplots(1, 2)
    epochs = [int(r["epoch"]) for r in rows]
    for split, (colour, style) in _SPLIT_STYLE.items():
        losses = [float(r.get(f"{split}_loss", math.nan)) for r in rows]
        accuracies = [100 * float(r.get(f"{split}_acc", math.nan)) for r in rows]
        loss_axes.plot(epochs, losses, style, color=colour, marker="o", ms=3, label=split)
        acc_axes.plot(epochs, accuracies, style, color=colour, marker="o", ms=3, label=split)
    for axes, title in ((loss_axes, "cross-entropy"), (acc_axes, "accuracy (%)")):
        axes.set_xlabel("epoch")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        if best_epoch:
            axes.axvline(best_epoch, color="grey", lw=0.8, ls=":", label="best (val)")
        axes.legend()
    return figure


def confusion_figure(matrix: np.ndarray, classes: Sequence[str]) -> Figure:
    """Return the confusion matrix (rows: true class, columns: predicted), row-normalised."""
    counts = np.asarray(matrix, dtype=np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    fractions = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = min(4 + 0.22 * len(classes), 14)
    figure = Figure(figsize=(size, size * 0.9), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, ax=axes, shrink=0.8, label="share of the true class")
    ticks = np.arange(len(classes))
    labels = _short(classes)
    axes.set_xticks(ticks, labels, rotation=90, fontsize=_font(len(classes)))
    axes.set_yticks(ticks, labels, fontsize=_font(len(classes)))
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title("confusion matrix (test set)")
    if len(classes) <= 12:
        for i in range(len(classes)):
            for j in range(len(classes)):
                if counts[i, j]:
                    colour = "white" if fractions[i, j] > 0.5 else "black"
                    axes.text(j, i, str(int(counts[i, j])), ha="center", va="center", color=colour)
    return figure


def per_class_accuracy_figure(accuracy: Sequence[float], classes: Sequence[str]) -> Figure:
    """Return a bar chart of the test accuracy of every class, the worst classes in red."""
    values = 100 * np.asarray(accuracy, dtype=np.float64)
    figure = Figure(figsize=(min(4 + 0.25 * len(classes), 14), 3.8), layout="constrained")
    axes = figure.subplots()
    order = np.argsort(values)
    worst = set(order[: max(1, len(values) // 10)].tolist())
    colours = ["C3" if i in worst else "C0" for i in range(len(values))]
    axes.bar(np.arange(len(values)), values, color=colours)
    axes.set_xticks(
        np.arange(len(values)), _short(classes), rotation=90, fontsize=_font(len(classes))
    )
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(max(0.0, float(np.nanmin(values)) - 5) if len(values) else 0, 100.5)
    axes.set_title("accuracy per class (test set)")
    axes.grid(axis="y", alpha=0.3)
    return figure


def misclassified_figure(
    images: np.ndarray,
    targets: Sequence[int],
    predictions: Sequence[int],
    classes: Sequence[str],
    *,
    columns: int = 8,
) -> Figure:
    """Return a grid of images (uint8 (N, C, H, W)), each labelled ``true -> predicted``.

    The grid is one montage drawn with a single ``imshow`` (one axes, not one per image), which
    keeps saving fast for dozens of images.
    """
    count = len(images)
    rows = max(1, math.ceil(count / columns))
    columns = min(columns, max(count, 1))
    channels, height, width = images.shape[1:] if count else (1, 8, 8)
    gap = max(1, height // 8)
    montage = np.full(
        (rows * (height + gap) + gap, columns * (width + gap) + gap, 3), 255, dtype=np.uint8
    )
    for index in range(count):
        row, column = divmod(index, columns)
        picture = np.transpose(images[index], (1, 2, 0))  # (C, H, W) -> (H, W, C)
        if channels == 1:
            picture = np.repeat(picture, 3, axis=2)
        top, left = gap + row * (height + gap), gap + column * (width + gap)
        montage[top : top + height, left : left + width] = picture[:, :, :3]
    figure = Figure(figsize=(1.25 * columns, 1.45 * rows + 0.4), layout="constrained")
    axes = figure.subplots()
    axes.imshow(montage, interpolation="nearest")
    axes.axis("off")
    labels = _short(classes, 12)
    for index in range(count):
        row, column = divmod(index, columns)
        axes.text(
            gap + column * (width + gap) + width / 2,
            gap + row * (height + gap) - gap / 2,
            f"{labels[int(targets[index])]} -> {labels[int(predictions[index])]}",
            ha="center",
            va="bottom",
            fontsize=6,
        )
    axes.set_title("misclassified test images (true -> predicted)", fontsize=9, pad=10)
    return figure


def _short(classes: Sequence[str], length: int = 18) -> list[str]:
    return [c if len(c) <= length else c[: length - 1] + "." for c in map(str, classes)]


def _font(count: int) -> float:
    return 8 if count <= 20 else 6
