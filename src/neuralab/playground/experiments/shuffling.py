"""Shuffling: SGD on data sorted by class vs data reshuffled every epoch.

With batch size 1 every update follows one example. When the training set is sorted (all -1
first, then all +1) and never reshuffled, SGD first sees only one class for half an epoch and
learns "everything is -1", then only the other class and swings to "everything is +1": the
network chases the most recent examples instead of the whole set. Large, one-sided updates can
also push a ReLU's bias so far down that z <= 0 on every input: the unit is dead (its gradient
is zero for good). Measured over several seeds: the fraction of dead ReLUs and the final
accuracy, mean and standard deviation.
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
class ShufflingConfig:
    """The same ReLU network and SGD (batch 1) on sorted vs reshuffled data, over seeds."""

    data: str = "circle"  # toy data set
    n: int = 200  # examples (half for training)
    hidden: tuple[int, ...] = (8, 8)  # hidden layer sizes (ReLU)
    output: str = "tanh"  # output activation; tanh with mse on -1/+1 as in TF Playground
    loss: str = "mse"  # loss
    init: str = "he_normal"  # weight initialization
    lr: float = 0.03  # learning rate of SGD
    epochs: int = 10  # passes over the training set
    seeds: int = 5  # repetitions (data, initialization)


def quick(config: ShufflingConfig) -> ShufflingConfig:
    """Return the config at small sizes."""
    return dataclasses.replace(
        config, n=min(config.n, 100), epochs=min(config.epochs, 5), seeds=min(config.seeds, 4)
    )


ORDERS = (("sorted, never shuffled", True), ("shuffled every epoch", False))


def playground_config(
    config: ShufflingConfig, sorted_data: bool, seed: int = 0
) -> PlaygroundConfig:
    """Return the playground run of one case: sorted and never reshuffled, or shuffled."""
    from neuralab.playground.config import PlaygroundConfig

    return PlaygroundConfig(
        data=config.data,
        n=config.n,
        order="sorted" if sorted_data else "shuffled",
        shuffle=not sorted_data,
        hidden=tuple(config.hidden),
        activation="relu",
        output=config.output,
        loss=config.loss,
        init=config.init,
        lr=config.lr,
        batch_size=1,
        epochs=config.epochs,
        seed=seed,
    )


def playground_cases(config: ShufflingConfig) -> dict[str, PlaygroundConfig]:
    """Return both cases at seed 0 by label: sorted (the claim's poor case) first."""
    return {label: playground_config(config, sorted_data) for label, sorted_data in ORDERS}


def _train(config: ShufflingConfig, sorted_data: bool, seed: int) -> Any:
    from neuralab.playground.run import train_playground

    return train_playground(playground_config(config, sorted_data, seed))


def run(config: ShufflingConfig, figures_dir: Path | None) -> ExperimentResult:
    """Return dead-ReLU fraction and accuracy (mean +- std over seeds) for sorted vs shuffled."""
    if config.seeds < 1 or config.epochs < 1:
        raise NeuralabError("seeds and epochs must be at least 1")
    rows: list[dict[str, Any]] = []
    curves: dict[str, list[list[float]]] = {}
    for label, sorted_data in ORDERS:
        histories = [_train(config, sorted_data, seed).history for seed in range(config.seeds)]
        curves[label] = [[row["test_acc"] for row in h] for h in histories]
        dead = [sum(h[-1]["dead_fraction"]) / len(h[-1]["dead_fraction"]) for h in histories]
        accuracy = [h[-1]["test_acc"] for h in histories]
        loss = [h[-1]["train_loss"] for h in histories]
        dead_mean, dead_std = mean_std(dead)
        acc_mean, acc_std = mean_std(accuracy)
        loss_mean, _ = mean_std(loss)
        rows.append(
            {
                "order": label,
                "dead": dead_mean,
                "dead_std": dead_std,
                "test_acc": acc_mean,
                "test_acc_std": acc_std,
                "train_loss": loss_mean,
                "seeds": config.seeds,
            }
        )
    columns = [
        Column("order", "training order", justify="left"),
        Column("dead", "dead ReLUs", ".1%"),
        Column("dead_std", "± std", ".1%"),
        Column("test_acc", "test acc", ".3f"),
        Column("test_acc_std", "± std", ".3f"),
        Column("train_loss", "train loss", ".3f"),
        Column("seeds", "seeds", "d"),
    ]
    figures: list[Path] = []
    if figures_dir is not None:
        from neuralab.report.experiment_figures import shuffling_figure

        figure = shuffling_figure(
            curves, data=config.data, hidden=config.hidden, seeds=config.seeds
        )
        figures.append(save(figure, figures_dir, "experiment-shuffling.png"))

    ordered, shuffled = rows
    worse = ordered["test_acc"] < shuffled["test_acc"]
    more_dead = ordered["dead"] > shuffled["dead"]
    sentence = (
        f"over {config.seeds} seeds, SGD on sorted data ends at test accuracy "
        f"{ordered['test_acc']:.3f} ± {ordered['test_acc_std']:.3f} vs "
        f"{shuffled['test_acc']:.3f} ± {shuffled['test_acc_std']:.3f} when shuffled every epoch "
        f"({'worse' if worse else 'NOT worse'}), with {ordered['dead']:.1%} vs "
        f"{shuffled['dead']:.1%} dead ReLUs"
        + (" (more dead units when sorted)" if more_dead else " (NOT more dead units when sorted)")
    )
    return ExperimentResult(
        name="shuffling",
        title="Sorted vs shuffled training data",
        tables=[Table(rows, columns)],
        conclusion=sentence,
        holds=worse,
        measurements={
            "test_acc": {"sorted": ordered["test_acc"], "shuffled": shuffled["test_acc"]},
            "dead": {"sorted": ordered["dead"], "shuffled": shuffled["dead"]},
        },
        figures=figures,
        config=config,
    )
