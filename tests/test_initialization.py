"""Initialization schemes: the variances of the docstring's table, measured on large layers."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.theory.initialization import (
    fan_in_fan_out,
    get_init_scheme,
    init_weights,
    list_init_schemes,
)


def test_fan_in_of_conv_and_linear():
    assert fan_in_fan_out(nn.Conv2d(3, 10, 5).weight) == (75, 250)
    assert fan_in_fan_out(nn.Linear(2880, 100).weight) == (2880, 100)
    assert fan_in_fan_out(nn.Conv2d(8, 8, 3, groups=4).weight) == (18, 72)


@pytest.mark.parametrize(
    ("scheme", "variance"),
    [
        ("he_normal", lambda i, o: 2 / i),
        ("he_uniform", lambda i, o: 2 / i),  # U(-b, b) has variance b^2 / 3 = 2 / fan_in
        ("xavier_uniform", lambda i, o: 2 / (i + o)),
        ("xavier_normal", lambda i, o: 2 / (i + o)),
        ("lecun", lambda i, o: 1 / i),
        ("small", lambda i, o: 0.01 / i),
        ("large", lambda i, o: 100 / i),
    ],
)
def test_weight_variance(scheme, variance):
    layer = nn.Linear(400, 300)
    init_weights(layer, scheme, generator=torch.Generator().manual_seed(0))
    expected = variance(400, 300)
    assert layer.weight.var().item() == pytest.approx(expected, rel=0.03)
    assert layer.weight.mean().item() == pytest.approx(0.0, abs=3 * math.sqrt(expected / 120000))


def test_zero_constant_and_bias():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    init_weights(model, "zeros", bias=0.01)
    assert all(torch.all(p == 0) for n, p in model.named_parameters() if n.endswith("weight"))
    assert all(torch.all(p == 0.01) for n, p in model.named_parameters() if n.endswith("bias"))
    init_weights(model, "constant", c=0.3)
    assert torch.all(model[0].weight == 0.3)


def test_orthogonal_rows():
    layer = nn.Linear(64, 16)
    init_weights(layer, "orthogonal", generator=torch.Generator().manual_seed(1))
    gram = layer.weight @ layer.weight.T
    assert torch.allclose(gram, torch.eye(16), atol=1e-5)


def test_names_and_errors():
    assert {"zeros", "he_normal", "xavier_uniform", "orthogonal", "small"} <= set(
        list_init_schemes()
    )
    assert get_init_scheme("kaiming").name == "he_normal"
    with pytest.raises(NeuralabError, match="unknown initialization scheme 'hee'"):
        get_init_scheme("hee")
    with pytest.raises(NeuralabError, match="takes no parameters"):
        get_init_scheme("he_normal", std=1.0)
