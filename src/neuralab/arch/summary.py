"""Per-layer summary of a network: shapes, parameters, fan-in, receptive field and MACs.

Three separate pieces, as torchinfo does it:

1. *collection*: forward hooks record every module call of one dry forward pass (zeros, eval
   mode, ``torch.no_grad``) with its input and output shapes and its multiply-accumulates;
2. *aggregation*: the calls become :class:`LayerRow` s (one per leaf module call, or one per
   module at ``depth`` with everything below folded in) and totals, in a :class:`Summary`;
3. *presentation*: :mod:`neuralab.report.summary_render` (rich table, Markdown, CSV, JSON, HTML).

MACs (multiply-accumulates, one multiplication plus one addition) count the weighted sums only:

* convolution: ``output elements * (C_in / groups) * k_h * k_w``;
* transposed convolution: ``input elements * (C_out / groups) * k_h * k_w`` (every *input*
  position is multiplied into a k_h x k_w window of the output);
* linear: ``output elements * in_features`` (= batch * out_features * in_features);
* batch norm, pooling, activations, dropout, flatten: 0. They are elementwise or comparisons,
  folded into the next layer on inference, and PyTorch's ``FlopCounterMode`` does not count them
  either, so ``total_macs == FLOPs / 2`` of that counter;
* any other leaf module: measured with ``torch.utils.flop_counter.FlopCounterMode`` (FLOPs / 2).

Fan-in is the number of input connections into one output neuron, bias excluded:
``k_h * k_w * C_in / groups`` for a convolution, ``in_features`` for a linear layer, ``k_h * k_w``
for pooling (per channel); ``None`` for elementwise layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from neuralab.arch.model_source import check_input_shape, checked_forward, load_model
from neuralab.errors import NeuralabError

_ZERO_MAC = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd,
    nn.modules.dropout._DropoutNd,
    nn.Flatten,
    nn.Unflatten,
    nn.Identity,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softmax,
    nn.LogSoftmax,
    nn.Softplus,
    nn.Mish,
)
_ACTIVATION = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softmax,
    nn.LogSoftmax,
    nn.Softplus,
    nn.Mish,
)


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
    """Rows and totals of one forward pass; renders itself in a terminal and in Jupyter."""

    input_shape: tuple[int, ...]
    rows: tuple[LayerRow, ...]
    total_params: int  # shared parameters counted once = sum(p.numel() for p in model.parameters())
    trainable_params: int
    total_macs: int  # for one forward pass of batch_size samples
    param_bytes: int  # parameter memory (buffers such as running means excluded)
    activation_bytes: int  # sum of the leaf layers' output tensors of one forward pass
    batch_size: int = 1
    leaf_rows: tuple[LayerRow, ...] = field(default=(), repr=False)  # the leaf calls, any depth

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as the JSON schema: input_shape, layers[...], and the totals."""
        from neuralab.report.summary_render import summary_to_dict

        return summary_to_dict(self)

    def to_json(self) -> str:
        """Return :meth:`to_dict` as indented JSON (shapes and pairs on one line)."""
        from neuralab.report.summary_render import summary_json

        return summary_json(self)

    def to_csv(self, *, hwc: bool = False) -> str:
        """Return the rows as CSV (raw numbers; shapes as CxHxW, or HxWxC with ``hwc``)."""
        from neuralab.report.summary_render import summary_csv

        return summary_csv(self, hwc=hwc)

    def to_markdown(self, *, hwc: bool = False) -> str:
        """Return the rows and totals as a Markdown table."""
        from neuralab.report.summary_render import summary_markdown

        return summary_markdown(self, hwc=hwc)

    def table(self, *, hwc: bool = False) -> Any:
        """Return a rich ``Table`` with a totals footer (shapes H x W x C with ``hwc``)."""
        from neuralab.report.summary_render import summary_table

        return summary_table(self, hwc=hwc)

    def __rich__(self) -> Any:
        return self.table()

    def _repr_html_(self) -> str:
        from neuralab.report.summary_render import summary_html

        return summary_html(self)

    def __str__(self) -> str:
        from neuralab.report.summary_render import summary_text

        return summary_text(self)


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


def _pair(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (value, value)


def adaptive_window(size_in: int, size_out: int) -> int:
    """Return the largest window of adaptive pooling from ``size_in`` to ``size_out`` positions.

    Window i covers ``[floor(i n / m), ceil((i + 1) n / m))`` as PyTorch's adaptive pools do.
    """
    return max(
        math.ceil((i + 1) * size_in / size_out) - (i * size_in) // size_out for i in range(size_out)
    )


def layer_fan_in(module: nn.Module, x: torch.Tensor | None, y: torch.Tensor | None) -> int | None:
    """Return the input connections into one output neuron of ``module`` (bias excluded).

    conv: ``k_h k_w C_in / groups``; transposed conv: at most
    ``ceil(k_h g_h / s_h) ceil(k_w g_w / s_w) C_in / groups`` with ``g = gcd(dilation, stride)``
    (the kernel taps that land on one output position); linear: ``in_features``; pooling:
    ``k_h k_w``; adaptive pooling: the largest window; ``None`` for elementwise layers.
    """
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        taps = math.prod(
            math.ceil(k * math.gcd(d, s) / s)
            for k, s, d in zip(module.kernel_size, module.stride, module.dilation, strict=True)
        )
        return taps * module.in_channels // module.groups
    if isinstance(module, nn.modules.conv._ConvNd):
        return math.prod(module.kernel_size) * module.in_channels // module.groups
    if isinstance(module, nn.Linear):
        return module.in_features
    if isinstance(module, nn.Bilinear):
        return module.in1_features * module.in2_features
    if isinstance(module, nn.modules.pooling._MaxPoolNd | nn.modules.pooling._AvgPoolNd):
        spatial = x.dim() - 2 if x is not None and x.dim() > 2 else 2
        kernel: Any = module.kernel_size
        return int(math.prod(kernel)) if isinstance(kernel, tuple) else int(kernel) ** spatial
    adaptive = (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
    if isinstance(module, adaptive) and x is not None and y is not None:
        spatial = min(x.dim(), y.dim()) - 2
        return math.prod(
            adaptive_window(n, m)
            for n, m in zip(x.shape[-spatial:], y.shape[-spatial:], strict=True)
        )
    return None


def layer_macs(module: nn.Module, x: torch.Tensor | None, y: torch.Tensor | None) -> int | None:
    """Return the multiply-accumulates of one call of ``module``, or ``None`` to measure them."""
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        if x is None:
            return None
        per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
        return x.numel() * per_input
    if isinstance(module, nn.modules.conv._ConvNd):
        if y is None:
            return None
        return y.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return None if y is None else y.numel() * module.in_features
    if isinstance(module, nn.Bilinear):
        return None if y is None else y.numel() * module.in1_features * module.in2_features
    if isinstance(module, _ZERO_MAC):
        return 0
    return None


def layer_kind_label(module: nn.Module, output_shape: Sequence[int]) -> tuple[str, str]:
    """Return the kind and the course's label of ``module``: ``("conv", "conv 5x5, M=20")``."""
    size = "x".join
    if isinstance(module, nn.modules.conv._ConvNd):
        transposed = isinstance(module, nn.modules.conv._ConvTransposeNd)
        text = f"{'convT' if transposed else 'conv'} {size(map(str, module.kernel_size))}"
        if any(s != 1 for s in module.stride):
            text += "/" + size(map(str, sorted(set(module.stride))))
        if module.groups > 1:
            text += f" g={module.groups}"
        return ("convT" if transposed else "conv"), f"{text}, M={module.out_channels}"
    if isinstance(module, nn.Linear):
        return "fc", f"fc K={module.out_features}"
    if isinstance(module, nn.modules.pooling._MaxPoolNd | nn.modules.pooling._AvgPoolNd):
        name = "maxpool" if isinstance(module, nn.modules.pooling._MaxPoolNd) else "avgpool"
        k, s = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
        return "pool", f"{name} {size(map(str, k))}/{size(map(str, sorted(set(s))))}"
    if isinstance(
        module, nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd
    ):
        name = "avg" if isinstance(module, nn.modules.pooling._AdaptiveAvgPoolNd) else "max"
        return "pool", f"global {name}pool" if math.prod(
            output_shape[1:]
        ) == 1 else f"adaptive {name}pool"
    if isinstance(module, nn.modules.batchnorm._NormBase | nn.GroupNorm | nn.LayerNorm):
        return "norm", "bn" if isinstance(module, nn.modules.batchnorm._BatchNorm) else "norm"
    if isinstance(module, _ACTIVATION) or type(module).__module__.endswith("activations"):
        return "activation", type(module).__name__.lower().lstrip("_")
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return "dropout", f"dropout {module.p:g}"
    if isinstance(module, nn.Flatten):
        return "flatten", "flatten"
    if isinstance(module, nn.Identity):
        return "activation", "identity"
    return "other", type(module).__name__


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
) -> tuple[list[_Call], dict[str, tuple[int, ...]]]:
    """Return the leaf calls of one dry forward pass and the last output shape of every module."""
    from torch.utils.flop_counter import FlopCounterMode

    calls: list[_Call] = []
    outputs: dict[str, tuple[int, ...]] = {}
    counters: dict[int, FlopCounterMode] = {}
    handles = []

    def pre_hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        if layer_macs(module, None, None) is None and not isinstance(
            module, nn.modules.conv._ConvNd | nn.Linear | nn.Bilinear
        ):
            counter = FlopCounterMode(display=False)
            counter.__enter__()
            counters[id(module)] = counter

    def make_hook(name: str, is_row: bool) -> Any:
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            y = _first_tensor(output)
            x = _first_tensor(inputs)
            if y is not None:
                outputs[name] = tuple(y.shape[1:])
            if not is_row:
                return
            macs = layer_macs(module, x, y)
            counter = counters.pop(id(module), None)
            if counter is not None:
                counter.__exit__(None, None, None)
                macs = counter.get_total_flops() // 2
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
        if is_row and _is_leaf(module):
            handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(make_hook(name, is_row)))
    try:
        checked_forward(model, input_shape, batch_size=batch_size)
    finally:
        for handle in handles:
            handle.remove()
        for counter in counters.values():
            counter.__exit__(None, None, None)
    return calls, outputs


def _is_leaf(module: nn.Module) -> bool:
    return not any(True for _ in module.children())


def _receptive_fields(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, Any]:
    """Return :func:`neuralab.arch.receptive.module_receptive_fields`: fields by module name.

    Receptive fields are defined on images (C, H, W); other input shapes get none.
    """
    from neuralab.arch.receptive import module_receptive_fields

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
    calls, outputs = _collect(model, shape, batch_size)
    fields = _receptive_fields(model, shape)

    seen: dict[str, int] = {}
    leaf_rows: list[LayerRow] = []
    for call in calls:
        seen[call.name] = seen.get(call.name, 0) + 1
        name = call.name or type(model).__name__
        if seen[call.name] > 1:
            name += f"#{seen[call.name]}"
        own = call.module.parameters(recurse=False)
        params, trainable = _count(own)
        kind, label = layer_kind_label(call.module, call.output_shape)
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
