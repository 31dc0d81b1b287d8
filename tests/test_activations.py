"""The activation table: each derivative against autograd, softmax stays finite."""

from __future__ import annotations

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.theory.activations import activation_module, get_activation, list_activations

SMOOTH_AWAY_FROM_ZERO = [n for n in list_activations() if n not in {"softmax"}]


@pytest.mark.parametrize("name", SMOOTH_AWAY_FROM_ZERO)
def test_derivative_matches_autograd(name):
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    x = x[x.abs() > 1e-9].requires_grad_(True)  # kinks at 0 are tested separately
    activation = get_activation(name)
    if name == "step":
        gradient = torch.zeros_like(x)  # (x > 0) has no autograd graph; its derivative is 0
    else:
        (gradient,) = torch.autograd.grad(activation(x).sum(), x)
    assert torch.allclose(activation.derivative(x.detach()), gradient, atol=1e-10)


def test_softmax_diagonal_derivative_and_finiteness():
    logits = torch.tensor([[1000.0, 999.0, 0.0]], dtype=torch.float64, requires_grad=True)
    softmax = get_activation("softmax")
    s = softmax(logits)
    assert torch.isfinite(s).all() and torch.all((s >= 0) & (s <= 1))
    assert s.sum().item() == pytest.approx(1.0)
    jacobian = torch.autograd.functional.jacobian(softmax.function, logits.detach())[0, :, 0, :]
    assert torch.allclose(softmax.derivative(logits.detach())[0], torch.diagonal(jacobian))


@pytest.mark.parametrize("name", list_activations())
def test_module_matches_function(name):
    x = torch.randn(4, 7, dtype=torch.float64)
    assert torch.allclose(activation_module(name).double()(x), get_activation(name)(x))


def test_parameters_and_unknown():
    assert get_activation("leaky_relu", a=0.2)(torch.tensor([-1.0])).item() == pytest.approx(-0.2)
    with pytest.raises(NeuralabError, match="did you mean 'relu'"):
        get_activation("rellu")
    with pytest.raises(NeuralabError, match="takes no parameters"):
        get_activation("relu", a=1.0)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "gelu"])
def test_derivative_at_zero_is_autograds_convention(name):
    # the table's f'(0) must be the value autograd uses there (relu'(0) = 0 in PyTorch)
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    activation = get_activation(name)
    (gradient,) = torch.autograd.grad(activation(x).sum(), x)
    assert activation.derivative(x.detach()).item() == gradient.item()
    (module_gradient,) = torch.autograd.grad(activation_module(name)(x).sum(), x)
    assert module_gradient.item() == gradient.item()


def test_relu_derivative_at_zero_is_zero_in_pytorch():
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    torch.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert get_activation("relu").derivative(torch.zeros(1)).item() == 0.0


def test_softmax_finite_for_huge_logits_in_open_interval():
    logits = torch.tensor([1000.0, 999.0, 998.0, -1000.0], dtype=torch.float64)
    s = get_activation("softmax")(logits)
    assert torch.isfinite(s).all()
    assert s.sum().item() == pytest.approx(1.0, abs=1e-15)
    assert s[:3].min() > 0 and s[:3].max() < 1  # strictly inside (0, 1) where representable
    # the naive formula overflows: e^1000 = inf, inf / inf = nan
    naive = torch.exp(logits) / torch.exp(logits).sum()
    assert torch.isnan(naive).any()
    # shift invariance: the same as for logits 2, 1, 0
    small = get_activation("softmax")(torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64))
    assert torch.allclose(s[:3], small, atol=1e-15)


def test_elementwise_flag():
    assert not get_activation("softmax").elementwise
    assert all(get_activation(n).elementwise for n in list_activations() if n != "softmax")
