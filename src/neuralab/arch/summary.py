"""Per-layer summary of a network: shapes, parameters, fan-in, receptive field and MACs.

Three separate pieces, as torchinfo does it:

1. *collection*: forward hooks record every module call of one dry forward pass (zeros, eval
   mode, ``torch.no_grad``) with its input and output shapes and its multiply-accumulates;
2. *aggregation*: the calls become :class:`LayerRow` s (one per leaf module call, or one per
   module at ``depth`` with everything below folded in) and totals, in a :class:`Summary`;
3. *presentation*: :mod:`neuralab.report.summary_render` (rich table, Markdown, CSV, JSON, HTML);
   ``neuralab.summary`` is this module's :func:`summary` returned as a summary that renders
   itself in a terminal and in Jupyter.

The MAC and fan-in formulas and the layer labels are in :mod:`neuralab.arch.layer_costs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from neuralab.arch.layer_costs import (
    attention_macs,
    has_formula,
    layer_fan_in,
    layer_kind_label,
    layer_macs,
)
from neuralab.arch.model_source import check_input_shape, checked_forward, load_model
from neuralab.errors import NeuralabError


@dataclass(frozen=True)
class LayerRow:
    """One row of a summary: one module call (or a module at ``depth`` with its sub-modules)."""

    name: str  # qualified module name, e.g. "layer1.0.conv1"; "#2" marks a module's second call
    type: str  # class name, e.g. "Conv2d"
    output_shape: tuple[int, ...]  # without the batch axis: (C, H, W) or (K,)
    params: int  # parameters of this module (and its sub-modules for a folded container)
    trainable_params: int  # of which requires_grad
    fan_in: int | None  # input connections into one output neuron, bias excluded
    receptive_field: tuple[int, int] | None  # (r_h, r_w) in input pixels
    jump: tuple[float, float] | None  # (j_h, j_w): input pixels between neighbouring output units
    start: tuple[float, float] | None  # centre of the first output unit in input coordinates
    macs: int  # multiply-accumulates of this call for the whole batch
    kind: str = "other"  # conv | convT | fc | pool | norm | activation | dropout | flatten | block
    label: str = ""  # the course's name for it, e.g. "conv 5x5, M=20" (diagrams)
    depth: int = 0  # number of dots in the name + 1


@dataclass(frozen=True)
class Summary:
    """Rows and totals of one forward pass (:mod:`neuralab.report.summary_render` renders them)."""

    input_shape: tuple[int, ...]
    rows: tuple[LayerRow, ...]
    total_params: int  # shared parameters counted once = sum(p.numel() for p in model.parameters())
    trainable_params: int
    total_macs: int  # for one forward pass of batch_size samples
    param_bytes: int  # parameter memory (buffers such as running means excluded)
    activation_bytes: int  # sum of the leaf layers' output tensors of one forward pass
    batch_size: int = 1
    leaf_rows: tuple[LayerRow, ...] = field(default=(), repr=False)  # the leaf calls, any depth


@dataclass
class _Call:
    """What the hooks saw of one module call."""

    name: str
    module: nn.Module
    output_shape: tuple[int, ...]
    output_bytes: int
    macs: int
    fan_in: int | None


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, tuple | list):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _first_tensor(list(value.values()))
    return None


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return _tensors(list(value.values()))
    return []


def _is_row_module(module: nn.Module) -> bool:
    # Leaves, and containers that own parameters themselves (their own row counts only those).
    return not any(True for _ in module.children()) or any(
        True for _ in module.parameters(recurse=False)
    )


def _count(parameters: Any) -> tuple[int, int]:
    unique = {id(p): p for p in parameters}.values()
    return sum(p.numel() for p in unique), sum(p.numel() for p in unique if p.requires_grad)


def _collect(
    model: nn.Module, input_shape: tuple[int, ...], batch_size: int
) -> tuple[list[_Call], dict[str, tuple[int, ...]], set[str]]:
    """Return the row calls of one forward pass, every module's last output shape, who ran."""
    from torch.utils.flop_counter import FlopCounterMode

    calls: list[_Call] = []
    outputs: dict[str, tuple[int, ...]] = {}
    called: set[str] = set()
    counters: dict[int, tuple[FlopCounterMode, int]] = {}
    handles = []

    def pre_hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        counter = FlopCounterMode(display=False)
        counter.__enter__()
        counters[id(module)] = (counter, len(calls))

    def make_hook(name: str, is_row: bool) -> Any:
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            called.add(name)
            y = _first_tensor(output)
            x = _first_tensor(inputs)
            if y is not None:
                outputs[name] = tuple(y.shape[1:])
            if not is_row:
                return
            macs = layer_macs(module, x, y)
            if isinstance(module, nn.MultiheadAttention):
                macs = attention_macs(module, inputs)
            measured = counters.pop(id(module), None)
            if measured is not None:
                counter, first = measured
                counter.__exit__(None, None, None)
                # A container that owns parameters: what its sub-modules did has rows of its own.
                inner = sum(call.macs for call in calls[first:])
                macs = max(counter.get_total_flops() // 2 - inner, 0)
            out_bytes = sum(t.numel() * t.element_size() for t in _tensors(output))
            calls.append(
                _Call(
                    name,
                    module,
                    tuple(y.shape[1:]) if y is not None else (),
                    out_bytes,
                    macs or 0,
                    layer_fan_in(module, x, y),
                )
            )

        return hook

    for name, module in model.named_modules():
        is_row = _is_row_module(module)
        if is_row and not has_formula(module):
            handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(make_hook(name, is_row)))
    try:
        checked_forward(model, input_shape, batch_size=batch_size)
    finally:
        for handle in handles:
            handle.remove()
        for counter, _ in counters.values():
            counter.__exit__(None, None, None)
    return calls, outputs, called


def _unused_parameters(model: nn.Module, called: set[str]) -> dict[str, list[nn.Parameter]]:
    """Return parameters of modules that never ran, by the called ancestor that owns them.

    nn.MultiheadAttention uses its ``out_proj`` weights without calling ``out_proj``: those
    parameters belong to the attention row. Modules unused in this pass (googlenet's auxiliary
    classifiers in eval mode) have no called owner and stay out of the rows.
    """
    owners = {
        name
        for name, module in model.named_modules()
        if name in called and not _is_leaf(module) and _is_row_module(module)
    }
    found: dict[str, list[nn.Parameter]] = {}
    for name, module in model.named_modules():
        if name in called or not name:
            continue
        parts = name.split(".")
        for cut in range(len(parts) - 1, -1, -1):
            ancestor = ".".join(parts[:cut])
            if ancestor in owners:
                found.setdefault(ancestor, []).extend(module.parameters(recurse=False))
                break
    return found


def _is_leaf(module: nn.Module) -> bool:
    return not any(True for _ in module.children())


def _receptive_fields(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, Any]:
    """Return :func:`neuralab.arch.receptive_graph.module_receptive_fields`: fields by module name.

    Receptive fields are defined on images (C, H, W); other input shapes get none.
    """
    from neuralab.arch.receptive_graph import module_receptive_fields

    if len(input_shape) != 3:
        return {}
    return dict(module_receptive_fields(model, input_shape))


def _rf_fields(rf: Any) -> tuple[Any, Any, Any]:
    if rf is None:
        return None, None, None
    return tuple(rf.r), tuple(rf.jump), tuple(rf.start)


def summary(
    model_or_source: nn.Module | str,
    input_shape: Sequence[int] | int,
    *,
    depth: int | None = None,
    batch_size: int = 1,
) -> Summary:
    """Return the :class:`Summary` of a model on one forward pass of ``(batch_size, *input_shape)``.

    ``model_or_source`` is an ``nn.Module``, a layer spec, a torchvision name or
    ``package.module:factory``. Without ``depth`` there is one row per leaf module call; with
    ``depth=N`` modules N levels deep are single rows with their sub-modules folded in (their
    parameters and MACs summed), so the rows still add up to the totals.

    >>> s = summary("conv(10,5)", (3, 32, 32))
    >>> s.rows[0].output_shape, s.rows[0].params, s.rows[0].fan_in, s.total_macs
    ((10, 28, 28), 760, 75, 588000)
    """
    shape = check_input_shape(input_shape)
    if depth is not None and depth < 1:
        raise NeuralabError(f"depth {depth} must be >= 1 (1 = the model's direct children)")
    if batch_size < 1:
        raise NeuralabError(f"batch size {batch_size} must be >= 1")
    model = load_model(model_or_source, shape, check=False)
    calls, outputs, called = _collect(model, shape, batch_size)
    unused = _unused_parameters(model, called)
    fields = _receptive_fields(model, shape)

    seen: dict[str, int] = {}
    leaf_rows: list[LayerRow] = []
    for call in calls:
        seen[call.name] = seen.get(call.name, 0) + 1
        name = call.name or type(model).__name__
        if seen[call.name] > 1:
            name += f"#{seen[call.name]}"
        own = [*call.module.parameters(recurse=False)]
        if seen[call.name] == 1:
            own += unused.get(call.name, [])
        params, trainable = _count(own)
        kind, label = layer_kind_label(call.module, call.output_shape)  # for diagrams
        leaf_rows.append(
            LayerRow(
                name,
                type(call.module).__name__,
                call.output_shape,
                params,
                trainable,
                call.fan_in,
                *_rf_fields(fields.get(call.name)),
                call.macs,
                kind,
                label,
                call.name.count(".") + 1 if call.name else 0,
            )
        )
    rows = leaf_rows if depth is None else _fold(model, calls, leaf_rows, outputs, fields, depth)
    total, trainable = _count(model.parameters())
    return Summary(
        input_shape=shape,
        rows=tuple(rows),
        total_params=total,
        trainable_params=trainable,
        total_macs=sum(call.macs for call in calls),
        param_bytes=sum(
            p.numel() * p.element_size() for p in {id(p): p for p in model.parameters()}.values()
        ),
        activation_bytes=sum(call.output_bytes for call in calls),
        batch_size=batch_size,
        leaf_rows=tuple(leaf_rows),
    )


def _fold(
    model: nn.Module,
    calls: list[_Call],
    leaf_rows: list[LayerRow],
    outputs: dict[str, tuple[int, ...]],
    fields: dict[str, Any],
    depth: int,
) -> list[LayerRow]:
    """Return rows with every module ``depth`` levels deep standing for its whole sub-tree."""
    groups: dict[str, list[int]] = {}
    for index, call in enumerate(calls):
        key = ".".join(call.name.split(".")[:depth]) if call.name else ""
        groups.setdefault(key, []).append(index)
    rows: list[LayerRow] = []
    for key, members in groups.items():
        if len(members) == 1 and calls[members[0]].name == key:
            rows.append(leaf_rows[members[0]])
            continue
        module = model.get_submodule(key)
        params, trainable = _count(module.parameters())
        last = leaf_rows[members[-1]]
        rf = fields.get(key)
        r, jump, start = (
            _rf_fields(rf) if rf is not None else (last.receptive_field, last.jump, last.start)
        )
        rows.append(
            LayerRow(
                key,
                type(module).__name__,
                outputs.get(key, last.output_shape),
                params,
                trainable,
                None,
                r,
                jump,
                start,
                sum(calls[i].macs for i in members),
                "block",
                f"{key}: {type(module).__name__}",
                key.count(".") + 1,
            )
        )
    return rows
