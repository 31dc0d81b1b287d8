"""One SAM step written out: the course's hand values, autograd and the SAM optimiser as judges."""

from __future__ import annotations

import math

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.vision.sam_step import sam_step

W, X, Y = [0.5, -1.0], [[1.0, 2.0], [2.0, 1.0], [0.0, 1.0]], [1.0, 0.0, 1.0]


def test_hand_values_of_the_mse_step():
    # X w - y = (-2.5, 0, -2): L = (6.25 + 4) / 3, g = 2/3 X^T (X w - y) = (-5/3, -14/3)
    r = sam_step(W, X, Y, rho=0.05, lr=0.1)
    assert r.loss_at_w == pytest.approx(10.25 / 3, abs=1e-15)
    assert r.g == pytest.approx([-5 / 3, -14 / 3], abs=1e-15)
    assert r.g_norm == pytest.approx(math.sqrt(221) / 3, abs=1e-15)
    assert r.eps == pytest.approx([0.05 * (-5) / math.sqrt(221), 0.05 * (-14) / math.sqrt(221)])
    assert r.eps_norm == pytest.approx(0.05, abs=1e-15)  # the ball's radius, exactly
    assert r.sgd_step == pytest.approx([0.5 + 0.1 * 5 / 3, -1 + 0.1 * 14 / 3], abs=1e-15)
    assert r.loss_at_w_eps > r.loss_at_w  # eps points uphill: the worst point of the ball
    assert r.largest_difference < 1e-12  # autograd and neuralab's SAM(SGD) agree


def test_the_sam_step_is_gradient_descent_with_the_gradient_at_w_plus_eps():
    r = sam_step(W, X, Y, loss="bce", rho=0.5, lr=1.0)
    w = torch.tensor(W, dtype=torch.float64)
    x, y = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    moved = (w + torch.tensor(r.eps, dtype=torch.float64)).requires_grad_(True)
    torch.nn.functional.binary_cross_entropy_with_logits(x @ moved, y).backward()
    assert moved.grad is not None
    assert r.sam_step == pytest.approx((w - moved.grad).tolist(), abs=1e-14)
    assert r.sam_step != pytest.approx(r.sgd_step, abs=1e-3)


def test_the_two_l2_regularised_forms():
    r = sam_step(W, X, Y, rho=0.05, lr=0.1, weight_decay=0.1)
    assert r.g_j == pytest.approx([-5 / 3 + 0.05, -14 / 3 - 0.1], abs=1e-15)  # g + lambda w
    # inside: eps from g_J and the decay at w + eps_J; decoupled (SAM around SGD with weight
    # decay): eps from g alone and the decay at w. Both checked, and they differ.
    assert r.largest_difference < 1e-12
    assert abs(r.inside_step[0] - r.decoupled_step[0]) > 1e-5
    assert r.decoupled_step == pytest.approx(
        [a - 0.1 * 0.1 * w for a, w in zip(r.sam_step, W, strict=True)], abs=1e-15
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"x": [[1.0, 2.0, 3.0]], "y": [1.0]},
            "x has shape 1x3; expected examples x inputs = n x 2",
        ),
        ({"y": [1.0, 0.0]}, "y has 2 entries; expected one per example of x \\(3\\)"),
        ({"loss": "hinge"}, "unknown loss 'hinge' \\(valid: mse, bce\\)"),
        ({"rho": 0.0}, "rho must be > 0"),
        ({"loss": "bce", "y": [2.0, 0.0, 1.0]}, "bce needs targets y in \\[0, 1\\]"),
    ],
)
def test_bad_input_is_one_clear_line(kwargs, message):
    args = {"w": W, "x": X, "y": Y, **kwargs}
    with pytest.raises(NeuralabError, match=message):
        sam_step(args.pop("w"), args.pop("x"), args.pop("y"), **args)


def test_zero_gradient_leaves_eps_undefined():
    with pytest.raises(NeuralabError, match="the gradient at w is 0"):
        sam_step([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0])
