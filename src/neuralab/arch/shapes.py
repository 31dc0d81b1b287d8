"""Output sizes, parameter counts and fan-in of convolution, pooling and dense layers.

Pure integer functions (no torch): the formulas the course writes on the board, with PyTorch's
conventions for rounding, ``padding="same"``, ``ceil_mode`` and ``output_padding``. Every size
argument is an int (both axes alike) or an ``(h, w)`` pair; a function returns an int when every
size argument is an int and an ``(h, w)`` pair otherwise.

Symbols: n input size, k kernel size, s stride, p padding, d dilation, op output padding,
C_in / C_out channels, g groups.

The one copy of the small helpers every layer shares: :func:`as_pair` (an int or an (h, w)
pair, checked), :func:`per_axis`, :func:`parse_shape` (``"3x32x32"``), :func:`parse_pair`
(``"2"`` or ``"2x1"``), :func:`fmt_size` and the adaptive-pool window :func:`adaptive_window`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

from neuralab.errors import NeuralabError

Size: TypeAlias = int | tuple[int, int]
Padding: TypeAlias = int | tuple[int, int] | Literal["same", "valid"]


def _is_pair(value: object) -> bool:
    return isinstance(value, tuple | list)


def as_pair(value: object, what: str = "size", *, minimum: int = 1) -> tuple[int, int]:
    """Return ``value`` (an int or an (h, w) pair of ints >= ``minimum``) as (h, w); else raise.

    >>> as_pair(5), as_pair((5, 3), "kernel size")
    ((5, 5), (5, 3))
    """
    items = list(value) if isinstance(value, tuple | list) else [value, value]
    ints = [v for v in items if isinstance(v, int) and not isinstance(v, bool)]
    if len(items) != 2 or len(ints) != 2:
        raise NeuralabError(f"{what} {value!r} must be an int or an (h, w) pair of ints")
    if min(ints) < minimum:
        raise NeuralabError(f"{what} {value!r} must be >= {minimum}")
    return ints[0], ints[1]


def per_axis(value: Any, axes: int = 2) -> tuple[int, ...]:
    """Return a layer attribute as one value per axis: ``2 -> (2, 2)``, ``(3, 5)`` as it is.

    For attributes PyTorch has validated already (``kernel_size``, ``stride`` of any module).
    """
    return (value,) * axes if isinstance(value, int) else tuple(value)


_SHAPE = re.compile(r"^\s*\d+(\s*[xX,*]\s*\d+)*\s*$")


def parse_shape(
    text: str, *, what: str = "shape", expected: str = "", example: str = ""
) -> tuple[int, ...]:
    """Return ``"3x32x32"`` (also ``3,32,32``) as positive integers ``(3, 32, 32)``.

    ``expected`` (e.g. ``"CxHxW"``) fixes how many sizes there must be and names them in the
    error; empty, any number is taken (``784``, ``50x64``, ``3x32x32``). ``what`` names the value
    in errors (``"--input"``), ``example`` the valid shapes shown there (default ``expected``).

    >>> parse_shape("3x32x32"), parse_shape("784")
    ((3, 32, 32), (784,))
    """
    example = example or expected or "3x32x32"
    if not _SHAPE.match(text):
        raise NeuralabError(
            f"{what} {text!r} is not a shape like {example} (positive integers joined by 'x')"
        )
    values = tuple(int(v) for v in re.split(r"\s*[xX,*]\s*", text.strip()))
    if any(v <= 0 for v in values):
        raise NeuralabError(f"{what} {text!r} has a zero size; every size must be >= 1")
    wanted = len(expected.split("x")) if expected else len(values)
    if len(values) != wanted:
        raise NeuralabError(
            f"{what} {text!r} has {len(values)} sizes; expected {wanted} ({expected})"
        )
    return values


_PAIR = re.compile(r"^\s*([-+]?\d+)\s*(?:[xX,]\s*([-+]?\d+)\s*)?$")


def parse_pair(text: str, what: str, *, minimum: int) -> tuple[int, int]:
    """Parse ``"2"`` or ``"2x1"`` into (h, w), each >= ``minimum``.

    >>> parse_pair("2x1", "--stride", minimum=1)
    (2, 1)
    """
    match = _PAIR.match(text)
    if not match:
        raise NeuralabError(
            f"{what} {text!r} is not an integer or HxW pair like 2 or 2x1 (each >= {minimum})"
        )
    first = int(match.group(1))
    pair = (first, int(match.group(2)) if match.group(2) else first)
    if min(pair) < minimum:
        raise NeuralabError(f"{what} {text!r} must be >= {minimum}")
    return pair


def adaptive_window(size_in: int, size_out: int) -> int:
    """Return the largest window of adaptive pooling from ``size_in`` to ``size_out`` positions.

    Window i covers ``[floor(i n / m), ceil((i + 1) n / m))`` as PyTorch's adaptive pools do.

    >>> adaptive_window(5, 3)  # windows [0, 2), [1, 4), [3, 5)
    3
    """
    return max(
        -(-(i + 1) * size_in // size_out) - (i * size_in) // size_out for i in range(size_out)
    )


def _result(pair: tuple[int, int], *args: object) -> Size:
    """Return ``pair`` as a pair if any argument was a pair, else as one int."""
    return pair if any(_is_pair(a) for a in args) else pair[0]


def _axis(axis: int, n: object) -> str:
    """Return " height" / " width" for a pair input (to say which axis is too small), else ""."""
    return (" height", " width")[axis] if _is_pair(n) else ""


def fmt_size(value: Size | Sequence[float]) -> str:
    """Return ``5`` for 5, ``5x3`` for (5, 3) and ``3x32x32`` for a shape: sizes the course's way."""
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
    n2 = as_pair(n, "input size")
    k2 = as_pair(kernel, "kernel size")
    s2 = as_pair(stride, "stride")
    d2 = as_pair(dilation, "dilation")
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
    p2 = as_pair(padding, "padding", minimum=0)
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
    n2 = as_pair(n, "input size")
    k2 = as_pair(kernel, "kernel size")
    s2 = k2 if stride is None else as_pair(stride, "stride")
    p2 = as_pair(padding, "padding", minimum=0)
    d2 = as_pair(dilation, "dilation")
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
    n2 = as_pair(n, "input size")
    k2 = as_pair(kernel, "kernel size")
    s2 = as_pair(stride, "stride")
    p2 = as_pair(padding, "padding", minimum=0)
    op2 = as_pair(output_padding, "output_padding", minimum=0)
    d2 = as_pair(dilation, "dilation")
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
        as_pair(value, what)
    as_pair(groups, "groups")
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
    as_pair(in_features, "in_features")
    as_pair(out_features, "out_features")
    return in_features * out_features + (out_features if bias else 0)


def conv_fan_in(in_channels: int, kernel: Size, groups: int = 1) -> int:
    """Return the fan-in of one convolution output neuron, k_h k_w C_in / g (bias excluded).

    >>> conv_fan_in(3, 5)
    75
    """
    as_pair(in_channels, "in_channels")
    as_pair(groups, "groups")
    if in_channels % groups:
        raise NeuralabError(f"groups={groups} must divide in_channels={in_channels}")
    kh, kw = as_pair(kernel, "kernel size")
    return kh * kw * in_channels // groups


__all__ = [
    "adaptive_window",
    "as_pair",
    "conv_fan_in",
    "conv_output_size",
    "conv_params",
    "conv_transpose_output_size",
    "effective_kernel",
    "fmt_size",
    "linear_params",
    "parse_shape",
    "per_axis",
    "pool_output_size",
]
