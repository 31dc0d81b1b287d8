"""Draw a network diagram (:mod:`neuralab.arch.diagram` lays it out) into .svg, .png or .pdf.

Blocks are cuboids (feature maps) or bars (vectors) coloured by kind, joined by arrows, with the
size above each block and the layer's label below; the title gives the input and output shapes,
the parameters and the MACs. The figure is a matplotlib ``Figure`` (no pyplot state), written
atomically.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from neuralab.arch.diagram import Block, DiagramLayout, diagram_layout
from neuralab.atomic import save_figure
from neuralab.errors import NeuralabError
from neuralab.paths import output_file
from neuralab.report.summary_render import human_count

FIGURE_SUFFIXES = (".svg", ".png", ".pdf")
_SLOT = 1.45  # horizontal room per block
_COLOURS = {
    "input": "#d9d9d9",
    "conv": "#8fb8de",
    "convT": "#b4a7d6",
    "pool": "#f6b26b",
    "fc": "#93c47d",
    "flatten": "#e6e6e6",
    "block": "#9fc5e8",
    "other": "#cccccc",
    "gap": "#ffffff",
}


def check_figure_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` if its suffix is .svg, .png or .pdf and a file can be written there,
    else raise :class:`NeuralabError` (checked before anything is drawn)."""
    target = Path(path)
    if target.suffix.lower() not in FIGURE_SUFFIXES:
        raise NeuralabError(
            f"diagram file {str(target)!r} has suffix {target.suffix or '(none)'!r}; "
            f"use one of {', '.join(FIGURE_SUFFIXES)}"
        )
    return output_file(target, "diagram file")


def _draw_block(ax: Any, x: float, block: Block, colour: str) -> tuple[float, float, float]:
    """Draw ``block`` with its front face's left edge at ``x``; return (right, top, bottom)."""
    h, w, d = block.extent()
    dx, dy = d * 0.7, d * 0.5
    y0 = -h / 2 - dy / 2
    edge: dict[str, Any] = {"edgecolor": "#333333", "linewidth": 0.7}
    ax.add_patch(Rectangle((x, y0), w, h, facecolor=colour, **edge))
    if d > 0:
        top = [(x, y0 + h), (x + dx, y0 + h + dy), (x + w + dx, y0 + h + dy), (x + w, y0 + h)]
        side = [(x + w, y0), (x + w + dx, y0 + dy), (x + w + dx, y0 + h + dy), (x + w, y0 + h)]
        ax.add_patch(Polygon(top, facecolor=colour, alpha=0.75, **edge))
        ax.add_patch(Polygon(side, facecolor=colour, alpha=0.55, **edge))
    return x + w + dx, y0 + h + dy, y0


def _label(block: Block) -> str:
    label = block.label
    if block.params is not None:
        label += f"\n{human_count(block.params)} params"
    return "\n".join(textwrap.fill(part, 16, break_long_words=True) for part in label.split("\n"))


def _heading(layout: DiagramLayout, title: str | None) -> str:
    result = layout.summary
    output = "x".join(map(str, result.rows[-1].output_shape)) if result.rows else "?"
    heading = title or (
        f"{'x'.join(map(str, result.input_shape))} -> {output}   "
        f"{result.total_params:,} parameters   {human_count(result.total_macs)} MACs"
    )
    return f"{heading}   ({layout.note})" if layout.note else heading


def diagram_figure(layout: DiagramLayout, *, title: str | None = None) -> Figure:
    """Return the figure of ``layout``: blocks left to right, sizes above, labels below."""
    blocks = layout.blocks
    figure = Figure(figsize=(max(_SLOT * len(blocks), 4.0), 3.2))
    ax = figure.add_axes((0.0, 0.0, 1.0, 0.86))
    ax.set_axis_off()
    previous_right = None
    lowest, highest = 0.0, 0.0
    for index, block in enumerate(blocks):
        centre = _SLOT * index + _SLOT / 2
        if block.kind == "gap":
            ax.text(centre, 0, block.label, ha="center", va="center", fontsize=8, style="italic")
            previous_right = centre + 0.3
            continue
        x = centre - 0.2
        right, top, bottom = _draw_block(ax, x, block, _COLOURS.get(block.kind, "#cccccc"))
        if previous_right is not None:
            ax.annotate(
                "",
                xy=(x - 0.04, 0),
                xytext=(previous_right + 0.04, 0),
                arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 0.8},
            )
        previous_right = right
        size = "x".join(str(s) for s in block.shape)
        if index == len(blocks) - 1 and len(block.shape) == 1 and block.kind == "fc":
            size = f"{block.shape[0]} classes"
        ax.text(centre, top + 0.08, size, ha="center", va="bottom", fontsize=8, weight="bold")
        wrapped = _label(block)
        ax.text(centre, bottom - 0.1, wrapped, ha="center", va="top", fontsize=7.5)
        lowest = min(lowest, bottom - 0.15 - 0.16 * (wrapped.count("\n") + 1))
        highest = max(highest, top + 0.3)
    ax.set_xlim(0, _SLOT * len(blocks))
    ax.set_ylim(lowest, highest)
    figure.suptitle(_heading(layout, title), fontsize=9, y=0.97)
    return figure


def draw_diagram(
    model_or_summary: Any,
    input_shape: Sequence[int],
    path: str | os.PathLike[str],
    *,
    max_blocks: int = 20,
    title: str | None = None,
) -> Path:
    """Draw the network left to right into ``path`` (.svg, .png or .pdf) and return the path.

    ``model_or_summary`` is an ``nn.Module``, a spec, a torchvision name, ``module:factory`` or a
    :class:`~neuralab.arch.summary.Summary`. The file is written atomically.
    """
    target = check_figure_path(path)
    figure = diagram_figure(diagram_layout(model_or_summary, input_shape, max_blocks), title=title)
    # SVG keeps its labels as text (searchable, editable, smaller) instead of glyph outlines.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        return save_figure(figure, target, dpi=150)


__all__ = ["FIGURE_SUFFIXES", "check_figure_path", "diagram_figure", "draw_diagram"]
