"""Regularization: an over-parameterised network on few noisy points, with none / L2 / dropout.

A network with thousands of weights fitted to a few dozen noisy points can drive the training
loss towards zero by bending its boundary around every noisy point; the test loss then grows
(overfitting). L2 (weight decay, J + lambda_2 / 2 sum w^2) keeps the weights small and the
function smooth; dropout (each hidden unit dropped with probability p during training) keeps
units from relying on each other. Both trade a higher training loss for a lower test loss.
Measured over several seeds: train and test loss and classification error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.errors import NeuralabError
from neuralab.playground.experiments._base import mean_std, save
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Column, Table

if TYPE_CHECKING:
    from neuralab.playground.config import PlaygroundConfig


@dataclass
class RegularizationConfig:
    """Few noisy training points, a large network, three regularization settings."""

    data: str = "xor"  # toy data set
    n: int = 400  # examples in all
    train_ratio: float = 0.1  # so only n * train_ratio points are used for training
    noise: float = 30.0  # noise percentage (label noise for xor and circle)
    hidden: tuple[int, ...] = (64, 64)  # over-parameterised hidden layers
    activation: str = "relu"  # hidden activation
    optimizer: str = "adam"  # optimizer
    lr: float = 0.01  # learning rate
    epochs: int = 500  # full-batch epochs
    l2: float = 0.01  # lambda_2 of the L2 setting
    dropout: float = 0.3  # p of the dropout setting
    seeds: int = 3  # repetitions (data, initialization, dropout masks)


def quick(config: RegularizationConfig) -> RegularizationConfig:
    """Return the config at small sizes (fewer epochs, smaller hidden layers)."""
    return dataclasses.replace(
        config,
        epochs=min(config.epochs, 150),
        hidden=tuple(min(h, 32) for h in config.hidden),
        seeds=min(config.seeds, 2),
    )


def settings(config: RegularizationConfig) -> list[tuple[str, float, float]]:
    """Return (label, lambda_2, dropout p) of the three settings compared."""
    return [
        ("none", 0.0, 0.0),
        (f"L2 (lambda={config.l2:g})", config.l2, 0.0),
        (f"dropout (p={config.dropout:g})", 0.0, config.dropout),
    ]


def playground_config(
    config: RegularizationConfig, l2: float, dropout: float, seed: int = 0
) -> PlaygroundConfig:
    """Return the playground run of one setting (L2 penalty lambda_2, dropout p)."""
    from neuralab.playground.config import PlaygroundConfig

    return PlaygroundConfig(
        data=config.data,
        n=config.n,
        train_ratio=config.train_ratio,
        noise=config.noise,
        hidden=tuple(config.hidden),
        activation=config.activation,
        init="he_normal" if config.activation == "relu" else "xavier_uniform",
        optimizer=config.optimizer,
        lr=config.lr,
        batch_size=0,
        epochs=config.epochs,
        l2=l2,
        dropout=dropout,
        seed=seed,
    )


def playground_cases(config: RegularizationConfig) -> dict[str, PlaygroundConfig]:
    """Return the three settings at seed 0 by label: none first, then L2, then dropout."""
    return {label: playground_config(config, l2, p) for label, l2, p in settings(config)}


def _train(config: RegularizationConfig, l2: float, dropout: float, seed: int) -> Any:
    from neuralab.playground.run import train_playground

    return train_playground(playground_config(config, l2, dropout, seed))


# overfitting: the test loss at least this many times the training loss, and the test error
# at least this many points above the training error
OVERFIT_LOSS_RATIO, OVERFIT_ERROR_GAP = 2.0, 0.05


def overfitting_statement(row: dict[str, Any]) -> tuple[str, bool]:
    """Return the sentence on whether the unregularised network overfits, and the verdict:
    it does when test loss >= OVERFIT_LOSS_RATIO x train loss and test error - train error >=
    OVERFIT_ERROR_GAP."""
    ratio = row["test_loss"] / row["train_loss"] if row["train_loss"] > 0 else float("inf")
    gap = row["test_error"] - row["train_error"]
    overfits = ratio >= OVERFIT_LOSS_RATIO and gap >= OVERFIT_ERROR_GAP
    return (
        f"without regularization the network {'overfits' if overfits else 'does NOT overfit'}: "
        f"train loss {row['train_loss']:.3f} vs test loss {row['test_loss']:.3f} ({ratio:.3g}x; "
        f"overfitting: >= {OVERFIT_LOSS_RATIO:g}x), train error {row['train_error']:.1%} vs test "
        f"error {row['test_error']:.1%} ({100 * gap:.1f} points; overfitting: >= "
        f"{100 * OVERFIT_ERROR_GAP:g})",
        overfits,
    )


def run(config: RegularizationConfig, figures_dir: Path | None) -> ExperimentResult:
    """Return train/test loss and error per setting (mean +- std over seeds) and the conclusion."""
    if config.seeds < 1 or config.epochs < 1:
        raise NeuralabError("seeds and epochs must be at least 1")
    rows: list[dict[str, Any]] = []
    curves: dict[str, list[dict[str, Any]]] = {}
    for label, l2, dropout in settings(config):
        histories = [_train(config, l2, dropout, seed).history for seed in range(config.seeds)]
        curves[label] = histories[0]
        last = [h[-1] for h in histories]
        row: dict[str, Any] = {"setting": label}
        for key in ("train_loss", "test_loss"):
            row[key], row[key + "_std"] = mean_std([r[key] for r in last])
        row["train_error"], _ = mean_std([1.0 - r["train_acc"] for r in last])
        row["test_error"], row["test_error_std"] = mean_std([1.0 - r["test_acc"] for r in last])
        rows.append(row)
    columns = [
        Column("setting", "regularization", justify="left"),
        Column("train_loss", "train loss", ".3f"),
        Column("test_loss", "test loss", ".3f"),
        Column("test_loss_std", "± std", ".3f"),
        Column("train_error", "train error", ".1%"),
        Column("test_error", "test error", ".1%"),
        Column("test_error_std", "± std", ".1%"),
    ]
    figures: list[Path] = []
    if figures_dir is not None:
        from neuralab.report.experiment_figures import regularization_figure

        figure = regularization_figure(
            curves,
            data=config.data,
            hidden=config.hidden,
            n_train=int(config.n * config.train_ratio),
        )
        figures.append(save(figure, figures_dir, "experiment-regularization.png"))

    none, l2_row, dropout_row = rows
    overfitting, overfits = overfitting_statement(none)
    l2_helps = l2_row["test_loss"] < none["test_loss"]
    dropout_helps = dropout_row["test_loss"] < none["test_loss"]
    sentence = (
        f"{overfitting}; L2 gives test loss {l2_row['test_loss']:.3f} "
        f"({l2_row['test_error']:.1%}) and dropout {dropout_row['test_loss']:.3f} "
        f"({dropout_row['test_error']:.1%}): "
        + (
            "both lower the test loss"
            if l2_helps and dropout_helps
            else "L2 lowers the test loss, dropout does NOT"
            if l2_helps
            else "dropout lowers the test loss, L2 does NOT"
            if dropout_helps
            else "NEITHER lowers the test loss here"
        )
        + "; the test error "
        + ", ".join(
            f"{'falls' if r['test_error'] < none['test_error'] else 'does not fall'} with {name}"
            for name, r in (("L2", l2_row), ("dropout", dropout_row))
        )
    )
    return ExperimentResult(
        name="regularization",
        title="No regularization vs L2 vs dropout",
        tables=[Table(rows, columns, notes=[overfitting[0].upper() + overfitting[1:] + "."])],
        conclusion=sentence,
        holds=overfits and l2_helps and dropout_helps,
        measurements={"none": none, "l2": l2_row, "dropout": dropout_row},
        figures=figures,
        config=config,
    )
