"""Receptive fields of every module of a model: traced with torch.fx, or hooks as a fallback.

The recursion of :mod:`neuralab.arch.receptive` runs along every path of the traced graph:
windows (conv, pool, transposed conv) apply it, elementwise modules keep their input's field, a
join (add, cat) takes per axis the largest r with its jump and start, and a unit that sees a
whole map gets r = r_last + (n_last - 1) jump_last. torch is imported inside the functions; the traced graph's shapes come from
:mod:`neuralab.arch.graph_shapes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.arch.graph_shapes import node_shapes, placeholder_values
from neuralab.arch.receptive import (
    INPUT_FIELD,
    Pair,
    ReceptiveField,
    adaptive_pool,
    apply_window,
    as_number,
    check_image_shape,
    join,
    resample,
    transpose_window,
    whole_map,
)
from neuralab.arch.shapes import fmt_size
from neuralab.errors import NeuralabError


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
        return transpose_window(
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
        return adaptive_pool(field, size_in, size_out)
    if isinstance(module, nn.Upsample) and size_out is not None:
        return resample(field, size_in, size_out, 0 if module.mode == "nearest" else 1)
    if type(module).__name__.endswith("Pad2d") and size_out is not None:
        # (left, right, top, bottom): only the left/top padding moves the first unit
        left, _, top, _ = module.padding
        return ReceptiveField(
            field.r,
            field.jump,
            (
                as_number(field.start[0] - top * field.jump[0]),
                as_number(field.start[1] - left * field.jump[1]),
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
    """Collects the field of every call of every module, in call order.

    ``calls[name][k]`` is the field of the (k+1)-th call of module ``name``; a container's field
    in one call is that of its last node in the call (``latest``), a leaf keeps its largest.
    """

    def __init__(self) -> None:
        self.calls: dict[str, dict[int, ReceptiveField]] = {}

    def record(
        self, name: str, field: ReceptiveField, *, call: int = 0, latest: bool = False
    ) -> None:
        per_call = self.calls.setdefault(name, {})
        old = per_call.get(call)
        if latest or old is None or sum(field.r) >= sum(old.r):
            per_call[call] = field

    def per_call(self) -> dict[str, list[ReceptiveField]]:
        """Return each module's fields in call order."""
        return {name: [calls[k] for k in sorted(calls)] for name, calls in self.calls.items()}

    def largest(self) -> dict[str, ReceptiveField]:
        """Return each module's largest field over its calls (the last of equal ones)."""
        result = {}
        for name, fields in self.per_call().items():
            best = fields[0]
            for field in fields[1:]:
                if sum(field.r) >= sum(best.r):
                    best = field
            result[name] = best
        return result


def _stack_call(key: str) -> int:
    """Return the call index in an ``nn_module_stack`` key: ``"conv"`` 0, ``"conv@1"`` 1."""
    _, _, index = key.rpartition("@")
    return int(index) if "@" in key and index.isdigit() else 0


def _fx_fields(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _FieldTracker:
    """Trace ``model`` with torch.fx, run it once for the shapes, propagate fields along every path."""
    import torch
    import torch.fx

    values, concrete = placeholder_values(model, args, kwargs)
    graph_module = torch.fx.symbolic_trace(model, concrete_args=concrete or None)
    shapes = node_shapes(graph_module, tuple(values))

    tracker = _FieldTracker()
    state: dict[Any, ReceptiveField] = {}
    axes: dict[Any, Pair] = {}  # where H and W sit in each node's 4-d output
    whole: set[Any] = set()  # nodes whose units see a whole map (after flatten, global pooling)
    placeholders = 0
    calls: dict[Any, int] = {}  # call_module nodes seen per module (no nn_module_stack)
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
        for key, (fqn, _) in (node.meta.get("nn_module_stack") or {}).items():
            # a leaf module's call is its node; a container's output is its last node in the call
            leaf = node.op == "call_module" and fqn == node.target
            tracker.record(str(fqn), out, call=_stack_call(key), latest=not leaf)
        if node.op == "call_module" and not node.meta.get("nn_module_stack"):
            tracker.record(str(node.target), out, call=calls.get(node.target, 0))
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    return tracker


def _hook_fields(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _FieldTracker:
    """Fallback for untraceable models: chain the leaf modules in the order they run."""
    tracker = _FieldTracker()
    current = [INPUT_FIELD]
    calls: dict[str, int] = {}

    def hook(name: str, leaf: bool) -> Any:
        def run(module: Any, inputs: Any, output: Any) -> None:
            if leaf and inputs and hasattr(inputs[0], "shape") and hasattr(output, "shape"):
                size_in = _spatial(tuple(inputs[0].shape))
                if size_in is not None:
                    current[0] = _module_transfer(
                        module, current[0], size_in, _spatial(tuple(output.shape))
                    )
            tracker.record(name, current[0], call=calls.get(name, 0), latest=not leaf)
            calls[name] = calls.get(name, 0) + 1

        return run

    handles = [
        module.register_forward_hook(hook(name, not any(True for _ in module.children())))
        for name, module in model.named_modules()
    ]
    try:
        model(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return tracker


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
    A module called more than once reports its largest field (:func:`call_receptive_fields`
    gives each call's). An input of shape (features,) has no spatial field: the result is empty.
    """
    shape = check_image_shape(input_shape)
    if shape is None:
        return {}
    x = _dry_input(model, shape)
    tracker = _traced(model, (x,), {}, shape)
    return tracker.largest() if tracker is not None else {}


def call_receptive_fields(
    model: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None
) -> dict[str, list[ReceptiveField]]:
    """Return the receptive field of every call of every module, in call order, by module name.

    ``args`` and ``kwargs`` are one forward call's arguments (batch axis included); the field is
    measured on the first argument, which must be an image batch (N, C, H, W), else the result
    is empty. A module called twice (weight sharing) has two fields: a 3x3 conv applied twice
    sees 3 pixels on its first call and 5 on its second.
    """
    import torch

    first = args[0] if args else None
    if not isinstance(first, torch.Tensor) or first.dim() != 4:
        return {}
    shape = (int(first.shape[1]), int(first.shape[2]), int(first.shape[3]))
    batch = first.shape[0]

    def one(value: Any) -> Any:
        # one sample is enough (eval mode); tensors without the batch axis stay whole
        if isinstance(value, torch.Tensor) and value.dim() and value.shape[0] == batch:
            return value[:1]
        return value

    tracker = _traced(
        model, tuple(one(a) for a in args), {k: one(v) for k, v in (kwargs or {}).items()}, shape
    )
    return tracker.per_call() if tracker is not None else {}


def _traced(
    model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], shape: tuple[int, ...]
) -> _FieldTracker | None:
    """Return the fields of one eval-mode call, by fx or (untraceable) by hooks."""
    import torch

    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            try:
                return _fx_fields(model, args, kwargs)
            except NeuralabError:
                raise
            except Exception:
                # fx cannot trace data-dependent control flow; hooks see what actually runs
                return _hook_fields(model, args, kwargs)
    except NeuralabError:
        raise
    except Exception as error:
        raise NeuralabError(
            f"the model does not run on input {fmt_size(shape)}: {str(error).splitlines()[0]}"
        ) from None
    finally:
        for module, training in modes.items():
            module.training = training


__all__ = ["call_receptive_fields", "module_receptive_fields"]
