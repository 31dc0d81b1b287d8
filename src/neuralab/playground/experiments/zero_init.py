"""Zero and constant initialization: symmetry is never broken; zero ReLU weights never move.

If every unit of a hidden layer starts with the same incoming weights and bias, every unit
computes the same z and a, receives the same error delta = f'(z) * (W_next^T delta_next) (the
outgoing weights are identical too) and so the same update: the units stay identical forever,
and the layer is worth one unit. With ReLU and all-zero weights it is worse: z = 0, ReLU'(0) = 0
and a = 0, so dJ/dW = delta a^T = 0 in every layer: the weight gradients are exactly zero and the
network never learns (only the output bias moves). A small positive bias (0.01) puts z > 0 at the
start, so the ReLUs are active (their gradient flows) from the first step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.errors import NeuralabError
from neuralab.playground.experiments._base import save
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Column, Table

if TYPE_CHECKING:
    from neuralab.playground.config import PlaygroundConfig


@dataclass
class ZeroInitConfig:
    """Four cases: constant init (tanh), zero init (ReLU) with bias 0 and 0.01, He init (ReLU)."""

    data: str = "circle"  # toy data set
    n: int = 200  # examples (half for training)
    hidden: tuple[int, ...] = (4, 4)  # hidden layer sizes
    constant: float = 0.5  # the constant weight of the constant initialization
    relu_bias: float = 0.01  # the small positive bias that keeps ReLUs active
    lr: float = 0.1  # learning rate (mini-batch SGD)
    batch_size: int = 10  # mini-batch size
    epochs: int = 50  # passes over the training set
    seed: int = 0  # seed of the data, the initialization and the batches


def quick(config: ZeroInitConfig) -> ZeroInitConfig:
    """Return the config at small sizes."""
    return dataclasses.replace(config, n=min(config.n, 100), epochs=min(config.epochs, 10))


def _cases(config: ZeroInitConfig) -> list[tuple[str, str, float]]:
    """Return (activation, init, bias) of every case."""
    return [
        ("tanh", f"constant({config.constant:g})", 0.0),
        ("relu", "zeros", 0.0),
        ("relu", "zeros", config.relu_bias),
        ("relu", "he_normal", 0.0),
        ("relu", "he_normal", config.relu_bias),
    ]


def case_label(activation: str, init: str, bias: float) -> str:
    """Return the label of one case, e.g. ``relu, zeros, bias 0.01``."""
    return f"{activation}, {init}, bias {bias:g}"


def playground_config(
    config: ZeroInitConfig, activation: str, init: str, bias: float
) -> PlaygroundConfig:
    """Return the playground run of one case (activation, weight init, constant bias)."""
    from neuralab.playground.config import PlaygroundConfig

    return PlaygroundConfig(
        data=config.data,
        n=config.n,
        hidden=tuple(config.hidden),
        activation=activation,
        init=init,
        bias_init=bias,
        lr=config.lr,
        batch_size=config.batch_size,
        epochs=config.epochs,
        seed=config.seed,
    )


def playground_cases(config: ZeroInitConfig) -> dict[str, PlaygroundConfig]:
    """Return every case by label; the first two differ only in the weights: ReLU zeros vs He."""
    first = [("relu", "zeros", 0.0), ("relu", "he_normal", 0.0)]
    cases = first + [case for case in _cases(config) if case not in first]
    return {case_label(*case): playground_config(config, *case) for case in cases}


def active_fraction(model: Any, x: Any) -> float:
    """Return the fraction of (hidden unit, example) pairs with z > 0, i.e. ReLU'(z) = 1."""
    import torch

    with torch.no_grad():
        zs = model.trace(x).pre_activations
    active = sum(int((z > 0).sum()) for z in zs)
    return active / sum(z.numel() for z in zs)


def unit_spread(model: Any) -> float:
    """Return max over hidden layers of max |(W_j, b_j) - (W_1, b_1)|: 0 when units are identical."""
    import torch

    spread = 0.0
    for layer in model.hidden_layers:
        rows = torch.cat([layer.weight.detach(), layer.bias.detach().unsqueeze(1)], dim=1)
        spread = max(spread, float((rows - rows[:1]).abs().max()))
    return spread


def run(config: ZeroInitConfig, figures_dir: Path | None) -> ExperimentResult:
    """Return per-case symmetry, gradients at init, active fraction and final accuracy."""
    import torch

    from neuralab.playground.plan import build_model, load_data, make_plan
    from neuralab.playground.run import train_playground

    if config.epochs < 1:
        raise NeuralabError(f"epochs={config.epochs} must be at least 1")
    rows: list[dict[str, Any]] = []
    histories: dict[str, list[dict[str, Any]]] = {}
    for activation, init, bias in _cases(config):
        playground = playground_config(config, activation, init, bias)
        # the network exactly as the trainer builds it at initialization (same seed)
        data = load_data(playground)
        plan = make_plan(playground, data)
        initial = build_model(plan, playground, torch.Generator().manual_seed(config.seed))
        active = active_fraction(initial, data.x_train)
        result = train_playground(playground, data=data)
        label = case_label(activation, init, bias)
        histories[label] = result.history
        first, last = result.history[0], result.history[-1]
        weight_gradients = first["grad_norm"]  # ||dJ/dW_l|| of every layer at init
        rows.append(
            {
                "activation": activation,
                "init": init,
                "bias": bias,
                "active_at_init": active,
                "max_weight_grad_at_init": max(weight_gradients),
                "symmetric_every_epoch": all(all(row["symmetric"]) for row in result.history),
                "unit_spread": unit_spread(result.model),
                "weight_norm_end": sum(last["weight_norm"]),
                "train_loss": last["train_loss"],
                "test_acc": last["test_acc"],
            }
        )
    columns = [
        Column("activation", "activation", justify="left"),
        Column("init", "init", justify="left"),
        Column("bias", "bias", "g"),
        Column("active_at_init", "units active at init (z > 0)", ".0%"),
        Column("max_weight_grad_at_init", "max ‖dJ/dW‖ at init", ".3g"),
        Column("symmetric_every_epoch", "units identical every epoch", justify="center"),
        Column("unit_spread", "max unit difference at end", ".1e"),
        Column("train_loss", "final train loss", ".3f"),
        Column("test_acc", "test acc", ".3f"),
    ]
    figures: list[Path] = []
    if figures_dir is not None:
        from neuralab.report.experiment_figures import zero_init_figure

        figure = zero_init_figure(histories, data=config.data, hidden=config.hidden)
        figures.append(save(figure, figures_dir, "experiment-zero-init.png"))

    constant, zero, zero_bias = rows[0], rows[1], rows[2]
    symmetric = constant["symmetric_every_epoch"] and zero_bias["symmetric_every_epoch"]
    zero_gradient = zero["max_weight_grad_at_init"] == 0.0 and zero["weight_norm_end"] == 0.0
    kept_active = zero_bias["active_at_init"] > zero["active_at_init"]
    holds = symmetric and zero_gradient and kept_active
    sentence = (
        f"with constant init the {config.hidden[0]} units of each hidden layer are "
        f"{'still identical' if symmetric else 'NOT identical'} after {config.epochs} epochs "
        f"(largest difference {constant['unit_spread']:.1e}); with ReLU and all-zero weights the "
        f"largest weight gradient is {zero['max_weight_grad_at_init']:g} "
        f"({'exactly zero: the weights never move' if zero_gradient else 'NOT zero'}) and "
        f"test accuracy stays {zero['test_acc']:.2f}; bias {config.relu_bias:g} makes "
        f"{zero_bias['active_at_init']:.0%} of the ReLUs active at the start instead of "
        f"{zero['active_at_init']:.0%}"
        + ("" if kept_active else " (NOT more)")
        + f" (He init: {rows[4]['active_at_init']:.0%} vs {rows[3]['active_at_init']:.0%})"
    )
    return ExperimentResult(
        name="zero-init",
        title="Zero and constant initialization",
        tables=[Table(rows, columns)],
        conclusion=sentence,
        holds=holds,
        measurements={"cases": rows},
        figures=figures,
        config=config,
    )
