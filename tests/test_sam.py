"""SAM / ASAM: the perturbation is exactly rho g / ||g||, the step uses the gradient at w + eps."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.vision.sam import SAM, disable_running_stats, enable_running_stats


def _model_and_batch(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    x = torch.randn(16, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (16,))
    return model, x, y


def _loss(model, x, y):
    return nn.functional.cross_entropy(model(x), y)


@pytest.mark.parametrize("adaptive", [False, True])
def test_first_step_moves_weights_by_eps(adaptive):
    model, x, y = _model_and_batch()
    rho = 0.05
    sam = SAM(model.parameters(), torch.optim.SGD, rho=rho, adaptive=adaptive, lr=0.1)
    _loss(model, x, y).backward()
    before = [p.detach().clone() for p in model.parameters()]
    grads = [p.grad.detach().clone() for p in model.parameters()]
    scale = [w.abs() if adaptive else torch.ones_like(w) for w in before]
    norm = torch.sqrt(sum(((s * g) ** 2).sum() for s, g in zip(scale, grads, strict=True)))
    sam.first_step()
    for w, w_new, g, s in zip(before, model.parameters(), grads, scale, strict=True):
        expected = rho * s * s * g / norm  # s = 1 for SAM: eps = rho g / ||g||
        assert torch.allclose(w_new - w, expected, atol=1e-15, rtol=1e-9)


def test_step_equals_sgd_with_gradient_at_perturbed_point():
    model, x, y = _model_and_batch(1)
    reference = [p.detach().clone() for p in model.parameters()]
    lr, rho = 0.1, 0.05
    sam = SAM(model.parameters(), torch.optim.SGD, rho=rho, lr=lr)

    def closure():
        sam.zero_grad()
        loss = _loss(model, x, y)
        loss.backward()
        return loss

    closure()
    sam.step(closure)

    # by hand: g at w, w' = w + rho g/||g||, g' at w', w_new = w - lr g'
    copy, _, _ = _model_and_batch(1)
    with torch.no_grad():
        for p, w in zip(copy.parameters(), reference, strict=True):
            p.copy_(w)
    grads = torch.autograd.grad(_loss(copy, x, y), list(copy.parameters()))
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    with torch.no_grad():
        for p, g in zip(copy.parameters(), grads, strict=True):
            p.add_(rho * g / norm)
    perturbed_grads = torch.autograd.grad(_loss(copy, x, y), list(copy.parameters()))
    for p, w, g in zip(model.parameters(), reference, perturbed_grads, strict=True):
        assert torch.allclose(p, w - lr * g, atol=1e-12)


def test_weight_decay_acts_as_in_base_optimizer():
    model, x, y = _model_and_batch(2)
    sam = SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.1, weight_decay=0.5)
    assert sam.base_optimizer.param_groups[0]["weight_decay"] == 0.5
    assert sam.param_groups is sam.base_optimizer.param_groups
    sam.param_groups[0]["lr"] = 0.01  # a scheduler on either object changes both
    assert sam.base_optimizer.param_groups[0]["lr"] == 0.01


def test_batch_norm_statistics_frozen_on_second_pass():
    bn = nn.BatchNorm1d(3)
    model = nn.Sequential(bn)
    model(torch.randn(8, 3) + 5)
    first = bn.running_mean.clone()
    disable_running_stats(model)
    model(torch.randn(8, 3) - 5)
    assert torch.equal(bn.running_mean, first)
    enable_running_stats(model)
    assert bn.momentum == 0.1
    model(torch.randn(8, 3) - 5)
    assert not torch.equal(bn.running_mean, first)


def test_state_dict_round_trip():
    model, x, y = _model_and_batch(3)
    sam = SAM(model.parameters(), torch.optim.SGD, rho=0.1, lr=0.1, momentum=0.9)
    _loss(model, x, y).backward()
    sam.first_step(zero_grad=True)
    _loss(model, x, y).backward()
    sam.second_step()
    state = sam.state_dict()
    other = SAM(model.parameters(), torch.optim.SGD, rho=0.1, lr=0.5, momentum=0.9)
    other.load_state_dict(state)
    assert other.param_groups[0]["lr"] == 0.1
    assert other.param_groups is other.base_optimizer.param_groups


def test_bad_arguments():
    model, _, _ = _model_and_batch()
    with pytest.raises(NeuralabError, match="rho must be > 0"):
        SAM(model.parameters(), torch.optim.SGD, rho=0.0, lr=0.1)
    sam = SAM(model.parameters(), torch.optim.SGD, lr=0.1)
    with pytest.raises(NeuralabError, match="closure"):
        sam.step()
