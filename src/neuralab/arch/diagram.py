"""The layout of a network diagram, as the course draws it: one block per tensor, left to right.

Each tensor (the input, then each layer's output) is a box: a C x H x W feature map is a cuboid
whose height grows with log2(H), whose slanted depth grows with log2(W) and whose thickness grows
with log2(C); a flat vector of K values is a bar of height ~ log2(K). Under each block its layer
in the course's words (``conv 5x5, M=20 + relu``, ``maxpool 2x2/2``, ``fc K=100``), above it the
size (``20x24x24``, ``10 classes``). Activations, batch norm and dropout do not change the size,
so they are folded into the label of the layer before them.

A network with more blocks than ``max_blocks`` is drawn by its stages (modules one, two, ...
levels deep, e.g. resnet18's layer1..layer4); if even that is too many, the middle is elided and
the figure says how many layers it leaves out.

This module computes what to draw; :mod:`neuralab.report.diagram` draws it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neuralab.arch.model_source import load_model
from neuralab.arch.summary import LayerRow, Summary, summary
from neuralab.errors import NeuralabError

_MIN_STAGES = 6  # fewer stages than this say too little; elide layers instead
_FOLDED = ("activation", "norm", "dropout")


@dataclass
class Block:
    """One tensor of the figure: the layer that made it (label) and its shape (no batch axis)."""

    label: str
    shape: tuple[int, ...]
    kind: str  # a row's kind (conv, pool, fc, block, ...), "input", or "gap" for elided layers
    params: int | None = None  # a stage's parameters (kind "block"), shown under its label

    def extent(self) -> tuple[float, float, float]:
        """Return the box's (height, width, depth) in figure units.

        A C x H x W map: height 0.25 + 0.14 log2 H, width 0.05 + 0.055 log2 C, depth
        0.06 + 0.05 log2 W; a vector of K values: a bar of height 0.25 + 0.14 log2 K (at most
        2.2), width 0.09 and no depth.
        """
        shape = self.shape
        if len(shape) >= 3:
            channels, height, width = shape[0], shape[-2], shape[-1]
            return (
                0.25 + 0.14 * _log2(height),
                0.05 + 0.055 * _log2(channels),
                0.06 + 0.05 * _log2(width),
            )
        return min(0.25 + 0.14 * _log2(math.prod(shape) if shape else 1), 2.2), 0.09, 0.0


@dataclass(frozen=True)
class DiagramLayout:
    """What a diagram shows: the blocks left to right, the leaf summary and how it was condensed."""

    summary: Summary  # one row per leaf layer (the title's totals)
    blocks: list[Block]
    note: str  # "", "22 layers elided" or "62 layers drawn as 9 stages"


def _log2(n: int) -> float:
    return math.log2(max(n, 1))


def diagram_blocks(rows: Sequence[LayerRow], input_shape: Sequence[int]) -> list[Block]:
    """Return the blocks for summary ``rows``: the input, then one per size-changing layer.

    Activation, normalisation and dropout rows are folded into the previous block's label.
    """
    blocks = [Block("input", tuple(input_shape), "input")]
    for row in rows:
        if row.kind in _FOLDED and len(blocks) > 1:
            short = "bn" if row.kind == "norm" else row.label.split()[0]
            previous = blocks[-1]
            previous.label += f"\n+ {short}"
            previous.shape = tuple(row.output_shape)
            continue
        if row.kind == "block":
            blocks.append(
                Block(f"{row.name}\n{row.type}", tuple(row.output_shape), row.kind, row.params)
            )
        else:
            blocks.append(Block(row.label, tuple(row.output_shape), row.kind))
    return blocks


def _cap(blocks: list[Block], max_blocks: int) -> list[Block]:
    if len(blocks) <= max_blocks:
        return blocks
    head = max_blocks - 2
    hidden = len(blocks) - head - 1
    return [*blocks[:head], Block(f"... {hidden} more\nlayers ...", (), "gap"), blocks[-1]]


def _elided(leaf: Summary, blocks: list[Block], max_blocks: int) -> DiagramLayout:
    capped = _cap(blocks, max_blocks)
    note = f"{len(blocks) - len(capped) + 1} layers elided" if capped is not blocks else ""
    return DiagramLayout(leaf, capped, note)


def diagram_layout(
    model_or_summary: Any, input_shape: Sequence[int], max_blocks: int = 20
) -> DiagramLayout:
    """Return the blocks to draw for a model (or a leaf :class:`Summary`), at most ``max_blocks``.

    A model with more blocks is drawn by the deepest level of stages that fits (resnet18:
    layer1.0, layer1.1, ...); a net with fewer than six stages that fit (vgg: features,
    classifier) is drawn layer by layer with its middle elided.
    """
    if max_blocks < 3:
        raise NeuralabError(f"max_blocks {max_blocks} must be >= 3 (input, one layer, output)")
    if isinstance(model_or_summary, Summary):
        leaf = model_or_summary
        return _elided(leaf, diagram_blocks(leaf.rows, leaf.input_shape), max_blocks)
    model = load_model(model_or_summary, input_shape)
    leaf = summary(model, input_shape)
    blocks = diagram_blocks(leaf.rows, input_shape)
    if len(blocks) <= max_blocks:
        return DiagramLayout(leaf, blocks, "")
    deepest = max((row.depth for row in leaf.rows), default=1)
    for depth in range(deepest - 1, 0, -1):
        staged = diagram_blocks(summary(model, input_shape, depth=depth).rows, input_shape)
        if _MIN_STAGES <= len(staged) <= max_blocks:
            note = f"{len(leaf.rows)} layers drawn as {len(staged) - 1} stages"
            return DiagramLayout(leaf, staged, note)
    return _elided(leaf, blocks, max_blocks)


__all__ = ["Block", "DiagramLayout", "diagram_blocks", "diagram_layout"]
