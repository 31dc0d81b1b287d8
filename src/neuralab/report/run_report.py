"""The per-epoch table of a training run (terminal and train.log) and the run's ``report.md``.

The table prints one fixed-width row per epoch, to the console and to ``train.log`` alike, so
the log is the assignment's output file: cross-entropy (CE) and accuracy on the training,
validation and test sets, the learning rate and the epoch's seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from neuralab.atomic import save_figure, write_text
from neuralab.report.tabular import Column, markdown_table
from neuralab.rundir import RunDirectory


def _percent(value: Any) -> str:
    return "nan" if value is None or math.isnan(float(value)) else f"{100 * float(value):.2f} %"


# (key, header, width, format): one definition for the terminal, train.log and report.md
EPOCH_COLUMNS: tuple[tuple[str, str, int, Any], ...] = (
    ("epoch", "epoch", 5, "d"),
    ("train_loss", "train CE", 9, ".4f"),
    ("train_acc", "train acc", 9, _percent),
    ("val_loss", "val CE", 8, ".4f"),
    ("val_acc", "val acc", 9, _percent),
    ("test_loss", "test CE", 8, ".4f"),
    ("test_acc", "test acc", 9, _percent),
    ("lr", "lr", 9, ".2e"),
    ("seconds", "seconds", 7, ".1f"),
)


def epoch_columns() -> list[Column]:
    """Return the per-epoch table's columns for ``neuralab.report.tabular``."""
    return [Column(key, header, fmt) for key, header, _, fmt in EPOCH_COLUMNS]


def format_row(row: Mapping[str, Any]) -> str:
    """Return one epoch as a fixed-width text line (the header with :func:`format_header`)."""
    cells = []
    for column, (key, _, width, _) in zip(epoch_columns(), EPOCH_COLUMNS, strict=True):
        value = row.get(key)
        cells.append(
            column.text(int(value) if key == "epoch" and value is not None else value).rjust(width)
        )
    return "  ".join(cells)


def format_header() -> str:
    """Return the header line of :func:`format_row`'s table."""
    return "  ".join(header.rjust(width) for _, header, width, _ in EPOCH_COLUMNS)


class EpochTable:
    """Prints the run's messages and epoch rows to a console and appends them to train.log.

    Without a run directory (the ranks other than 0 of a multi-process run) it only prints.
    """

    def __init__(self, console: Console, run: RunDirectory | None) -> None:
        self.console = console
        self.run = run

    def say(self, text: str) -> None:
        """Print ``text`` and append it to train.log."""
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)
        self.log_only(text)

    def log_only(self, text: str) -> None:
        """Append ``text`` to train.log only (errors: the CLI prints them itself)."""
        if self.run is not None:
            self.run.log(text)

    def header(self) -> None:
        """Print the header of the epoch table."""
        self.say(format_header())

    def row(self, row: Mapping[str, Any]) -> None:
        """Print one epoch's row."""
        self.say(format_row(row))


def write_run_report(
    run: RunDirectory,
    result: Any,
    test: Mapping[str, Any],
    test_images: torch.Tensor,
    classes: Sequence[str],
    config: Any,
    *,
    max_mistakes: int = 32,
) -> list[Path]:
    """Write figures/ (curves, confusion matrix, per-class accuracy, mistakes) and report.md.

    ``test`` is :func:`neuralab.vision.engine.evaluate`'s dict with predictions of the best
    model on the test set (whose images ``test_images`` are, uint8, in the same order).
    """
    from neuralab.report.training_figures import (
        confusion_figure,
        curves_figure,
        misclassified_figure,
        per_class_accuracy_figure,
    )
    from neuralab.vision.engine import confusion_matrix

    predictions, targets = test["predictions"], test["targets"]
    matrix = confusion_matrix(predictions, targets, len(classes)).numpy()
    per_class = np.divide(
        np.diag(matrix),
        matrix.sum(axis=1),
        out=np.full(len(classes), np.nan),
        where=matrix.sum(axis=1) > 0,
    )
    wrong = torch.nonzero(predictions != targets).flatten()[:max_mistakes]
    figures = {
        "curves.png": curves_figure(run.rows, best_epoch=result.best_epoch),
        "confusion_matrix.png": confusion_figure(matrix, classes),
        "per_class_accuracy.png": per_class_accuracy_figure(per_class, classes),
        "misclassified.png": misclassified_figure(
            test_images[wrong].numpy(),
            targets[wrong].tolist(),
            predictions[wrong].tolist(),
            classes,
        ),
    }
    paths = [
        save_figure(figure, run.figure(name), dpi=100, bbox_inches=None)
        for name, figure in figures.items()
    ]
    write_text(run.file("report.md"), _report_text(run, result, per_class, classes, config))
    return paths


def _report_text(
    run: RunDirectory, result: Any, per_class: np.ndarray, classes: Sequence[str], config: Any
) -> str:
    from neuralab.vision.config import model_label

    worst = np.argsort(np.nan_to_num(per_class, nan=2.0))[: min(5, len(classes))]
    worst_rows = [
        {"class": f"{i}: {classes[i]}", "acc": _percent(per_class[i])} for i in worst.tolist()
    ]
    lines = [
        f"# Training run `{run.path.name}`",
        "",
        f"{model_label(config)} on {config.data}, {len(run.rows)} epochs of batch size "
        f"{config.batch_size}, {config.optimizer}{' + SAM' if config.sam else ''} "
        f"with peak lr {config.lr:g} ({config.schedule} schedule), seed {config.seed}.",
        "",
        f"**Best epoch {result.best_epoch}** by {result.monitor} ({result.best_value:.4f}); "
        f"its weights (`best.pt`) on the test set: cross-entropy {result.test['loss']:.4f}, "
        f"accuracy **{_percent(result.test['acc'])}** on {result.test['n']:,} images."
        + (" Early stopping ended the run." if result.stopped_early else ""),
        "",
        "The test set is only evaluated: the best epoch and early stopping use validation.",
        "",
        "## Per epoch",
        "",
        markdown_table(run.rows, epoch_columns()),
        "![learning curves](figures/curves.png)",
        "",
        "## Test set by class",
        "",
        "Worst classes:",
        "",
        markdown_table(worst_rows, [Column("class", "class", justify="left"), Column("acc")]),
        "![confusion matrix](figures/confusion_matrix.png)",
        "",
        "![per-class accuracy](figures/per_class_accuracy.png)",
        "",
        "![misclassified test images](figures/misclassified.png)",
        "",
        "Resolved configuration: `config.yaml`; every row: `metrics.csv`; output: `train.log`.",
        "",
    ]
    return "\n".join(lines)
