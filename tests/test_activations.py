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
