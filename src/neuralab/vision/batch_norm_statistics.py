"""Batch-norm statistics recomputed with the current weights before evaluation ("precise BN").

While training, every batch-norm layer keeps running estimates of its inputs' mean and variance,
updated after each batch as

    mu <- (1 - m) mu + m mu_batch        (the variance alike; m: the layer's momentum)

an exponential average over roughly the last 1 / m batches, computed with the weights of those
earlier steps. PyTorch's default m = 0.1 averages ~10 batches; torchvision's MobileNetV3 uses
m = 0.01 (~100 batches) and MNASNet m = 0.0003 (~3,300). On a short run (small data, few
epochs) the estimates then describe a network many steps old, and the evaluated model (eval
mode, running statistics) can sit at chance while the training accuracy is high. Recomputing
them on N training batches with the current weights, as a plain average over those batches
(m = None), removes that lag (Wu and Johnson, "Rethinking 'Batch' in BatchNorm", 2021).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from neuralab.vision.ema import inner_module


def batch_norm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """Return the model's batch-norm layers (1-d, 2-d, 3-d, synchronised) that track statistics."""
    return [
        module
        for module in model.modules()
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats
    ]


@torch.no_grad()
def recalibrate_batch_norm(
    model: nn.Module, batches: Iterable[Any], count: int, ranks: Any = None
) -> int:
    """Recompute every batch-norm layer's running mean and variance on ``count`` batches.

    ``batches`` yields ``(images, labels)`` on the model's device (unaugmented training images:
    the distribution evaluation sees). Each layer's statistics become the average of the
    ``count`` batch statistics under the current weights; its momentum and the model's mode are
    restored afterwards. With ``ranks`` of several processes each one averages its own shard and
    the results are averaged across processes. Return the number of batches used (0: no layer).
    """
    model = inner_module(model)  # DDP's forward would broadcast rank 0's buffers every batch
    layers = batch_norm_layers(model)
    if not layers or count <= 0:
        return 0
    momenta = [layer.momentum for layer in layers]
    training = model.training
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # a cumulative average over the batches below
    model.train()
    used = 0
    try:
        for images, _ in batches:
            if used >= count:
                break
            model(images)
            used += 1
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
        model.train(training)
    if ranks is not None and ranks.active:
        for layer in layers:
            for buffer in (layer.running_mean, layer.running_var):
                if buffer is not None:
                    buffer.copy_(ranks.all_reduce_sum(buffer) / ranks.world_size)
    return used
