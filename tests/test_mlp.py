"""The playground MLP, its objective and diagnostics: hand-checked values and PyTorch as judge."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.playground.features import feature_matrix, resolve_features, targets_of
from neuralab.playground.mlp import (
    MLP,
    accuracy_of,
    batch_loss,
    dead_fraction_of,
    diagnostics,
    layer_gradient_norms,
    layer_weight_norms,
    parse_activations,
    parse_hidden,
    penalty_of,
    saturated_fraction_of,
    symmetric_of,
)
from neuralab.theory.initialization import init_weights


def _set(layer: nn.Linear, weight: list[list[float]], bias: list[float]) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))


def test_forward_by_hand():
    # z1 = [1*1 + 2*(-1) + 0, 1*0.5 + 2*0.5 + 1] = [-1, 2.5]; a1 = relu = [0, 2.5]
    # y = sigmoid(2*0 + (-1)*2.5 + 0.5) = sigmoid(-2)
    model = MLP(2, (2,), 1, "relu", "sigmoid")
    _set(model.hidden_layers[0], [[1.0, -1.0], [0.5, 0.5]], [0.0, 1.0])
    _set(model.output_layer, [[2.0, -1.0]], [0.5])
    y, zs = model(torch.tensor([[1.0, 2.0]]), return_hidden=True)
    assert zs[0].tolist() == [[-1.0, 2.5]]
    assert y.item() == pytest.approx(1 / (1 + math.exp(2.0)))


def test_forward_equals_torch_sequential():
    torch.manual_seed(0)
    model = MLP(3, (5, 4), 2, "tanh,relu", "softmax")
    layers = model.layers()
    reference = nn.Sequential(
        layers[0], nn.Tanh(), layers[1], nn.ReLU(), layers[2], nn.Softmax(dim=-1)
    )
    x = torch.randn(7, 3)
    assert torch.allclose(model(x), reference(x))
    assert model.hidden_sizes == (5, 4)
    assert model.activation_names == ("tanh", "relu")


@pytest.mark.parametrize(
    ("text", "sizes"),
    [("8,8", (8, 8)), ("8x8", (8, 8)), ("4", (4,)), ("", ()), ((3, 2), (3, 2))],
)
def test_parse_hidden(text, sizes):
    assert parse_hidden(text) == sizes


@pytest.mark.parametrize("text", ["8,-1", "0", "a", "8.5", "8,two"])
def test_parse_hidden_refuses(text):
    with pytest.raises(NeuralabError, match="not a positive integer"):
        parse_hidden(text)


def test_parse_activations():
    assert parse_activations("relu", 3) == ("relu", "relu", "relu")
    assert parse_activations("relu, linear", 2) == ("relu", "identity")
    with pytest.raises(NeuralabError, match="3 hidden layers"):
        parse_activations("relu,tanh", 3)
    with pytest.raises(NeuralabError, match="did you mean 'relu'.*valid:"):
        parse_activations("rellu", 1)
    with pytest.raises(NeuralabError, match="output activation"):
        parse_activations("softmax", 1)


def test_dead_and_saturated_fractions_by_hand():
    # unit 0: z <= 0 on both inputs -> dead; unit 1 active once; unit 2 zero then 5: alive
    z = torch.tensor([[-1.0, 2.0, 0.0], [-3.0, -1.0, 5.0]])
    assert dead_fraction_of(z).item() == pytest.approx(1 / 3)
    # unit 0: |z| > 4 on 3 of 3 inputs -> saturated; unit 1 on 1 of 3 -> not
    z = torch.tensor([[5.0, 4.5], [-6.0, 0.5], [4.5, 0.0]])
    assert saturated_fraction_of(z).item() == pytest.approx(0.5)


def test_symmetry():
    same = torch.ones(3, 2) * 0.3
    assert bool(symmetric_of(same, torch.zeros(3)))
    assert not bool(symmetric_of(same, torch.tensor([0.0, 0.0, 1e-3])))
    assert not bool(symmetric_of(torch.ones(1, 2), torch.zeros(1)))  # one unit: not "symmetric"
    stacked = torch.stack([same, torch.randn(3, 2, generator=torch.Generator().manual_seed(0))])
    assert symmetric_of(stacked, torch.zeros(2, 3)).tolist() == [True, False]


def test_zero_init_relu_is_dead_symmetric_and_gets_zero_weight_gradients():
    # the course: with ReLU and all-zero weights, z = 0, relu'(0) = 0 and a = 0, so every
    # weight gradient is exactly zero; a bias of 0.01 keeps the units active
    model = init_weights(MLP(2, (4, 3), 1, "relu", "sigmoid"), "zeros")
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(1))
    found = diagnostics(model, x)
    assert found == {
        "dead_fraction": [1.0, 1.0],
        "saturated_fraction": [0.0, 0.0],
        "symmetric": [True, True],
    }
    t = torch.ones(20, 1)
    model(x).sub(t).pow(2).mean().backward()
    assert layer_gradient_norms(model) == [0.0, 0.0, 0.0]
    assert model.output_layer.bias.grad is not None and model.output_layer.bias.grad.abs() > 0
    init_weights(model, "zeros", bias=0.01)
    assert diagnostics(model, x)["dead_fraction"] == [0.0, 0.0]


def test_gradient_and_weight_norms_match_torch():
    torch.manual_seed(2)
    model = MLP(2, (3,), 1, "tanh", "identity")
    x = torch.randn(10, 2)
    model(x).pow(2).mean().backward()
    expected = [layer.weight.grad.norm().item() for layer in model.layers()]
    assert layer_gradient_norms(model) == pytest.approx(expected)
    assert layer_weight_norms(model) == pytest.approx(
        [m.weight.norm().item() for m in model.layers()]
    )


def test_losses_by_hand_and_against_torch():
    zero = torch.zeros(4, 1)
    # bce at logit 0: -log(1/2) = ln 2
    assert batch_loss(zero, torch.sigmoid(zero), torch.ones(4, 1), "bce").item() == pytest.approx(
        math.log(2)
    )
    # mse: ((0.5 - 1)^2 + (0 - 0)^2) / 2 = 0.125
    out = torch.tensor([[0.5], [0.0]])
    assert batch_loss(out, out, torch.tensor([[1.0], [0.0]]), "mse").item() == pytest.approx(0.125)
    # ce with equal logits over 3 classes: ln 3
    logits = torch.zeros(5, 3)
    assert batch_loss(logits, logits.softmax(-1), torch.tensor([0, 1, 2, 0, 1]), "ce").item() == (
        pytest.approx(math.log(3))
    )
    logits = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    target = torch.tensor([0, 3, 1, 1, 2, 0])
    reference = nn.functional.cross_entropy(logits, target)
    assert batch_loss(logits, logits.softmax(-1), target, "ce").item() == pytest.approx(
        reference.item()
    )
    # batched: one loss per model along the leading axis
    stacked = torch.stack([logits, 2 * logits])
    per_model = batch_loss(stacked, stacked.softmax(-1), torch.stack([target, target]), "ce")
    assert per_model.shape == (2,)
    assert per_model[0].item() == pytest.approx(reference.item())


def test_penalty_by_hand():
    w = torch.tensor([[1.0, -2.0], [3.0, 0.0]])
    assert penalty_of([w], 0.1, 0.0).item() == pytest.approx(0.6)  # 0.1 * (1 + 2 + 3)
    assert penalty_of([w], 0.0, 0.2).item() == pytest.approx(1.4)  # 0.2 / 2 * 14
    per_model = penalty_of([torch.stack([w, 2 * w])], torch.tensor([1.0, 1.0]), 0.0)
    assert per_model.tolist() == pytest.approx([6.0, 12.0])


def test_accuracy():
    output = torch.tensor([[0.9], [0.2], [0.6], [0.4]])
    assert accuracy_of(output, torch.tensor([1, 0, 0, 0]), 0.5).item() == pytest.approx(0.75)
    probabilities = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    assert accuracy_of(probabilities, torch.tensor([1, 2]), None).item() == pytest.approx(0.5)


def test_dropout_is_inverted_and_repeatable():
    model = MLP(2, (2000,), 1, "identity", "identity", dropout=0.25)
    init_weights(model, "constant", c=1.0)
    x = torch.ones(1, 2)
    model.train()
    model.generator = torch.Generator().manual_seed(0)
    first = model.trace(x)
    model.generator = torch.Generator().manual_seed(0)
    assert torch.equal(model.trace(x).logits, first.logits)
    # each kept unit carries 2 / 0.75; about 75 % are kept, so the mean is preserved
    assert first.logits.item() / 2000 == pytest.approx(2.0, rel=0.05)
    model.eval()
    assert model(x).item() == pytest.approx(4000.0)
    with pytest.raises(NeuralabError, match="dropout"):
        MLP(2, (3,), 1, dropout=1.0)


def test_features_by_hand():
    x = torch.tensor([[1.0, 2.0], [-3.0, 0.5]])
    names = resolve_features(["x1", "x2^2", "x1*x2", "sin(x1)"])
    assert names == ("x1", "x2^2", "x1x2", "sin_x1")
    expected = [[1.0, 4.0, 2.0, math.sin(1.0)], [-3.0, 0.25, -1.5, math.sin(-3.0)]]
    assert torch.allclose(feature_matrix(x, names), torch.tensor(expected))
    with pytest.raises(NeuralabError, match="needs input x2.*usable: x1, x1\\^2, sin_x1"):
        resolve_features(["x1", "x2"], input_dim=1)
    with pytest.raises(NeuralabError, match="unknown feature"):
        resolve_features(["x3"])
    with pytest.raises(NeuralabError, match="twice"):
        resolve_features(["x1", "x1"])


def test_targets_from_01_and_pm1_labels():
    for labels in (torch.tensor([0, 1, 1]), torch.tensor([-1.0, 1.0, 1.0])):
        target, classes = targets_of(labels, "binary_pm1", 2)
        assert target[:, 0].tolist() == [-1.0, 1.0, 1.0]
        assert classes is not None and classes.tolist() == [0, 1, 1]
    onehot, _ = targets_of(torch.tensor([2, 0]), "onehot", 3)
    assert onehot.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
