"""Pooling and padding worked step by step: every window's computation, every pixel's use count.

Pooling slides a k x k window with stride s (default s = k) over the (padded) input and keeps one
number per window: the maximum (max pooling) or the mean (average pooling). Output size per axis:
H_out = floor((H + 2p - k) / s) + 1. As in PyTorch, max pooling pads with -inf (a padded entry
never wins) and average pooling pads with zeros that count in the mean (``count_include_pad``).

Padding usage answers why padding exists: without it, a corner pixel of the input falls in one
window only while a central pixel falls in k^2 (stride 1), so the border is under-used; padding
with p zeros around the input lets border pixels take part in as many windows as central ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuralab.arch.shapes import as_pair
from neuralab.errors import NeuralabError
from neuralab.limits import check_memory

if TYPE_CHECKING:
    import torch

__all__ = ["PaddingUsage", "PoolResult", "PoolWindow", "padding_usage", "pool_steps"]

POOL_OPS = ("max", "avg")
# what one cell of the padding table costs on its way to the terminal (counts, masks, text)
PADDING_CELL_BYTES = 250
# what one value read by a pooling window costs (the list entry, its text in the computation)
POOL_READ_BYTES = 100


def _number(value: float) -> str:
    """Return ``value`` as the computation strings show it: 1, 2.5, 0.333333, -inf."""
    return f"{value:g}"


def _output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """H_out = floor((H + 2p - k) / s) + 1 (0 or less when the window does not fit)."""
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True)
class PoolWindow:
    """One window of a pooling: where it lies, what it reads and what it computes."""

    output_index: tuple[int, int]  # (row, column) in the output, from 0
    rows: tuple[int, int]  # first and last input row covered (may be < 0 or >= H: padding)
    columns: tuple[int, int]  # first and last input column covered
    values: list[float]  # the k_h k_w values read, row-major (padding: -inf for max, 0 for avg)
    result: float
    computation: str  # e.g. "max(1,0,1,0) = 1" or "(1+1+1+1)/4 = 1"


@dataclass(frozen=True)
class PoolResult:
    """A pooled matrix with the computation of each of its entries."""

    op: str  # "max" or "avg"
    size: tuple[int, int]  # k_h, k_w
    stride: tuple[int, int]
    padding: tuple[int, int]
    input: torch.Tensor  # (H, W), float64
    output: torch.Tensor  # (H_out, W_out), float64
    windows: list[PoolWindow]  # row-major over the output
    max_difference: float  # max |output - F.max_pool2d / F.avg_pool2d(input)|: 0 when right

    @property
    def torch_function(self) -> str:
        """Return the PyTorch function the output is checked against."""
        return f"F.{self.op}_pool2d"


def pool_arguments(
    op: str,
    size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Return (kernel, stride, padding) pairs of a pooling, or raise naming the bad argument.

    ``stride`` defaults to ``size``; ``padding`` may be at most half the window (PyTorch's rule).
    """
    if op not in POOL_OPS:
        raise NeuralabError(f"pooling op {op!r} is unknown; valid: {', '.join(POOL_OPS)}")
    kernel = as_pair(size, "size", minimum=1)
    strides = kernel if stride is None else as_pair(stride, "stride", minimum=1)
    pads = as_pair(padding, "padding", minimum=0)
    if any(2 * p > k for p, k in zip(pads, kernel, strict=True)):
        raise NeuralabError(
            f"padding {pads[0]}x{pads[1]} is more than half the window {kernel[0]}x{kernel[1]}; "
            "a window would then read padding only"
        )
    return kernel, strides, pads


def pool_steps(
    matrix: torch.Tensor | list[list[float]],
    op: str = "max",
    size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> PoolResult:
    """Return the pooled matrix and, for each window, the computation that gave its entry.

    ``op`` is ``"max"`` (y = max over the window) or ``"avg"`` (y = sum over the window / k_h k_w,
    padded zeros included). ``stride`` defaults to ``size``. PyTorch's rule applies: ``padding``
    is at most half the window.

    >>> pool_steps([[1, 0], [1, 0]], "max", 2).windows[0].computation
    'max(1,0,1,0) = 1'
    >>> pool_steps([[1, 1], [1, 1]], "avg", 2).windows[0].computation
    '(1+1+1+1)/4 = 1'
    """
    kernel, strides, pads = pool_arguments(op, size, stride, padding)
    # torch only now: a malformed argument is answered without its ~1.5 s import
    import torch

    values = torch.as_tensor(matrix, dtype=torch.float64)
    if values.dim() != 2 or values.numel() == 0:
        raise NeuralabError(
            f"pooling takes a non-empty matrix (H x W); got shape {tuple(values.shape)}"
        )
    height, width = values.shape
    out_h = _output_size(height, kernel[0], strides[0], pads[0])
    out_w = _output_size(width, kernel[1], strides[1], pads[1])
    if out_h < 1 or out_w < 1:
        raise NeuralabError(
            f"the {kernel[0]}x{kernel[1]} window does not fit the {height}x{width} input "
            f"padded by {pads[0]}x{pads[1]}"
        )
    check_memory(
        8 * (height + 2 * pads[0]) * (width + 2 * pads[1])
        + POOL_READ_BYTES * out_h * out_w * kernel[0] * kernel[1],
        f"pooling a {height}x{width} matrix with a {kernel[0]}x{kernel[1]} window "
        f"({out_h * out_w:,} windows)",
    )
    fill = -math.inf if op == "max" else 0.0
    padded = torch.full((height + 2 * pads[0], width + 2 * pads[1]), fill, dtype=torch.float64)
    padded[pads[0] : pads[0] + height, pads[1] : pads[1] + width] = values
    output = torch.empty(out_h, out_w, dtype=torch.float64)
    windows: list[PoolWindow] = []
    # one window per output entry: a handful for the matrices a person types, and each needs its
    # own computation string anyway
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * strides[0], j * strides[1]
            window = padded[top : top + kernel[0], left : left + kernel[1]].reshape(-1).tolist()
            shown = [_number(v) for v in window]
            if op == "max":
                result = max(window)
                computation = f"max({','.join(shown)}) = {_number(result)}"
            else:
                result = sum(window) / len(window)
                computation = f"({'+'.join(shown)})/{len(window)} = {_number(result)}"
            output[i, j] = result
            windows.append(
                PoolWindow(
                    (i, j),
                    (top - pads[0], top - pads[0] + kernel[0] - 1),
                    (left - pads[1], left - pads[1] + kernel[1] - 1),
                    window,
                    result,
                    computation.replace("+-", "-"),
                )
            )
    pool = torch.nn.functional.max_pool2d if op == "max" else torch.nn.functional.avg_pool2d
    reference = pool(values[None, None], kernel, strides, pads)[0, 0]
    difference = float((reference - output).abs().max())
    return PoolResult(op, kernel, strides, pads, values, output, windows, difference)


@dataclass(frozen=True)
class PaddingUsage:
    """How many output positions read each pixel of the padded input."""

    input_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_hw: tuple[int, int]
    counts: list[list[int]]  # (H + 2p) x (W + 2p): uses of each padded-grid cell
    padded: list[list[bool]]  # True where the cell is an artificial zero of the padding
    conclusion: str  # one computed sentence

    @property
    def input_counts(self) -> list[list[int]]:
        """The counts of the real input pixels only (H x W)."""
        (p_h, p_w), (height, width) = self.padding, self.input_hw
        return [row[p_w : p_w + width] for row in self.counts[p_h : p_h + height]]


def _axis_uses(size: int, kernel: int, stride: int, padding: int) -> list[int]:
    """Return, per padded position along one axis, how many windows cover it."""
    uses = [0] * (size + 2 * padding)
    for out in range(_output_size(size, kernel, stride, padding)):
        for tap in range(kernel):
            uses[out * stride + tap] += 1
    return uses


def _usage_grid(
    input_hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> list[list[int]]:
    # a window covers cell (r, c) iff it covers row r and column c: the count is a product
    rows = _axis_uses(input_hw[0], kernel[0], stride[0], padding[0])
    columns = _axis_uses(input_hw[1], kernel[1], stride[1], padding[1])
    return [[r * c for c in columns] for r in rows]


def _describe(
    input_hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> str:
    grid = _usage_grid(input_hw, kernel, stride, padding)
    out_h = _output_size(input_hw[0], kernel[0], stride[0], padding[0])
    out_w = _output_size(input_hw[1], kernel[1], stride[1], padding[1])
    corner = grid[padding[0]][padding[1]]
    centre = grid[padding[0] + (input_hw[0] - 1) // 2][padding[1] + (input_hw[1] - 1) // 2]
    text = f"the corner pixel is used by {corner} of {out_h * out_w} output positions, the centre by {centre}"
    unused = sum(
        1
        for row in grid[padding[0] : padding[0] + input_hw[0]]
        for count in row[padding[1] : padding[1] + input_hw[1]]
        if count == 0
    )
    if unused:
        text += f", {unused} input pixels by none"
    return text


def padding_usage(
    input_hw: tuple[int, int],
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> PaddingUsage:
    """Return, per input pixel and per padded zero, how many output positions use it.

    A k x k window at stride s covers padded row r for every output row i with
    i s <= r <= i s + k - 1; the count of a cell is (row count) x (column count). The
    conclusion compares the corner with the centre without padding and with the padding given
    (or, when none is given, with p = (k - 1) / 2, the 'same' padding of stride 1).
    """
    hw = as_pair(input_hw, "input", minimum=1)
    k = as_pair(kernel, "kernel", minimum=1)
    s = as_pair(stride, "stride", minimum=1)
    p = as_pair(padding, "padding", minimum=0)
    out_h = _output_size(hw[0], k[0], s[0], p[0])
    out_w = _output_size(hw[1], k[1], s[1], p[1])
    if out_h < 1 or out_w < 1:
        raise NeuralabError(
            f"the {k[0]}x{k[1]} kernel does not fit the {hw[0]}x{hw[1]} input padded by "
            f"{p[0]}x{p[1]}: no output position"
        )
    cells = (hw[0] + 2 * p[0]) * (hw[1] + 2 * p[1])
    check_memory(
        PADDING_CELL_BYTES * cells,
        f"a padding table of {hw[0] + 2 * p[0]}x{hw[1] + 2 * p[1]} = {cells:,} cells",
    )
    counts = _usage_grid(hw, k, s, p)
    padded = [
        [not (p[0] <= r < p[0] + hw[0] and p[1] <= c < p[1] + hw[1]) for c in range(len(row))]
        for r, row in enumerate(counts)
    ]
    compare = p if p != (0, 0) else ((k[0] - 1) // 2, (k[1] - 1) // 2)
    conclusion = (
        "without padding " + _describe(hw, k, s, (0, 0))
        if min(_output_size(hw[0], k[0], s[0], 0), _output_size(hw[1], k[1], s[1], 0)) >= 1
        else "without padding the kernel does not fit"
    )
    if compare != (0, 0):
        reads = sum(
            c
            for row, mask in zip(counts, padded, strict=True)
            for c, m in zip(row, mask, strict=True)
            if m
        )
        label = f"{compare[0]}" if compare[0] == compare[1] else f"{compare[0]}x{compare[1]}"
        conclusion += f"; with padding={label} " + _describe(hw, k, s, compare)
        if compare == p:
            zeros = sum(m for row in padded for m in row)
            conclusion += f" (the {zeros} padded zeros are read {reads} times)"
    return PaddingUsage(hw, k, s, p, (out_h, out_w), counts, padded, conclusion)
