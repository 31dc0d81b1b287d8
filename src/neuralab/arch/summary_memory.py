"""Memory of one training step: inputs, parameters, gradients and the activations kept for backward.

The estimate, in bytes (every term in the model's dtype, measured on the tensors themselves):

    total = inputs + parameters + gradients + saved activations

* inputs: the batch, ``batch_size * prod(input_shape) * dtype size`` per input;
* parameters: ``sum(p.numel() * p.element_size())`` over the unique parameters;
* gradients: the same for the trainable parameters (one ``.grad`` per trainable parameter);
* saved activations: what autograd keeps from the forward pass to compute the backward pass,
  counted with ``torch.autograd.graph.saved_tensors_hooks`` during one forward pass with
  gradients on: every tensor a layer saves (a conv's input, a ReLU's output, batch norm's
  normalised input, dropout's mask), each storage once, parameters and the inputs left out (they
  are counted above). Batch size, dtype and mode (train or eval) all change it.

Not included: the optimizer's state (SGD with momentum adds the parameters once more, Adam
twice), temporary workspace of the kernels, the gradients of the activations during backward
(freed layer by layer) and the allocator's rounding: real peaks on a GPU are somewhat higher.

torchinfo's "Forward/backward pass size" is a different formula: twice (forward and backward)
the sum of every summarised layer's output size, whether or not autograd keeps it (a ReLU
computed in place or a flatten view costs nothing here, a full tensor there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from neuralab.arch.summary_inputs import DryInputs


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes of one training step (optimizer state excluded): see the module's formula."""

    input_bytes: int  # the batch of inputs
    param_bytes: int  # unique parameters
    grad_bytes: int  # one gradient per trainable parameter
    saved_bytes: int  # activations autograd keeps for backward (unique storages)

    @property
    def total_bytes(self) -> int:
        """Return inputs + parameters + gradients + saved activations."""
        return self.input_bytes + self.param_bytes + self.grad_bytes + self.saved_bytes


def _storage_key(tensor: torch.Tensor) -> tuple[int, int]:
    try:
        storage = tensor.untyped_storage()
        return storage.data_ptr(), storage.nbytes()
    except (RuntimeError, NotImplementedError):  # tensors without a plain storage
        return id(tensor), tensor.numel() * tensor.element_size()


@contextlib.contextmanager
def counting_saved_tensors(model: nn.Module, call: DryInputs) -> Iterator[dict[int, int]]:
    """Yield ``{storage: bytes}`` of the tensors autograd saves for backward while the block runs.

    Run the forward pass inside with gradients on. Each storage counts once (views of one
    tensor share it); parameters, buffers and the inputs are left out (counted on their own).
    Nothing is saved when nothing requires a gradient (a frozen model): no backward, no cost.
    """
    excluded = {
        _storage_key(t)[0] for t in (*model.parameters(), *model.buffers(), *call.tensors())
    }
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> Any:
        key, size = _storage_key(tensor)
        if key not in excluded:
            saved[key] = max(saved.get(key, 0), size)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, _unpack):
        yield saved


def _unpack(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def memory_estimate(model: nn.Module, call: DryInputs, saved: dict[int, int]) -> MemoryEstimate:
    """Return the :class:`MemoryEstimate` of one training step of ``model`` on ``call``, with
    the saved activations counted by :func:`counting_saved_tensors` around its forward pass."""
    unique = {id(p): p for p in model.parameters()}.values()
    return MemoryEstimate(
        input_bytes=call.nbytes(),
        param_bytes=sum(p.numel() * p.element_size() for p in unique),
        grad_bytes=sum(p.numel() * p.element_size() for p in unique if p.requires_grad),
        saved_bytes=sum(saved.values()),
    )


__all__ = ["MemoryEstimate", "counting_saved_tensors", "memory_estimate"]
