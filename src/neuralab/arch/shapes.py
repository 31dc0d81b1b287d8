"""Output sizes, parameter counts and fan-in of convolution, pooling and dense layers.

Pure integer functions (no torch): the formulas the course writes on the board, with PyTorch's
conventions for rounding, ``padding="same"``, ``ceil_mode`` and ``output_padding``. Every size
argument is an int (both axes alike) or an ``(h, w)`` pair; a function returns an int when every
size argument is an int and an ``(h, w)`` pair otherwise.

Symbols: n input size, k kernel size, s stride, p padding, d dilation, op output padding,
C_in / C_out channels, g groups.
"""

from __future__ import annotations

import math
from typing import Literal, TypeAlias

from neuralab.errors import NeuralabError

Size: TypeAlias = int | tuple[int, int]
Padding: TypeAlias = int | tuple[int, int] | Literal["same", "valid"]


def _is_pair(value: object) -> bool:
    return isinstance(value, tuple | list)


def _as_pair(value: object, what: str, *, minimum: int = 1) -> tuple[int, int]:
    """Return ``value`` as an (h, w) pair of ints >= ``minimum``; anything else raises."""
    items: tuple[object, ...] = tuple(value) if isinstance(value, tuple | list) else (value, value)
    if len(items) != 2:
        raise NeuralabError(f"{what} {value!r} must be an int or an (h, w) pair")
    ints: list[int] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int):
            raise NeuralabError(f"{what} {value!r} must be an int or an (h, w) pair of ints")
        if item < minimum:
            bound = "positive" if minimum == 1 else f">= {minimum}"
            raise NeuralabError(f"{what} {value!r} must be {bound}")
        ints.append(item)
    return ints[0], ints[1]


def _result(pair: tuple[int, int], *args: object) -> Size:
    """Return ``pair`` as a pair if any argument was a pair, else as one int."""
    return pair if any(_is_pair(a) for a in args) else pair[0]


def _axis(axis: int, n: object) -> str:
    """Return " height" / " width" for a pair input (to say which axis is too small), else ""."""
    return (" height", " width")[axis] if _is_pair(n) else ""


def fmt_size(value: Size | tuple[float, ...]) -> str:
    """Return ``5`` for 5 and ``5x3`` for (5, 3): sizes written the course's way."""
    if _is_pair(value):
        return "x".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)  # type: ignore[union-attr]
    return str(value)


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Return the span of a dilated kernel, k_eff = d (k - 1) + 1 input positions."""
    return dilation * (kernel - 1) + 1


def _raw_window_count(n: int, k: int, s: int, p: int, d: int, *, ceil_mode: bool = False) -> int:
    """Return floor_or_ceil((n + 2p - d (k - 1) - 1) / s) + 1, which may be < 1 (no checks)."""
    span = n + 2 * p - effective_kernel(k, d)
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and out >= 1 and (out - 1) * s >= n + p:
        # PyTorch: the last window must start inside the input or the left padding
        out -= 1
    return out


def conv_output_size(
    n: Size, kernel: Size, stride: Size = 1, padding: Padding = 0, dilation: Size = 1
) -> Size:
    """Return the output size of a convolution, n_out = floor((n + 2p - d (k - 1) - 1) / s) + 1.

    With d = 1 and s = 1 this is the course's n - k + 2p + 1. ``padding="same"`` keeps n_out = n
    (PyTorch allows it only with stride 1); ``padding="valid"`` means p = 0.

    >>> conv_output_size(32, 5)
    28
    >>> conv_output_size((28, 20), (5, 3), stride=(1, 2), padding=1)
    (26, 10)
    """
    n2 = _as_pair(n, "input size")
    k2 = _as_pair(kernel, "kernel size")
    s2 = _as_pair(stride, "stride")
    d2 = _as_pair(dilation, "dilation")
    if padding == "same":
        if s2 != (1, 1):
            raise NeuralabError(
                f"padding='same' needs stride 1 (as in PyTorch), got stride {fmt_size(stride)}"
            )
        return _result(n2, n, kernel, stride, dilation)
    if padding == "valid":
        padding = 0
    if isinstance(padding, str):
        raise NeuralabError(
            f"padding {padding!r} must be an int, an (h, w) pair, 'same' or 'valid'"
        )
    p2 = _as_pair(padding, "padding", minimum=0)
    out = []
    for axis in range(2):
        padded = n2[axis] + 2 * p2[axis]
        k_eff = effective_kernel(k2[axis], d2[axis])
        if k_eff > padded:
            raise NeuralabError(
                f"kernel {fmt_size(kernel)} (dilation {fmt_size(dilation)}) spans {k_eff} input "
                f"positions, more than the padded input{_axis(axis, n)} {n2[axis]} + 2*{p2[axis]} "
                f"= {padded}"
            )
        out.append(_raw_window_count(n2[axis], k2[axis], s2[axis], p2[axis], d2[axis]))
    return _result((out[0], out[1]), n, kernel, stride, padding, dilation)


def pool_output_size(
    n: Size,
    kernel: Size,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
) -> Size:
    """Return the output size of a max/avg pool, n_out = floor((n + 2p - d (k - 1) - 1) / s) + 1.

    The stride defaults to the kernel size (non-overlapping windows, the course's 2x2/2 pool).
    PyTorch's rules: p <= k / 2; with ``ceil_mode`` the floor becomes a ceiling, but a last window
    that would start past the input and its left padding is dropped ((n_out - 1) s >= n + p).

    >>> pool_output_size(24, 2)
    12
    >>> pool_output_size(5, 2, ceil_mode=True)
    3
    """
    n2 = _as_pair(n, "input size")
    k2 = _as_pair(kernel, "kernel size")
    s2 = k2 if stride is None else _as_pair(stride, "stride")
    p2 = _as_pair(padding, "padding", minimum=0)
    d2 = _as_pair(dilation, "dilation")
    out = []
    for axis in range(2):
        if 2 * p2[axis] > k2[axis]:
            raise NeuralabError(
                f"pool padding {fmt_size(padding)} must be at most half the kernel size "
                f"{fmt_size(kernel)} (PyTorch's rule p <= k/2)"
            )
        size = _raw_window_count(
            n2[axis], k2[axis], s2[axis], p2[axis], d2[axis], ceil_mode=ceil_mode
        )
        if size < 1:
            padded = n2[axis] + 2 * p2[axis]
            raise NeuralabError(
                f"pool kernel {fmt_size(kernel)} (dilation {fmt_size(dilation)}) spans "
                f"{effective_kernel(k2[axis], d2[axis])} input positions, more than the padded "
                f"input{_axis(axis, n)} {n2[axis]} + 2*{p2[axis]} = {padded}"
            )
        out.append(size)
    return _result((out[0], out[1]), n, kernel, stride, padding, dilation)


def conv_transpose_output_size(
    n: Size,
    kernel: Size,
    stride: Size = 1,
    padding: Size = 0,
    output_padding: Size = 0,
    dilation: Size = 1,
) -> Size:
    """Return the output size of a transposed convolution, n_out = (n - 1) s - 2p + d (k - 1) + op + 1.

    It inverts :func:`conv_output_size`'s shape map; ``output_padding`` (op) picks one of the s
    input sizes that a strided convolution maps to the same n, so PyTorch needs op < s or op < d.

    >>> conv_transpose_output_size(12, 2, stride=2)
    24
    """
    n2 = _as_pair(n, "input size")
    k2 = _as_pair(kernel, "kernel size")
    s2 = _as_pair(stride, "stride")
    p2 = _as_pair(padding, "padding", minimum=0)
    op2 = _as_pair(output_padding, "output_padding", minimum=0)
    d2 = _as_pair(dilation, "dilation")
    out = []
    for axis in range(2):
        if op2[axis] >= s2[axis] and op2[axis] >= d2[axis]:
            raise NeuralabError(
                f"output_padding {fmt_size(output_padding)} must be smaller than the stride "
                f"{fmt_size(stride)} or the dilation {fmt_size(dilation)}"
            )
        size = (
            (n2[axis] - 1) * s2[axis]
            - 2 * p2[axis]
            + effective_kernel(k2[axis], d2[axis])
            + op2[axis]
        )
        if size < 1:
            raise NeuralabError(
                f"transposed convolution output would be {size}: padding {fmt_size(padding)} "
                f"removes more than (n - 1) s + d (k - 1) + op + 1 = {size + 2 * p2[axis]} "
                f"for input{_axis(axis, n)} {n2[axis]}"
            )
        out.append(size)
    return _result((out[0], out[1]), n, kernel, stride, padding, output_padding, dilation)


def _check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    for value, what in ((in_channels, "in_channels"), (out_channels, "out_channels")):
        _as_pair(value, what)
    _as_pair(groups, "groups")
    if in_channels % groups or out_channels % groups:
        raise NeuralabError(
            f"groups={groups} must divide both in_channels={in_channels} and "
            f"out_channels={out_channels}"
        )


def conv_params(
    in_channels: int, out_channels: int, kernel: Size, bias: bool = True, groups: int = 1
) -> int:
    """Return the number of parameters of a convolution, C_out (k_h k_w C_in / g) + C_out.

    Each of the C_out filters has k_h k_w C_in / g weights and one bias: ten 5x5 filters on a
    3-channel input have 10 (5 * 5 * 3 + 1) = 760 parameters.

    >>> conv_params(3, 10, 5)
    760
    """
    _check_groups(in_channels, out_channels, groups)
    return out_channels * conv_fan_in(in_channels, kernel, groups) + (out_channels if bias else 0)


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Return the number of parameters of a dense layer, in_features * out_features + out_features.

    >>> linear_params(2880, 100)
    288100
    """
    _as_pair(in_features, "in_features")
    _as_pair(out_features, "out_features")
    return in_features * out_features + (out_features if bias else 0)


def conv_fan_in(in_channels: int, kernel: Size, groups: int = 1) -> int:
    """Return the fan-in of one convolution output neuron, k_h k_w C_in / g (bias excluded).

    >>> conv_fan_in(3, 5)
    75
    """
    _as_pair(in_channels, "in_channels")
    _as_pair(groups, "groups")
    if in_channels % groups:
        raise NeuralabError(f"groups={groups} must divide in_channels={in_channels}")
    kh, kw = _as_pair(kernel, "kernel size")
    return kh * kw * in_channels // groups


__all__ = [
    "conv_fan_in",
    "conv_output_size",
    "conv_params",
    "conv_transpose_output_size",
    "effective_kernel",
    "fmt_size",
    "linear_params",
    "pool_output_size",
]
