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

The model part (:func:`module_receptive_fields`) traces a model with ``torch.fx`` and propagates
(r, jump, start) along every path; :func:`gradient_receptive_field` measures the same thing
empirically, from the support of one output unit's gradient with respect to the input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from neuralab.arch.shapes import Size, fmt_size
from neuralab.errors import NeuralabError

Pair: TypeAlias = tuple[int, int]
FloatPair: TypeAlias = tuple[float, float]


def _num(value: float) -> float:
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


def _pair(value: Any, what: str, minimum: int = 1) -> Pair:
    items = tuple(value) if isinstance(value, tuple | list) else (value, value)
    if len(items) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in items):
        raise NeuralabError(f"{what} {value!r} must be an int or an (h, w) pair of ints")
    if any(v < minimum for v in items):
        raise NeuralabError(f"{what} {value!r} must be >= {minimum}")
    return int(items[0]), int(items[1])


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
    return _pair(padding, "padding", minimum=0)


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
    k = _pair(kernel, "kernel size")
    s = _pair(stride, "stride")
    d = _pair(dilation, "dilation")
    p = _left_padding(padding, k, d)
    r = tuple(field.r[a] + (k[a] - 1) * d[a] * field.jump[a] for a in range(2))
    jump = tuple(_num(field.jump[a] * s[a]) for a in range(2))
    start = tuple(
        _num(field.start[a] + ((k[a] - 1) * d[a] / 2 - p[a]) * field.jump[a]) for a in range(2)
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
            k = _pair(g.kernel, "kernel size")[axis]
            d = _pair(g.dilation, "dilation")[axis]
            total += (k - 1) * d * product
            product *= _pair(g.stride, "stride")[axis]
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


# ---------------------------------------------------------------------------------------------
# The model part: torch is imported inside the functions so the arithmetic above needs none.


def _check_image_shape(input_shape: Sequence[int]) -> tuple[int, int, int] | None:
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


def _spatial(shape: Any, axes: Pair = (2, 3)) -> Pair | None:
    """Return (H, W) of a 4-d shape (H, W on ``axes``), else None (a vector: flattened or dense)."""
    if shape is not None and len(shape) == 4:
        return int(shape[axes[0]]), int(shape[axes[1]])
    return None


def _moved_axes(node: Any, module: Any, axes: Pair) -> Pair:
    """Return where the H and W axes are after ``node`` (a permute or transpose moves them).

    Channels-last blocks (ConvNeXt, Swin) permute (N, C, H, W) to (N, H, W, C) around a
    LayerNorm and Linear layers; following the axes keeps their fields exact.
    """
    import torch

    name = node.target if node.op != "call_module" else type(module).__name__
    args = list(node.args[1:])
    dims: list[int] | None = None
    if name in ("permute", torch.permute) and args:
        dims = list(args[0]) if isinstance(args[0], list | tuple) else args
        dims = list(node.kwargs.get("dims", dims))
    elif name == "Permute":
        dims = list(module.dims)
    elif name in ("transpose", torch.transpose) and len(args) == 2:
        a, b = (int(v) % 4 for v in args)
        dims = [0, 1, 2, 3]
        dims[a], dims[b] = dims[b], dims[a]
    if dims is None or len(dims) != 4 or not all(isinstance(d, int) for d in dims):
        return axes
    dims = [d % 4 for d in dims]
    return dims.index(axes[0]), dims.index(axes[1])


def _transpose_window(
    field: ReceptiveField, kernel: Any, stride: Any, padding: Any, dilation: Any
) -> ReceptiveField:
    """Return the field after a transposed convolution (an upper bound over output units).

    Output unit o gathers the input units i with i s - p + j d = o (0 <= j < k): at most
    ceil((d (k - 1) + 1) / s) neighbours, so r grows by (that - 1) jump; the jump divides by s and
    the first unit's centre moves by (p - d (k - 1) / 2) / s input units. That start is the
    centre of the continuous window; the units actually gathered sit on the stride's grid, so a
    unit's true centre can differ from start + o jump by up to a quarter of the input jump.
    """
    k, s = _pair(kernel, "kernel size"), _pair(stride, "stride")
    d, p = _pair(dilation, "dilation"), _pair(padding, "padding", minimum=0)
    r, jump, start = [], [], []
    for a in range(2):
        count = math.ceil((d[a] * (k[a] - 1) + 1) / s[a])
        r.append(int(math.ceil(field.r[a] + (count - 1) * field.jump[a])))
        jump.append(_num(field.jump[a] / s[a]))
        start.append(_num(field.start[a] + (p[a] - d[a] * (k[a] - 1) / 2) / s[a] * field.jump[a]))
    return ReceptiveField((r[0], r[1]), (jump[0], jump[1]), (start[0], start[1]))


def _resample(field: ReceptiveField, size_in: Pair, size_out: Pair, extra: int) -> ReceptiveField:
    """Return the field after resizing a map from size_in to size_out (upsampling, adaptive pool).

    The map keeps its span; the jump scales by size_in / size_out and each output unit sees
    ``extra`` more input units than one (0 for nearest upsampling, 1 for bilinear).
    """
    r, jump, start = [], [], []
    for a in range(2):
        j = field.jump[a] * size_in[a] / size_out[a]
        r.append(int(math.ceil(field.r[a] + extra * field.jump[a])))
        jump.append(_num(j))
        start.append(_num(field.start[a] - field.jump[a] / 2 + j / 2))
    return ReceptiveField((r[0], r[1]), (jump[0], jump[1]), (start[0], start[1]))


def _adaptive(field: ReceptiveField, size_in: Pair, size_out: Pair) -> ReceptiveField:
    """Return the field after adaptive pooling: window i covers [floor(i n/m), ceil((i+1) n/m))."""
    if size_out == size_in:
        return field
    if size_out == (1, 1):
        return whole_map(field, size_in)
    k, s = [], []
    for a in range(2):
        n, m = size_in[a], size_out[a]
        k.append(max(-(-(i + 1) * n // m) - (i * n) // m for i in range(m)))
        s.append(n / m)
    r = tuple(int(math.ceil(field.r[a] + (k[a] - 1) * field.jump[a])) for a in range(2))
    jump = tuple(_num(field.jump[a] * s[a]) for a in range(2))
    start = tuple(_num(field.start[a] + (k[a] - 1) / 2 * field.jump[a]) for a in range(2))
    return ReceptiveField((r[0], r[1]), (jump[0], jump[1]), (start[0], start[1]))


def _function_window(node: Any, shapes: dict[Any, Any]) -> tuple[Any, ...] | None:
    """Return (k, s, p, d) of a functional conv2d / max_pool2d / avg_pool2d call, else None."""
    import torch.nn.functional as F

    target = node.target
    args, kwargs = list(node.args), dict(node.kwargs)

    def arg(index: int, name: str, default: Any) -> Any:
        if len(args) > index:
            return args[index]
        return kwargs.get(name, default)

    if target in (F.max_pool2d, F.avg_pool2d):
        k = arg(1, "kernel_size", 1)
        s = arg(2, "stride", None) or k
        p = arg(3, "padding", 0)
        d = arg(4, "dilation", 1) if target is F.max_pool2d else 1
        return k, s, p, d
    if target is F.conv2d:
        weight = shapes.get(arg(1, "weight", None))
        if weight is None:
            return None
        return tuple(weight[2:]), arg(3, "stride", 1), arg(4, "padding", 0), arg(5, "dilation", 1)
    return None


def _module_transfer(
    module: Any, field: ReceptiveField, size_in: Pair, size_out: Pair | None
) -> ReceptiveField:
    """Return the field of ``module``'s output given its input's field and spatial sizes."""
    from torch import nn

    if isinstance(module, nn.Conv2d):
        return apply_window(
            field, module.kernel_size, module.stride, module.padding, module.dilation
        )
    if isinstance(module, nn.ConvTranspose2d):
        return _transpose_window(
            field, module.kernel_size, module.stride, module.padding, module.dilation
        )
    if isinstance(module, nn.MaxPool2d):
        return apply_window(
            field, module.kernel_size, module.stride, module.padding, module.dilation
        )
    if isinstance(module, nn.AvgPool2d | nn.LPPool2d):
        padding = getattr(module, "padding", 0)
        stride = module.stride if module.stride is not None else module.kernel_size
        return apply_window(field, module.kernel_size, stride, padding, 1)
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d) and size_out is not None:
        return _adaptive(field, size_in, size_out)
    if isinstance(module, nn.Upsample) and size_out is not None:
        return _resample(field, size_in, size_out, 0 if module.mode == "nearest" else 1)
    if type(module).__name__.endswith("Pad2d") and size_out is not None:
        # (left, right, top, bottom): only the left/top padding moves the first unit
        left, _, top, _ = module.padding
        return ReceptiveField(
            field.r,
            field.jump,
            (
                _num(field.start[0] - top * field.jump[0]),
                _num(field.start[1] - left * field.jump[1]),
            ),
        )
    return _generic_transfer(field, size_in, size_out)


def _is_window(module: Any) -> bool:
    """Return whether ``module`` maps a grid to a grid with a known geometry (not a whole map)."""
    from torch import nn

    windows = (
        nn.Conv2d,
        nn.ConvTranspose2d,
        nn.MaxPool2d,
        nn.AvgPool2d,
        nn.LPPool2d,
        nn.Upsample,
        nn.AdaptiveAvgPool2d,
        nn.AdaptiveMaxPool2d,
    )
    return isinstance(module, windows) or type(module).__name__.endswith("Pad2d")


def _generic_transfer(
    field: ReceptiveField, size_in: Pair, size_out: Pair | None
) -> ReceptiveField:
    """Elementwise ops keep the field; anything that changes the map otherwise sees all of it."""
    if size_out == size_in:
        return field
    return whole_map(field, size_in)


class _FieldTracker:
    """Collects per-module fields: a module called twice keeps its larger field."""

    def __init__(self) -> None:
        self.fields: dict[str, ReceptiveField] = {}

    def record(self, name: str, field: ReceptiveField, *, latest: bool = False) -> None:
        old = self.fields.get(name)
        if latest or old is None or sum(field.r) >= sum(old.r):
            self.fields[name] = field


def _fx_fields(model: Any, x: Any) -> dict[str, ReceptiveField]:
    """Trace ``model`` with torch.fx, run it once for the shapes, propagate fields along every path."""
    import torch
    import torch.fx

    graph_module = torch.fx.symbolic_trace(model)
    shapes: dict[Any, Any] = {}

    class _Recorder(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            out = super().run_node(n)
            shapes[n] = tuple(out.shape) if isinstance(out, torch.Tensor) else None
            return out

    _Recorder(graph_module).run(x)

    tracker = _FieldTracker()
    state: dict[Any, ReceptiveField] = {}
    axes: dict[Any, Pair] = {}  # where H and W sit in each node's 4-d output
    whole: set[Any] = set()  # nodes whose units see a whole map (after flatten, global pooling)
    placeholders = 0
    for node in graph_module.graph.nodes:
        if node.op == "placeholder":
            if placeholders == 0:
                state[node] = INPUT_FIELD
            placeholders += 1
            continue
        if node.op == "output":
            inputs = [n for n in node.all_input_nodes if n in state]
            if inputs:
                tracker.record("", join([state[n] for n in inputs]), latest=True)
            continue
        inputs = [n for n in node.all_input_nodes if n in state]
        if not inputs or shapes.get(node) is None:
            continue
        module = graph_module.get_submodule(node.target) if node.op == "call_module" else None
        sizes = {n: _spatial(shapes.get(n), axes.get(n, (2, 3))) for n in inputs}
        first = next((n for n in inputs if sizes[n] is not None), inputs[0])
        axes[node] = _moved_axes(node, module, axes.get(first, (2, 3)))
        size_out = _spatial(shapes[node], axes[node])
        # the output's grid (jump, start) comes from inputs of its own size; a broadcast input
        # (a squeeze-excitation gate of size 1x1, a vector) only widens r
        grid = [n for n in inputs if sizes[n] is not None and sizes[n] == size_out] or [first]
        field = join([state[n] for n in grid], widen=[state[n] for n in inputs if n not in grid])
        size_in = sizes[grid[0]]
        if size_in is None or all(n in whole for n in grid):
            out = field  # a unit that already sees a whole map keeps seeing it
            whole.add(node)
        elif module is not None:
            out = _module_transfer(module, field, size_in, size_out)
            if size_out != size_in and not _is_window(module):
                whole.add(node)
        elif node.op == "call_function" and (window := _function_window(node, shapes)):
            out = apply_window(field, *window)
        else:
            out = _generic_transfer(field, size_in, size_out)
            if size_out != size_in:
                whole.add(node)
        state[node] = out
        if node.op == "call_module":
            tracker.record(str(node.target), out)
        for fqn, _ in (node.meta.get("nn_module_stack") or {}).values():
            if fqn != node.target:
                # a container's output is its last node in execution order
                tracker.record(str(fqn), out, latest=True)
    return tracker.fields


def _hook_fields(model: Any, x: Any) -> dict[str, ReceptiveField]:
    """Fallback for untraceable models: chain the leaf modules in the order they run."""
    tracker = _FieldTracker()
    current = [INPUT_FIELD]

    def hook(name: str, leaf: bool) -> Any:
        def run(module: Any, inputs: Any, output: Any) -> None:
            if leaf and inputs and hasattr(inputs[0], "shape") and hasattr(output, "shape"):
                size_in = _spatial(tuple(inputs[0].shape))
                if size_in is not None:
                    current[0] = _module_transfer(
                        module, current[0], size_in, _spatial(tuple(output.shape))
                    )
            tracker.record(name, current[0], latest=not leaf)

        return run

    handles = [
        module.register_forward_hook(hook(name, not any(True for _ in module.children())))
        for name, module in model.named_modules()
    ]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return tracker.fields


def _dry_input(model: Any, shape: tuple[int, ...]) -> Any:
    import torch

    parameter = next(model.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    device = parameter.device if parameter is not None else "cpu"
    # a batch of one is enough: the model runs in eval mode, where BatchNorm1d accepts it
    return torch.zeros(1, *shape, dtype=dtype, device=device)


def module_receptive_fields(model: Any, input_shape: Sequence[int]) -> dict[str, ReceptiveField]:
    """Return the receptive field of every module's output, keyed by qualified module name.

    Keys are the names of ``model.named_modules()`` ("" is the whole model). Fields follow every
    path of the graph (traced with ``torch.fx``; models it cannot trace fall back to their leaf
    modules chained in execution order): windows (conv, pool, transposed conv) apply the
    recursion, elementwise modules (activations, bn, dropout) keep their input's field, a join
    (add, cat) takes per axis the largest r with its jump and start, and a module that sees a
    whole map (global or adaptive pooling to 1x1, flatten, linear and everything after) gets
    r = r_last + (n_last - 1) jump_last, the input span that the last spatial map covers.
    A module called more than once reports its largest field. An input of shape (features,)
    has no spatial field: the result is empty.
    """
    import torch

    shape = _check_image_shape(input_shape)
    if shape is None:
        return {}
    x = _dry_input(model, shape)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            try:
                return _fx_fields(model, x)
            except NeuralabError:
                raise
            except Exception:
                # fx cannot trace data-dependent control flow; hooks see what actually runs
                return _hook_fields(model, x)
    except NeuralabError:
        raise
    except Exception as error:
        raise NeuralabError(
            f"the model does not run on input {fmt_size(shape)}: {str(error).splitlines()[0]}"
        ) from None
    finally:
        for module, training in modes.items():
            module.training = training


def _window_average(kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool) -> Any:
    """Return a module averaging over a max-pool's windows (same geometry, every input counts)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from neuralab.arch.shapes import pool_output_size

    k, d = _pair(kernel, "kernel size"), _pair(dilation, "dilation")
    s = _pair(stride if stride is not None else kernel, "stride")
    p = _pair(padding, "padding", minimum=0)

    class WindowAverage(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n = (int(x.shape[-2]), int(x.shape[-1]))
            out = pool_output_size(n, k, s, p, d, ceil_mode)
            assert isinstance(out, tuple)
            # pad the right/bottom enough for ceil_mode's last window, then crop to PyTorch's size
            extra = [
                max((out[a] - 1) * s[a] + d[a] * (k[a] - 1) + 1 - n[a] - p[a], 0) for a in range(2)
            ]
            x = F.pad(x, (p[1], extra[1], p[0], extra[0]))
            channels = x.shape[1]
            weight = x.new_full((channels, 1, k[0], k[1]), 1.0 / (k[0] * k[1]))
            y = F.conv2d(x, weight, stride=s, dilation=d, groups=channels)
            return y[..., : out[0], : out[1]]

    return WindowAverage()


def _positive_copy(model: Any) -> Any:
    """Return a float64 eval-mode copy with positive weights and max-pools turned into averages."""
    import copy

    import torch
    from torch import nn

    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                fan_in = module.weight[0].numel()
                module.weight.fill_(1.0 / fan_in)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                if module.affine:
                    module.weight.fill_(1.0)
                    module.bias.zero_()
                if module.running_mean is not None and module.running_var is not None:
                    module.running_mean.zero_()
                    module.running_var.fill_(1.0)
    for name, module in list(net.named_modules()):
        replacement = None
        if isinstance(module, nn.MaxPool2d):
            replacement = _window_average(
                module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode
            )
        elif isinstance(module, nn.AdaptiveMaxPool2d):
            replacement = nn.AdaptiveAvgPool2d(module.output_size)
        if replacement is not None:
            parent_name, _, child = name.rpartition(".")
            setattr(net.get_submodule(parent_name), child, replacement)
    return net


def gradient_receptive_field(
    model: Any, input_shape: Sequence[int], output_module: str | None = None
) -> Pair:
    """Return (rh, rw): the height and width of the input region one output unit depends on.

    The empirical check of :func:`module_receptive_fields`: on a float64 copy with every
    conv/linear weight set to 1/fan_in (bias 0), batch norm neutral and max-pools replaced by
    average pools of the same geometry (a max passes gradient to one input only), the centre
    unit of ``output_module``'s output (default: the last module with a spatial output) is
    backpropagated to an all-ones input; the nonzero gradient's bounding box is the receptive
    field. Away from the borders it equals the analytic r. Functional max-pools inside
    ``forward`` cannot be replaced and make the measured field smaller.
    """
    import torch

    shape = _check_image_shape(input_shape)
    if shape is None:
        raise NeuralabError("a receptive field needs an image input (C, H, W), not (features,)")
    net = _positive_copy(model)
    names = dict(net.named_modules())
    if output_module is not None and output_module not in names:
        from neuralab.errors import unknown_name_error

        raise unknown_name_error("module", output_module, [n for n in names if n])
    outputs: dict[str, Any] = {}
    order: list[str] = []

    class _Reached(Exception):
        """Raised once the chosen module has run: the layers after it are not needed."""

    def hook(name: str) -> Any:
        def run(module: Any, inputs: Any, output: Any) -> None:
            if isinstance(output, torch.Tensor):
                outputs[name] = output
                order.append(name)
                if name == output_module:
                    raise _Reached

        return run

    handles = [m.register_forward_hook(hook(n)) for n, m in names.items() if n]
    parameter = next(net.parameters(), None)
    device = parameter.device if parameter is not None else "cpu"
    x = torch.ones(1, *shape, dtype=torch.float64, device=device, requires_grad=True)
    final = None
    try:
        final = net(x)
    except _Reached:
        pass
    finally:
        for handle in handles:
            handle.remove()
    target: Any = final
    if output_module is None:
        spatial = [n for n in order if outputs[n].dim() == 4]
        if spatial:
            target = outputs[spatial[-1]]
    else:
        target = outputs.get(output_module)
    if not isinstance(target, torch.Tensor):
        if output_module is not None:
            raise NeuralabError(f"module {output_module!r} did not produce a tensor in forward")
        raise NeuralabError("the model's forward did not return a tensor")
    if target.dim() == 4:
        unit = target[0, :, target.shape[2] // 2, target.shape[3] // 2].sum()
    else:
        unit = target.reshape(target.shape[0], -1)[0, 0]
    (grad,) = torch.autograd.grad(unit, x)
    support = grad[0].abs().sum(dim=0) > 0  # (H, W)
    rows = torch.nonzero(support.any(dim=1)).flatten()
    cols = torch.nonzero(support.any(dim=0)).flatten()
    if len(rows) == 0:
        return 0, 0
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


__all__ = [
    "INPUT_FIELD",
    "LayerGeometry",
    "ReceptiveField",
    "apply_window",
    "gradient_receptive_field",
    "join",
    "module_receptive_fields",
    "receptive_field",
    "receptive_field_closed_form",
    "whole_map",
]
