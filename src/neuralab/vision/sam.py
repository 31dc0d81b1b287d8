"""Sharpness-Aware Minimization (SAM) and its adaptive form (ASAM), written out.

SAM (Foret et al., 2021) looks for weights whose whole neighbourhood has low loss. Each step:

1. ``first_step``: move to the (first-order) worst point within an L2 ball of radius ``rho``,
   w' = w + eps with eps = rho * g / ||g||_2, where g is the gradient at w (over all parameters).
2. compute the gradient again at w' (the caller runs forward and backward once more);
3. ``second_step``: go back to w and let the base optimiser (SGD, Adam, ...) step with the
   gradient taken at w'.

ASAM (Kwon et al., 2021, ``adaptive=True``) scales the ball per weight by |w|:
eps = rho * T_w^2 g / ||T_w g||_2 with T_w = diag(|w|), so the neighbourhood does not depend on
a rescaling of the weights.

Weight decay, momentum and learning-rate schedules belong to the base optimiser and act exactly
as they would without SAM: schedulers are attached to ``sam.base_optimizer`` (its param groups
are the same objects as SAM's). Batch-norm running statistics should be updated only on the
first forward pass of a step: see :func:`disable_running_stats`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError


class SAM(torch.optim.Optimizer):
    """SAM / ASAM around a base optimiser class (``SAM(params, torch.optim.SGD, rho=0.05, lr=0.1)``)."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        base_optimizer: type[torch.optim.Optimizer],
        *,
        rho: float = 0.05,
        adaptive: bool = False,
        **base_kwargs: Any,
    ) -> None:
        if rho <= 0:
            raise NeuralabError(f"SAM's rho must be > 0, got {rho}")
        super().__init__(params, {"rho": rho, "adaptive": adaptive, **base_kwargs})
        self.base_optimizer = base_optimizer(self.param_groups, **base_kwargs)
        # one set of param groups: a scheduler changing the base optimiser's lr changes ours too
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        self.rho = rho
        self.adaptive = adaptive

    @torch.no_grad()
    def gradient_norm(self) -> Tensor:
        """Return ||g||_2 over all parameters (ASAM: ||T_w g||_2 with T_w = |w|)."""
        norms = [
            ((p.abs() if self.adaptive else 1.0) * p.grad).norm(p=2)
            for group in self.param_groups
            for p in group["params"]
            if p.grad is not None
        ]
        if not norms:
            return torch.tensor(0.0)
        device = norms[0].device
        return torch.stack([n.to(device) for n in norms]).norm(p=2)

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> None:
        """Move every weight to w + eps, eps = rho * g / ||g|| (ASAM: rho * w^2 g / ||w g||)."""
        norm = self.gradient_norm()
        for group in self.param_groups:
            scale = group.get("rho", self.rho) / (norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.detach().clone()
                eps = (p * p if self.adaptive else 1.0) * p.grad * scale.to(p.device)
                p.add_(eps)
        if zero_grad:
            self.zero_grad(set_to_none=True)

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> None:
        """Return to w and take the base optimiser's step with the gradient taken at w + eps."""
        for group in self.param_groups:
            for p in group["params"]:
                if "old_p" in self.state[p]:
                    p.copy_(self.state[p]["old_p"])
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad(set_to_none=True)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One full SAM step; ``closure`` must run forward and backward and return the loss."""
        if closure is None:
            raise NeuralabError("SAM.step needs a closure that recomputes the loss and gradients")
        self.first_step(zero_grad=True)
        with torch.enable_grad():
            loss = closure()
        self.second_step()
        return loss

    def state_dict(self) -> dict[str, Any]:
        """Return the base optimiser's state (SAM keeps nothing between steps but old weights)."""
        return self.base_optimizer.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load the base optimiser's state and share its param groups again."""
        self.base_optimizer.load_state_dict(state_dict)
        self.param_groups = self.base_optimizer.param_groups


def disable_running_stats(model: nn.Module) -> None:
    """Freeze batch-norm running statistics (momentum 0) for SAM's second forward pass."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module._neuralab_momentum = module.momentum  # type: ignore[assignment]
            module.momentum = 0.0


def enable_running_stats(model: nn.Module) -> None:
    """Restore the batch-norm momentum saved by :func:`disable_running_stats`."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and hasattr(
            module, "_neuralab_momentum"
        ):
            module.momentum = module._neuralab_momentum  # type: ignore[assignment]
            del module._neuralab_momentum
