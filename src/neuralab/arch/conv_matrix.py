"""Convolution as a matrix: every ``nn.Conv2d`` is a fully connected layer with a sparse weight.

For an input x of shape (C_in, H, W) flattened row-major (channel, then row, then column), a 2-D
convolution computes y = A x + b, where A has one row per output value (C_out H_out W_out rows)
and one column per input value (C_in H W columns). Row (m, i, j) of A holds the kernel of
filter m, placed where the receptive field of output (i, j) lies on the input:

    A[(m, i, j), (c, i s - p + k_h d, j s - p + k_w d)] = w[m, c, k_h, k_w]

(s stride, p padding, d dilation; taps that fall on the zero padding are dropped, groups restrict
c to the filter's group). Most entries of A are zero and the non-zero ones repeat the same few
kernel weights: weight sharing and sparse connectivity are exactly what make a convolution cheaper
than the equivalent dense layer (:func:`dense_equivalent`, :func:`conv_parameter_counts`).

A is built with index arithmetic as a ``torch.sparse_coo_tensor`` (coalesced, rows in order), so a
3x64x64 input with 64 filters (262,144 x 12,288, about 7 million non-zeros) fits in memory;
:meth:`ConvMatrix.dense` gives the dense matrix on request. :func:`symbolic_conv_matrix` writes A
with the course's names (w1..w4 for a 2x2 kernel, x1..x9 for a 3x3 input, numbered row-major).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
import torch
from torch import nn

from neuralab.arch.shapes import as_pair
from neuralab.errors import NeuralabError
from neuralab.limits import check_memory

__all__ = [
    "ConvMatrix",
    "DenseEquivalent",
    "ParameterCounts",
    "SymbolicConvMatrix",
    "conv_parameter_counts",
    "conv_to_matrix",
    "dense_equivalent",
    "symbolic_conv_matrix",
]

# Bytes per entry: a dense A holds float64 values; a sparse one two int64 indices and a float64
# value per non-zero. Either is refused above the memory limit (neuralab.limits) before it is
# allocated.
DENSE_ENTRY_BYTES = 8
SPARSE_ENTRY_BYTES = 24


@dataclass(frozen=True)
class _Geometry:
    """Everything about a Conv2d that decides where the kernel lands, per spatial axis (h, w)."""

    in_channels: int
    out_channels: int
    groups: int
    input_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding_before: tuple[int, int]  # top, left
    padding_after: tuple[int, int]  # bottom, right ('same' may pad one more after than before)
    dilation: tuple[int, int]

    def output_size(self, axis: int) -> int:
        """H_out = floor((H + p_before + p_after - d (k - 1) - 1) / s) + 1 along ``axis``."""
        span = self.dilation[axis] * (self.kernel[axis] - 1) + 1
        padded = self.input_hw[axis] + self.padding_before[axis] + self.padding_after[axis]
        return (padded - span) // self.stride[axis] + 1

    @property
    def output_hw(self) -> tuple[int, int]:
        return (self.output_size(0), self.output_size(1))


def _geometry(conv: nn.Conv2d, input_hw: tuple[int, int] | tuple[int, int, int]) -> _Geometry:
    if not isinstance(conv, nn.Conv2d):
        raise NeuralabError(f"expected an nn.Conv2d; got {type(conv).__name__}")
    if conv.padding_mode != "zeros":
        raise NeuralabError(
            f"padding_mode {conv.padding_mode!r} is not supported; conv_to_matrix builds the "
            "matrix of zero padding only (padding_mode='zeros')"
        )
    if len(input_hw) == 3:
        channels, *hw = input_hw
        if channels != conv.in_channels:
            raise NeuralabError(
                f"input shape {'x'.join(map(str, input_hw))} has {channels} channels; "
                f"the convolution expects in_channels = {conv.in_channels}"
            )
        input_hw = (hw[0], hw[1])
    if len(input_hw) != 2 or any(not isinstance(v, int) or v < 1 for v in input_hw):
        raise NeuralabError(f"input size {input_hw!r} is not HxW with positive integers")
    kernel = as_pair(conv.kernel_size, "kernel_size")
    dilation = as_pair(conv.dilation, "dilation")
    stride = as_pair(conv.stride, "stride")
    if isinstance(conv.padding, str):  # 'valid' = no padding; 'same' as torch pads it
        totals = (
            [0, 0]
            if conv.padding == "valid"
            else [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        )
        before = (totals[0] // 2, totals[1] // 2)
        after = (totals[0] - before[0], totals[1] - before[1])
    else:
        before = after = as_pair(conv.padding, "padding", minimum=0)
    geometry = _Geometry(
        conv.in_channels,
        conv.out_channels,
        conv.groups,
        (input_hw[0], input_hw[1]),
        kernel,
        stride,
        before,
        after,
        dilation,
    )
    if min(geometry.output_hw) < 1:
        span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
        raise NeuralabError(
            f"the kernel spans {span[0]}x{span[1]} (with dilation) but the padded input is only "
            f"{input_hw[0] + before[0] + after[0]}x{input_hw[1] + before[1] + after[1]}; "
            "the output would be empty"
        )
    return geometry


def _axis_taps(geometry: _Geometry, axis: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return input positions (out, k) along ``axis`` and whether each lies inside the input."""
    out = torch.arange(geometry.output_size(axis)).unsqueeze(1)
    tap = torch.arange(geometry.kernel[axis]).unsqueeze(0)
    position = (
        out * geometry.stride[axis] - geometry.padding_before[axis] + tap * geometry.dilation[axis]
    )
    return position, (position >= 0) & (position < geometry.input_hw[axis])


def _sparse_indices(geometry: _Geometry) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (row, column, weight index) of every non-zero of A, sorted by row then column.

    The weight index points into ``conv.weight.reshape(-1)`` (shape C_out x C_in/groups x k_h x
    k_w). Entries are generated in the order (m, i, j, c, k_h, k_w): for a fixed row (m, i, j) the
    column c H W + (i s - p + k_h d) W + (j s - p + k_w d) grows with (c, k_h, k_w), so the result
    is already coalesced and no sort is needed.
    """
    (height, width), (kh, kw) = geometry.input_hw, geometry.kernel
    out_h, out_w = geometry.output_hw
    group_in = geometry.in_channels // geometry.groups
    group_out = geometry.out_channels // geometry.groups
    rows_y, valid_y = _axis_taps(geometry, 0)  # (H_out, k_h)
    rows_x, valid_x = _axis_taps(geometry, 1)  # (W_out, k_w)
    # one output channel's pattern, indexed (i, j, c, k_h, k_w); c is the channel within the group
    mask = valid_y[:, None, None, :, None] & valid_x[None, :, None, None, :]
    mask = mask.expand(out_h, out_w, group_in, kh, kw)
    i, j, c, ty, tx = mask.nonzero(as_tuple=True)
    spatial_row = i * out_w + j
    spatial_col = c * (height * width) + rows_y[i, ty] * width + rows_x[j, tx]
    tap = (c * kh + ty) * kw + tx
    filters = torch.arange(geometry.out_channels).unsqueeze(1)  # (C_out, 1)
    group = filters // group_out
    row = filters * (out_h * out_w) + spatial_row
    column = group * (group_in * height * width) + spatial_col
    weight_index = filters * (group_in * kh * kw) + tap
    return row.reshape(-1), column.reshape(-1), weight_index.reshape(-1)


@dataclass(frozen=True)
class ConvMatrix:
    """A convolution written as y = A x + b on flattened (channel, row, column) tensors."""

    A: torch.Tensor  # sparse COO, (C_out H_out W_out) x (C_in H W)
    b: torch.Tensor  # dense, (C_out H_out W_out,): the bias of filter m repeated H_out W_out times
    input_shape: tuple[int, int, int]  # (C_in, H, W)
    output_shape: tuple[int, int, int]  # (C_out, H_out, W_out)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of A: (C_out H_out W_out, C_in H W)."""
        return (int(self.A.shape[0]), int(self.A.shape[1]))

    @property
    def nnz(self) -> int:
        """Number of stored (structurally non-zero) entries of A."""
        return int(self.A._nnz())

    @property
    def sparsity(self) -> float:
        """Fraction of the entries of A that are structurally zero."""
        rows, columns = self.shape
        return 1.0 - self.nnz / (rows * columns)

    def dense(self) -> torch.Tensor:
        """Return A as a dense tensor (refused above the memory limit, with its size)."""
        rows, columns = self.shape
        check_memory(
            DENSE_ENTRY_BYTES * rows * columns,
            f"the dense matrix A of {rows:,} x {columns:,} = {rows * columns:,} entries "
            "(the sparse A is smaller)",
        )
        return self.A.to_dense()

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Return A x + b for x of shape (C_in, H, W) or (N, C_in, H, W), as (N?, C_out, H_out, W_out)."""
        batched = x.dim() == 4
        flat = x.reshape(x.shape[0] if batched else 1, -1).to(self.A.dtype)
        y = torch.sparse.mm(self.A, flat.T).T + self.b
        return y.reshape(-1, *self.output_shape) if batched else y.reshape(self.output_shape)


def conv_to_matrix(conv: nn.Conv2d, input_hw: tuple[int, int] | tuple[int, int, int]) -> ConvMatrix:
    """Return the sparse matrix A and vector b with ``conv(x).flatten() == A @ x.flatten() + b``.

    ``input_hw`` is (H, W) (or (C_in, H, W)). Works for any in/out channels, kernel, stride,
    padding (ints, pairs, 'same', 'valid'; zero padding only), dilation and groups. The weights
    are copied (detached): A is a snapshot of the layer.

    >>> conv = nn.Conv2d(1, 1, 2, bias=False)
    >>> conv_to_matrix(conv, (3, 3)).shape
    (4, 9)
    """
    geometry = _geometry(conv, input_hw)
    nonzero = conv_parameter_counts(conv, input_hw).nonzero_weights
    check_memory(
        SPARSE_ENTRY_BYTES * nonzero,
        f"A with {nonzero:,} non-zeros (conv_parameter_counts gives the counts alone)",
    )
    row, column, weight_index = _sparse_indices(geometry)
    weight = conv.weight.detach()
    out_h, out_w = geometry.output_hw
    height, width = geometry.input_hw
    size = (conv.out_channels * out_h * out_w, conv.in_channels * height * width)
    A = torch.sparse_coo_tensor(
        torch.stack([row, column]).to(weight.device),
        weight.reshape(-1)[weight_index.to(weight.device)],
        size,
        is_coalesced=True,  # generated in (row, column) order, see _sparse_indices
        check_invariants=False,  # the indices are in range by construction
    )
    if conv.bias is None:
        b = torch.zeros(size[0], dtype=weight.dtype, device=weight.device)
    else:
        b = conv.bias.detach().repeat_interleave(out_h * out_w)
    return ConvMatrix(A, b, (conv.in_channels, height, width), (conv.out_channels, out_h, out_w))


@dataclass(frozen=True)
class ParameterCounts:
    """Parameters of a convolution and of the dense layer computing the same map."""

    conv_weights: int  # C_out (C_in / groups) k_h k_w: shared across every output position
    conv_bias: int  # C_out (0 without bias)
    dense_weights: int  # (C_out H_out W_out) (C_in H W): one weight per input-output pair
    dense_bias: int  # C_out H_out W_out (0 without bias)
    nonzero_weights: int  # nnz of A: connections that exist (sparse connectivity)

    @property
    def conv_total(self) -> int:
        return self.conv_weights + self.conv_bias

    @property
    def dense_total(self) -> int:
        return self.dense_weights + self.dense_bias

    @property
    def ratio(self) -> float:
        """How many times more parameters the dense layer has than the convolution."""
        return self.dense_total / self.conv_total


def conv_parameter_counts(
    conv: nn.Conv2d, input_hw: tuple[int, int] | tuple[int, int, int]
) -> ParameterCounts:
    """Return both parameter counts (shared-weight conv vs equivalent dense layer) and nnz(A).

    Counted without building any matrix, so it answers for layers whose dense form would not fit.
    """
    geometry = _geometry(conv, input_hw)
    out_h, out_w = geometry.output_hw
    rows = conv.out_channels * out_h * out_w
    columns = conv.in_channels * geometry.input_hw[0] * geometry.input_hw[1]
    # non-zeros: per filter, every (input channel of its group, valid tap along h, valid tap
    # along w) triple; the two axes are independent, so the count factorises
    valid_h = int(_axis_taps(geometry, 0)[1].sum())
    valid_w = int(_axis_taps(geometry, 1)[1].sum())
    nonzero = conv.out_channels * (conv.in_channels // conv.groups) * valid_h * valid_w
    has_bias = conv.bias is not None
    return ParameterCounts(
        conv_weights=conv.weight.numel(),
        conv_bias=conv.out_channels if has_bias else 0,
        dense_weights=rows * columns,
        dense_bias=rows if has_bias else 0,
        nonzero_weights=nonzero,
    )


@dataclass
class DenseEquivalent:
    """A fully connected layer computing exactly what a convolution computes, with the counts."""

    linear: nn.Linear  # in_features C_in H W, out_features C_out H_out W_out
    counts: ParameterCounts
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]


def dense_equivalent(conv: nn.Conv2d, input_shape: tuple[int, int, int]) -> DenseEquivalent:
    """Return an ``nn.Linear`` with ``linear(x.flatten()) == conv(x).flatten()``, and both counts.

    The constructive proof that a convolutional layer is a fully connected layer whose weight
    matrix is the structured (sparse, weight-shared) A of :func:`conv_to_matrix`.
    """
    matrix = conv_to_matrix(conv, input_shape)
    rows, columns = matrix.shape
    dense = matrix.dense()  # refuses layers too large to hold densely, saying how large
    linear = nn.Linear(
        columns, rows, bias=conv.bias is not None, dtype=dense.dtype, device=dense.device
    )
    with torch.no_grad():
        linear.weight.copy_(dense)
        if linear.bias is not None:
            linear.bias.copy_(matrix.b)
    return DenseEquivalent(
        linear, conv_parameter_counts(conv, input_shape), matrix.input_shape, matrix.output_shape
    )


@dataclass(frozen=True)
class SymbolicConvMatrix:
    """The convolution matrix with the course's names: y = A x, A filled with w1..wK."""

    matrix: sympy.Matrix  # (H_out W_out) x (H W), entries w_k or 0
    weights: list[sympy.Symbol]  # w1..wK, the kernel read row-major
    inputs: list[sympy.Symbol]  # x1..xHW, the input read row-major
    outputs: list[sympy.Expr]  # y1..y(H_out W_out) = row of A times x
    output_hw: tuple[int, int]


def symbolic_conv_matrix(
    input_hw: tuple[int, int],
    kernel_hw: tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> SymbolicConvMatrix:
    """Return A for one input and one output channel, written with w1..wK and x1..xN (sympy).

    Kernel and input are numbered row-major from 1: for a 3x3 input and a 2x2 kernel, A is 4x9
    and its first row is ``w1 w2 0 w3 w4 0 0 0 0`` (y1 = w1 x1 + w2 x2 + w3 x4 + w4 x5).
    """
    kernel = as_pair(kernel_hw, "kernel")  # sizes >= 1, else one clear line
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
    geometry = _geometry(conv, input_hw)
    row, column, weight_index = _sparse_indices(geometry)
    weights = list(sympy.symbols(f"w1:{kernel[0] * kernel[1] + 1}"))
    inputs = list(sympy.symbols(f"x1:{geometry.input_hw[0] * geometry.input_hw[1] + 1}"))
    out_h, out_w = geometry.output_hw
    matrix = sympy.zeros(out_h * out_w, len(inputs))
    for r, c, k in zip(row.tolist(), column.tolist(), weight_index.tolist(), strict=True):
        matrix[r, c] = weights[k]  # a few dozen entries: the course's sizes, not a hot path
    outputs = list(matrix * sympy.Matrix(inputs))
    return SymbolicConvMatrix(matrix, weights, inputs, outputs, (out_h, out_w))
