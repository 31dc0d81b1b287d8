"""Sharpness measures on a quadratic whose Hessian and worst-case ball are known exactly."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuralab.studies.sharpness import (
    ball_sharpness,
    batches_loss,
    filter_normalized_direction,
    loss_profile,
    top_hessian_eigenvalue,
)


def _least_squares(seed: int = 0):
    torch.manual_seed(seed)
    x = torch.randn(64, 5, dtype=torch.float64)
    y = torch.randn(64, 1, dtype=torch.float64)
    model = nn.Linear(5, 1, bias=False).double()

    def loss_fn(m):
        return ((m(x) - y) ** 2).mean()  # Hessian 2 X^T X / n, constant

    hessian = 2 * x.T @ x / len(x)
    return model, loss_fn, hessian


def test_top_eigenvalue_matches_eigvalsh():
    model, loss_fn, hessian = _least_squares()
    expected = torch.linalg.eigvalsh(hessian)[-1].item()
    assert top_hessian_eigenvalue(model, loss_fn, iterations=500, tolerance=1e-12) == pytest.approx(
        expected, rel=1e-6
    )


def test_ball_sharpness_bounds_and_exact_case():
    model, loss_fn, hessian = _least_squares(1)
    before = model.weight.detach().clone()
    rho = 0.1
    result = ball_sharpness(model, loss_fn, rho, steps=30)
    assert torch.equal(model.weight, before)  # weights restored
    gradient = torch.autograd.grad(loss_fn(model), model.weight)[0].flatten()
    top = torch.linalg.eigvalsh(hessian)[-1].item()
    # L(w + d) - L(w) = g.d + d^T H d / 2 exactly (a quadratic); at SAM's point d = rho g / ||g||
    # that is rho ||g|| + rho^2 g^T H g / (2 ||g||^2), and over the ball <= rho ||g|| + lambda rho^2 / 2
    norm = gradient.norm().item()
    curvature = (gradient @ hessian @ gradient).item() / norm**2
    assert result.first_order_increase == pytest.approx(rho * norm + 0.5 * rho**2 * curvature)
    assert result.first_order_increase < result.max_increase  # the ascent found a worse point
    assert result.max_increase <= rho * norm + 0.5 * top * rho**2 + 1e-12

    # at a minimum (g = 0) the worst point of the ball is along the top eigenvector:
    # the increase is exactly lambda_max rho^2 / 2, and ascent from g/||g|| finds it. The start
    # g/||g|| is rounding noise there and the top two eigenvalues are close (3.07, 2.80), so the
    # ascent takes steps of a whole rho: with steps of rho/5 it needs ~1000 to converge
    minimiser = torch.linalg.lstsq(*_normal_equations(hessian, model, loss_fn)).solution.T
    with torch.no_grad():
        model.weight.copy_(minimiser)
    at_minimum = ball_sharpness(model, loss_fn, rho, steps=200, step_size=rho)
    assert at_minimum.max_increase == pytest.approx(0.5 * top * rho**2, rel=5e-3)


def _normal_equations(hessian, model, loss_fn):
    # minimiser w* of ||Xw - y||^2 / n: H w* = H w - g (the loss is quadratic)
    gradient = torch.autograd.grad(loss_fn(model), model.weight)[0].T
    return hessian, hessian @ model.weight.detach().T - gradient


def test_filter_normalized_direction():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    direction = filter_normalized_direction(model, seed=0)
    weights = list(model.parameters())
    for d, w in zip(direction, weights, strict=True):
        if w.dim() <= 1:
            assert torch.all(d == 0)
        else:
            assert torch.allclose(
                d.reshape(len(d), -1).norm(dim=1),
                w.detach().reshape(len(w), -1).norm(dim=1),
                rtol=1e-5,
            )


def test_loss_profile_of_a_quadratic():
    model, loss_fn, hessian = _least_squares(2)
    before = model.weight.detach().clone()
    direction = torch.randn(before.shape, dtype=torch.float64)
    gradient = torch.autograd.grad(loss_fn(model), model.weight)[0]
    base = loss_fn(model).item()
    alphas = [-1.0, -0.25, 0.0, 0.5, 1.0]
    losses = loss_profile(model, loss_fn, alphas, direction=[direction])
    # L(w + a d) = L(w) + a g.d + a^2 d^T H d / 2
    slope = (gradient * direction).sum().item()
    curvature = (direction.flatten() @ hessian @ direction.flatten()).item()
    expected = [base + a * slope + 0.5 * a**2 * curvature for a in alphas]
    assert losses == pytest.approx(expected, rel=1e-12)
    assert torch.equal(model.weight, before)  # weights restored


def test_batches_loss_is_the_mean_cross_entropy_over_all_batches():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(8, 3))
    batches = [(torch.randn(n, 8), torch.randint(0, 3, (n,))) for n in (10, 6)]
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    expected = nn.functional.cross_entropy(model(x), y).item()  # PyTorch as judge
    assert batches_loss(batches)(model).item() == pytest.approx(expected, rel=1e-6)
    losses = loss_profile(model, batches_loss(batches), [-1.0, 0.0, 1.0])
    assert losses[1] == pytest.approx(expected, rel=1e-6)
