"""Proper vs poor initialization: the poorly initialised network stalls.

Weights drawn from N(0, s / fan_in): s = 1 ("appropriate") keeps the variance of the signal
roughly constant from layer to layer; s = 0.01 ("too small") shrinks it by a factor 10 per layer,
so in a network of several layers the output hardly depends on the input and the gradients of the
first layers, products of the small weights of the layers above, are tiny: the loss sits on a
plateau near its value at initialization (ln 2 = 0.693 for the cross-entropy of a coin flip).
s = 100 ("too large") is shown too. The course's setting: ReLU for about 250 iterations and
sigmoid for about 4000 iterations of mini-batch SGD.
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
class InitializationConfig:
    """Scaled initializations N(0, s / fan_in) compared for a ReLU and a sigmoid network."""

    data: str = "circle"  # toy data set
    n: int = 400  # examples (half for training)
    hidden: tuple[int, ...] = (8, 8, 8)  # hidden layer sizes
    schemes: tuple[str, ...] = ("small", "appropriate", "large")  # s = 0.01, 1, 100
    poor: str = "small"  # the poor scheme the conclusion is about
    proper: str = "appropriate"  # the proper one
    relu_iterations: int = 250  # parameter updates of the ReLU network
    relu_lr: float = 0.1  # its learning rate
    sigmoid_iterations: int = 4000  # parameter updates of the sigmoid network
    sigmoid_lr: float = 0.5  # its learning rate
    batch_size: int = 10  # mini-batch size
    seeds: int = 3  # repetitions (data, initialization, batches)


def quick(config: InitializationConfig) -> InitializationConfig:
    """Return the config at small sizes (fewer sigmoid iterations, fewer seeds)."""
    return dataclasses.replace(
        config,
        n=min(config.n, 200),
        sigmoid_iterations=min(config.sigmoid_iterations, 1500),
        seeds=min(config.seeds, 2),
        schemes=tuple(s for s in config.schemes if s in (config.poor, config.proper))
        or config.schemes,
    )


_SCALE = {"zero": 0.0, "small": 0.01, "appropriate": 1.0, "large": 100.0}


def playground_config(
    config: InitializationConfig, activation: str, scheme: str, seed: int = 0
) -> PlaygroundConfig:
    """Return the playground run of one case: ``activation`` network, ``scheme`` init."""
    from neuralab.playground.config import PlaygroundConfig

    relu = activation == "relu"
    return PlaygroundConfig(
        data=config.data,
        n=config.n,
        hidden=tuple(config.hidden),
        activation=activation,
        output="sigmoid",
        loss="bce",
        init=scheme,
        optimizer="sgd",
        lr=config.relu_lr if relu else config.sigmoid_lr,
        batch_size=config.batch_size,
        iterations=config.relu_iterations if relu else config.sigmoid_iterations,
        seed=seed,
    )


def playground_cases(config: InitializationConfig) -> dict[str, PlaygroundConfig]:
    """Return every case at seed 0 by label; the first two are the claim's: ReLU, poor vs proper."""
    schemes = [config.poor, config.proper]
    schemes += [s for s in config.schemes if s not in schemes]
    return {
        f"{activation}, init {scheme}": playground_config(config, activation, scheme)
        for activation in ("relu", "sigmoid")
        for scheme in schemes
    }


def _train(config: InitializationConfig, activation: str, scheme: str, seed: int) -> Any:
    from neuralab.playground.run import train_playground

    return train_playground(playground_config(config, activation, scheme, seed))


def run(config: InitializationConfig, figures_dir: Path | None) -> ExperimentResult:
    """Return initial and final losses per (activation, scheme) and the conclusion."""
    if config.poor not in config.schemes or config.proper not in config.schemes:
        raise NeuralabError(
            f"poor={config.poor!r} and proper={config.proper!r} must be among schemes "
            f"{list(config.schemes)}"
        )
    if config.seeds < 1:
        raise NeuralabError(f"seeds={config.seeds} must be at least 1")
    rows: list[dict[str, Any]] = []
    curves: dict[tuple[str, str], list[list[tuple[int, float]]]] = {}
    final: dict[tuple[str, str], float] = {}
    start: dict[tuple[str, str], float] = {}
    for activation in ("relu", "sigmoid"):
        for scheme in config.schemes:
            results = [_train(config, activation, scheme, seed) for seed in range(config.seeds)]
            histories = [r.history for r in results]
            curves[(activation, scheme)] = [
                [(row["steps"], row["train_loss"]) for row in h] for h in histories
            ]
            first, _ = mean_std([h[0]["train_loss"] for h in histories])
            last, last_std = mean_std([h[-1]["train_loss"] for h in histories])
            accuracy, _ = mean_std([h[-1]["test_acc"] for h in histories])
            start[(activation, scheme)], final[(activation, scheme)] = first, last
            rows.append(
                {
                    "activation": activation,
                    "scheme": scheme,
                    "s": _SCALE.get(scheme),
                    "iterations": histories[0][-1]["steps"],
                    "initial_loss": first,
                    "final_loss": last,
                    "final_loss_std": last_std,
                    "test_acc": accuracy,
                }
            )
    columns = [
        Column("activation", "activation", justify="left"),
        Column("scheme", "init", justify="left"),
        Column("s", "s (N(0, s/fan_in))", "g"),
        Column("iterations", "iterations", ",d"),
        Column("initial_loss", "loss at init", ".3f"),
        Column("final_loss", "final loss", ".3f"),
        Column("final_loss_std", "± std", ".3f"),
        Column("test_acc", "test acc", ".3f"),
    ]
    figures: list[Path] = []
    if figures_dir is not None:
        from neuralab.report.experiment_figures import initialization_figure

        figure = initialization_figure(
            curves, schemes=config.schemes, hidden=config.hidden, scales=_SCALE
        )
        figures.append(save(figure, figures_dir, "experiment-initialization.png"))

    parts, holds = [], True
    for activation in ("relu", "sigmoid"):
        poor, proper = final[(activation, config.poor)], final[(activation, config.proper)]
        # stalled: ends well above the proper network and kept most of its initial loss
        stalled = poor > proper + 0.05 and poor > 0.8 * start[(activation, config.poor)]
        holds = holds and stalled
        iterations = config.relu_iterations if activation == "relu" else config.sigmoid_iterations
        parts.append(
            f"{activation}: {config.poor} init ends at loss {poor:.3f} vs {proper:.3f} for "
            f"{config.proper} after {iterations} iterations"
            + (" (it stalls)" if stalled else " (it does NOT stall)")
        )
    sentence = "; ".join(parts)
    return ExperimentResult(
        name="initialization",
        title="Proper vs poor initialization",
        tables=[Table(rows, columns)],
        conclusion=sentence,
        holds=holds,
        measurements={
            "final_loss": {f"{a}/{s}": v for (a, s), v in final.items()},
            "initial_loss": {f"{a}/{s}": v for (a, s), v in start.items()},
        },
        figures=figures,
        config=config,
    )
