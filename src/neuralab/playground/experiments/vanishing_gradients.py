"""Vanishing gradients: per-layer gradient norms at initialization of deep sigmoid/tanh/ReLU nets.

Backpropagation multiplies, layer by layer, by W_l^T and by f'(z_l). For the sigmoid
f'(z) <= 1/4, so the gradient reaching layer 1 of an L-layer network has passed through L factors
of at most 1/4 times the weights: it shrinks geometrically with depth. tanh has f'(0) = 1 and
ReLU f'(z) = 1 where it is active, so their gradients shrink far less. Measured here: the
Frobenius norm ||dJ/dW_l||_F of every layer of a freshly initialised network on one full batch of
data, and the ratio first layer / last (output) layer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.errors import NeuralabError
from neuralab.playground.experiments._base import geometric_mean, save
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Column, Table

if TYPE_CHECKING:
    from neuralab.playground.config import PlaygroundConfig


@dataclass
class VanishingGradientsConfig:
    """Deep networks at initialization, one per activation (the course: 10 hidden layers)."""

    data: str = "circle"  # toy data set the loss is measured on
    n: int = 200  # examples (all of the training half go into one full batch)
    depth: int = 10  # number of hidden layers
    width: int = 16  # units per hidden layer
    activations: tuple[str, ...] = ("sigmoid", "tanh", "relu")  # hidden activations compared
    init: str = "xavier_uniform"  # the same weight initialization for every activation
    seeds: int = 5  # independent initializations; norms are averaged geometrically


def quick(config: VanishingGradientsConfig) -> VanishingGradientsConfig:
    """Return the config at small sizes (fewer seeds and examples)."""
    return dataclasses.replace(config, n=min(config.n, 100), seeds=min(config.seeds, 3))


def gradient_norms_at_init(
    activation: str, config: VanishingGradientsConfig, seed: int
) -> list[float]:
    """Return ||dJ/dW_l||_F for every layer (hidden layers, then output) at initialization.

    J is the binary cross-entropy of the sigmoid output on the training set.
    """
    import torch

    from neuralab.playground.mlp import MLP, batch_loss, layer_gradient_norms
    from neuralab.playground.toy_data import make_toy_data
    from neuralab.theory.initialization import init_weights

    data = make_toy_data(config.data, n=config.n, seed=seed)
    if data.task != "classification" or data.num_classes != 2:
        raise NeuralabError(f"data={config.data!r} must be a two-class set (circle, xor, ...)")
    generator = torch.Generator().manual_seed(seed)
    model = MLP(data.input_dim, (config.width,) * config.depth, 1, activation, "sigmoid")
    init_weights(model, config.init, generator=generator)
    trace = model.trace(data.x_train)
    target = data.y_train.float().unsqueeze(1)  # (N, 1)
    batch_loss(trace.logits, trace.output, target, "bce").backward()
    return layer_gradient_norms(model)


VANISHES = 1e-2  # first / last gradient norm below this: the gradient has vanished
SATURATING = ("sigmoid", "tanh")  # the course's saturating units: expected to vanish


def max_slope(activation: str) -> float:
    """Return max |f'(z)| over z in [-10, 10] (step 0.001), by autograd: the largest factor
    f'(z_l) by which backpropagation can multiply at each layer (sigmoid 1/4, tanh 1)."""
    import torch

    from neuralab.theory.activations import get_activation

    z = torch.linspace(-10, 10, 20001, dtype=torch.float64, requires_grad=True)
    get_activation(activation)(z).sum().backward()
    assert z.grad is not None
    return float(z.grad.abs().max())


def vanishing_conclusion(
    config: VanishingGradientsConfig, ratios: dict[str, float], slopes: dict[str, float]
) -> tuple[str, bool]:
    """Return the sentence about every activation and whether the claim holds: each saturating
    activation's ratio first / last is below VANISHES and every other one's is not."""
    parts, holds = [], True
    for activation, ratio in ratios.items():
        vanishes = ratio < VANISHES
        expected = activation in SATURATING
        holds = holds and vanishes == expected
        verdict = "vanishes" if vanishes else "does not vanish"
        if vanishes != expected:
            verdict = "does NOT vanish" if expected else "vanishes, NOT expected"
        parts.append(f"{activation} {ratio:.1e} (max f' {slopes[activation]:.3g}: {verdict})")
    sentence = (
        f"at initialization the first of {config.depth + 1} layers gets this fraction of the "
        "last layer's gradient norm: " + ", ".join(parts)
    )
    if not any(a in SATURATING for a in ratios):
        return sentence + " (no saturating activation was compared: the claim is untested)", False
    if holds:
        sentence += ": the gradient vanishes for the saturating units only, as the course says"
    else:
        odd = [a for a, r in ratios.items() if (r < VANISHES) != (a in SATURATING)]
        sentence += f": the course's claim does NOT hold for {', '.join(odd)} here"
    return sentence, holds


def playground_config(
    config: VanishingGradientsConfig, activation: str, seed: int = 0
) -> PlaygroundConfig:
    """Return the playground run whose network at initialization is the one measured here.

    Its epoch-0 gradient norms are :func:`gradient_norms_at_init` (the same data, network,
    initialization and loss); training it shows what the vanishing gradient does next.
    """
    from neuralab.playground.config import PlaygroundConfig

    return PlaygroundConfig(
        data=config.data,
        n=config.n,
        hidden=(config.width,) * config.depth,
        activation=activation,
        output="sigmoid",
        loss="bce",
        init=config.init,
        seed=seed,
    )


def playground_cases(config: VanishingGradientsConfig) -> dict[str, PlaygroundConfig]:
    """Return one run per compared activation, in the config's order (sigmoid first)."""
    return {activation: playground_config(config, activation) for activation in config.activations}


def run(config: VanishingGradientsConfig, figures_dir: Path | None) -> ExperimentResult:
    """Return the table of per-layer gradient norms and the first/last ratio per activation."""
    if config.depth < 1 or config.width < 1 or config.seeds < 1:
        raise NeuralabError("depth, width and seeds must be positive integers")
    per_activation: dict[str, list[float]] = {}
    rows: list[dict[str, Any]] = []
    for activation in config.activations:
        norms = [gradient_norms_at_init(activation, config, seed) for seed in range(config.seeds)]
        layers = len(norms[0])
        mean = [geometric_mean([n[layer] for n in norms]) for layer in range(layers)]
        per_activation[activation] = mean
        ratio = mean[0] / mean[-1] if mean[-1] > 0 else float("nan")
        rows.append(
            {
                "activation": activation,
                "first": mean[0],
                "middle": mean[layers // 2],
                "last": mean[-1],
                "ratio": ratio,
            }
        )
    columns = [
        Column("activation", "activation", justify="left"),
        Column("first", "‖g‖ layer 1", ".2e"),
        Column("middle", f"‖g‖ layer {config.depth // 2 + 1}", ".2e"),
        Column("last", f"‖g‖ layer {config.depth + 1} (output)", ".2e"),
        Column("ratio", "first / last", ".2e"),
    ]
    ratios = {row["activation"]: row["ratio"] for row in rows}
    figures: list[Path] = []
    if figures_dir is not None:
        from neuralab.report.experiment_figures import vanishing_gradients_figure

        figure = vanishing_gradients_figure(
            per_activation, depth=config.depth, width=config.width, init=config.init
        )
        figures.append(save(figure, figures_dir, "experiment-vanishing-gradients.png"))

    slopes = {a: max_slope(a) for a in ratios}
    sentence, holds = vanishing_conclusion(config, ratios, slopes)
    return ExperimentResult(
        name="vanishing-gradients",
        title="Vanishing gradients in deep networks",
        tables=[Table(rows, columns)],
        conclusion=sentence,
        holds=holds,
        measurements={"ratios": ratios, "norms": per_activation, "max_slope": slopes},
        figures=figures,
        config=config,
    )
