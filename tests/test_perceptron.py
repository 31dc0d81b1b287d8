"""The perceptron against a naive loop and scikit-learn; step networks: scaling, sigmoid limit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.errors import NeuralabError
from neuralab.theory.perceptron import (
    Perceptron,
    boolean_dataset,
    load_csv_dataset,
    repeated_state,
)
from neuralab.theory.step_network import (
    StepNetwork,
    hyperplane_input,
    scale_demo,
    sigmoid_limit,
    xor_step_network,
)


def naive_perceptron(X, y, lr, epochs):
    """The course's rule written out: y_hat = 1 if w.x + b > 0 else 0; w += lr (y - y_hat) x."""
    w = [0.0] * len(X[0])
    b = 0.0
    for _ in range(epochs):
        mistakes = 0
        for x, target in zip(X, y, strict=True):
            a = sum(wi * xi for wi, xi in zip(w, x, strict=True)) + b
            y_hat = 1 if a > 0 else 0
            if y_hat != target:
                w = [wi + lr * (target - y_hat) * xi for wi, xi in zip(w, x, strict=True)]
                b += lr * (target - y_hat)
                mistakes += 1
        if mistakes == 0:
            break
    return w, b


def sklearn_rule(X, y, lr, epochs):
    """scikit-learn's rule: labels -1/+1, update whenever y (w.x + b) <= 0 (a tie counts)."""
    w = np.zeros(X.shape[1])
    b = 0.0
    signs = np.where(y == 1, 1.0, -1.0)
    for _ in range(epochs):
        for x, s in zip(X, signs, strict=True):
            if s * (x @ w + b) <= 0:
                w = w + lr * s * x
                b += lr * s
    return w, b


def separable_data(seed=0, n=60, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ np.array([1.0, -2.0, 0.5])[:d] + 0.3 > 0).astype(float)
    first_positive = int(np.argmax(y == 1))
    X[[0, first_positive]] = X[[first_positive, 0]]
    y[[0, first_positive]] = y[[first_positive, 0]]
    return X, y


@pytest.mark.parametrize("name", ["and", "or", "nand", "xor"])
@pytest.mark.parametrize("lr", [1.0, 0.5])
def test_matches_naive_loop_on_boolean_functions(name, lr):
    X, y = boolean_dataset(name)
    model = Perceptron(lr=lr, max_iter=30).fit(X, y)
    w, b = naive_perceptron(X.tolist(), y.tolist(), lr, 30)
    assert model.coef_.tolist() == [w]
    assert model.intercept_.tolist() == [b]


def test_and_by_hand():
    # epoch 1 on (0,0)->0, (0,1)->0, (1,0)->0, (1,1)->1 from w = 0, b = 0:
    # only (1,1) is a mistake (a = 0, step(0) = 0): w = (1, 1), b = 1
    X, y = boolean_dataset("and")
    model = Perceptron(max_iter=1).fit(X, y)
    assert model.history_[0].coef == (1.0, 1.0)
    assert model.history_[0].intercept == 1.0
    assert model.history_[0].mistakes == 1
    full = Perceptron().fit(X, y)
    assert full.converged_ and full.history_[-1].mistakes == 0
    assert full.predict(X).tolist() == [0, 0, 0, 1]
    assert full.score(X, y) == 1.0


def test_xor_never_converges():
    X, y = boolean_dataset("xor")
    model = Perceptron(max_iter=200).fit(X, y)
    assert not model.converged_
    assert model.n_iter_ == 200
    assert all(r.mistakes > 0 for r in model.history_)
    assert model.score(X, y) < 1.0
    # without shuffling the same w, b start the same epoch again: the rule cycles
    assert repeated_state(model.history_) == (2, 3)
    assert repeated_state(Perceptron().fit(*boolean_dataset("and")).history_) is None


@pytest.fixture(scope="module")
def SklearnPerceptron():
    # imported here: scikit-learn takes seconds to import, only these tests need it
    from sklearn.linear_model import Perceptron

    return Perceptron


def test_identical_to_sklearn_when_no_sample_lies_on_the_boundary(SklearnPerceptron):
    # Conventions differ in one place only: scikit-learn (labels -1/+1, hinge with threshold 0)
    # updates when y (w.x + b) <= 0, so a label-0 sample with w.x + b = 0 exactly is a mistake
    # there, while step(0) = 0 makes it correct here. With real-valued data such ties happen only
    # at the start (w = 0, b = 0), so the first sample is taken from class 1: then every update
    # is the same, w += (y - y_hat) x equals w += y_pm x, and the weights are identical.
    X, y = separable_data()
    ours = Perceptron(lr=1.0, max_iter=25, early_stop=False).fit(X, y)
    theirs = SklearnPerceptron(
        eta0=1.0, alpha=0.0, penalty=None, shuffle=False, tol=None, max_iter=25
    ).fit(X, y)
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_sklearn_treats_a_tie_as_a_mistake(SklearnPerceptron):
    # On AND (integer data) ties w.x + b = 0 happen; scikit-learn then follows its own rule.
    X, y = boolean_dataset("and")
    theirs = SklearnPerceptron(
        eta0=1.0, alpha=0.0, penalty=None, shuffle=False, tol=None, max_iter=10
    ).fit(X, y)
    w, b = sklearn_rule(X, y, 1.0, 10)
    np.testing.assert_array_equal(theirs.coef_[0], w)
    assert theirs.intercept_[0] == b
    assert (w.tolist(), b) == ([3.0, 2.0], -4.0)  # ties count as mistakes: more updates
    ours = Perceptron(max_iter=10).fit(X, y)
    assert (ours.coef_.tolist(), ours.intercept_.tolist()) == ([[2.0, 1.0]], [-2.0])
    assert ours.score(X, y) == theirs.score(X, y) == 1.0  # both separate AND


def test_shuffle_is_reproducible_and_changes_the_order():
    X, y = separable_data(seed=1)
    a = Perceptron(shuffle=True, random_state=3, max_iter=5, early_stop=False).fit(X, y)
    b = Perceptron(shuffle=True, random_state=3, max_iter=5, early_stop=False).fit(X, y)
    c = Perceptron(shuffle=False, max_iter=5, early_stop=False).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_other_label_names():
    X, y = boolean_dataset("or")
    labels = np.where(y == 1, "yes", "no")
    model = Perceptron().fit(X, labels)
    assert model.classes_.tolist() == ["no", "yes"]
    assert model.predict(X).tolist() == labels.tolist()


def test_bad_input():
    with pytest.raises(NeuralabError, match="two classes"):
        Perceptron().fit([[0.0], [1.0], [2.0]], [0, 1, 2])
    with pytest.raises(NeuralabError, match="3 samples but y has 2"):
        Perceptron().fit([[0.0], [1.0], [2.0]], [0, 1])
    with pytest.raises(NeuralabError, match="one class only"):
        Perceptron().fit([[0.0], [1.0]], [1, 1])
    with pytest.raises(NeuralabError, match="unknown data set 'xr'"):
        boolean_dataset("xr")


def test_csv_dataset(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,1\n")
    X, y = load_csv_dataset(path)
    assert X.shape == (4, 2) and y.tolist() == [0, 1, 1, 1]
    bad = tmp_path / "bad.csv"
    bad.write_text("0,0,0\n0,one,1\n")
    with pytest.raises(NeuralabError, match="row 2"):
        load_csv_dataset(bad)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(NeuralabError, match="not a readable CSV"):
        load_csv_dataset(binary)


def test_step_network_computes_xor():
    network = xor_step_network()
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    assert network.forward(X)[:, 0].tolist() == [0.0, 1.0, 1.0, 0.0]


def test_step_network_shape_errors():
    with pytest.raises(NeuralabError, match="expected 1x2"):
        StepNetwork([([[1.0, 1.0], [1.0, 1.0]], None), ([[1.0, 1.0, 1.0]], None)])
    with pytest.raises(NeuralabError, match="b1 has 3 entries"):
        StepNetwork([([[1.0, 1.0], [1.0, 1.0]], [0.0, 0.0, 0.0])])


def test_scale_demo_positive_c_changes_nothing():
    network = xor_step_network()
    demo = scale_demo(network, (-1.0, 0.0, 0.5, 3.0, 1000.0), n_inputs=500, seed=1)
    changed = {row.c: row.changed for row in demo.rows}
    assert changed[0.5] == changed[3.0] == changed[1000.0] == 0
    assert changed[0.0] > 0 and changed[-1.0] > 0
    # c = 0: every unit outputs step(0) = 0, so exactly the outputs that were 1 change
    x = torch.randn(500, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert changed[0.0] == int(network.forward(x).sum())


def test_hyperplane_input_is_exactly_on_the_line():
    network = xor_step_network()
    x = hyperplane_input(network, 0)
    assert x.tolist() == [0.25, 0.25]
    W, b = network.layers[0]
    assert float(W[0] @ x + b[0]) == 0.0


def test_sigmoid_limit():
    result = sigmoid_limit(xor_step_network(), (1.0, 10.0, 100.0, 1000.0))
    differences = [row.max_difference for row in result.rows]
    assert differences == sorted(differences, reverse=True)
    assert differences[-1] < 1e-100
    # the corners have margin 0.5, so the difference is at most sigma(-c / 2) per unit chain
    assert result.margin == 0.5
    assert result.boundary_input == (0.25, 0.25)
    assert result.boundary_unit == (1, 1) and result.boundary_pre_activation == 0.0
    assert all(row.boundary_unit_output == 0.5 for row in result.rows)
    assert result.rows[-1].boundary_difference == 0.5  # the limit fails there


def test_sigmoid_limit_needs_a_boundary_input():
    with pytest.raises(NeuralabError, match="no input lies on a hyperplane"):
        sigmoid_limit(xor_step_network(), inputs=torch.tensor([[0.0, 0.0]]))


def test_hyperplane_input_for_weights_that_are_not_binary_fractions():
    # 0.1 and 0.3 are not exact in binary; the point found must still give w . x + b == 0.0
    network = StepNetwork([([[0.1, 0.3]], [0.7])])
    x = hyperplane_input(network)
    assert float(network.pre_activations(x.unsqueeze(0))[0][0, 0]) == 0.0
    result = sigmoid_limit(network, (1.0, 1e6))
    assert [row.boundary_unit_output for row in result.rows] == [0.5, 0.5]
    with pytest.raises(NeuralabError, match="all-zero weights"):
        hyperplane_input(StepNetwork([([[0.0, 0.0]], [1.0])]))


def test_converges_on_separable_data():
    X, y = separable_data(seed=2)
    model = Perceptron(max_iter=1000).fit(X, y)
    assert model.converged_ and model.history_[-1].mistakes == 0
    assert model.score(X, y) == 1.0


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    c=st.floats(1e-3, 1e3, allow_nan=False),
    hidden=st.integers(1, 4),
)
def test_positive_scaling_never_changes_a_step_network(seed, c, hidden):
    generator = torch.Generator().manual_seed(seed)
    network = StepNetwork(
        [
            (torch.randn(hidden, 3, generator=generator), torch.randn(hidden, generator=generator)),
            (torch.randn(2, hidden, generator=generator), torch.randn(2, generator=generator)),
        ]
    )
    assert scale_demo(network, (c,), n_inputs=50, seed=seed).rows[0].changed == 0
