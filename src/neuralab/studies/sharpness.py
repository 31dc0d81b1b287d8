"""How sharp is a minimum? Three measures, for the SAM study.

All three take the weights of ``model`` as the point w and a closure ``loss_fn(model) -> L(w)``
computing the loss on fixed data (the same batches every call, batch norm in eval mode), and
leave the weights exactly as they found them.

1. :func:`ball_sharpness`: max over ||delta||_2 <= rho of L(w + delta) - L(w), the quantity SAM
   minimises, estimated by projected gradient ascent started at SAM's first-order point
   delta = rho g / ||g||.
2. :func:`top_hessian_eigenvalue`: the largest eigenvalue lambda_max of the Hessian of L at w,
   by power iteration on Hessian-vector products (Pearlmutter's trick: H v = d(g . v)/dw, two
   backward passes, the Hessian is never formed).
3. :func:`loss_profile`: L(w + alpha d) along a random direction d, filter-normalised as in
   Li et al. (2018), "Visualizing the loss landscape of neural nets": each filter (row of a
   weight tensor) of d is rescaled to the norm of the same filter of w, and biases and
   batch-norm parameters get d = 0, so networks of different weight scales compare fairly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

LossFunction = Callable[[nn.Module], Tensor]


@dataclass(frozen=True)
class BallSharpness:
    """The largest loss increase found within the L2 ball of radius ``rho``."""

    rho: float
    base_loss: float  # L(w)
    max_increase: float  # max over the ball of L(w + delta) - L(w), as found
    first_order_increase: float  # the increase at SAM's point delta = rho g / ||g||


def _parameters(model: nn.Module) -> list[Tensor]:
    return [p for p in model.parameters() if p.requires_grad]


def _norm(tensors: Sequence[Tensor]) -> Tensor:
    return torch.sqrt(sum((t.detach() ** 2).sum() for t in tensors))  # type: ignore[arg-type]


def ball_sharpness(
    model: nn.Module,
    loss_fn: LossFunction,
    rho: float,
    *,
    steps: int = 10,
    step_size: float | None = None,
) -> BallSharpness:
    """Return max_{||delta|| <= rho} L(w + delta) - L(w) by projected gradient ascent."""
    parameters = _parameters(model)
    original = [p.detach().clone() for p in parameters]
    step_size = rho / 2 if step_size is None else step_size
    try:
        base = float(loss_fn(model).detach())
        gradients = torch.autograd.grad(loss_fn(model), parameters)
        norm = _norm(gradients) + 1e-12
        delta = [rho * g / norm for g in gradients]
        best = first = _loss_at(model, parameters, original, delta, loss_fn) - base
        for _ in range(steps):
            _set(parameters, original, delta)
            gradients = torch.autograd.grad(loss_fn(model), parameters)
            norm = _norm(gradients) + 1e-12
            delta = [d + step_size * g / norm for d, g in zip(delta, gradients, strict=True)]
            length = _norm(delta)
            if length > rho:  # project back onto the ball
                delta = [d * (rho / length) for d in delta]
            best = max(best, _loss_at(model, parameters, original, delta, loss_fn) - base)
    finally:
        _set(parameters, original, None)
    return BallSharpness(rho, base, best, first)


def top_hessian_eigenvalue(
    model: nn.Module,
    loss_fn: LossFunction,
    *,
    iterations: int = 50,
    tolerance: float = 1e-4,
    seed: int = 0,
) -> float:
    """Return lambda_max of the Hessian of L at w by power iteration on H v products.

    Power iteration finds the eigenvalue of largest magnitude; at a minimum the Hessian is
    (nearly) positive semi-definite, so that is lambda_max.
    """
    parameters = _parameters(model)
    generator = torch.Generator().manual_seed(seed)
    vector = [torch.randn(p.shape, generator=generator).to(p) for p in parameters]
    norm = _norm(vector)
    vector = [v / norm for v in vector]
    eigenvalue = 0.0
    for _ in range(iterations):
        gradients = torch.autograd.grad(loss_fn(model), parameters, create_graph=True)
        dot = torch.stack([(g * v).sum() for g, v in zip(gradients, vector, strict=True)]).sum()
        product = torch.autograd.grad(dot, parameters)  # H v
        new_eigenvalue = float(sum((h * v).sum() for h, v in zip(product, vector, strict=True)))
        norm = _norm(product) + 1e-30
        vector = [h.detach() / norm for h in product]
        if abs(new_eigenvalue - eigenvalue) <= tolerance * max(abs(new_eigenvalue), 1e-12):
            return new_eigenvalue
        eigenvalue = new_eigenvalue
    return eigenvalue


def filter_normalized_direction(model: nn.Module, *, seed: int = 0) -> list[Tensor]:
    """Return a random direction d with ||d_filter|| = ||w_filter|| per filter (Li et al. 2018).

    Tensors of one dimension (biases, batch-norm scales and shifts) get d = 0.
    """
    generator = torch.Generator().manual_seed(seed)
    direction = []
    for parameter in _parameters(model):
        weight = parameter.detach()
        if weight.dim() <= 1:
            direction.append(torch.zeros_like(weight))
            continue
        d = torch.randn(weight.shape, generator=generator).to(weight)
        rows_d = d.reshape(d.shape[0], -1)
        rows_w = weight.reshape(weight.shape[0], -1)
        scale = rows_w.norm(dim=1, keepdim=True) / (rows_d.norm(dim=1, keepdim=True) + 1e-10)
        direction.append((rows_d * scale).reshape(weight.shape))
    return direction


def loss_profile(
    model: nn.Module,
    loss_fn: LossFunction,
    alphas: Sequence[float],
    *,
    direction: list[Tensor] | None = None,
    seed: int = 0,
) -> list[float]:
    """Return L(w + alpha d) for each alpha along a filter-normalised random direction d."""
    parameters = _parameters(model)
    original = [p.detach().clone() for p in parameters]
    direction = (
        direction if direction is not None else filter_normalized_direction(model, seed=seed)
    )
    losses = []
    try:
        with torch.no_grad():
            for alpha in alphas:
                _set(parameters, original, [alpha * d for d in direction])
                losses.append(float(loss_fn(model)))
    finally:
        _set(parameters, original, None)
    return losses


def _set(parameters: list[Tensor], original: list[Tensor], delta: list[Tensor] | None) -> None:
    with torch.no_grad():
        for index, (parameter, weight) in enumerate(zip(parameters, original, strict=True)):
            parameter.copy_(weight if delta is None else weight + delta[index])


def _loss_at(
    model: nn.Module,
    parameters: list[Tensor],
    original: list[Tensor],
    delta: list[Tensor],
    loss_fn: LossFunction,
) -> float:
    _set(parameters, original, delta)
    with torch.no_grad():
        return float(loss_fn(model))


def batches_loss(
    batches: Sequence[tuple[Tensor, Tensor]],
) -> LossFunction:
    """Return ``loss_fn(model)``: mean cross-entropy over fixed ``batches`` (model in eval mode)."""

    def loss_fn(model: nn.Module) -> Tensor:
        model.eval()
        total = sum(nn.functional.cross_entropy(model(x), y, reduction="sum") for x, y in batches)
        count = sum(len(y) for _, y in batches)
        return total / count  # type: ignore[return-value]

    return loss_fn
