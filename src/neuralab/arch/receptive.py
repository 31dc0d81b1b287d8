"""Receptive fields: size r, jump and start of every layer, through chains and branching graphs.

Coordinates: input pixel centres sit at 0, 1, 2, ... (0-based, as tensors are indexed). For a
layer's output map, per axis,

- r     the receptive field: how many input pixels one output unit sees,
- jump  the distance in input pixels between two neighbouring output units (product of strides),
- start the centre of the first output unit's receptive field, in input pixel coordinates (it can
  be negative or fractional: padding moves it left, an even kernel puts it between two pixels).

Through a window layer with kernel k, stride s, padding p and dilation d (the recursion):

    r_l     = r_(l-1) + (k_l - 1) d_l jump_(l-1)
    jump_l  = jump_(l-1) s_l
    start_l = start_(l-1) + ((k_l - 1) d_l / 2 - p_l) jump_(l-1)

starting from the input (r_0 = 1, jump_0 = 1, start_0 = 0). Unrolled, the closed form is
r_L = 1 + sum_l (k_l - 1) d_l prod_(i<l) s_i. Four stacked 5x5 convolutions give 5, 9, 13, 17.

:mod:`neuralab.arch.receptive_graph` traces a model with ``torch.fx`` and propagates
(r, jump, start) along every path (``module_receptive_fields``);
:mod:`neuralab.arch.receptive_gradient` measures the same thing empirically, from the support of
one output unit's gradient with respect to the input (``gradient_receptive_field``). Both import
this module, never the reverse. This module is pure arithmetic: it imports no torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from neuralab.arch.shapes import Size, adaptive_window, as_pair, fmt_size
from neuralab.errors import NeuralabError

Pair: TypeAlias = tuple[int, int]
FloatPair: TypeAlias = tuple[float, float]


def as_number(value: float) -> float:
    """Return ``value`` as an int when it is whole (so 4.0 prints and serialises as 4)."""
    return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one layer's output units, per axis (height, width).

    ``r``: input pixels seen by one unit; ``jump``: input pixels between neighbouring units;
    ``start``: centre of the first unit's receptive field (input pixel centres at 0, 1, 2, ...).
    """

    r: Pair
    jump: FloatPair
    start: FloatPair

    def to_dict(self) -> dict[str, list[float]]:
        """Return ``{"r": [rh, rw], "jump": [jh, jw], "start": [sh, sw]}`` (JSON-ready)."""
        return {"r": list(self.r), "jump": list(self.jump), "start": list(self.start)}

    def __str__(self) -> str:
        return f"r={fmt_size(self.r)} jump={fmt_size(self.jump)} start={fmt_size(self.start)}"


INPUT_FIELD = ReceptiveField(r=(1, 1), jump=(1, 1), start=(0, 0))


@dataclass(frozen=True)
class LayerGeometry:
    """The window of one layer: kernel k, stride s, padding p (or ``"same"``), dilation d."""

    kernel: Size = 1
    stride: Size = 1
    padding: Size | str = 0
    dilation: Size = 1


def _geometry(layer: Any) -> LayerGeometry:
    """Accept a LayerGeometry, a (k, s, p, d) tuple (trailing items optional) or a mapping."""
    if isinstance(layer, LayerGeometry):
        return layer
    if isinstance(layer, Mapping):
        unknown = set(layer) - {"kernel", "stride", "padding", "dilation"}
        if unknown:
            raise NeuralabError(
                f"layer {dict(layer)!r} has unknown keys {sorted(unknown)}; "
                "valid: kernel, stride, padding, dilation"
            )
        return LayerGeometry(**layer)
    if isinstance(layer, int) and not isinstance(layer, bool):
        return LayerGeometry(kernel=layer)
    if isinstance(layer, tuple | list) and 1 <= len(layer) <= 4:
        return LayerGeometry(*layer)
    raise NeuralabError(
        f"layer {layer!r} is not a geometry: give (kernel, stride, padding, dilation) or a "
        "LayerGeometry"
    )


def _left_padding(padding: Any, kernel: Pair, dilation: Pair) -> Pair:
    """Return the padding before the first input pixel; ``"same"`` pads d (k - 1) // 2 there."""
    if padding == "same":
        return (
            dilation[0] * (kernel[0] - 1) // 2,
            dilation[1] * (kernel[1] - 1) // 2,
        )
    if padding == "valid":
        return (0, 0)
    return as_pair(padding, "padding", minimum=0)


def apply_window(
    field: ReceptiveField,
    kernel: Size | Sequence[int],
    stride: Size | Sequence[int] = 1,
    padding: Size | Sequence[int] | str = 0,
    dilation: Size | Sequence[int] = 1,
) -> ReceptiveField:
    """Return the receptive field after one window layer (conv or pool), by the recursion.

    r_l = r_(l-1) + (k - 1) d jump_(l-1);  jump_l = jump_(l-1) s;
    start_l = start_(l-1) + ((k - 1) d / 2 - p) jump_(l-1).
    """
    k = as_pair(kernel, "kernel size")
    s = as_pair(stride, "stride")
    d = as_pair(dilation, "dilation")
    p = _left_padding(padding, k, d)
    r = tuple(field.r[a] + (k[a] - 1) * d[a] * field.jump[a] for a in range(2))
    jump = tuple(as_number(field.jump[a] * s[a]) for a in range(2))
    start = tuple(
        as_number(field.start[a] + ((k[a] - 1) * d[a] / 2 - p[a]) * field.jump[a]) for a in range(2)
    )
    return ReceptiveField(
        r=(int(math.ceil(r[0])), int(math.ceil(r[1]))),
        jump=(jump[0], jump[1]),
        start=(start[0], start[1]),
    )


def receptive_field(layers: Sequence[Any]) -> list[ReceptiveField]:
    """Return one ReceptiveField (r, jump, start per axis) per layer of a chain, by the recursion.

    ``layers``: per layer a :class:`LayerGeometry`, a ``(kernel, stride, padding, dilation)``
    tuple (trailing items optional, each an int or an (h, w) pair) or a kernel size alone.

    >>> [row.r[0] for row in receptive_field([5, 5, 5, 5])]
    [5, 9, 13, 17]
    """
    rows = []
    field = INPUT_FIELD
    for layer in layers:
        g = _geometry(layer)
        field = apply_window(field, g.kernel, g.stride, g.padding, g.dilation)
        rows.append(field)
    return rows


def receptive_field_closed_form(layers: Sequence[Any]) -> Pair:
    """Return the last layer's r per axis by the closed form r_L = 1 + sum_l (k_l - 1) d_l prod_(i<l) s_i.

    >>> receptive_field_closed_form([(5, 1)] * 4)
    (17, 17)
    """
    result = []
    geometries = [_geometry(layer) for layer in layers]
    for axis in range(2):
        total, product = 1, 1
        for g in geometries:
            k = as_pair(g.kernel, "kernel size")[axis]
            d = as_pair(g.dilation, "dilation")[axis]
            total += (k - 1) * d * product
            product *= as_pair(g.stride, "stride")[axis]
        result.append(total)
    return result[0], result[1]


def whole_map(field: ReceptiveField, size: Sequence[int]) -> ReceptiveField:
    """Return the field of a unit that sees a whole map of ``size`` units (global pool, flatten, fc).

    Such a unit is a window with k = s = n over the map, so r = r_last + (n_last - 1) jump_last:
    the span of the input that the last spatial map covers.
    """
    n = (int(size[0]), int(size[1]))
    return apply_window(field, n, n, 0, 1)


def join(fields: Sequence[ReceptiveField], widen: Sequence[ReceptiveField] = ()) -> ReceptiveField:
    """Return the field at a join of branches (add, cat): per axis the largest r with its jump/start.

    ``widen``: broadcast inputs (a 1x1 gate multiplying a map) that raise r but do not set the
    grid of the output units.
    """
    if not fields:
        return INPUT_FIELD
    r, jump, start = [], [], []
    for axis in range(2):
        best = max(fields, key=lambda f: f.r[axis])
        r.append(max([best.r[axis], *(f.r[axis] for f in widen)]))
        jump.append(best.jump[axis])
        start.append(best.start[axis])
    return ReceptiveField((r[0], r[1]), (jump[0], jump[1]), (start[0], start[1]))


def check_image_shape(input_shape: Sequence[int]) -> tuple[int, int, int] | None:
    """Return (C, H, W); an MLP input (features,) gives None (no spatial receptive field)."""
    shape = tuple(input_shape)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in shape) or len(
        shape
    ) not in (1, 3):
        raise NeuralabError(
            f"input shape {shape!r} must be (C, H, W) or (features,) with positive integers"
        )
    if len(shape) == 1:
        return None
    return shape[0], shape[1], shape[2]


# ---------------------------------------------------------------------------------------------
# Layers beyond the recursion: transposed convolution, resampling, adaptive pooling


def transpose_window(
    field: ReceptiveField, kernel: Any, stride: Any, padding: Any, dilation: Any
) -> ReceptiveField:
    """Return the field after a transposed convolution (an upper bound over output units).

    Output unit o gathers the input units i with i s - p + j d = o (0 <= j < k): at most
    ceil((d (k - 1) + 1) / s) neighbours, so r grows by (that - 1) jump; the jump divides by s and
    the first unit's centre moves by (p - d (k - 1) / 2) / s input units. That start is the
    centre of the continuous window; the units actually gathered sit on the stride's grid, so a
    unit's true centre can differ from start + o jump by up to a quarter of the input jump.
    """
    k, s = as_pair(kernel, "kernel size"), as_pair(stride, "stride")
    d, p = as_pair(dilation, "dilation"), as_pair(padding, "padding", minimum=0)
    r, jump, start = [], [], []
    for a in range(2):
        count = math.ceil((d[a] * (k[a] - 1) + 1) / s[a])
        r.append(int(math.ceil(field.r[a] + (count - 1) * field.jump[a])))
        jump.append(as_number(field.jump[a] / s[a]))
        start.append(
            as_number(field.start[a] + (p[a] - d[a] * (k[a] - 1) / 2) / s[a] * field.jump[a])
        )
    return ReceptiveField((r[0], r[1]), (jump[0], jump[1]), (start[0], start[1]))


def resample(field: ReceptiveField, size_in: Pair, size_out: Pair, extra: int) -> ReceptiveField:
    """Return the field after resizing a map from size_in to size_out (upsampling, adaptive pool).

    The map keeps its span; the jump scales by size_in / size_out and each output unit sees
    ``extra`` more input units than one (0 for nearest upsampling, 1 for bilinear).
    """
    r, jump, start = [], [], []
    for a in range(2):
        j = field.jump[a] * size_in[a] / size_out[a]
        r.append(int(math.ceil(field.r[a] + extra * field.jump[a])))
        jump.append(as_number(j))
        start.append(as_number(field.start[a] - field.jump[a] / 2 + j / 2))
    return ReceptiveField((r[0], r[1]), (jump[0], jump[1]), (start[0], start[1]))


def adaptive_pool(field: ReceptiveField, size_in: Pair, size_out: Pair) -> ReceptiveField:
    """Return the field after adaptive pooling: window i covers [floor(i n/m), ceil((i+1) n/m))."""
    if size_out == size_in:
        return field
    if size_out == (1, 1):
        return whole_map(field, size_in)
    k, s = [], []
    for a in range(2):
        n, m = size_in[a], size_out[a]
        k.append(adaptive_window(n, m))
        s.append(n / m)
    r = tuple(int(math.ceil(field.r[a] + (k[a] - 1) * field.jump[a])) for a in range(2))
    jump = tuple(as_number(field.jump[a] * s[a]) for a in range(2))
    start = tuple(as_number(field.start[a] + (k[a] - 1) / 2 * field.jump[a]) for a in range(2))
    return ReceptiveField((r[0], r[1]), (jump[0], jump[1]), (start[0], start[1]))


__all__ = [
    "INPUT_FIELD",
    "LayerGeometry",
    "ReceptiveField",
    "apply_window",
    "join",
    "receptive_field",
    "receptive_field_closed_form",
    "whole_map",
]
