"""Initialization of a CNN: zeros, too small, He; per-layer gradients at the start and training.

The playground's lesson on image data: with all weights (and biases) zero every activation is
zero, so every weight gradient is exactly zero and only the output bias can move; with weights far
too small (N(0, 0.01 / fan_in)) the signal and the gradients shrink layer by layer towards the
input; He initialization (N(0, 2 / fan_in)) keeps them at a useful scale. The CNN is built
WITHOUT batch norm, which would rescale the activations and hide the effect.
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
class InitializationStudyConfig:
    """The initialization study's setting (defaults: the course's)."""

    data: str = option(
        "mnist", help="Data set (offline: npz:../shared/datasets/mnist/mnist-28.npz)", group=_STUDY
    )
    data_dir: str = option("data", help="Where torchvision data sets live", group=_STUDY)
    schemes: tuple[str, ...] = option(
        ("zeros", "small", "he_normal"), help="Initialization schemes compared", group=_STUDY
    )
    epochs: int = option(5, help="Epochs of each run", group=_STUDY)
    batch_size: int = option(64, help="Images per step", group=_STUDY)
    lr: float = option(0.01, help="SGD learning rate", group=_STUDY)
    gradient_batch: int = option(
        256, help="Images of the batch the initial gradients are measured on", group=_STUDY
    )
    seed: int = option(0, help="Seed of every run", group=_STUDY)


QUICK = {"data": "digits", "epochs": 3, "batch_size": 16}


def run_initialization_study(
    config: InitializationStudyConfig, directory: Path
) -> ExperimentResult:
    """Measure per-layer gradient norms at initialization, then train with each scheme."""
    import torch

    from neuralab.atomic import save_figure
    from neuralab.report.study_figures import FIGURE_DPI, curves_figure
    from neuralab.studies.training import layer_gradient_norms, train_variant
    from neuralab.vision.datasets import get_dataset
    from neuralab.vision.models import get_model

    dataset = get_dataset(config.data, data_dir=config.data_dir)
    images = dataset.x_train[: config.gradient_batch].float() / 255.0
    images = (images - images.mean()) / (images.std() + 1e-8)
    labels = dataset.y_train[: config.gradient_batch]
    base = {
        "data": config.data,
        "data_dir": config.data_dir,
        "model": "cnn",
        "batch_norm": False,
        "dropout": 0.0,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "optimizer": "sgd",
        "lr": config.lr,
        "momentum": 0.9,
        "schedule": "constant",
        "seed": config.seed,
    }
    gradient_rows: list[dict[str, Any]] = []
    result_rows: list[dict[str, Any]] = []
    histories: dict[str, list[dict[str, Any]]] = {}
    for scheme in config.schemes:
        torch.manual_seed(config.seed)
        model = get_model(
            "cnn",
            num_classes=dataset.num_classes,
            input_shape=dataset.image_shape,
            batch_norm=False,
            dropout=0.0,
            init=scheme,
        )
        for layer, norm in layer_gradient_norms(model, images, labels):
            row = next((r for r in gradient_rows if r["layer"] == layer), None)
            if row is None:
                row = {"layer": layer}
                gradient_rows.append(row)
            row[scheme] = norm
        result = train_variant(directory, scheme, {**base, "init": scheme})
        histories[scheme] = result.history
        last = result.history[-1]
        result_rows.append(
            {
                "scheme": scheme,
                "first_layer_gradient": gradient_rows[0][scheme],
                "last_layer_gradient": gradient_rows[-1][scheme],
                "train_loss": last["train_loss"],
                "val_acc": last["val_acc"],
            }
        )
    figure = save_figure(
        curves_figure(
            histories,
            lambda row: row["train_loss"],
            title="Training cross-entropy by initialization scheme",
            ylabel="train CE",
        ),
        directory / "figures" / "training-loss.png",
        dpi=FIGURE_DPI,
    )
    by_scheme = {r["scheme"]: r for r in result_rows}
    parts = []
    if "zeros" in by_scheme:
        zero = by_scheme["zeros"]
        parts.append(
            f"zeros: first-layer gradient {zero['first_layer_gradient']:.3g}, "
            f"val acc {zero['val_acc']:.3f} after {config.epochs} epochs"
        )
    if "small" in by_scheme and "he_normal" in by_scheme:
        small_largest = max(row["small"] for row in gradient_rows)
        he_smallest = min(row["he_normal"] for row in gradient_rows)
        parts.append(
            f"too small: the largest layer gradient {small_largest:.2g} vs He's smallest "
            f"{he_smallest:.2g} (vanishing), val acc {by_scheme['small']['val_acc']:.3f}"
        )
    best = max(result_rows, key=lambda r: r["val_acc"])
    sentence = (
        "; ".join(parts)
        + f"; the best scheme by validation accuracy is {best['scheme']} ({best['val_acc']:.3f})."
    )
    gradient_columns = [Column("layer", justify="left")] + [
        Column(s, f"||dL/dW|| {s}", ".3g") for s in config.schemes
    ]
    result_columns = [
        Column("scheme", justify="left"),
        Column("first_layer_gradient", "first-layer grad", ".3g"),
        Column("last_layer_gradient", "last-layer grad", ".3g"),
        Column("train_loss", "final train CE", ".4f"),
        Column("val_acc", "final val acc", ".4f"),
    ]
    return ExperimentResult(
        name="initialization",
        title="Initialization of a CNN: gradients at the start and training",
        tables=[
            Table(
                list(gradient_rows),
                gradient_columns,
                title="Per-layer gradient norm at initialization (one batch)",
            ),
            Table(result_rows, result_columns, title="After training"),
        ],
        conclusion=sentence,
        measurements={"gradients": gradient_rows, "results": result_rows},
        figures=[figure],
        config=config,
    )
