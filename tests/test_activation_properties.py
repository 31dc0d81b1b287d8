"""Measured activation properties: the values a person knows by heart, and autograd's conventions."""

from __future__ import annotations

import math

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.theory.activation_properties import (
    activation_properties,
    autograd_derivative,
    properties_rows,
    properties_table,
    scalar_view,
)
from neuralab.theory.activations import list_activations


@pytest.fixture(scope="module")
def table():
    return {p.name: p for p in properties_table()}


def test_every_activation_has_a_row(table):
    assert sorted(table) == list_activations()
    rows = properties_rows(list(table.values()))
    assert {r["name"] for r in rows} == set(list_activations())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sigmoid", "(0, 1)"),
        ("tanh", "(-1, 1)"),
        ("relu", "[0, inf)"),
        ("leaky_relu", "(-inf, inf)"),
        ("identity", "(-inf, inf)"),
        ("elu", "(-1, inf)"),
        ("softplus", "(0, inf)"),
        ("step", "[0, 1]"),
        ("softmax", "(0, 1)"),
    ],
)
def test_output_range(table, name, expected):
    assert table[name].output_range == expected


def test_gelu_minimum_is_attained(table):
    gelu = table["gelu"]
    # x Phi(x) has its minimum near x = -0.75: about -0.17, attained, so the interval is closed
    assert gelu.low_attained and gelu.low == pytest.approx(-0.17, abs=1e-3)
    assert gelu.output_range.startswith("[-0.17")
    assert not gelu.monotonic


def test_zero_centred(table):
    assert table["tanh"].zero_centred and table["identity"].zero_centred
    assert not table["sigmoid"].zero_centred
    assert table["sigmoid"].mean_output == pytest.approx(0.5, abs=1e-12)  # sigma(x) + sigma(-x) = 1
    assert not table["relu"].zero_centred


def test_derivatives_at_zero_and_five(table):
    assert table["sigmoid"].derivative_at_0 == pytest.approx(0.25)
    assert table["tanh"].derivative_at_0 == pytest.approx(1.0)
    assert table["relu"].derivative_at_0 == 0.0  # autograd's choice at the kink
    sigmoid_5 = math.exp(-5) / (1 + math.exp(-5)) ** 2
    assert table["sigmoid"].derivative_at_plus_5 == pytest.approx(sigmoid_5, rel=1e-12)
    assert table["sigmoid"].derivative_at_plus_5 < 0.01  # sigmoid saturates at 5
    assert table["sigmoid"].saturates == "both"
    assert table["tanh"].saturates == "both"
    assert table["relu"].saturates == "negative"
    assert table["identity"].saturates == "no"
    assert table["leaky_relu"].saturates == "no"  # f'(-5) = 0.01 is not below 0.01


def test_nonlinearity(table):
    assert not table["identity"].nonlinear
    assert table["identity"].max_additivity_gap < 1e-12  # only rounding of (a + b) - a - b
    assert all(table[n].nonlinear for n in list_activations() if n != "identity")


def test_differentiability_and_autograd_convention(table):
    relu = table["relu"]
    assert not relu.differentiable
    assert relu.kinks == (0.0,)
    assert relu.kink_left[0] == pytest.approx(0.0) and relu.kink_right[0] == pytest.approx(1.0)
    # the convention the table states is what autograd really does at 0
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.relu(x).backward()
    assert relu.kink_autograd == (x.grad.item(),) == (0.0,)
    assert "autograd uses f'(0) = 0" in relu.autograd_convention
    assert table["leaky_relu"].kinks == (0.0,)
    assert table["leaky_relu"].kink_autograd[0] == pytest.approx(0.01)
    assert "jumps at 0" in table["step"].autograd_convention
    smooth = ["sigmoid", "tanh", "identity", "elu", "gelu", "softplus", "softmax"]
    assert all(table[n].differentiable and table[n].autograd_convention == "" for n in smooth)


def test_softmax_scalar_view_is_one_output_against_two_zero_logits():
    f, derivative = scalar_view("softmax")
    x = torch.tensor([-3.0, 0.0, 2.5], dtype=torch.float64)
    expected = torch.exp(x) / (torch.exp(x) + 2)
    assert torch.allclose(f(x), expected)
    assert torch.allclose(derivative(x), autograd_derivative(f, x))


def test_autograd_derivative_of_step_is_zero():
    f, _ = scalar_view("step")
    assert autograd_derivative(f, torch.tensor([-1.0, 0.0, 1.0])).tolist() == [0.0, 0.0, 0.0]


def test_unknown_name():
    with pytest.raises(NeuralabError, match="unknown activation 'sigmod'.*did you mean 'sigmoid'"):
        activation_properties("sigmod")
