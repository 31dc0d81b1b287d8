"""What the activation does to the function a network can learn: identity, ReLU, sigmoid.

One hidden layer of H units fits y(x) = sum_j v_j f(w_j x + b_j) + c to 100 scalar pairs:

- identity: a sum of straight lines is a straight line, whatever H is (second differences 0);
- ReLU: each unit contributes a hinge with its breakpoint at x = -b_j / w_j, so y is piecewise
  linear with at most H kinks (a unit adds one kink of slope change |v_j w_j| where its
  breakpoint falls inside the data range and v_j != 0);
- sigmoid: a sum of smooth S-curves, smooth everywhere (no kink).

Measured on a fine grid in float64: the slope in each grid cell and its change from cell to
cell. A kink is a slope change that does not shrink with the grid step (larger than ``kink_tol``);
a smooth curve's slope changes by f''(x) h, which is tiny for a fine grid.
"""

from __future__ import annotations

import copy
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
class ActivationFitConfig:
    """One hidden layer of 20 units fitted to the 1-D ``curve`` set with three activations."""

    n: int = 100  # scalar input-output pairs (all used for fitting)
    noise: float = 10.0  # noise percentage: y gets N(0, (noise/100)^2) added
    hidden: int = 20  # units of the one hidden layer
    activations: tuple[str, ...] = ("identity", "relu", "sigmoid")  # compared activations
    init: str = "he_normal"  # weight initialization (the breakpoints start spread out)
    optimizer: str = "adam"  # optimizer
    lr: float = 0.01  # learning rate
    epochs: int = 2000  # full-batch updates
    grid: int = 20001  # points of the evaluation grid over the data range
    kink_tol: float = 0.01  # a slope change larger than this between grid cells is a kink
    seed: int = 0  # seed of the data and the initialization


def quick(config: ActivationFitConfig) -> ActivationFitConfig:
    """Return the config at small sizes (fewer epochs)."""
    return dataclasses.replace(config, epochs=min(config.epochs, 300))


def slope_changes(y: Any, h: float) -> Any:
    """Return the change of slope between neighbouring grid cells, (y_{i+1} - 2 y_i + y_{i-1}) / h."""
    return (y[2:] - 2 * y[1:-1] + y[:-2]) / h


def count_kinks(changes: Any, tol: float) -> int:
    """Return the number of runs of neighbouring grid points whose |slope change| exceeds tol.

    A breakpoint between two grid points shows up as a slope change split over two neighbouring
    cells, so a run of neighbours counts once.
    """
    above = (changes.abs() > tol).tolist()
    return sum(1 for i, flag in enumerate(above) if flag and (i == 0 or not above[i - 1]))


def relu_breakpoints(model: Any, low: float, high: float) -> dict[str, int]:
    """Return counts of hidden ReLU units whose breakpoint x = -b / w lies in [low, high].

    ``inside``: with w != 0 and outgoing weight v != 0 (they make a kink, however small);
    ``visible``: of those, with slope change |v w| above 1e-2 (what a plot would show).
    """
    layer = model.hidden_layers[0]
    w, b = layer.weight.detach()[:, 0].double(), layer.bias.detach().double()
    v = model.output_layer.weight.detach()[0].double()
    nonzero = (w != 0) & (v != 0)
    x = -b / w.where(w != 0, 1.0)
    inside = nonzero & (x >= low) & (x <= high)
    visible = inside & ((v * w).abs() > 1e-2)
    return {"inside": int(inside.sum()), "visible": int(visible.sum())}


def playground_config(config: ActivationFitConfig, activation: str) -> PlaygroundConfig:
    """Return the playground run that fits the 1-D curve with one hidden layer of ``activation``."""
    from neuralab.playground.config import PlaygroundConfig

    return PlaygroundConfig(
        data="curve",
        n=config.n,
        noise=config.noise,
        train_ratio=1.0,
        features=("x1",),
        hidden=(config.hidden,),
        activation=activation,
        output="linear",
        loss="mse",
        init=config.init,
        optimizer=config.optimizer,
        lr=config.lr,
        batch_size=0,
        epochs=config.epochs,
        seed=config.seed,
    )


def playground_cases(config: ActivationFitConfig) -> dict[str, PlaygroundConfig]:
    """Return one run per compared activation, in the config's order (identity first)."""
    return {activation: playground_config(config, activation) for activation in config.activations}


def _fit(config: ActivationFitConfig, activation: str, data: Any) -> Any:
    from neuralab.playground.run import train_playground

    return train_playground(playground_config(config, activation), data=data)


def run(config: ActivationFitConfig, figures_dir: Path | None) -> ExperimentResult:
    """Return per-activation fit error, kink counts and straightness, and the conclusion."""
    import torch

    from neuralab.playground.toy_data import make_toy_data

    if config.grid < 5 or config.hidden < 1:
        raise NeuralabError(f"grid={config.grid} must be >= 5 and hidden={config.hidden} >= 1")
    data = make_toy_data("curve", n=config.n, noise=config.noise, seed=config.seed, train_ratio=1.0)
    low, high = float(data.x_train.min()), float(data.x_train.max())
    grid = torch.linspace(low, high, config.grid, dtype=torch.float64).unsqueeze(1)  # (G, 1)
    h = (high - low) / (config.grid - 1)
    rows: list[dict[str, Any]] = []
    fitted: dict[str, Any] = {}
    for activation in config.activations:
        result = _fit(config, activation, data)
        model = copy.deepcopy(result.model).double().eval()
        with torch.no_grad():
            y = model(grid)[:, 0]  # (G,)
        fitted[activation] = y
        changes = slope_changes(y, h)
        row: dict[str, Any] = {
            "activation": activation,
            "train_mse": result.history[-1]["train_loss"],
            "max_slope_change": float(changes.abs().max()),
            "grid_kinks": count_kinks(changes, config.kink_tol),
            "units_inside": None,
            "units_visible": None,
        }
        if model.activation_names[0] == "relu":
            counts = relu_breakpoints(model, low, high)
            row["units_inside"], row["units_visible"] = counts["inside"], counts["visible"]
        rows.append(row)
    columns = [
        Column("activation", "activation", justify="left"),
        Column("train_mse", "train MSE", ".4f"),
        Column("max_slope_change", "max slope change / grid cell", ".2e"),
        Column("grid_kinks", f"kinks on grid (> {config.kink_tol:g})", "d"),
        Column("units_inside", "units with -b/w in range", "d"),
        Column("units_visible", "... with slope change > 0.01", "d"),
    ]
    figures: list[Path] = []
    if figures_dir is not None:
        from neuralab.report.experiment_figures import activation_fit_figure

        grid_x = grid[:, 0].tolist()
        figure = activation_fit_figure(
            list(zip(data.x_train[:, 0].tolist(), data.y_train.tolist(), strict=True)),
            {a: list(zip(grid_x, y.tolist(), strict=True)) for a, y in fitted.items()},
            hidden=config.hidden,
            epochs=config.epochs,
        )
        figures.append(save(figure, figures_dir, "experiment-activation-fit.png"))

    by_name = {r["activation"]: r for r in rows}
    parts, holds = [], True
    if "identity" in by_name:
        straight = by_name["identity"]["max_slope_change"] < 1e-6
        holds = holds and straight
        parts.append(
            f"identity gives {'a straight line' if straight else 'NOT a straight line'} "
            f"(largest slope change {by_name['identity']['max_slope_change']:.1e})"
        )
    if "relu" in by_name:
        relu = by_name["relu"]
        piecewise = 1 <= relu["grid_kinks"] <= relu["units_inside"]
        holds = holds and piecewise
        parts.append(
            f"ReLU is piecewise linear with {relu['grid_kinks']} kinks on the grid "
            f"({relu['units_inside']} of {config.hidden} units have their breakpoint -b/w in the "
            f"data range, {relu['units_visible']} with a visible slope change)"
            + ("" if piecewise else " (NOT as expected)")
        )
    if "sigmoid" in by_name:
        smooth = by_name["sigmoid"]["grid_kinks"] == 0
        holds = holds and smooth
        parts.append(
            f"sigmoid is {'smooth' if smooth else 'NOT smooth'} ({by_name['sigmoid']['grid_kinks']} "
            f"kinks, largest slope change {by_name['sigmoid']['max_slope_change']:.1e} per cell)"
        )
    return ExperimentResult(
        name="activation-fit",
        title="Identity vs ReLU vs sigmoid on 100 scalar pairs",
        tables=[Table(rows, columns)],
        conclusion="; ".join(parts),
        holds=holds,
        measurements={"by_activation": by_name},
        figures=figures,
        config=config,
    )
