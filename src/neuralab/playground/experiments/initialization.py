"""Proper vs poor initialization: too small stalls, too large fails, where the numbers say so.

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
    )


# a poor scheme "fails" when it ends this far behind the proper one (loss, test accuracy)
LOSS_MARGIN, ACCURACY_MARGIN = 0.05, 0.05


def initialization_conclusion(
    config: InitializationConfig, rows: list[dict[str, Any]]
) -> tuple[str, bool, dict[str, str]]:
    """Return the sentence, whether the claim holds and a verdict per ``activation/scheme``.

    Every scheme other than ``proper`` is judged against ``proper`` for the same activation: it
    *stalls* when its final loss is above the proper one's by more than LOSS_MARGIN and it kept
    over 80 % of its loss at initialization; it *fails* when it ends that far above in loss or
    ACCURACY_MARGIN below in test accuracy without stalling; otherwise it *learns*. The claim
    (every poor scheme stalls or fails) holds only if no row learns.
    """
    by_key = {(r["activation"], r["scheme"]): r for r in rows}
    parts, verdicts = [], {}
    for activation in dict.fromkeys(r["activation"] for r in rows):
        proper = by_key[(activation, config.proper)]
        judged = []
        for scheme in config.schemes:
            if scheme == config.proper:
                continue
            row = by_key[(activation, scheme)]
            behind = (
                row["final_loss"] > proper["final_loss"] + LOSS_MARGIN
                or row["test_acc"] < proper["test_acc"] - ACCURACY_MARGIN
            )
            if behind and row["final_loss"] > 0.8 * row["initial_loss"]:
                verdict = "it stalls"
            elif behind:
                verdict = "it fails"
            else:
                verdict = "it does NOT fail"
            verdicts[f"{activation}/{scheme}"] = verdict
            judged.append(
                f"{scheme} (s={_SCALE.get(scheme, float('nan')):g}) goes from loss "
                f"{row['initial_loss']:.3g} to {row['final_loss']:.3f}, test acc "
                f"{row['test_acc']:.3f} ({verdict})"
            )
        parts.append(
            f"{activation} after {proper['iterations']} iterations: {config.proper} ends at loss "
            f"{proper['final_loss']:.3f}, test acc {proper['test_acc']:.3f}; " + "; ".join(judged)
        )
    holds = all(v != "it does NOT fail" for v in verdicts.values())
    return ". ".join(p[0].upper() + p[1:] for p in parts), holds, verdicts


def verdict_rule(config: InitializationConfig) -> str:
    """Return the rule of :func:`initialization_conclusion`'s verdicts, with its thresholds."""
    return (
        f"Each poor init is judged against {config.proper} (same activation): it is behind when "
        f"its final loss is over {LOSS_MARGIN:g} above or its test acc over {ACCURACY_MARGIN:g} "
        "below; behind and still over 80% of its loss at init: it stalls; behind otherwise: it "
        "fails; not behind: it does NOT fail."
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
    """Return every case at seed 0 by label; the first two are the claim's: ReLU with the first
    poor scheme (one other than ``proper``) vs ReLU with the proper one."""
    poor = [s for s in config.schemes if s != config.proper]
    schemes = [*poor[:1], config.proper]
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
    if config.proper not in config.schemes:
        raise NeuralabError(
            f"proper={config.proper!r} must be among schemes {list(config.schemes)}"
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

    sentence, holds, verdicts = initialization_conclusion(config, rows)
    return ExperimentResult(
        name="initialization",
        title="Proper vs poor initialization",
        tables=[Table(rows, columns, notes=[verdict_rule(config)])],
        conclusion=sentence,
        holds=holds,
        measurements={
            "verdicts": verdicts,
            "final_loss": {f"{a}/{s}": v for (a, s), v in final.items()},
            "initial_loss": {f"{a}/{s}": v for (a, s), v in start.items()},
        },
        figures=figures,
        config=config,
    )
