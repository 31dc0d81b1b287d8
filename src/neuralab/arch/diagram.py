"""Draw a network left to right as the course does: one block per tensor, labelled with its size.

Each tensor (the input, then each layer's output) is a box: a C x H x W feature map is a cuboid
whose height grows with log2(H), whose slanted depth grows with log2(W) and whose thickness grows
with log2(C); a flat vector of K values is a bar of height ~ log2(K). Under each block its layer
in the course's words (``conv 5x5, M=20 + relu``, ``maxpool 2x2/2``, ``fc K=100``), above it the
size (``20x24x24``, ``10 classes``). Activations, batch norm and dropout do not change the size,
so they are folded into the label of the layer before them.

A network with more blocks than ``max_blocks`` is drawn by its stages (modules one, two, ...
levels deep, e.g. resnet18's layer1..layer4); if even that is too many, the middle is elided and
the figure says how many layers it leaves out.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from neuralab.arch.layer_costs import NORM_LAYERS, as_pair, is_activation
from neuralab.errors import NeuralabError

FIGURE_SUFFIXES = (".svg", ".png", ".pdf")
_MIN_STAGES = 6  # fewer stages than this say too little; elide layers instead
_FOLDED = ("activation", "norm", "dropout")
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


@dataclass
class Block:
    """One tensor of the figure: the layer that made it (label) and its shape (no batch axis)."""

    label: str
    shape: tuple[int, ...]
    kind: str


def check_figure_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` if its suffix is .svg, .png or .pdf, else raise :class:`NeuralabError`."""
    target = Path(path)
    if target.suffix.lower() not in FIGURE_SUFFIXES:
        raise NeuralabError(
            f"diagram file {str(target)!r} has suffix {target.suffix or '(none)'!r}; "
            f"use one of {', '.join(FIGURE_SUFFIXES)}"
        )
    return target


def diagram_blocks(rows: Sequence[Any], input_shape: Sequence[int]) -> list[Block]:
    """Return the blocks for summary ``rows``: the input, then one per size-changing layer.

    Activation, normalisation and dropout rows are folded into the previous block's label.
    """
    from neuralab.report.summary_render import human_count

    blocks = [Block("input", tuple(input_shape), "input")]
    for row in rows:
        if row.kind in _FOLDED and len(blocks) > 1:
            short = "bn" if row.kind == "norm" else row.label.split()[0]
            previous = blocks[-1]
            previous.label += f"\n+ {short}"
            previous.shape = tuple(row.output_shape)
            continue
        label = row.label
        if row.kind == "block":
            label = f"{row.name}\n{row.type}\n{human_count(row.params)} params"
        blocks.append(Block(label, tuple(row.output_shape), row.kind))
    return blocks


def layer_kind_label(module: nn.Module, output_shape: Sequence[int]) -> tuple[str, str]:
    """Return the kind and the course's label of ``module``: ``("conv", "conv 5x5, M=20")``."""
    size = "x".join
    if isinstance(module, nn.modules.conv._ConvNd):
        transposed = isinstance(module, nn.modules.conv._ConvTransposeNd)
        text = f"{'convT' if transposed else 'conv'} {size(map(str, module.kernel_size))}"
        if any(s != 1 for s in module.stride):
            text += "/" + size(map(str, sorted(set(module.stride))))
        if module.groups > 1:
            text += f" g={module.groups}"
        return ("convT" if transposed else "conv"), f"{text}, M={module.out_channels}"
    if isinstance(module, nn.Linear):
        return "fc", f"fc K={module.out_features}"
    if isinstance(module, nn.modules.pooling._MaxPoolNd | nn.modules.pooling._AvgPoolNd):
        name = "maxpool" if isinstance(module, nn.modules.pooling._MaxPoolNd) else "avgpool"
        k, s = as_pair(module.kernel_size), as_pair(module.stride or module.kernel_size)
        return "pool", f"{name} {size(map(str, k))}/{size(map(str, sorted(set(s))))}"
    if isinstance(
        module, nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd
    ):
        name = "avg" if isinstance(module, nn.modules.pooling._AdaptiveAvgPoolNd) else "max"
        return "pool", f"global {name}pool" if math.prod(
            output_shape[1:]
        ) == 1 else f"adaptive {name}pool"
    if isinstance(module, NORM_LAYERS):
        return "norm", "bn" if isinstance(module, nn.modules.batchnorm._BatchNorm) else "norm"
    if is_activation(module):
        return "activation", type(module).__name__.lower().lstrip("_")
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return "dropout", f"dropout {module.p:g}"
    if isinstance(module, nn.Flatten):
        return "flatten", "flatten"
    if isinstance(module, nn.Identity):
        return "activation", "identity"
    return "other", type(module).__name__


def _cap(blocks: list[Block], max_blocks: int) -> list[Block]:
    if len(blocks) <= max_blocks:
        return blocks
    head = max_blocks - 2
    hidden = len(blocks) - head - 1
    return [*blocks[:head], Block(f"... {hidden} more\nlayers ...", (), "gap"), blocks[-1]]


def _choose_blocks(
    source: Any, input_shape: Sequence[int], max_blocks: int
) -> tuple[Any, list[Block], str]:
    """Return the summary, the blocks to draw and a note on how the net was condensed."""
    from neuralab.arch.summary import Summary, summary

    if isinstance(source, Summary):
        leaf = source
        blocks = diagram_blocks(source.rows, source.input_shape)
        if len(blocks) <= max_blocks:
            return leaf, blocks, ""
        capped = _cap(blocks, max_blocks)
        return leaf, capped, f"{len(blocks) - len(capped) + 1} layers elided"
    from neuralab.arch.model_source import load_model

    model = load_model(source, input_shape)
    leaf = summary(model, input_shape)
    blocks = diagram_blocks(leaf.rows, input_shape)
    if len(blocks) <= max_blocks:
        return leaf, blocks, ""
    deepest = max((row.depth for row in leaf.rows), default=1)
    # The deepest level whose stages still fit, so a resnet shows layer1.0, layer1.1, ...; a net
    # with only a few big stages (vgg: features, classifier) is better shown layer by layer with
    # its middle elided.
    for depth in range(deepest - 1, 0, -1):
        staged = diagram_blocks(summary(model, input_shape, depth=depth).rows, input_shape)
        if _MIN_STAGES <= len(staged) <= max_blocks:
            return leaf, staged, f"{len(leaf.rows)} layers drawn as {len(staged) - 1} stages"
    capped = _cap(blocks, max_blocks)
    return leaf, capped, f"{len(blocks) - len(capped) + 1} layers elided"


def _size(n: int) -> float:
    return math.log2(max(n, 1))


def _draw_block(ax: Any, x: float, block: Block, colour: str) -> tuple[float, float, float]:
    """Draw ``block`` with its front face's left edge at ``x``; return (right, top, bottom)."""
    from matplotlib.patches import Polygon, Rectangle

    shape = block.shape
    if len(shape) >= 3:
        channels, height, width = shape[0], shape[-2], shape[-1]
        h = 0.25 + 0.14 * _size(height)
        w = 0.05 + 0.055 * _size(channels)
        d = 0.06 + 0.05 * _size(width)
    else:
        h = min(0.25 + 0.14 * _size(math.prod(shape) if shape else 1), 2.2)
        w, d = 0.09, 0.0
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
    import matplotlib
    from matplotlib.figure import Figure

    from neuralab.atomic import save_figure
    from neuralab.report.summary_render import human_count

    target = check_figure_path(path)
    if max_blocks < 3:
        raise NeuralabError(f"max_blocks {max_blocks} must be >= 3 (input, one layer, output)")
    result, blocks, note = _choose_blocks(model_or_summary, input_shape, max_blocks)

    slot = 1.45
    figure = Figure(figsize=(max(slot * len(blocks), 4.0), 3.2))
    ax = figure.add_axes((0.0, 0.0, 1.0, 0.86))
    ax.set_axis_off()
    previous_right = None
    lowest, highest = 0.0, 0.0
    for index, block in enumerate(blocks):
        centre = slot * index + slot / 2
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
        last = index == len(blocks) - 1
        size = "x".join(str(s) for s in block.shape)
        if last and len(block.shape) == 1 and block.kind == "fc":
            size = f"{block.shape[0]} classes"
        ax.text(centre, top + 0.08, size, ha="center", va="bottom", fontsize=8, weight="bold")
        wrapped = "\n".join(
            textwrap.fill(part, 16, break_long_words=True) for part in block.label.split("\n")
        )
        ax.text(centre, bottom - 0.1, wrapped, ha="center", va="top", fontsize=7.5)
        lines = wrapped.count("\n") + 1
        lowest = min(lowest, bottom - 0.15 - 0.16 * lines)
        highest = max(highest, top + 0.3)
    ax.set_xlim(0, slot * len(blocks))
    ax.set_ylim(lowest, highest)
    heading = title or (
        f"{'x'.join(map(str, result.input_shape))} -> "
        f"{'x'.join(map(str, result.rows[-1].output_shape)) if result.rows else '?'}   "
        f"{result.total_params:,} parameters   {human_count(result.total_macs)} MACs"
    )
    if note:
        heading += f"   ({note})"
    figure.suptitle(heading, fontsize=9, y=0.97)
    # SVG keeps its labels as text (searchable, editable, smaller) instead of glyph outlines.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        return save_figure(figure, target, dpi=150)
