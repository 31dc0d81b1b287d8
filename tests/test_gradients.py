"""Symbolic gradients: the course's formulas, their values by hand, sympy and autograd as judges."""

from __future__ import annotations

import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.errors import NeuralabError
from neuralab.theory.gradients import TOLERANCE, gradient_report
from neuralab.theory.loss_names import GRADIENT_LOSSES

XOR_W1 = [[-1.0, 1.0], [1.0, -1.0]]
XOR_W2 = [[1.0, 1.0]]


def rows_by_weight(report):
    return {row.weight: row for row in report.rows}


ACTIVATIONS = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda z: z,
    "gelu": F.gelu,
    "elu": F.elu,
    "softplus": F.softplus,
    "leaky_relu": F.leaky_relu,
    "step": lambda z: (z > 0).double() + 0 * z,  # derivative 0 everywhere, as autograd's
}


def autograd_gradients(W1, W2, b1, b2, x, y, loss, activation):
    """Return dL/d(every weight) by PyTorch's autograd on the network written out here."""
    W1, W2, b1, b2 = (
        torch.as_tensor(t, dtype=torch.float64).clone().requires_grad_() for t in (W1, W2, b1, b2)
    )
    x = torch.as_tensor(x, dtype=torch.float64)
    o = W2 @ ACTIVATIONS[activation](W1 @ x + b1) + b2
    if loss == "mse":  # L = sum_k (o_k - y_k)^2
        value = ((o - torch.as_tensor(y, dtype=torch.float64)) ** 2).sum()
    elif loss == "bce":  # out = sigmoid(o)
        value = F.binary_cross_entropy(
            torch.sigmoid(o), torch.as_tensor(y, dtype=torch.float64), reduction="sum"
        )
    else:  # ce: out = softmax(o), y a class index
        value = -torch.log_softmax(o, 0)[y]
    value.backward()
    names = {}
    for prefix, tensor in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        for index, gradient in zip(
            torch.cartesian_prod(*(torch.arange(s) for s in tensor.shape)).reshape(
                tensor.numel(), -1
            ),
            tensor.grad.reshape(-1),
            strict=True,
        ):
            names[f"{prefix}_" + "".join(str(int(i) + 1) for i in index)] = float(gradient)
    return names


def test_course_example_formulas():
    report = gradient_report(XOR_W1, XOR_W2, [1, 0], [1], loss="mse", activation="relu")
    rows = rows_by_weight(report)
    assert rows["W2_11"].formula == "2(out - y) n1"
    assert rows["W1_11"].formula == "2(out - y) W2_11 sigma'(z1) x1"
    assert rows["W1_12"].formula == "2(out - y) W2_11 sigma'(z1) x2"
    assert rows["W1_21"].formula == "2(out - y) W2_12 sigma'(z2) x1"
    assert rows["W1_11"].chain == "dL/dout * dout/dn1 * dn1/dz1 * dz1/dW1_11"
    out, y, n1 = sympy.symbols("out y n1")
    assert sympy.simplify(rows["W2_11"].expression - 2 * (out - y) * n1) == 0
    # XOR(1, 0) = 1 is right: the loss and every gradient are 0
    assert report.out == (1.0,) and report.loss_value == 0.0
    assert all(row.value == 0.0 and row.match for row in report.rows)


def test_values_by_hand():
    # x = (1, 0), y = 0: z = (-1, 1), n = relu(z) = (0, 1), out = 1, L = (1 - 0)^2 = 1
    report = gradient_report(XOR_W1, XOR_W2, [1, 0], [0], loss="mse", activation="relu")
    assert report.z == (-1.0, 1.0) and report.n == (0.0, 1.0) and report.sigma_prime == (0.0, 1.0)
    assert report.loss_value == 1.0
    rows = rows_by_weight(report)
    assert rows["W2_11"].value == 0.0  # 2 (1 - 0) n1 = 0
    assert rows["W2_12"].value == 2.0  # 2 (1 - 0) n2 = 2
    assert rows["W1_21"].value == 2.0  # 2 (1 - 0) W2_12 relu'(1) x1 = 2
    assert rows["W1_11"].value == 0.0  # relu'(-1) = 0: no gradient through a dead unit
    assert rows["W1_22"].value == 0.0  # x2 = 0


def test_relu_at_zero_uses_autograds_convention():
    # x = (1, 1): z = (0, 0) exactly, relu'(0) = 0 in PyTorch, so the W1 gradients are 0 there
    report = gradient_report(XOR_W1, XOR_W2, [1, 1], [1], loss="mse", activation="relu")
    assert report.z == (0.0, 0.0) and report.sigma_prime == (0.0, 0.0)
    assert report.all_match


@pytest.mark.parametrize(
    "activation", ["relu", "sigmoid", "tanh", "identity", "gelu", "elu", "step"]
)
@pytest.mark.parametrize("loss", GRADIENT_LOSSES)  # every name the command offers
def test_agrees_with_autograd(activation, loss):
    generator = torch.Generator().manual_seed(7)
    outputs = 3 if loss == "ce" else 2
    W1 = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    W2 = torch.randn(outputs, 3, generator=generator, dtype=torch.float64)
    b1 = torch.randn(3, generator=generator, dtype=torch.float64)
    b2 = torch.randn(outputs, generator=generator, dtype=torch.float64)
    x = torch.randn(2, generator=generator, dtype=torch.float64)
    y = 2 if loss == "ce" else [1.0, 0.0]
    report = gradient_report(W1, W2, x, y, b1=b1, b2=b2, loss=loss, activation=activation)
    assert len(report.rows) == 6 + 3 * outputs + 3 + outputs
    reference = autograd_gradients(W1, W2, b1, b2, x, y, loss, activation)
    assert {row.weight: row.value for row in report.rows} == pytest.approx(reference, abs=1e-10)
    assert report.all_match, [(r.weight, r.value, r.autograd) for r in report.rows]
    assert report.max_difference <= TOLERANCE
    assert report.loss_value == pytest.approx(report.autograd_loss, abs=1e-12)


def test_output_errors_simplify_to_out_minus_y():
    out, y = sympy.symbols("out y")
    bce = rows_by_weight(gradient_report(XOR_W1, XOR_W2, [1, 0], [1], loss="bce"))
    assert bce["W2_11"].formula == "(out - y) n1"
    assert sympy.simplify(bce["W2_11"].expression - (out - y) * sympy.Symbol("n1")) == 0
    ce = rows_by_weight(gradient_report(XOR_W1, [[1, 1], [0, 1]], [1, 0], 0, loss="ce"))
    assert ce["W2_21"].formula == "(out2 - y2) n1"
    assert ce["W1_11"].formula == "((out1 - y1) W2_11 + (out2 - y2) W2_21) sigma'(z1) x1"


def test_chain_formula_equals_sympy_diff_of_the_whole_network():
    # substitute n = sigma(z), sigma'(z) = sigma(z)(1 - sigma(z)), out = W2 n into the chain-rule
    # formula: it must equal sympy's derivative of the loss written out in the weights
    x1, x2, y = sympy.symbols("x1 x2 y")
    W1 = sympy.Matrix(2, 2, sympy.symbols("W1_11 W1_12 W1_21 W1_22"))
    W2 = sympy.Matrix(1, 2, sympy.symbols("W2_11 W2_12"))
    z = W1 * sympy.Matrix([x1, x2])
    sigma = [1 / (1 + sympy.exp(-z[j])) for j in range(2)]
    out_expr = W2[0, 0] * sigma[0] + W2[0, 1] * sigma[1]
    loss = (out_expr - y) ** 2
    report = gradient_report(XOR_W1, XOR_W2, [1, 0], [0], loss="mse", activation="sigmoid")
    definitions = {sympy.Symbol("out"): out_expr}
    for j in range(2):
        definitions[sympy.Symbol(f"n{j + 1}")] = sigma[j]
        definitions[sympy.Symbol(f"sigma'(z{j + 1})")] = sigma[j] * (1 - sigma[j])
    point = {x1: 0.3, x2: -1.2, y: 0.7, **dict(zip(W1, [0.5, -0.4, 1.1, 0.2], strict=True))}
    point.update(dict(zip(W2, [-0.8, 1.3], strict=True)))
    for row in report.rows:
        weight = sympy.Symbol(row.weight)
        chain = row.expression.xreplace(definitions)
        whole = sympy.diff(loss, weight)
        assert float((chain - whole).subs(point)) == pytest.approx(0.0, abs=1e-12), row.weight


def test_errors():
    with pytest.raises(NeuralabError, match="W2 has shape 1x3; expected outputs x hidden = 1x2"):
        gradient_report(XOR_W1, [[1, 1, 1]], [1, 0], [1])
    with pytest.raises(NeuralabError, match="x has 3 entries; expected 2"):
        gradient_report(XOR_W1, XOR_W2, [1, 0, 1], [1])
    with pytest.raises(NeuralabError, match=r"unknown loss 'mae'.*valid: bce, ce, mse"):
        gradient_report(XOR_W1, XOR_W2, [1, 0], [1], loss="mae")
    with pytest.raises(NeuralabError, match="not elementwise"):
        gradient_report(XOR_W1, XOR_W2, [1, 0], [1], activation="softmax")
    with pytest.raises(NeuralabError, match="unknown activation"):
        gradient_report(XOR_W1, XOR_W2, [1, 0], [1], activation="rectifier")
    with pytest.raises(NeuralabError, match="at least 2 outputs"):
        gradient_report(XOR_W1, XOR_W2, [1, 0], [1], loss="ce")
    with pytest.raises(NeuralabError, match=r"\[0, 1\]"):
        gradient_report(XOR_W1, XOR_W2, [1, 0], [2], loss="bce")
    with pytest.raises(NeuralabError, match="y has 2 entries; expected 1"):
        gradient_report(XOR_W1, XOR_W2, [1, 0], [1, 0])
    with pytest.raises(NeuralabError, match="b1 has 1 entries; expected 2"):
        gradient_report(XOR_W1, XOR_W2, [1, 0], [1], b1=[0.0])


def test_wide_networks_name_entries_unambiguously_and_large_ones_are_refused():
    generator = torch.Generator().manual_seed(0)
    W1 = torch.randn(11, 1, generator=generator, dtype=torch.float64)
    W2 = torch.randn(1, 11, generator=generator, dtype=torch.float64)
    report = gradient_report(W1, W2, [0.5], [1.0], activation="tanh")
    names = [row.weight for row in report.rows]
    assert "W1_11,1" in names and "W2_1,11" in names and report.all_match
    with pytest.raises(NeuralabError, match="at most 400"):
        gradient_report(torch.ones(30, 20), torch.ones(1, 30), torch.ones(20), [1.0])


@settings(max_examples=25, deadline=None)
@given(
    hidden=st.integers(1, 3),
    inputs=st.integers(1, 3),
    activation=st.sampled_from(["relu", "sigmoid", "tanh", "softplus", "leaky_relu"]),
    loss=st.sampled_from(["mse", "bce"]),
    seed=st.integers(0, 10_000),
)
def test_random_networks_agree_with_autograd(hidden, inputs, activation, loss, seed):
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    target = torch.rand(1, generator=generator, dtype=torch.float64)
    W1, W2, x, b1, b2 = draw(hidden, inputs), draw(1, hidden), draw(inputs), draw(hidden), draw(1)
    report = gradient_report(W1, W2, x, target, b1=b1, b2=b2, loss=loss, activation=activation)
    assert report.all_match
    reference = autograd_gradients(W1, W2, b1, b2, x, target, loss, activation)
    assert {row.weight: row.value for row in report.rows} == pytest.approx(reference, abs=1e-10)
