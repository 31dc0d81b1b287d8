"""The figure of a playground comparison grid (`neuralab playground --compare`): small multiples,
per cell the first seed's decision boundary over every seed's training-loss curve, all cells on
one loss scale. Built with matplotlib's object API (no pyplot state).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from neuralab.report.playground_figures import BLUE, draw_boundary, history_series, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from neuralab.playground.compare import CompareResult


def compare_figure(grid: CompareResult, *, resolution: int = 60) -> Figure:
    """Return small multiples of a comparison grid: per cell a boundary over its loss curves.

    The last axis runs along the columns, the other axes' combinations down the rows. The
    boundary is the first seed's network; the loss plot shows every seed's training loss, all
    cells on one shared scale so that they can be compared at a glance.
    """
    columns = len(grid.axes[-1][1]) if grid.axes else 1
    rows = math.ceil(len(grid.cells) / columns)
    figure = new_figure(2.1 * columns + 0.4, 3.05 * rows + 0.3, dpi=80)
    outer = figure.add_gridspec(rows, columns)
    loss_axes = []
    low, high = math.inf, 0.0
    for index, cell in enumerate(grid.cells):
        spec = outer[index // columns, index % columns].subgridspec(2, 1, height_ratios=[2.2, 1])
        top = figure.add_subplot(spec[0])
        bottom = figure.add_subplot(spec[1])
        first = cell.results[0]
        draw_boundary(top, first, resolution=resolution, point_size=5)
        title = cell.label
        accuracy = cell.mean.get("test_acc")
        if accuracy is not None and math.isfinite(accuracy):
            title += f"\ntest acc {accuracy:.0%}"
        elif cell.mean.get("test_loss") is not None:
            title += f"\ntest loss {cell.mean['test_loss']:.3g}"
        if cell.diverged:
            title += f" ({cell.diverged} diverged)"
        top.set_title(title, fontsize=7.5)
        for result in cell.results:
            epochs, values = history_series(result.history, "train_loss")
            if epochs:
                bottom.plot(epochs, values, color=BLUE, linewidth=0.9, alpha=0.8)
                positive = [v for v in values if v > 0]
                if positive:
                    low, high = min(low, min(positive)), max(high, max(positive))
        bottom.tick_params(labelsize=6)
        if index % columns == 0:
            bottom.set_ylabel("train loss", fontsize=7)
        bottom.grid(alpha=0.3)
        loss_axes.append(bottom)
    for ax in loss_axes:
        if high > 0 and low < math.inf:
            ax.set_yscale("log")
            ax.set_ylim(low / 1.5, high * 1.5)
    figure.suptitle(
        f"{grid.base.data}: "
        + " x ".join(name for name, _ in grid.axes)
        + f" ({len(grid.seeds)} seed{'s' if len(grid.seeds) > 1 else ''}; training loss below)",
        fontsize=9,
    )
    return figure
