"""One playground run: the loop against PyTorch by hand, diagnostics, divergence, plans, figures."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig, validate_config
from neuralab.playground.features import feature_matrix
from neuralab.playground.mlp import MLP
from neuralab.playground.plan import build_model, load_data, make_plan
from neuralab.playground.run import resolve_log_every, train_playground
from neuralab.playground.toy_data import ToyDataset, make_toy_data

SMALL = PlaygroundConfig(n=60, epochs=4, hidden=(4, 3))

ROW_KEYS = {
    "epoch",
    "steps",
    "examples",
    "train_loss",
    "test_loss",
    "train_acc",
    "test_acc",
    "grad_norm",
    "weight_norm",
    "dead_fraction",
    "saturated_fraction",
    "symmetric",
    "seconds",
}


def test_history_rows_and_schedule():
    result = train_playground(SMALL)
    history = result.history
    assert len(history) == SMALL.epochs + 1  # row 0 is the network at initialization
    assert set(history[0]) == ROW_KEYS
    assert [row["epoch"] for row in history] == list(range(5))
    # 30 training examples in batches of 10: 3 updates per epoch
    assert [row["steps"] for row in history] == [0, 3, 6, 9, 12]
    assert history[-1]["examples"] == 4 * 30
    assert len(history[1]["grad_norm"]) == 3 and len(history[1]["weight_norm"]) == 3
    assert len(history[1]["dead_fraction"]) == 2 and len(history[1]["symmetric"]) == 2
    assert result.stopped is None
    assert result.plan is not None and (result.plan.loss, result.plan.output) == ("bce", "sigmoid")


def test_full_batch_sgd_and_iterations():
    assert train_playground(replace(SMALL, batch_size=0)).final["steps"] == 4
    assert train_playground(replace(SMALL, batch_size=1, epochs=1)).final["steps"] == 30
    # 7 updates of 3 per epoch: 3 epochs, the last one partial
    result = train_playground(replace(SMALL, iterations=7))
    assert [row["steps"] for row in result.history] == [0, 3, 6, 7]
    assert result.final["examples"] == 2 * 30 + 10


def test_seed_makes_runs_exactly_repeatable():
    config = replace(SMALL, dropout=0.2, activation="relu")
    first, second = train_playground(config), train_playground(config)
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in first.history]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in second.history]
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(a, b)
    other = train_playground(replace(config, seed=1))
    assert other.final["train_loss"] != first.final["train_loss"]


@pytest.mark.parametrize(("l1", "l2"), [(0.0, 0.0), (0.0, 0.1), (0.05, 0.0)])
def test_one_gradient_step_equals_the_formula(l1, l2):
    # full-batch GD, one epoch: W <- W - eta (dL/dW + lambda_1 sign(W) + lambda_2 W),
    # b <- b - eta dL/db, computed here with autograd on a copy of the initial network
    config = replace(SMALL, batch_size=0, epochs=1, lr=0.5, l1=l1, l2=l2, loss="mse")
    data = load_data(config)
    plan = make_plan(config, data)
    initial = build_model(plan, config, torch.Generator().manual_seed(config.seed))
    x = feature_matrix(data.x_train, plan.features)
    target = 2.0 * data.y_train.float().unsqueeze(1) - 1  # tanh output, labels -1 / +1
    ((initial(x) - target) ** 2).mean().backward()
    result = train_playground(config)
    for before, after in zip(initial.layers(), result.model.layers(), strict=True):
        w = before.weight.detach()
        expected = w - 0.5 * (before.weight.grad + l1 * torch.sign(w) + l2 * w)
        assert torch.allclose(after.weight, expected, atol=1e-6)
        assert torch.allclose(after.bias, before.bias.detach() - 0.5 * before.bias.grad, atol=1e-6)


def test_learns_the_circle():
    config = PlaygroundConfig(n=200, epochs=20, hidden=(4,), lr=0.1, optimizer="adam")
    result = train_playground(config)
    assert result.final["test_acc"] >= 0.93
    assert result.final["train_loss"] < result.history[0]["train_loss"] / 2


def test_squared_features_make_the_circle_linear():
    # x1^2 + x2^2 < r^2 is a linear boundary in (x1^2, x2^2): no hidden layer is needed
    config = PlaygroundConfig(n=200, epochs=30, hidden=(), features=("x1^2", "x2^2"), lr=0.3)
    assert train_playground(config).final["test_acc"] == 1.0
    plain = train_playground(replace(config, features=("x1", "x2")))
    assert plain.final["test_acc"] < 0.8  # a line cannot separate a disc from a ring


def test_constant_init_never_breaks_symmetry():
    # every hidden unit starts identical, gets the same gradient and stays identical
    config = replace(SMALL, init="constant(0.3)", epochs=6, activation="tanh")
    result = train_playground(config)
    assert all(row["symmetric"] == [True, True] for row in result.history)
    assert result.final["train_loss"] != result.history[0]["train_loss"]  # it did learn
    broken = train_playground(replace(config, init="xavier"))
    assert broken.final["symmetric"] == [False, False]


def test_zero_init_relu_has_zero_weight_gradients_and_bias_001_revives():
    result = train_playground(replace(SMALL, init="zeros", activation="relu", epochs=2))
    assert result.history[0]["grad_norm"] == [0.0, 0.0, 0.0]
    assert result.final["dead_fraction"] == [1.0, 1.0]
    alive = train_playground(replace(SMALL, init="zeros", activation="relu", bias_init=0.01))
    assert alive.history[0]["dead_fraction"] == [0.0, 0.0]


def test_large_init_saturates_tanh():
    result = train_playground(replace(SMALL, init="large", epochs=1, hidden=(8,)))
    assert result.history[0]["saturated_fraction"][0] >= 0.75
    small = train_playground(replace(SMALL, init="small", epochs=1, hidden=(8,)))
    assert small.history[0]["saturated_fraction"][0] == 0.0


def test_divergence_stops_and_keeps_the_rows():
    config = PlaygroundConfig(
        data="plane", n=60, lr=50.0, epochs=50, hidden=(8,), activation="relu"
    )
    rows = []
    result = train_playground(config, on_epoch=rows.append)
    # lr 50 on (x + y)/10 targets: the first epoch's steps overflow the squared error
    assert result.stopped == "loss became infinite at epoch 1"
    assert result.final["epoch"] == 1 and result.final["train_loss"] == math.inf
    assert len(result.history) == 2 and math.isfinite(result.history[0]["train_loss"])
    assert rows == result.history  # on_epoch saw every recorded row


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("bce", "sigmoid", 1)),
        ({"loss": "mse"}, ("mse", "tanh", 1)),
        ({"output": "softmax"}, ("ce", "softmax", 2)),
        ({"data": "blobs"}, ("ce", "softmax", 3)),
        ({"data": "blobs", "classes": 4, "loss": "mse"}, ("mse", "softmax", 4)),
        ({"data": "plane"}, ("mse", "identity", 1)),
        ({"data": "curve"}, ("mse", "identity", 1)),
    ],
)
def test_auto_output_and_loss(changes, expected):
    config = replace(SMALL, **changes)
    plan = make_plan(config, load_data(config))
    assert (plan.loss, plan.output, plan.out_features) == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data": "plane", "loss": "bce"}, "regression"),
        ({"loss": "ce", "output": "tanh"}, "ce needs output softmax"),
        ({"loss": "bce", "output": "tanh"}, "bce needs output sigmoid"),
        ({"data": "blobs", "output": "sigmoid"}, "3 classes"),
        ({"data": "curve", "features": ("x1", "x2^2")}, "needs input x2"),
    ],
)
def test_inconsistent_plans_are_refused(changes, message):
    config = replace(SMALL, **changes)
    with pytest.raises(NeuralabError, match=message):
        make_plan(config, load_data(config))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data": "spirl"}, "unknown toy data set 'spirl'; did you mean 'spiral'"),
        ({"optimizer": "adamw"}, "unknown optimizer 'adamw'.*valid: adam, momentum, sgd"),
        ({"init": "hee"}, "unknown initialization scheme 'hee'"),
        ({"init": "he(2)"}, "only constant, normal, uniform, scaled take a value"),
        ({"activation": "rleu"}, "unknown activation 'rleu'"),
        ({"hidden": (8, 0)}, "not a positive integer"),
        ({"lr": 0.0}, "lr=0.0 must be > 0"),
        ({"batch_size": -1}, "batch_size=-1"),
        ({"features": ("x1", "cos_x1")}, "unknown feature 'cos_x1'"),
        ({"order": "random"}, "unknown order 'random'"),
        ({"seed": 10**30}, f"seed={10**30} must be an integer 0..{2**63 - 1}"),
        ({"seed": -1}, "seed=-1 must be an integer 0.."),
        ({"data_seed": 2**64}, "data_seed=18446744073709551616 must be"),
    ],
)
def test_bad_configs_name_the_bad_value(changes, message):
    with pytest.raises(NeuralabError, match=message):
        validate_config(replace(SMALL, **changes))


def test_explicit_data_and_parameterised_init():
    x = torch.tensor([[-2.0, 0.0], [-1.0, 0.5], [1.0, -0.5], [2.0, 0.0]])
    y = torch.tensor([0, 0, 1, 1])
    data = ToyDataset("line", "classification", x, y, x, y, num_classes=2, input_dim=2)
    config = PlaygroundConfig(hidden=(), epochs=40, lr=0.5, batch_size=0, init="normal(0.1)")
    result = train_playground(config, data=data)
    assert result.final["train_acc"] == 1.0  # logistic regression separates x1 < 0 from x1 > 0
    assert result.predict(torch.tensor([[3.0, 0.0]])).item() > 0.5
    assert isinstance(result.model, MLP) and result.model.hidden_sizes == ()


def test_log_every():
    assert resolve_log_every(PlaygroundConfig(epochs=500)) == 50
    assert resolve_log_every(PlaygroundConfig(epochs=5)) == 1
    assert resolve_log_every(PlaygroundConfig(log_every=7)) == 7


@pytest.mark.parametrize("name", ["circle", "blobs", "plane", "curve"])
def test_figures_render_for_every_kind_of_task(name, tmp_path):
    from neuralab.report.playground_figures import save_run_figures

    result = train_playground(replace(SMALL, data=name, epochs=2))
    paths = save_run_figures(result, tmp_path)
    assert sorted(paths) == ["boundary", "grad_norm", "loss"]
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sorted_order_without_shuffle_feeds_one_class_first():
    data = make_toy_data("circle", n=60, order="sorted")
    assert data.y_train.tolist() == sorted(data.y_train.tolist())
    config = replace(SMALL, order="sorted", shuffle=False, batch_size=1, epochs=1)
    assert train_playground(config).final["steps"] == 30
