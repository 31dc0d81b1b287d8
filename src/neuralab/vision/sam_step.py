"""One SAM step on a small model, written out and checked: the course's exercise.

The model is one linear unit, out_i = w . x_i, on n examples, with the loss

    mse:  L(w) = 1/n sum_i (w . x_i - y_i)^2           dL/dw = 2/n X^T (X w - y)
    bce:  L(w) = -1/n sum_i [y_i log s_i + (1 - y_i) log(1 - s_i)], s_i = sigmoid(w . x_i)
                                                        dL/dw = 1/n X^T (s - y)

SAM (Foret et al., 2021) takes the gradient g = dL/dw at w, moves to the worst point of the ball
of radius rho to first order, eps = rho g / ||g||_2, takes the gradient there and steps from w:

    w_new = w - eta dL/dw(w + eps)                     (plain gradient descent: w - eta g)

With an L2 penalty, J(w) = L(w) + lambda/2 ||w||^2, there are two readings, and both are
computed: *inside*, SAM applied to J itself (g_J = g + lambda w, eps_J = rho g_J / ||g_J||,
w_new = w - eta [dL/dw(w + eps_J) + lambda (w + eps_J)]); *decoupled*, what
``SAM(params, torch.optim.SGD, weight_decay=lambda)`` computes (eps from g alone, the decay at
w: w_new = w - eta [dL/dw(w + eps) + lambda w]).

Every gradient is set beside autograd's (float64); the closed-form steps beside neuralab's own
:class:`~neuralab.vision.sam.SAM` optimiser run on an ``nn.Linear`` with the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.theory.loss_names import SAM_STEP_LOSSES as LOSSES


@dataclass
class SamStepResult:
    """Every quantity of one SAM step (vectors as lists of floats) and the checks."""

    loss: str
    w: list[float]
    x: list[list[float]]
    y: list[float]
    rho: float
    lr: float
    weight_decay: float
    loss_at_w: float
    g: list[float]  # dL/dw at w, closed form
    g_autograd: list[float]
    g_norm: float
    eps: list[float]  # rho g / ||g||
    eps_norm: float  # = rho
    loss_at_w_eps: float
    g_at_w_eps: list[float]  # dL/dw at w + eps, closed form
    g_at_w_eps_autograd: list[float]
    sgd_step: list[float]  # w - eta g
    sam_step: list[float]  # w - eta dL/dw(w + eps)
    sam_optimizer: list[float]  # neuralab's SAM(SGD) on nn.Linear
    # the L2-regularised forms
    g_j: list[float] = field(default_factory=list)  # g + lambda w
    g_j_autograd: list[float] = field(default_factory=list)
    eps_j: list[float] = field(default_factory=list)  # rho g_J / ||g_J||
    inside_step: list[float] = field(default_factory=list)
    inside_autograd: list[float] = field(default_factory=list)  # SAM on J by autograd
    decoupled_step: list[float] = field(default_factory=list)
    decoupled_optimizer: list[float] = field(default_factory=list)  # SAM(SGD(weight_decay))

    @property
    def largest_difference(self) -> float:
        """Return the largest |closed form - autograd or optimiser| over every check."""
        pairs = [
            (self.g, self.g_autograd),
            (self.g_at_w_eps, self.g_at_w_eps_autograd),
            (self.sam_step, self.sam_optimizer),
        ]
        if self.weight_decay:
            pairs += [
                (self.g_j, self.g_j_autograd),
                (self.inside_step, self.inside_autograd),
                (self.decoupled_step, self.decoupled_optimizer),
            ]
        return max(abs(a - b) for left, right in pairs for a, b in zip(left, right, strict=True))


def sam_step(
    w: Sequence[float],
    x: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    loss: str = "mse",
    rho: float = 0.05,
    lr: float = 0.1,
    weight_decay: float = 0.0,
) -> SamStepResult:
    """Return one SAM step of the linear unit ``w`` on ``x`` (n x d), ``y`` (n) and its checks."""
    weights, inputs, targets = _check(w, x, y, loss, rho, lr, weight_decay)

    g = _gradient(weights, inputs, targets, loss)
    norm = float(g.norm())
    if norm == 0.0:
        raise NeuralabError(
            "the gradient at w is 0 (w already minimises L): eps = rho g/||g|| is undefined"
        )
    eps = rho * g / norm
    g_eps = _gradient(weights + eps, inputs, targets, loss)
    result = SamStepResult(
        loss=loss,
        w=weights.tolist(),
        x=inputs.tolist(),
        y=targets.tolist(),
        rho=rho,
        lr=lr,
        weight_decay=weight_decay,
        loss_at_w=float(_loss(weights, inputs, targets, loss)),
        g=g.tolist(),
        g_autograd=_autograd(weights, inputs, targets, loss, 0.0).tolist(),
        g_norm=norm,
        eps=eps.tolist(),
        eps_norm=float(eps.norm()),
        loss_at_w_eps=float(_loss(weights + eps, inputs, targets, loss)),
        g_at_w_eps=g_eps.tolist(),
        g_at_w_eps_autograd=_autograd(weights + eps, inputs, targets, loss, 0.0).tolist(),
        sgd_step=(weights - lr * g).tolist(),
        sam_step=(weights - lr * g_eps).tolist(),
        sam_optimizer=_optimizer_step(weights, inputs, targets, loss, rho, lr, 0.0).tolist(),
    )
    if weight_decay:
        g_j = g + weight_decay * weights
        eps_j = rho * g_j / g_j.norm()
        at = weights + eps_j
        inside = weights - lr * (_gradient(at, inputs, targets, loss) + weight_decay * at)
        # the same by autograd on J: the gradient of J at w, then at w + eps_J
        g_j_auto = _autograd(weights, inputs, targets, loss, weight_decay)
        eps_auto = rho * g_j_auto / g_j_auto.norm()
        inside_auto = weights - lr * _autograd(
            weights + eps_auto, inputs, targets, loss, weight_decay
        )
        result.g_j, result.g_j_autograd = g_j.tolist(), g_j_auto.tolist()
        result.eps_j = eps_j.tolist()
        result.inside_step, result.inside_autograd = inside.tolist(), inside_auto.tolist()
        result.decoupled_step = (weights - lr * (g_eps + weight_decay * weights)).tolist()
        result.decoupled_optimizer = _optimizer_step(
            weights, inputs, targets, loss, rho, lr, weight_decay
        ).tolist()
    return result


def _check(
    w: Sequence[float],
    x: Sequence[Sequence[float]],
    y: Sequence[float],
    loss: str,
    rho: float,
    lr: float,
    weight_decay: float,
) -> tuple[Tensor, Tensor, Tensor]:
    if loss not in LOSSES:
        raise NeuralabError(f"unknown loss {loss!r} (valid: {', '.join(LOSSES)})")
    if not rho > 0:
        raise NeuralabError(f"rho must be > 0, got {rho}")
    if not lr > 0:
        raise NeuralabError(f"lr must be > 0, got {lr}")
    if not weight_decay >= 0:
        raise NeuralabError(f"weight decay lambda must be >= 0, got {weight_decay}")
    weights = torch.as_tensor(w, dtype=torch.float64).reshape(-1)
    inputs = torch.as_tensor(x, dtype=torch.float64)
    targets = torch.as_tensor(y, dtype=torch.float64).reshape(-1)
    if inputs.dim() != 2 or inputs.shape[1] != weights.numel():
        raise NeuralabError(
            f"x has shape {'x'.join(str(s) for s in inputs.shape)}; expected examples x "
            f"inputs = n x {weights.numel()} (one column per weight of w)"
        )
    if targets.numel() != inputs.shape[0]:
        raise NeuralabError(
            f"y has {targets.numel()} entries; expected one per example of x ({inputs.shape[0]})"
        )
    if loss == "bce" and not bool(((targets >= 0) & (targets <= 1)).all()):
        raise NeuralabError("bce needs targets y in [0, 1]")
    return weights, inputs, targets


def _loss(w: Tensor, x: Tensor, y: Tensor, loss: str) -> Tensor:
    out = x @ w  # (n,)
    if loss == "mse":
        return ((out - y) ** 2).mean()
    return torch.nn.functional.binary_cross_entropy_with_logits(out, y)


def _gradient(w: Tensor, x: Tensor, y: Tensor, loss: str) -> Tensor:
    """Return dL/dw in closed form (see the module docstring)."""
    n = x.shape[0]
    if loss == "mse":
        return 2.0 / n * x.T @ (x @ w - y)
    return 1.0 / n * x.T @ (torch.sigmoid(x @ w) - y)


def _autograd(w: Tensor, x: Tensor, y: Tensor, loss: str, weight_decay: float) -> Tensor:
    """Return d/dw of L(w) + weight_decay/2 ||w||^2 by autograd."""
    leaf = w.detach().clone().requires_grad_(True)
    objective = _loss(leaf, x, y, loss) + weight_decay / 2 * (leaf**2).sum()
    (gradient,) = torch.autograd.grad(objective, leaf)
    return gradient


def _optimizer_step(
    w: Tensor, x: Tensor, y: Tensor, loss: str, rho: float, lr: float, weight_decay: float
) -> Tensor:
    """Return the weights after one step of neuralab's SAM(SGD) on an ``nn.Linear``."""
    from neuralab.vision.sam import SAM

    layer = torch.nn.Linear(w.numel(), 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(w.reshape(1, -1))
    optimizer = SAM(layer.parameters(), torch.optim.SGD, rho=rho, lr=lr, weight_decay=weight_decay)

    def closure() -> Tensor:
        value = _loss(layer.weight.reshape(-1), x, y, loss)
        value.backward()
        return value

    closure()
    optimizer.first_step(zero_grad=True)
    closure()
    optimizer.second_step(zero_grad=True)
    return layer.weight.detach().reshape(-1).clone()


__all__ = ["LOSSES", "SamStepResult", "sam_step"]
