"""The course experiments' figures, as matplotlib ``Figure`` objects (pyplot's state untouched).

One function per figure of :mod:`neuralab.playground.experiments`; each takes the measured
curves as plain numbers and returns a ``Figure``, which the experiment saves with
:func:`neuralab.atomic.save_figure` (``dpi=FIGURE_DPI``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURE_DPI = 100  # the resolution the experiments' figures are saved at

Curve = Sequence[tuple[float, float]]  # (x, y) points of one line


def initialization_figure(
    curves: Mapping[tuple[str, str], Sequence[Curve]],
    *,
    schemes: Sequence[str],
    hidden: Sequence[int],
    scales: Mapping[str, float],
) -> Figure:
    """Return training loss against iteration, one panel per activation (ReLU, sigmoid).

    ``curves[(activation, scheme)]`` holds one (iteration, loss) curve per seed; ``scales``
    maps a scheme to its s in N(0, s / fan_in).
    """
    figure, axes = _figure(2, 1, width=4.0, height=3.0)
    colours = {"zero": "gray", "small": "tab:red", "appropriate": "tab:green", "large": "tab:blue"}
    for ax, activation in zip(axes[0], ("relu", "sigmoid"), strict=True):
        for scheme in schemes:
            label = f"{scheme} (s={scales[scheme]:g})" if scheme in scales else scheme
            for index, curve in enumerate(curves[(activation, scheme)]):
                steps, losses = zip(*curve, strict=True)
                ax.plot(
                    steps,
                    losses,
                    color=colours.get(scheme),
                    alpha=0.8,
                    lw=1.2,
                    label=label if index == 0 else None,
                )
        ax.set_title(f"{activation}, hidden {tuple(hidden)}")
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss (BCE, log scale)")
        ax.set_yscale("log")  # s = 100 starts at losses in the thousands
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return figure


def zero_init_figure(
    histories: Mapping[str, Sequence[Mapping[str, Any]]], *, data: str, hidden: Sequence[int]
) -> Figure:
    """Return test accuracy against epoch for every initialization case."""
    figure, axes = _figure(width=5.0, height=3.2)
    ax = axes[0][0]
    styles = ("-", "--", ":", "-.", (0, (5, 1)))  # the zero-init curves overlap exactly
    for (label, history), style in zip(histories.items(), styles, strict=False):
        epochs = [r["epoch"] for r in history]
        accuracy = [r["test_acc"] for r in history]
        ax.plot(epochs, accuracy, ls=style, lw=1.6, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{data}, hidden {tuple(hidden)}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return figure


def shuffling_figure(
    curves: Mapping[str, Sequence[Sequence[float]]],
    *,
    data: str,
    hidden: Sequence[int],
    seeds: int,
) -> Figure:
    """Return test accuracy per epoch of every seed, sorted (red) vs shuffled (green) data."""
    figure, axes = _figure(width=4.6, height=3.2)
    ax = axes[0][0]
    for (label, seed_curves), colour in zip(curves.items(), ("tab:red", "tab:green"), strict=True):
        for index, curve in enumerate(seed_curves):
            ax.plot(curve, color=colour, alpha=0.6, label=label if index == 0 else None)
    ax.set_xlabel("epoch (SGD, batch size 1)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"ReLU {tuple(hidden)} on {data}, {seeds} seeds")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def gd_scaling_figure(rows: Sequence[Mapping[str, Any]], *, target_loss: float) -> Figure:
    """Return the cost of reaching ``target_loss`` against the data size n, one line per
    variant: epochs (left) and training seconds (right), both on log scales; hollow markers:
    the budget ran out first (a lower bound)."""
    figure, axes = _figure(2, 1, width=4.2, height=3.2)
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        for ax, key in zip(axes[0], ("epochs", "seconds"), strict=True):
            line = ax.plot([r["n"] for r in mine], [r[key] for r in mine], "-o", label=variant)
            missed = [r for r in mine if not r["reached"]]
            ax.scatter(
                [r["n"] for r in missed],
                [r[key] for r in missed],
                s=80,
                facecolors="white",
                edgecolors=line[0].get_color(),
                zorder=3,
            )
    for ax, label in zip(axes[0], ("epochs", "training seconds"), strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("examples n (half for training)")
        ax.set_ylabel(f"{label} to reach loss {target_loss:g}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return figure


def shuffling_trace_figure(
    traces: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    data: str,
    hidden: Sequence[int],
    lr: float,
) -> Figure:
    """Return the mechanism over updates, sorted (red) vs shuffled (green): the dead fraction
    of hidden ReLUs (left) and the share of training points predicted +1 (right)."""
    figure, axes = _figure(2, 1, width=4.4, height=3.2)
    for (label, points), colour in zip(traces.items(), ("tab:red", "tab:green"), strict=True):
        steps = [p["step"] for p in points]
        axes[0][0].plot(steps, [p["dead"] for p in points], color=colour, label=label)
        axes[0][1].plot(steps, [p["positive"] for p in points], color=colour, label=label)
    axes[0][0].set_ylabel("dead ReLUs (fraction of hidden units)")
    axes[0][1].set_ylabel("training points predicted +1")
    for ax in axes[0]:
        ax.set_xlabel("updates (SGD, batch size 1)")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(f"ReLU {tuple(hidden)} on {data}, lr {lr:g}, seed 0")
    return figure


def gd_variants_loss_figure(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    data: str,
    hidden: Sequence[int],
    lr: float,
) -> Figure:
    """Return training loss against epoch, gradient evaluations and wall time per variant."""
    figure, axes = _figure(3, 1, width=3.6, height=3.0)
    for label, history in histories.items():
        loss = [row["train_loss"] for row in history]
        axes[0][0].plot([row["epoch"] for row in history], loss, label=label)
        axes[0][1].plot([max(row["examples"], 1) for row in history], loss, label=label)
        axes[0][2].plot([row["seconds"] for row in history], loss, label=label)
    for ax, xlabel in zip(
        axes[0], ("epoch", "gradient evaluations (log)", "wall time [s]"), strict=True
    ):
        ax.set_xlabel(xlabel)
        ax.set_ylabel("training loss")
        ax.grid(True, alpha=0.3)
    axes[0][1].set_xscale("log")
    axes[0][0].legend(fontsize=8)
    figure.suptitle(f"{data}, hidden {tuple(hidden)}, lr {lr}")
    return figure


def gd_variants_escape_figure(
    objective: Curve,
    final_w: Mapping[str, Sequence[float]],
    *,
    local_minimum: tuple[float, float],
    global_minimum: tuple[float, float],
    steps: int,
    seeds: int,
) -> Figure:
    """Return J(w) with its minima, and the histogram of the final w of every run per variant.

    ``objective`` holds (w, J(w)) points; final values outside [-2, 2] are drawn at the edges.
    """
    figure, axes = _figure(2, 1, width=3.8, height=3.0)
    w, j = zip(*objective, strict=True)
    axes[0][0].plot(w, j, color="black")
    axes[0][0].axvline(local_minimum[0], ls=":", color="gray")
    axes[0][0].annotate(
        "start: local min",
        local_minimum,
        xytext=(0.3, 2.5),
        fontsize=8,
        arrowprops={"arrowstyle": "->", "color": "gray"},
    )
    axes[0][0].annotate("global min", global_minimum, xytext=(-1.2, -3.4), fontsize=8)
    axes[0][0].set_xlabel("w")
    axes[0][0].set_ylabel("J(w) = w^4 - 3w^2 + w")
    axes[0][0].grid(True, alpha=0.3)
    bins = [4.0 * i / 40 - 2.0 for i in range(41)]
    for label, finals in final_w.items():
        clamped = [min(max(value, -2.0), 2.0) for value in finals]
        axes[0][1].hist(clamped, bins=bins, alpha=0.55, label=label)
    axes[0][1].set_xlabel(f"w after {steps} updates")
    axes[0][1].set_ylabel(f"runs (of {seeds})")
    axes[0][1].legend(fontsize=8)
    return figure


def activation_fit_figure(
    points: Curve,
    fitted: Mapping[str, Curve],
    *,
    hidden: int,
    epochs: int,
) -> Figure:
    """Return the data points and the function fitted with each activation."""
    figure, axes = _figure(width=5.4, height=3.6)
    ax = axes[0][0]
    x, y = zip(*points, strict=True)
    ax.scatter(x, y, s=10, color="black", alpha=0.6, label="data")
    for activation, curve in fitted.items():
        grid, values = zip(*curve, strict=True)
        ax.plot(grid, values, lw=2, label=activation)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"one hidden layer of {hidden} units, {epochs} epochs")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def vanishing_gradients_figure(
    norms: Mapping[str, Sequence[float]], *, depth: int, width: int, init: str
) -> Figure:
    """Return ||dJ/dW|| per layer at initialization (log scale), one line per activation."""
    figure, axes = _figure(width=5.0, height=3.4)
    ax = axes[0][0]
    for activation, layer_norms in norms.items():
        ax.semilogy(range(1, len(layer_norms) + 1), layer_norms, marker="o", ms=3, label=activation)
    ax.set_xlabel("layer (1 = first hidden, last = output)")
    ax.set_ylabel("||dJ/dW|| at initialization")
    ax.set_title(f"{depth} hidden layers of {width}, {init}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return figure


def regularization_figure(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    data: str,
    hidden: Sequence[int],
    n_train: int,
) -> Figure:
    """Return train (dashed) and test (solid) loss against epoch for each regularization."""
    figure, axes = _figure(width=4.8, height=3.3)
    ax = axes[0][0]
    for (label, history), colour in zip(
        histories.items(), ("tab:red", "tab:blue", "tab:green"), strict=True
    ):
        epochs = [r["epoch"] for r in history]
        ax.plot(epochs, [r["train_loss"] for r in history], color=colour, ls="--")
        ax.plot(epochs, [r["test_loss"] for r in history], color=colour, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (dashed: train, solid: test)")
    ax.set_yscale("log")
    ax.set_title(f"{tuple(hidden)} on {n_train} noisy {data} points")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return figure


def _figure(
    columns: int = 1, rows: int = 1, *, width: float = 4.2, height: float = 3.2
) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * columns, height * rows), dpi=FIGURE_DPI, layout="constrained")
    return figure, figure.subplots(rows, columns, squeeze=False)


__all__ = [
    "FIGURE_DPI",
    "activation_fit_figure",
    "gd_scaling_figure",
    "gd_variants_escape_figure",
    "gd_variants_loss_figure",
    "initialization_figure",
    "regularization_figure",
    "shuffling_figure",
    "shuffling_trace_figure",
    "vanishing_gradients_figure",
    "zero_init_figure",
]
