"""A model's memory, estimated on PyTorch's meta device before anything is allocated.

``summary "conv(1000000000,3)"`` would ask for 108 GB of weights, ``summary resnet18 --input
3x100000x100000`` for terabytes of activations: :func:`build_within_limit` first builds the model
on the ``meta`` device (shapes and dtypes, no storage) and runs one forward pass there, then adds
the bytes of the parameters and buffers, the input and every layer's output, and refuses the
build in one line (:func:`neuralab.limits.check_memory`) when that is above the memory limit.

The estimate is the memory of one dry forward pass without gradients, as ``summary`` and
``diagram`` run it: parameters + buffers + input + the outputs of every module call (an upper
bound, since a pass frees most of them on the way).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.limits import check_memory


def meta_memory(
    build: Callable[[], nn.Module],
    input_shape: Sequence[int],
    *,
    batch_size: int = 1,
    output_shapes: Callable[[], Sequence[Sequence[int]]] | None = None,
) -> int | None:
    """Return the bytes of ``build()``'s model and one forward pass on ``(batch_size, *input_shape)``.

    Built and run on the meta device, so nothing is allocated. Returns None when the model
    cannot be built there (the estimate is then skipped); a :class:`NeuralabError` of the
    build itself (a bad spec) is raised as it is. ``output_shapes``, when the caller knows them
    (a spec's arithmetic: :func:`neuralab.arch.spec.call_output_shapes`), gives the output shape
    of every module call (no batch axis) instead of the meta forward pass, whose first run in a
    process imports about 1 s of torch's meta kernels (``torch._dynamo``, sympy).
    """
    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")
            model = build()
    except NeuralabError:
        raise
    except Exception:  # noqa: BLE001 (an unusual model: no estimate, the real build decides)
        return None
    tensors = {id(t): t for t in (*model.parameters(), *model.buffers())}.values()
    weights = sum(t.numel() * t.element_size() for t in tensors)
    dtype = next((t.dtype for t in tensors if t.is_floating_point()), torch.float32)
    element = torch.empty((), dtype=dtype).element_size()
    inputs = batch_size * math.prod(input_shape) * element
    if output_shapes is not None:
        outputs = batch_size * element * sum(math.prod(shape) for shape in output_shapes())
        return weights + inputs + outputs
    return weights + inputs + _meta_outputs(model, input_shape, batch_size, dtype)


def _meta_outputs(
    model: nn.Module, input_shape: Sequence[int], batch_size: int, dtype: torch.dtype
) -> int:
    """Return the bytes of every module call's output tensors in one meta forward pass."""
    total = 0

    def hook(module: nn.Module, inputs: Any, output: Any) -> None:
        nonlocal total
        total += sum(t.numel() * t.element_size() for t in _tensors(output))

    handles = [module.register_forward_hook(hook) for module in model.modules()]
    # a shape mismatch is left to the real, checked forward, which names it
    try:
        with warnings.catch_warnings(), torch.no_grad(), contextlib.suppress(Exception):
            warnings.simplefilter("ignore")
            model.eval()
            model(torch.empty((batch_size, *input_shape), device="meta", dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
    return total


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


def build_within_limit(
    build: Callable[[], nn.Module],
    input_shape: Sequence[int],
    what: str,
    *,
    batch_size: int = 1,
    output_shapes: Callable[[], Sequence[Sequence[int]]] | None = None,
) -> nn.Module:
    """Return ``build()``, after refusing in one line a model whose estimated memory
    (:func:`meta_memory`) is above the limit; ``what`` names it in the message."""
    estimate = meta_memory(build, input_shape, batch_size=batch_size, output_shapes=output_shapes)
    if estimate is not None:
        shape = "x".join(str(s) for s in input_shape)
        batch = f" (a batch of {batch_size:,})" if batch_size > 1 else ""
        check_memory(estimate, f"{what} on input {shape}{batch}")
    return build()


__all__ = ["build_within_limit", "meta_memory"]
