"""Collection, the first piece of a summary: forward hooks record every module call of one pass.

One dry forward pass (:func:`neuralab.arch.summary_inputs.run_checked`, gradients on) with a hook
on every module records, per call of a row module (a leaf, or a container that owns parameters),
its input and output shapes, output bytes, fan-in, kernel and multiply-accumulates (formulas of
:mod:`neuralab.arch.layer_costs`, else PyTorch's ``FlopCounterMode``), and, around the same pass,
the tensors autograd saves for backward (:mod:`neuralab.arch.summary_memory`).
:mod:`neuralab.arch.summary` aggregates the calls into rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from neuralab.arch.layer_costs import attention_macs, has_formula, layer_fan_in, layer_macs
from neuralab.arch.shapes import per_axis
from neuralab.arch.summary_inputs import DryInputs, run_checked
from neuralab.arch.summary_memory import MemoryEstimate, counting_saved_tensors, memory_estimate
from neuralab.errors import NeuralabError

if TYPE_CHECKING:
    from torch.utils.flop_counter import FlopCounterMode


@dataclass
class Call:
    """What the hooks saw of one module call."""

    name: str
    module: nn.Module
    output_shape: tuple[int, ...]
    output_bytes: int
    macs: int
    fan_in: int | None
    input_shape: tuple[int, ...] = ()
    kernel_size: tuple[int, ...] | None = None


def first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, tuple | list):
        for item in value:
            found = first_tensor(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return first_tensor(list(value.values()))
    return None


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return _tensors(list(value.values()))
    return []


def is_row_module(module: nn.Module) -> bool:
    # Leaves, and containers that own parameters themselves (their own row counts only those).
    return not any(True for _ in module.children()) or any(
        True for _ in module.parameters(recurse=False)
    )


def _kernel_size(module: nn.Module, x: torch.Tensor | None) -> tuple[int, ...] | None:
    kernel = getattr(module, "kernel_size", None)
    if kernel is None or not isinstance(module, (nn.modules.conv._ConvNd, *_WINDOW_POOLS)):
        return None
    if isinstance(kernel, tuple | list):
        return tuple(int(k) for k in kernel)
    spatial = x.dim() - 2 if x is not None and x.dim() > 2 else 2
    return tuple(per_axis(kernel, spatial))


_WINDOW_POOLS = (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.LPPool2d)


def collect_calls(
    model: nn.Module, call: DryInputs, *, training: bool
) -> tuple[list[Call], dict[str, tuple[int, ...]], set[str], MemoryEstimate | None]:
    """Return the row calls of one forward pass, every module's last output shape, who ran,
    and the memory of a training step (the pass runs with gradients on, to see what autograd
    saves for backward).

    A model that only runs without gradients (it changes a parameter in place in forward)
    is summarised from a pass without them, and its memory is None (unknown).
    """
    try:
        return _collect(model, call, training=training, grad=True)
    except NeuralabError as error:
        if "in-place" not in str(error) and "requires grad" not in str(error):
            raise
    calls, outputs, called, _ = _collect(model, call, training=training, grad=False)
    return calls, outputs, called, None


def _collect(
    model: nn.Module, call: DryInputs, *, training: bool, grad: bool
) -> tuple[list[Call], dict[str, tuple[int, ...]], set[str], MemoryEstimate]:
    calls: list[Call] = []
    outputs: dict[str, tuple[int, ...]] = {}
    called: set[str] = set()
    counters: dict[int, tuple[FlopCounterMode, int]] = {}
    handles = []

    def pre_hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # imported here, by the first layer without a formula: the import costs 0.1-0.2 s,
        # more than a summary of a course-sized network
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        counter.__enter__()
        counters[id(module)] = (counter, len(calls))

    def make_hook(name: str, is_row: bool) -> Any:
        def hook(
            module: nn.Module, inputs: tuple[Any, ...], kwargs: dict[str, Any], output: Any
        ) -> None:
            called.add(name)
            y = first_tensor(output)
            x = first_tensor([inputs, kwargs])
            if y is not None:
                outputs[name] = tuple(y.shape[1:])
            if not is_row:
                return
            macs = layer_macs(module, x, y)
            if isinstance(module, nn.MultiheadAttention):
                macs = attention_macs(module, inputs, kwargs)
            measured = counters.pop(id(module), None)
            if measured is not None:
                counter, first = measured
                counter.__exit__(None, None, None)
                # A container that owns parameters: what its sub-modules did has rows of its own.
                inner = sum(call.macs for call in calls[first:])
                macs = max(counter.get_total_flops() // 2 - inner, 0)
            out_bytes = sum(t.numel() * t.element_size() for t in _tensors(output))
            calls.append(
                Call(
                    name,
                    module,
                    tuple(y.shape[1:]) if y is not None else (),
                    out_bytes,
                    macs or 0,
                    layer_fan_in(module, x, y),
                    tuple(x.shape[1:]) if x is not None else (),
                    _kernel_size(module, x),
                )
            )

        return hook

    for name, module in model.named_modules():
        is_row = is_row_module(module)
        if is_row and not has_formula(module):
            handles.append(module.register_forward_pre_hook(pre_hook, with_kwargs=True))
        handles.append(module.register_forward_hook(make_hook(name, is_row), with_kwargs=True))
    try:
        with counting_saved_tensors(model, call) as saved:
            run_checked(model, call, training=training, grad=grad)
    finally:
        for handle in handles:
            handle.remove()
        for counter, _ in counters.values():
            counter.__exit__(None, None, None)
    return calls, outputs, called, memory_estimate(model, call, saved)


def unused_parameters(model: nn.Module, called: set[str]) -> dict[str, list[nn.Parameter]]:
    """Return parameters of modules that never ran, by the called ancestor that owns them.

    nn.MultiheadAttention uses its ``out_proj`` weights without calling ``out_proj``: those
    parameters belong to the attention row. Modules unused in this pass (googlenet's auxiliary
    classifiers in eval mode) have no called owner and stay out of the rows.
    """
    owners = {
        name
        for name, module in model.named_modules()
        if name in called and not is_leaf(module) and is_row_module(module)
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


def is_leaf(module: nn.Module) -> bool:
    return not any(True for _ in module.children())


__all__ = ["Call", "collect_calls", "first_tensor", "is_leaf", "is_row_module", "unused_parameters"]
