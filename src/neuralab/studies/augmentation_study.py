"""Augmentation: the gap between training and validation accuracy, with and without it.

Random translations, small rotations and scalings and colour jitter (no flips for traffic
signs) show the network a slightly different image each epoch: training accuracy rises more
slowly, and the gap to validation accuracy (the generalisation gap) shrinks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuralab.config import option
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Column, Table

_STUDY = "Study settings"


@dataclass
class AugmentationStudyConfig:
    """The augmentation study's setting (defaults: the course's)."""

    data: str = option(
        "gtsrb", help="Data set (offline: npz:../shared/datasets/gtsrb/gtsrb-32.npz)", group=_STUDY
    )
    data_dir: str = option("data", help="Where torchvision data sets live", group=_STUDY)
    model: str = option("cnn", help="Model trained with and without augmentation", group=_STUDY)
    augment: str = option(
        "standard",
        help="The augmentation preset compared with none (no flips: signs)",
        group=_STUDY,
    )
    epochs: int = option(10, help="Epochs of each run", group=_STUDY)
    batch_size: int = option(64, help="Images per step", group=_STUDY)
    seed: int = option(0, help="Seed of both runs", group=_STUDY)


QUICK = {"data": "digits", "epochs": 4, "batch_size": 16}


def run_augmentation_study(config: AugmentationStudyConfig, directory: Path) -> ExperimentResult:
    """Train with and without augmentation; report the train-validation gap per epoch."""
    from neuralab.atomic import save_figure
    from neuralab.report.study_figures import FIGURE_DPI, curves_figure
    from neuralab.studies.training import train_variant

    base = {
        "data": config.data,
        "data_dir": config.data_dir,
        "model": config.model,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "seed": config.seed,
    }
    histories: dict[str, list[dict[str, Any]]] = {}
    tests: dict[str, float] = {}
    for name, preset in (("without", "none"), ("with", config.augment)):
        result = train_variant(directory, f"{name}-augmentation", {**base, "augment": preset})
        histories[f"{name} augmentation"] = result.history
        tests[name] = result.test.get("acc", float("nan"))
    rows: list[dict[str, Any]] = []
    for epoch_rows in zip(*histories.values(), strict=True):
        row: dict[str, Any] = {"epoch": epoch_rows[0]["epoch"]}
        for key, history_row in zip(("without", "with"), epoch_rows, strict=True):
            row[f"gap_{key}"] = history_row["train_acc"] - history_row["val_acc"]
            row[f"val_{key}"] = history_row["val_acc"]
        rows.append(row)
    figure = save_figure(
        curves_figure(
            histories,
            lambda r: r["train_acc"] - r["val_acc"],
            title="Train - validation accuracy (the generalisation gap)",
            ylabel="train acc - val acc",
        ),
        directory / "figures" / "generalisation-gap.png",
        dpi=FIGURE_DPI,
    )
    last = rows[-1]
    smaller = last["gap_with"] < last["gap_without"]
    sentence = (
        f"After {config.epochs} epochs the train-validation gap is {last['gap_with']:+.4f} with "
        f"augmentation and {last['gap_without']:+.4f} without "
        + (
            "(lower with augmentation: less overfitting)"
            if smaller
            else "(NOT lower with augmentation here)"
        )
        + f"; validation accuracy {last['val_with']:.4f} vs {last['val_without']:.4f}, "
        f"test accuracy (reported, not used) {tests['with']:.4f} vs {tests['without']:.4f}."
    )
    columns = [
        Column("epoch"),
        Column("gap_without", "gap without", "+.4f"),
        Column("gap_with", "gap with", "+.4f"),
        Column("val_without", "val acc without", ".4f"),
        Column("val_with", "val acc with", ".4f"),
    ]
    return ExperimentResult(
        name="augmentation",
        title="Augmentation and the generalisation gap",
        tables=[Table(rows, columns, title="Train - validation accuracy per epoch")],
        conclusion=sentence,
        measurements={"rows": rows, "smaller_gap": smaller, "test": tests},
        figures=[figure],
        config=config,
    )
