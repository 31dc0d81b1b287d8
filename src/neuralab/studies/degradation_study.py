"""Degradation: deeper plain networks train worse; residual networks of the same widths do not.

He et al. (2016) saw a 56-layer plain network reach a HIGHER training error than a 20-layer one
on CIFAR-10: not overfitting (the training error itself is worse) but an optimisation problem,
which identity shortcuts remove. The study trains plain and residual CIFAR-style networks of
depth 6n + 2 with the same widths, budget and data, and compares their training error.
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
class DegradationStudyConfig:
    """The degradation study's setting (defaults: the course's, CIFAR-style)."""

    data: str = option("cifar10", help="Data set", group=_STUDY)
    data_dir: str = option("data", help="Where torchvision data sets live", group=_STUDY)
    depths: tuple[int, ...] = option((8, 20, 56), help="Depths 6n + 2", group=_STUDY)
    width: int = option(16, help="Channels of the first stage (then 2x, 4x)", group=_STUDY)
    epochs: int = option(10, help="The same budget for every network", group=_STUDY)
    batch_size: int = option(128, help="Images per step", group=_STUDY)
    lr: float = option(0.1, help="SGD learning rate (cosine schedule)", group=_STUDY)
    seed: int = option(0, help="Seed of every run", group=_STUDY)


QUICK = {"data": "digits", "depths": (8, 20, 32), "width": 4, "epochs": 4, "batch_size": 64}


def run_degradation_study(config: DegradationStudyConfig, directory: Path) -> ExperimentResult:
    """Train plain and residual networks at each depth; compare final training errors."""
    from neuralab.atomic import save_figure
    from neuralab.report.study_figures import FIGURE_DPI, curves_figure
    from neuralab.studies.training import train_variant

    base = {
        "data": config.data,
        "data_dir": config.data_dir,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "optimizer": "sgd",
        "lr": config.lr,
        "momentum": 0.9,
        "schedule": "cosine",
        "augment": "none",  # the training error of the network itself, not of augmented data
        "seed": config.seed,
        "width": config.width,
    }
    rows: list[dict[str, Any]] = []
    histories: dict[str, list[dict[str, Any]]] = {}
    styles: dict[str, str] = {}
    for kind in ("plain", "residual"):
        for depth in config.depths:
            name = f"{kind}-{depth}"
            result = train_variant(directory, name, {**base, "model": kind, "depth": depth})
            histories[name] = result.history
            styles[name] = "--o" if kind == "plain" else "-s"
            last = result.history[-1]
            rows.append(
                {
                    "network": kind,
                    "depth": depth,
                    "train_error": 1 - last["train_acc"],
                    "train_loss": last["train_loss"],
                    "val_error": 1 - last["val_acc"],
                }
            )
    figure = save_figure(
        curves_figure(
            histories,
            lambda row: 1 - row["train_acc"],
            title="Training error: plain (dashed) vs residual (solid)",
            ylabel="training error (1 - train accuracy)",
            styles=styles,
        ),
        directory / "figures" / "training-error.png",
        dpi=FIGURE_DPI,
    )
    plain = [r for r in rows if r["network"] == "plain"]
    residual = [r for r in rows if r["network"] == "residual"]
    shallow, deep = plain[0], plain[-1]
    degraded = deep["train_error"] > shallow["train_error"]
    residual_deep = residual[-1]
    sentence = (
        f"After {config.epochs} epochs the {deep['depth']}-layer plain network has training error "
        f"{deep['train_error']:.3f} vs {shallow['train_error']:.3f} at {shallow['depth']} layers "
        + (
            "(deeper trains worse: degradation)"
            if degraded
            else "(no degradation seen at this size)"
        )
        + f"; the {residual_deep['depth']}-layer residual network reaches {residual_deep['train_error']:.3f}"
        + (
            ", better than its plain twin."
            if residual_deep["train_error"] < deep["train_error"]
            else ", not better than its plain twin here."
        )
    )
    columns = [
        Column("network", justify="left"),
        Column("depth"),
        Column("train_error", "train error", ".4f"),
        Column("train_loss", "train CE", ".4f"),
        Column("val_error", "val error", ".4f"),
    ]
    return ExperimentResult(
        name="degradation",
        title="Plain vs residual networks at increasing depth",
        tables=[Table(rows, columns, title="Final training error")],
        conclusion=sentence,
        measurements={"rows": rows, "degraded": degraded},
        figures=[figure],
        config=config,
    )
