"""The playground's optimisers, written out: SGD, SGD with momentum and Adam.

The same updates as ``torch.optim``'s (the tests check them against it), written out so that the
batched trainer (:mod:`neuralab.playground.batched`) runs the very same arithmetic on stacked
weights with per-network rates, and because importing ``torch.optim`` costs seconds at start-up.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from neuralab.playground.config import PlaygroundConfig


class Optimizer:
    """SGD, SGD with momentum and Adam over a list of parameter tensors.

    SGD ``w -= eta g``; momentum ``v = mu v + g``, ``w -= eta v``; Adam ``m = beta1 m +
    (1 - beta1) g``, ``s = beta2 s + (1 - beta2) g^2``, ``w -= eta / (1 - beta1^t) m /
    (sqrt(s) / sqrt(1 - beta2^t) + eps)`` with torch's defaults beta = (0.9, 0.999), eps = 1e-8.
    ``lr`` and ``momentum`` hold one value per parameter tensor: a number, or a tensor that
    broadcasts against it (the batched trainer's per-network values, shape (K, 1, ...)). Both may
    be replaced between steps (a live change of the learning rate); the state v, s, t is kept.
    """

    betas = (0.9, 0.999)
    eps = 1e-8

    def __init__(
        self,
        kind: str,
        params: list[Tensor],
        lr: list[float] | list[Tensor],
        momentum: list[float] | list[Tensor],
    ) -> None:
        self.kind = kind.strip().lower()
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [torch.zeros_like(p) for p in params]
        self.second = [torch.zeros_like(p) for p in params] if self.kind == "adam" else []
        self.steps = 0

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter from its ``.grad``."""
        self.steps += 1
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:  # no gradient reached it (e.g. below a step activation): as torch.optim
                continue
            if self.kind == "sgd":
                p.sub_(self.lr[i] * g)
            elif self.kind == "momentum":
                self.velocity[i].mul_(self.momentum[i]).add_(g)
                p.sub_(self.lr[i] * self.velocity[i])
            else:
                self.velocity[i].lerp_(g, 1 - beta1)
                self.second[i].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                step_size = self.lr[i] / (1 - beta1**self.steps)
                root = math.sqrt(1 - beta2**self.steps)
                denominator = (self.second[i].sqrt() / root).add_(self.eps)
                p.sub_(step_size * (self.velocity[i] / denominator))

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


def make_optimizer(model: nn.Module, config: PlaygroundConfig) -> Optimizer:
    """Return the optimiser ``config.optimizer`` (sgd, momentum or adam) over ``model``."""
    params: list[Tensor] = list(model.parameters())
    count = len(params)
    return Optimizer(config.optimizer, params, [config.lr] * count, [config.momentum] * count)
