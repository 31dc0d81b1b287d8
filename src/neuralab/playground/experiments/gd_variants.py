"""Batch gradient descent vs SGD vs mini-batch, and SGD's noise on a non-convex function.

Part 1 trains the same network with batch size N (full-batch GD: one update per epoch), 1 (SGD:
N updates per epoch) and b (mini-batch) at the same learning rate, and plots the training loss
against epochs, against gradient evaluations (per-example gradients computed) and against wall
time.

Part 3 (:mod:`~neuralab.playground.experiments.gd_scaling`) grows the data and counts what it
costs each variant to reach one training loss: epochs, gradient evaluations, wall-clock seconds.

Part 2 is the course's picture of why SGD's noise helps: a finite-sample loss in one weight,

    J(w) = 1/N sum_i f_i(w),   f_i(w) = w^4 - 3 w^2 + w + xi_i w,   sum_i xi_i = 0,

so the full-batch gradient is exactly J'(w) = 4 w^3 - 6 w + 1 (local minimum at w = 1.131,
barrier at w = 0.170, global minimum at w = -1.301) while one example's gradient is
J'(w) + xi_i: an unbiased estimate with variance sigma^2 (sigma^2 / b for a mini-batch of b drawn
with replacement). Every run starts in the local minimum; full-batch GD has zero gradient there and
stays, SGD is shaken out of it. Measured over many seeds: the fraction that ever crossed the
barrier and the fraction that ended in the global minimum's basin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.errors import NeuralabError
from neuralab.playground.experiments._base import save
from neuralab.playground.experiments.gd_scaling import scaling_conclusion, scaling_rows
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Column, Table

if TYPE_CHECKING:
    from neuralab.playground.config import PlaygroundConfig

# stationary points of J(w) = w^4 - 3 w^2 + w (roots of 4 w^3 - 6 w + 1)
W_GLOBAL, W_BARRIER, W_LOCAL = -1.3008395659415772, 0.16993844331159128, 1.130901122629986


@dataclass
class GDVariantsConfig:
    """Part 1: one network, three batch sizes; part 2: a 1-D non-convex loss over seeds."""

    data: str = "circle"  # toy data set of part 1
    n: int = 200  # examples (half for training)
    hidden: tuple[int, ...] = (8,)  # hidden layer sizes of part 1
    activation: str = "tanh"  # hidden activation of part 1
    lr: float = 0.1  # learning rate eta of part 1, the same for every batch size
    epochs: int = 40  # passes over the training set in part 1
    minibatch: int = 10  # the mini-batch size b
    seed: int = 0  # seed of part 1 (data, initialization, shuffling)
    samples: int = 100  # N examples of the 1-D loss (part 2)
    sigma: float = 8.0  # standard deviation of the per-example gradient noise xi_i
    lr_1d: float = 0.01  # learning rate of part 2
    steps_1d: int = 2000  # parameter updates of part 2 (the same for every batch size)
    seeds: int = 200  # independent runs of part 2 (vectorised: cheap)
    data_sizes: tuple[int, ...] = (200, 2000, 20000)  # part 3: examples n (half for training)
    target_loss: float = 0.3  # part 3: the training loss every variant has to reach
    budget_seconds: float = 10.0  # part 3: training seconds allowed per variant and size


def quick(config: GDVariantsConfig) -> GDVariantsConfig:
    """Return the config at small sizes."""
    return dataclasses.replace(
        config,
        n=min(config.n, 100),
        epochs=min(config.epochs, 15),
        steps_1d=min(config.steps_1d, 1000),
        seeds=min(config.seeds, 100),
        # the budget stays: it only ends variants that do not reach the loss, and a shorter one
        # made full-batch GD at the largest size miss it on a loaded machine
        data_sizes=(config.data_sizes[0], config.data_sizes[-1]),
    )


def objective_1d(w: Any) -> Any:
    """Return J(w) = w^4 - 3 w^2 + w (float or tensor)."""
    return w**4 - 3 * w**2 + w


def escape_1d(config: GDVariantsConfig, batch: int) -> dict[str, Any]:
    """Return the escape statistics of ``seeds`` runs with mini-batches of ``batch`` examples.

    ``batch >= samples`` is full-batch GD (the exact gradient J'(w)); otherwise each update
    draws ``batch`` example indices with replacement. All runs start at the local minimum.
    """
    import torch

    generator = torch.Generator().manual_seed(config.seed)
    xi = config.sigma * torch.randn(config.samples, generator=generator, dtype=torch.float64)
    xi = xi - xi.mean()  # the full-batch gradient is exactly J'(w)
    w = torch.full((config.seeds,), W_LOCAL, dtype=torch.float64)
    crossed = torch.zeros(config.seeds, dtype=torch.bool)
    full = batch >= config.samples
    for _ in range(config.steps_1d):
        gradient = 4 * w**3 - 6 * w + 1
        if not full:
            index = torch.randint(0, config.samples, (config.seeds, batch), generator=generator)
            gradient = gradient + xi[index].mean(dim=1)
        w = w - config.lr_1d * gradient
        crossed |= w < W_BARRIER
    if not torch.isfinite(w).all():
        raise NeuralabError(f"part 2 diverged: lower lr_1d={config.lr_1d} or sigma={config.sigma}")
    return {
        "crossed": float(crossed.double().mean()),
        "ended_global": float((w < W_BARRIER).double().mean()),
        "final_w": w,
    }


def variants(config: GDVariantsConfig) -> list[tuple[str, int]]:
    """Return (label, batch size) of part 1's variants; batch size 0 is the full batch."""
    return [
        ("full batch (GD)", 0),
        ("SGD (b=1)", 1),
        (f"mini-batch (b={config.minibatch})", config.minibatch),
    ]


def playground_config(config: GDVariantsConfig, batch_size: int) -> PlaygroundConfig:
    """Return the playground run of part 1 with ``batch_size`` (0: full batch)."""
    from neuralab.playground.config import PlaygroundConfig

    return PlaygroundConfig(
        data=config.data,
        n=config.n,
        hidden=tuple(config.hidden),
        activation=config.activation,
        lr=config.lr,
        batch_size=batch_size,
        epochs=config.epochs,
        seed=config.seed,
    )


def playground_cases(config: GDVariantsConfig) -> dict[str, PlaygroundConfig]:
    """Return part 1's variants by label: full-batch GD first, then SGD, then mini-batch."""
    return {label: playground_config(config, batch) for label, batch in variants(config)}


def _train(config: GDVariantsConfig, batch_size: int) -> Any:
    from neuralab.playground.run import train_playground

    return train_playground(playground_config(config, batch_size))


def run(config: GDVariantsConfig, figures_dir: Path | None) -> ExperimentResult:
    """Return the per-variant table (part 1 and part 2) and the computed conclusion."""
    if config.minibatch < 2 or config.samples < 2 or config.seeds < 1 or config.steps_1d < 1:
        raise NeuralabError("minibatch and samples must be >= 2, seeds and steps_1d >= 1")
    rows: list[dict[str, Any]] = []
    curves: dict[str, list[dict[str, Any]]] = {}
    escapes: dict[str, dict[str, Any]] = {}
    for label, batch_size in variants(config):
        result = _train(config, batch_size)
        curves[label] = result.history
        final = result.history[-1]
        batch_1d = config.samples if batch_size == 0 else batch_size
        escape = escape_1d(config, batch_1d)
        escapes[label] = escape
        rows.append(
            {
                "variant": label,
                "updates": final["steps"],
                "gradient_evaluations": final["examples"],
                "seconds": final["seconds"],
                "train_loss": final["train_loss"],
                "test_acc": final["test_acc"],
                "crossed": escape["crossed"],
                "ended_global": escape["ended_global"],
            }
        )
    columns = [
        Column("variant", "variant", justify="left"),
        Column("updates", "updates", ",d"),
        Column("gradient_evaluations", "gradient evals", ",d"),
        Column("seconds", "train seconds", ".3f"),
        Column("train_loss", f"train loss @ {config.epochs} ep", ".4f"),
        Column("test_acc", "test acc", ".3f"),
        Column("crossed", "1-D: left local min", ".0%"),
        Column("ended_global", "1-D: ended in global", ".0%"),
    ]
    scaling = scaling_rows(config)
    figures = [] if figures_dir is None else _figures(config, curves, escapes, scaling, figures_dir)

    full, sgd, mini = rows
    per_epoch = sgd["train_loss"] < full["train_loss"] and mini["train_loss"] < full["train_loss"]
    escaped = sgd["crossed"] > full["crossed"]
    sentence = (
        f"after {config.epochs} epochs SGD reaches training loss {sgd['train_loss']:.3f}, "
        f"mini-batch {mini['train_loss']:.3f} and full-batch GD {full['train_loss']:.3f} "
        f"({'more' if per_epoch else 'NOT more'} progress per epoch for the noisy variants); "
        f"on J(w) = w^4 - 3w^2 + w, SGD left the local minimum in {sgd['crossed']:.0%} of "
        f"{config.seeds} runs, mini-batch in {mini['crossed']:.0%}, full-batch GD in "
        f"{full['crossed']:.0%}" + ("" if escaped else " (SGD's noise did NOT help here)")
    )
    scaling_sentence, scales = scaling_conclusion(config, scaling)
    sentence += "; " + scaling_sentence
    return ExperimentResult(
        name="gd-variants",
        title="Batch GD vs SGD vs mini-batch",
        tables=[
            Table(rows, columns, title="Parts 1 and 2: one data size, and the 1-D loss"),
            Table(
                scaling,
                _SCALING_COLUMNS,
                title=f"Part 3: cost to reach training loss {config.target_loss:g} as n grows",
                notes=[
                    f"Training seconds exclude the loss checks; a blank cost: not reached "
                    f"within {config.budget_seconds:g} s. Wall time depends on the machine and "
                    "its load; epochs and gradient evaluations do not."
                ],
            ),
        ],
        conclusion=sentence,
        holds=per_epoch and escaped and scales,
        measurements={
            "train_loss": {r["variant"]: r["train_loss"] for r in rows},
            "crossed": {r["variant"]: r["crossed"] for r in rows},
            "ended_global": {r["variant"]: r["ended_global"] for r in rows},
            "scaling": scaling,
        },
        figures=figures,
        config=config,
    )


_SCALING_COLUMNS = [
    Column("n", "n", ",d"),
    Column("variant", "variant", justify="left"),
    Column("epochs", "epochs", ".3g"),
    Column("gradient_evaluations", "gradient evals", ",d"),
    Column("updates", "updates", ",d"),
    Column("seconds", "train seconds", ".3f"),
    Column("reached", "reached", lambda v: "yes" if v else "no", justify="center"),
]


def _figures(
    config: GDVariantsConfig,
    histories: dict[str, list[dict[str, Any]]],
    escapes: dict[str, dict[str, Any]],
    scaling: list[dict[str, Any]],
    folder: Path,
) -> list[Path]:
    import torch

    from neuralab.report.experiment_figures import (
        gd_scaling_figure,
        gd_variants_escape_figure,
        gd_variants_loss_figure,
    )

    loss = gd_variants_loss_figure(histories, data=config.data, hidden=config.hidden, lr=config.lr)
    w = torch.linspace(-2.0, 2.0, 400, dtype=torch.float64)
    escape = gd_variants_escape_figure(
        list(zip(w.tolist(), objective_1d(w).tolist(), strict=True)),
        {label: e["final_w"].tolist() for label, e in escapes.items()},
        local_minimum=(W_LOCAL, objective_1d(W_LOCAL)),
        global_minimum=(W_GLOBAL, objective_1d(W_GLOBAL)),
        steps=config.steps_1d,
        seeds=config.seeds,
    )
    return [
        save(loss, folder, "experiment-gd-variants-loss.png"),
        save(escape, folder, "experiment-gd-variants-escape.png"),
        save(
            gd_scaling_figure(scaling, target_loss=config.target_loss),
            folder,
            "experiment-gd-variants-scaling.png",
        ),
    ]


__all__ = ["GDVariantsConfig", "escape_1d", "objective_1d", "quick", "run"]
