"""A convolution built from its sizes, its matrix A and bias b, and the check A x + b = conv(x).

:func:`conv_example` is what ``neuralab conv-matrix`` shows, as one value a notebook can use too:
the layer (float64; random weights from a seed, or the kernel given), y = A x + b
(:func:`~neuralab.arch.conv_matrix.conv_to_matrix`), the parameters of the convolution and of
the dense layer computing the same map, the symbolic A with w1..wK and x1..xN for one channel in
and out, and the largest difference max |A x + b - conv(x)| on a random input x.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from neuralab.arch.conv_matrix import (
    ConvMatrix,
    ParameterCounts,
    SymbolicConvMatrix,
    conv_parameter_counts,
    conv_to_matrix,
    symbolic_conv_matrix,
)
from neuralab.errors import NeuralabError
from neuralab.limits import check_memory

# --symbolic writes one column per input pixel: more than this is unreadable
SYMBOLIC_PIXELS = 400


@dataclass(frozen=True)
class ConvExample:
    """A convolution and its matrix: y = A x + b, the parameter counts and the check."""

    conv: nn.Conv2d  # float64
    input_shape: tuple[int, int, int]  # (C_in, H, W)
    matrix: ConvMatrix  # A (sparse) and b; A in symbols in ``symbolic``
    counts: ParameterCounts
    max_difference: float  # max |A x + b - conv(x)| on a random x, float64 (0 up to rounding)
    symbolic: SymbolicConvMatrix | None = None  # A with w1..wK (one channel in and out)


def conv_example(
    input_shape: tuple[int, int, int],
    kernel: tuple[int, int],
    *,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    dilation: tuple[int, int] = (1, 1),
    out_channels: int = 1,
    groups: int = 1,
    bias: bool = True,
    weights: torch.Tensor | None = None,
    symbolic: bool = False,
    seed: int = 0,
) -> ConvExample:
    """Return the convolution of these sizes, its matrix A, b, the counts and the check.

    ``weights`` (k_h x k_w) sets the kernel of a one-channel layer; otherwise the weights are
    PyTorch's random initialization from ``seed``, and the check's x is drawn from N(0, 1)
    right after them. ``symbolic`` (one channel, no bias) also writes A with symbols; its check
    puts the layer's weights into the symbols.

    >>> example = conv_example((1, 3, 3), (2, 2), bias=False)
    >>> example.matrix.shape, example.counts.conv_total, example.max_difference < 1e-12
    ((4, 9), 4, True)
    """
    channels, height, width = input_shape
    if min(channels, out_channels, groups) < 1:
        raise NeuralabError("in_channels, out_channels and groups must be >= 1")
    if channels % groups or out_channels % groups:
        raise NeuralabError(
            f"groups={groups} must divide both C_in = {channels} and C_out = {out_channels}"
        )
    if (symbolic or weights is not None) and (channels, out_channels) != (1, 1):
        what = "symbolic" if symbolic else "weights"
        raise NeuralabError(
            f"{what} takes one input and one output channel; got C_in = {channels}, "
            f"C_out = {out_channels}"
        )
    if symbolic and height * width > SYMBOLIC_PIXELS:
        raise NeuralabError(
            f"symbolic writes one column per input pixel; {height}x{width} has "
            f"{height * width} (at most {SYMBOLIC_PIXELS}): use a smaller input"
        )
    padded = (height + 2 * padding[0]) * (width + 2 * padding[1])  # >= H_out W_out
    check_memory(  # x and conv(x) in float64, before the matrix's own check
        8 * (channels * height * width + out_channels * padded),
        f"the input {channels}x{height}x{width} and its convolution",
    )
    with torch.random.fork_rng(devices=[]):  # the caller's random state stays as it was
        torch.manual_seed(seed)
        conv = nn.Conv2d(
            channels, out_channels, kernel, stride=stride, padding=padding, dilation=dilation,
            groups=groups, bias=bias and not symbolic, dtype=torch.float64,
        )  # fmt: skip
        written = None
        if symbolic:  # built before x is drawn: x is the same as ever for a given seed
            written = symbolic_conv_matrix((height, width), kernel, stride, padding, dilation)
        x = torch.randn(input_shape, dtype=torch.float64)
    if weights is not None:
        with torch.no_grad():
            conv.weight.copy_(weights.reshape(conv.weight.shape))
    matrix = conv_to_matrix(conv, input_shape)
    with torch.no_grad():
        expected = conv(x.unsqueeze(0)).reshape(-1)
    if written is not None:
        values = dict(zip(written.weights, conv.weight.detach().reshape(-1).tolist(), strict=True))
        A = torch.tensor(written.matrix.subs(values).tolist(), dtype=torch.float64)
        difference = float((A @ x.reshape(-1) - expected).abs().max())
    else:
        difference = float((matrix.apply(x).reshape(-1) - expected).abs().max())
    counts = conv_parameter_counts(conv, input_shape)
    return ConvExample(conv, input_shape, matrix, counts, difference, written)
