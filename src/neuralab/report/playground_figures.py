"""Figures of the playground: the TF Playground picture, loss and gradient-norm curves, grids.

- :func:`boundary_figure`: background = the network's output over the input plane (orange for
  class 0 / -1, blue for class 1 / +1, pale where it is unsure), the decision boundary as a dark
  line, training points filled and test points hollow, coloured by their true class;
- :func:`loss_figure`: training and test loss per epoch (log scale);
- :func:`grad_norm_figure`: ||dJ/dW_l||_F per layer and epoch (log scale): vanishing gradients
  show as the first layers' curves lying decades below the last one's;
- the comparison grid's small multiples: :mod:`neuralab.report.compare_figures`.

Figures are built with matplotlib's object API (no pyplot state), saved through
:func:`neuralab.atomic.save_figure`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from neuralab.atomic import save_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from neuralab.playground.session import PlaygroundResult

ORANGE = "#f59322"  # TF Playground's class -1 colour
BLUE = "#0877bd"  # and its class +1 colour
PALE = "#e8eaeb"
BACKGROUND_ALPHA = 0.5  # a pale background keeps points of the same class visible on it
CLASS_COLORS = ("#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def _colormap() -> Any:
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("playground", [ORANGE, PALE, BLUE])


def new_figure(width: float, height: float, dpi: int = 100) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def _extent(result: PlaygroundResult) -> float:
    """Return half the side of the square plotted: the data's extent, rounded up."""
    limit = float(result.data.x_all.abs().max()) if result.data.x_all.numel() else 6.0
    return max(1.0, math.ceil(limit * 1.1))


def _signed_output(result: PlaygroundResult, output: torch.Tensor) -> torch.Tensor:
    """Return the output on TF Playground's colour scale: -1 = class 0, +1 = class 1."""
    assert result.plan is not None
    if result.plan.output == "sigmoid":
        return 2 * output[:, 0] - 1
    return output[:, 0].clamp(-1, 1)


def draw_boundary(
    ax: Axes, result: PlaygroundResult, *, resolution: int = 100, point_size: float = 14
) -> None:
    """Draw the TF Playground picture of ``result`` on ``ax`` (see the module doc)."""
    plan = result.plan
    assert plan is not None
    data = result.data
    if data.x_train.dim() == 1 or data.x_train.shape[1] == 1:
        _draw_curve(ax, result)
        return
    side = _extent(result)
    axis = torch.linspace(-side, side, resolution)
    grid_y, grid_x = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
    output = result.predict(points)
    extent = (-side, side, -side, side)
    finite = bool(torch.isfinite(output).all())
    if plan.task == "regression":
        targets = torch.cat([data.y_train, data.y_test]).float()
        bound = float(targets.abs().max()) or 1.0
        if finite:
            image = output[:, 0].reshape(resolution, resolution).numpy()
            ax.imshow(
                image,
                origin="lower",
                extent=extent,
                cmap=_colormap(),
                vmin=-bound,
                vmax=bound,
                interpolation="bilinear",
                alpha=BACKGROUND_ALPHA,
            )
        for x, y, hollow in ((data.x_train, data.y_train, False), (data.x_test, data.y_test, True)):
            shade = _colormap()(((y.float() / bound + 1) / 2).numpy())
            _scatter(ax, x, shade, hollow, "#555555", point_size)
    elif plan.num_classes > 2:
        if finite:
            confidence, predicted = output.max(dim=1)
            colors = torch.tensor(
                [_rgb(CLASS_COLORS[c % len(CLASS_COLORS)]) for c in predicted.tolist()]
            )
            pale = torch.tensor(_rgb(PALE))
            share = ((confidence - 1 / plan.num_classes) / (1 - 1 / plan.num_classes)).clamp(0, 1)
            blend = pale + (colors - pale) * (0.15 + 0.4 * share.unsqueeze(1))
            ax.imshow(
                blend.reshape(resolution, resolution, 3).numpy(),
                origin="lower",
                extent=extent,
                interpolation="bilinear",
            )
        _scatter_classes(ax, result, point_size)
    else:
        if finite:
            value = _signed_output(result, output).reshape(resolution, resolution)
            ax.imshow(
                value.numpy(),
                origin="lower",
                extent=extent,
                cmap=_colormap(),
                vmin=-1,
                vmax=1,
                interpolation="bilinear",
                alpha=BACKGROUND_ALPHA,
            )
            if float(value.min()) < 0 < float(value.max()):
                ax.contour(
                    axis.numpy(),
                    axis.numpy(),
                    value.numpy(),
                    levels=[0.0],
                    colors="#333333",
                    linewidths=0.8,
                )
        _scatter_classes(ax, result, point_size)
    if not finite:
        ax.text(
            0,
            0,
            "output not finite",
            ha="center",
            va="center",
            fontsize=9,
            color="#b00",
            bbox={"facecolor": "white", "edgecolor": "#b00", "boxstyle": "round"},
        )
    ax.set_xlim(-side, side)
    ax.set_ylim(-side, side)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _rgb(color: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    red, green, blue = to_rgb(color)
    return red, green, blue


def _scatter(
    ax: Axes, x: torch.Tensor, colors: Any, hollow: bool, edge: str = "white", size: float = 14
) -> None:
    """Filled points (training set) or hollow rings in the class colour (test set)."""
    if x.shape[0] == 0:
        return
    points = x.detach().cpu().numpy()
    if hollow:
        rings = edge if edge != "white" else colors
        ax.scatter(
            points[:, 0], points[:, 1], s=size, facecolors="none", edgecolors=rings, linewidths=1.2
        )
    else:
        # a filled dot looks smaller than a ring of the same size: draw it a little larger
        ax.scatter(
            points[:, 0], points[:, 1], s=1.5 * size, c=colors, edgecolors=edge, linewidths=0.4
        )


def _class_colors(y: torch.Tensor) -> list[str]:
    classes = (y > 0).long() if y.is_floating_point() else y.long()
    return [CLASS_COLORS[c % len(CLASS_COLORS)] for c in classes.reshape(-1).tolist()]


def _scatter_classes(ax: Axes, result: PlaygroundResult, size: float) -> None:
    data = result.data
    _scatter(ax, data.x_train, _class_colors(data.y_train), hollow=False, size=size)
    _scatter(ax, data.x_test, _class_colors(data.y_test), hollow=True, size=size)


def _draw_curve(ax: Axes, result: PlaygroundResult) -> None:
    """1-D regression: the learned function as a line, train points filled, test hollow."""
    data = result.data
    x_all = data.x_all.reshape(-1)
    low, high = float(x_all.min()), float(x_all.max())
    xs = torch.linspace(low, high, 400).unsqueeze(1)
    ys = result.predict(xs)[:, 0]
    ax.scatter(
        data.x_train.reshape(-1).numpy(), data.y_train.numpy(), s=14, color=BLUE, label="train"
    )
    ax.scatter(
        data.x_test.reshape(-1).numpy(),
        data.y_test.numpy(),
        s=14,
        facecolors="none",
        edgecolors=BLUE,
        label="test",
    )
    ax.plot(xs[:, 0].numpy(), ys.numpy(), color=ORANGE, linewidth=2, label="network")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(frameon=False, fontsize=8)


def _title(result: PlaygroundResult) -> str:
    config = result.config
    hidden = ",".join(str(h) for h in config.hidden) or "none"
    final = result.final
    text = f"{result.data.name}: hidden {hidden}, {config.activation}, init {config.init}"
    metric = final.get("test_acc")
    if metric is not None and math.isfinite(metric):
        text += f"\nepoch {final['epoch']}: test accuracy {metric:.1%}"
    elif final.get("test_loss") is not None:
        text += f"\nepoch {final['epoch']}: test loss {final['test_loss']:.4g}"
    return text


def boundary_figure(result: PlaygroundResult, *, resolution: int = 120) -> Figure:
    """Return the TF Playground picture of a trained network (train filled, test hollow)."""
    figure = new_figure(4.4, 4.6)
    ax = figure.subplots()
    draw_boundary(ax, result, resolution=resolution)
    ax.set_title(_title(result), fontsize=9)
    if result.data.x_train.dim() == 2 and result.data.x_train.shape[1] == 2:
        ax.set_xlabel("filled: training points   hollow: test points", fontsize=8)
    return figure


def history_series(history: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    epochs, values = [], []
    for row in history:
        value = row.get(key)
        if value is not None and math.isfinite(value):
            epochs.append(row["epoch"])
            values.append(value)
    return epochs, values


def draw_losses(ax: Axes, history: list[dict[str, Any]], *, legend: bool = True) -> None:
    """Draw training (solid) and test (dashed) loss against epochs on ``ax``."""
    for key, style, label in (("train_loss", "-", "train"), ("test_loss", "--", "test")):
        epochs, values = history_series(history, key)
        if epochs:
            ax.plot(
                epochs,
                values,
                style,
                color=BLUE if key == "train_loss" else ORANGE,
                label=label,
                marker="o" if len(epochs) < 30 else None,  # a few points: show each one
                markersize=3,
            )
    _, values = history_series(history, "train_loss")
    if values and min(values) > 0 and max(values) / min(values) > 10:
        ax.set_yscale("log")  # only when the loss falls by more than a decade
    _epoch_axis(ax, history)
    if legend:
        ax.legend(frameon=False, fontsize=8)


def _epoch_axis(ax: Axes, history: list[dict[str, Any]]) -> None:
    """Span the whole run on the x axis, even where the values stopped being finite."""
    from matplotlib.ticker import MaxNLocator

    if history:
        last = max(1, history[-1]["epoch"])
        ax.set_xlim(-0.03 * last, 1.03 * last)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def loss_figure(result: PlaygroundResult) -> Figure:
    """Return the training and test loss curves of ``result``."""
    figure = new_figure(5.0, 3.2)
    ax = figure.subplots()
    draw_losses(ax, result.history)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{result.plan.loss if result.plan else ''} loss")
    ax.set_title(f"loss: {result.data.name}" + (f" ({result.stopped})" if result.stopped else ""))
    ax.grid(alpha=0.3)
    return figure


def grad_norm_figure(result: PlaygroundResult) -> Figure:
    """Return ||dJ/dW_l||_F per layer against epochs (log scale)."""
    figure = new_figure(5.0, 3.2)
    ax = figure.subplots()
    layers = len(result.history[0]["grad_norm"])
    colors = _layer_colors(layers)
    any_positive = False
    shown: list[float] = []
    for layer in range(layers):
        epochs, values = [], []
        for row in result.history:
            value = row["grad_norm"][layer]
            if math.isfinite(value) and value > 0:
                epochs.append(row["epoch"])
                values.append(value)
        any_positive = any_positive or bool(values)
        name = "output" if layer == layers - 1 else f"hidden {layer + 1}"
        marker = "o" if len(epochs) < 30 else None
        ax.plot(
            epochs,
            values,
            color=colors[layer],
            label=f"W{layer + 1} ({name})",
            marker=marker,
            markersize=3,
        )
        shown.extend(values)
    if any_positive and max(shown) / min(shown) > 10:
        ax.set_yscale("log")  # gradients spread over decades: a log scale shows every layer
    _epoch_axis(ax, result.history)
    ax.set_xlabel("epoch")
    ax.set_ylabel("||dJ/dW||  (full training set)")
    ax.set_title(f"gradient norm per layer: {result.data.name}")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    return figure


def _layer_colors(count: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.15 + 0.7 * i / max(1, count - 1)) for i in range(count)]


def save_run_figures(result: PlaygroundResult, directory: str | Path) -> dict[str, Path]:
    """Write boundary.png, loss.png and grad_norm.png into ``directory``; return the paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "boundary": boundary_figure(result),
        "loss": loss_figure(result),
        "grad_norm": grad_norm_figure(result),
    }
    return {name: save_figure(figure, folder / f"{name}.png") for name, figure in made.items()}
