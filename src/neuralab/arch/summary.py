"""Per-layer summary of a network: shapes, parameters, fan-in, receptive field and MACs.

Three separate pieces, as torchinfo does it:

1. *collection* (:mod:`neuralab.arch.summary_collect`): forward hooks record every module call
   of one dry forward pass (zeros of the given shapes, or the caller's tensors; eval or train
   mode) with its input and output shapes and its multiply-accumulates, and the activations
   autograd saves for backward (:mod:`neuralab.arch.summary_memory`);
2. *aggregation*: the calls become :class:`LayerRow` s (one per leaf module call, or one per
   module at ``depth`` with everything below folded in) and totals, in a :class:`Summary`;
3. *presentation*: :mod:`neuralab.report.summary_render` (rich table, Markdown, CSV, JSON, HTML);
   ``neuralab.summary`` is this module's :func:`summary` returned as a summary that renders
   itself in a terminal and in Jupyter.

The MAC and fan-in formulas and the layer labels are in :mod:`neuralab.arch.layer_costs`; the
inputs (several, keyword arguments, dtypes) in :mod:`neuralab.arch.summary_inputs`. A module
called several times (weight sharing) has a row per call: its parameters count in the first,
the others are ``recursive`` (torchinfo's word), and each call has its own receptive field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from neuralab.arch.layer_costs import layer_kind_label
from neuralab.arch.model_source import load_model, model_device_dtype
from neuralab.arch.summary_collect import Call, collect_calls, first_tensor, unused_parameters
from neuralab.arch.summary_inputs import (
    DryInputs,
    InputShape,
    dry_inputs,
    given_inputs,
    input_specs,
    torch_dtype,
)
from neuralab.arch.summary_memory import MemoryEstimate
from neuralab.arch.summary_names import check_mode
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
    input_shape: tuple[int, ...] = ()  # the first input tensor without the batch axis
    kernel_size: tuple[int, ...] | None = None  # conv and pooling windows
    recursive: bool = False  # a repeated call of a module: its parameters count at the first


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
    input_shapes: tuple[tuple[int, ...], ...] = ()  # every input tensor, without the batch axis
    dtype: str = "float32"  # of the parameters (the inputs' floating dtype)
    device: str = "cpu"
    mode: str = "eval"  # the mode the forward pass ran in: eval or train
    memory: MemoryEstimate | None = None  # one training step (neuralab.arch.summary_memory)


def _count(parameters: Any) -> tuple[int, int]:
    unique = {id(p): p for p in parameters}.values()
    return sum(p.numel() for p in unique), sum(p.numel() for p in unique if p.requires_grad)


def _receptive_fields(model: nn.Module, call: DryInputs) -> dict[str, Any]:
    """Return :func:`neuralab.arch.receptive_graph.call_receptive_fields`: per module, the
    field of each call. Receptive fields are defined on images: a first input (N, C, H, W)."""
    from neuralab.arch.receptive_graph import call_receptive_fields

    return dict(call_receptive_fields(model, call.args, call.kwargs))


def _call_field(fields: dict[str, Any], name: str, index: int) -> Any:
    """Return the field of call ``index`` (0-based) of module ``name``; None when unknown."""
    per_call = fields.get(name)
    if not per_call:
        return None
    return per_call[min(index, len(per_call) - 1)]


def _rf_fields(rf: Any) -> tuple[Any, Any, Any]:
    if rf is None:
        return None, None, None
    return tuple(rf.r), tuple(rf.jump), tuple(rf.start)


def _placed(model: nn.Module, dtype: str | None, device: str | None, *, owned: bool) -> nn.Module:
    """Return ``model`` on ``device`` in floating ``dtype`` (a copy when the caller owns it)."""
    if dtype is None and device is None:
        return model
    from neuralab.device import resolve_device

    target_dtype = None
    if dtype is not None:
        target_dtype = torch_dtype(dtype)
        if not target_dtype.is_floating_point:
            raise NeuralabError(
                f"dtype {dtype!r} is not a floating type; parameters take float32, float16, "
                "bfloat16 or float64 (an integer input is --input 50:int64)"
            )
    target_device = resolve_device(device) if device is not None else None
    if not owned:
        import copy

        model = copy.deepcopy(model)  # the caller's model keeps its own device and dtype
    return model.to(device=target_device, dtype=target_dtype)


def summary(
    model_or_source: nn.Module | str,
    input_shape: InputShape | None = None,
    *,
    input_data: Any = None,
    depth: int | None = None,
    batch_size: int = 1,
    dtype: str | None = None,
    device: str | None = None,
    mode: str = "eval",
    **forward_kwargs: Any,
) -> Summary:
    """Return the :class:`Summary` of a model on one forward pass of ``(batch_size, *input_shape)``.

    ``model_or_source`` is an ``nn.Module``, a layer spec, a torchvision name or
    ``package.module:factory``. ``input_shape`` is one sample's shape, ``(3, 32, 32)`` or
    ``"3x32x32"``, or a list of them for a ``forward`` with several inputs (``"50:int64"`` for
    integer inputs); ``input_data`` gives the tensors themselves instead (batch axis included; a
    dict for keyword arguments), and further keyword arguments go to ``forward``. ``dtype``
    (float32, float16, bfloat16, float64) and ``device`` (cpu, cuda, auto) place the model (a
    copy of an ``nn.Module`` passed in); ``mode`` runs it in ``eval`` (default) or ``train`` mode.

    Without ``depth`` there is one row per leaf module call; with ``depth=N`` modules N levels
    deep are single rows with their sub-modules folded in (their parameters and MACs summed), so
    the rows still add up to the totals. A module called several times (weight sharing) has one
    row per call: the first counts its parameters, the others are marked ``recursive`` and count
    none, and each has its own receptive field.

    >>> s = summary("conv(10,5)", (3, 32, 32))
    >>> s.rows[0].output_shape, s.rows[0].params, s.rows[0].fan_in, s.total_macs
    ((10, 28, 28), 760, 75, 588000)
    """
    check_mode(mode)
    if depth is not None and depth < 1:
        raise NeuralabError(f"depth {depth} must be >= 1 (1 = the model's direct children)")
    if batch_size < 1:
        raise NeuralabError(f"batch size {batch_size} must be >= 1")
    if (input_shape is None) == (input_data is None):
        raise NeuralabError(
            "give the input as input_shape (e.g. (3, 32, 32)) or as input_data (tensors), "
            "exactly one of them"
        )
    specs = input_specs(input_shape) if input_shape is not None else ()
    first_shape = specs[0].shape if specs else _first_sample_shape(input_data)
    # one input of a given shape: the memory estimate covers the batch's forward pass too
    batch = batch_size if len(specs) == 1 else 1
    # a model built here by name only has to run: zeros, not a random initialisation
    model = load_model(
        model_or_source, first_shape, check=False, batch_size=batch, initialise=False
    )
    model = _placed(model, dtype, device, owned=not isinstance(model_or_source, nn.Module))
    model_device, model_dtype = model_device_dtype(model)
    if specs:
        call = dry_inputs(
            specs, batch_size, device=model_device, dtype=model_dtype, forward_kwargs=forward_kwargs
        )
    else:
        call = given_inputs(
            input_data, device=model_device, dtype=model_dtype, forward_kwargs=forward_kwargs
        )
    training = mode == "train"
    calls, outputs, called, memory = collect_calls(model, call, training=training)
    unused = unused_parameters(model, called)
    fields = _receptive_fields(model, call)

    seen: dict[str, int] = {}
    counted: set[int] = set()  # parameters already in a row: shared ones count once
    leaf_rows: list[LayerRow] = []
    for c in calls:
        seen[c.name] = seen.get(c.name, 0) + 1
        name = c.name or type(model).__name__
        if seen[c.name] > 1:
            name += f"#{seen[c.name]}"
        own = [*c.module.parameters(recurse=False)]
        if seen[c.name] == 1:
            own += unused.get(c.name, [])
        params, trainable = _count_new(own, counted)
        kind, label = layer_kind_label(c.module, c.output_shape)  # for diagrams
        leaf_rows.append(
            LayerRow(
                name,
                type(c.module).__name__,
                c.output_shape,
                params,
                trainable,
                c.fan_in,
                *_rf_fields(_call_field(fields, c.name, seen[c.name] - 1)),
                c.macs,
                kind,
                label,
                c.name.count(".") + 1 if c.name else 0,
                c.input_shape,
                c.kernel_size,
                seen[c.name] > 1,
            )
        )
    rows = leaf_rows if depth is None else _fold(model, calls, leaf_rows, outputs, fields, depth)
    total, trainable = _count(model.parameters())
    tensors = call.tensors()
    return Summary(
        input_shape=first_shape,
        rows=tuple(rows),
        total_params=total,
        trainable_params=trainable,
        total_macs=sum(c.macs for c in calls),
        param_bytes=sum(
            p.numel() * p.element_size() for p in {id(p): p for p in model.parameters()}.values()
        ),
        activation_bytes=sum(c.output_bytes for c in calls),
        batch_size=int(tensors[0].shape[0]) if tensors and tensors[0].dim() else batch_size,
        leaf_rows=tuple(leaf_rows),
        input_shapes=call.shapes(),
        dtype=str(model_dtype).removeprefix("torch."),
        device=str(model_device),
        mode=mode,
        memory=memory,
    )


def _first_sample_shape(input_data: Any) -> tuple[int, ...]:
    """Return the first tensor of ``input_data`` without its batch axis (for spec models)."""
    found = first_tensor(input_data)
    if found is None or found.dim() < 1:
        raise NeuralabError(
            "input_data holds no tensor with a batch axis: give tensors of shape (N, ...)"
        )
    return tuple(found.shape[1:]) or (1,)


def _count_new(parameters: Any, counted: set[int]) -> tuple[int, int]:
    """Return (parameters, trainable) of those not counted yet, and mark them counted."""
    new = {id(p): p for p in parameters if id(p) not in counted}
    counted.update(new)
    return _count(new.values())


def _fold(
    model: nn.Module,
    calls: list[Call],
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
    counted: set[int] = set()
    for key, members in groups.items():
        if len(members) == 1 and calls[members[0]].name == key:
            row = leaf_rows[members[0]]
            own = [*calls[members[0]].module.parameters(recurse=False)]
            counted.update(id(p) for p in own)
            rows.append(row)
            continue
        module = model.get_submodule(key)
        params, trainable = _count_new(module.parameters(), counted)
        last = leaf_rows[members[-1]]
        rf = _call_field(fields, key, len(fields.get(key, ())) - 1)
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
                leaf_rows[members[0]].input_shape,
            )
        )
    return rows
