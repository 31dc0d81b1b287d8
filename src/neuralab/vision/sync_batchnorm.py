"""Batch normalisation with statistics over the global batch of all processes, on any device.

With W processes each rank sees n_r of the global batch's images. Plain batch norm normalises
with each rank's own mean and variance; :class:`SyncBatchNorm` combines the per-rank statistics
(count n_r, mean m_r, sum of squared deviations M2_r per channel) into those of the whole batch
(Chan et al.'s parallel update, stable in float32):

    N = sum_r n_r,   mu = sum_r n_r m_r / N,   M2 = sum_r [M2_r + n_r (m_r - mu)^2],
    sigma^2 = M2 / N  (normalisation),   M2 / (N - 1)  (running variance, as PyTorch keeps it)

so W processes normalise exactly as one process with the global batch would. The statistics
travel through one differentiable all-reduce, whose backward pass all-reduces their gradients:
rank r's gradient for its statistics is the sum over all ranks' losses, so after DDP's average
the weights get the global batch's gradient too.

PyTorch's own ``nn.SyncBatchNorm`` runs on GPUs only; this one also runs with gloo on the CPU,
so the same code path is tested without a GPU. Alone (no process group, or one process) and in
eval mode it is plain batch norm on the running statistics.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


class SyncBatchNorm(_BatchNorm):
    """Batch norm over any input (N, C, ...) whose training statistics span all ranks."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected an input of at least 2 dimensions, got {input.dim()}")

    def forward(self, input: Tensor) -> Tensor:
        world_size = _world_size()
        if not self.training or world_size == 1:
            return super().forward(input)
        self._check_input_dim(input)
        channels = input.shape[1]
        dims = [d for d in range(input.dim()) if d != 1]
        shape = [1, channels] + [1] * (input.dim() - 2)
        x = input.float()  # statistics in float32 even under bfloat16 autocast

        # this rank's count, mean and M2 per channel; an empty shard contributes nothing
        count = float(input.numel() // channels)
        mean_r = x.sum(dims) / max(count, 1.0)
        m2_r = (x - mean_r.view(shape)).square().sum(dims)
        local = torch.zeros(world_size, 3, channels, device=x.device, dtype=x.dtype)
        local[_rank(), 0] = count
        local[_rank(), 1] = mean_r
        local[_rank(), 2] = m2_r
        every = _AllReduceSum.apply(local)  # (W, 3, C): each rank's row, summed into place
        counts, means, m2s = every[:, 0], every[:, 1], every[:, 2]
        total = counts.sum(0)  # N per channel
        mean = (counts * means).sum(0) / total
        m2 = (m2s + counts * (means - mean).square()).sum(0)
        var = m2 / total

        if self.track_running_stats:
            self._update_running_stats(mean.detach(), m2.detach() / (total - 1).clamp(min=1.0))
        out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out.to(input.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: Tensor, unbiased_var: Tensor) -> None:
        # what nn.BatchNorm does: count the batch, then an exponential (or cumulative) average
        assert self.num_batches_tracked is not None
        assert self.running_mean is not None and self.running_var is not None
        self.num_batches_tracked.add_(1)
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked)
        else:
            factor = self.momentum
        self.running_mean.mul_(1 - factor).add_(mean.to(self.running_mean.dtype), alpha=factor)
        self.running_var.mul_(1 - factor).add_(
            unbiased_var.to(self.running_var.dtype), alpha=factor
        )


def convert_sync_batchnorm(model: nn.Module) -> nn.Module:
    """Return ``model`` with every batch-norm layer replaced by :class:`SyncBatchNorm`.

    The new layers share the old ones' parameters and buffers (same tensors, same state-dict
    keys), so optimisers, checkpoints and a model without sync_bn stay interchangeable.
    """
    if isinstance(model, _BatchNorm) and not isinstance(model, SyncBatchNorm):
        converted = SyncBatchNorm(
            model.num_features,
            model.eps,
            model.momentum,
            model.affine,
            model.track_running_stats,
        )
        if model.affine:
            converted.weight = model.weight
            converted.bias = model.bias
        converted.running_mean = model.running_mean
        converted.running_var = model.running_var
        converted.num_batches_tracked = model.num_batches_tracked
        converted.train(model.training)
        return converted
    for name, child in model.named_children():
        replaced = convert_sync_batchnorm(child)
        if replaced is not child:
            setattr(model, name, replaced)
    return model


class _AllReduceSum(torch.autograd.Function):
    """y = sum over ranks of x; its gradient, dL/dx_r = sum over ranks of dL_q/dy, likewise."""

    @staticmethod
    def forward(ctx: Any, tensor: Tensor) -> Tensor:
        import torch.distributed as dist

        reduced = tensor.clone()
        dist.all_reduce(reduced)
        return reduced

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        import torch.distributed as dist

        reduced = grad.clone()
        dist.all_reduce(reduced)
        return reduced


def _world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _rank() -> int:
    import torch.distributed as dist

    return dist.get_rank()
