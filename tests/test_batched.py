"""Batched training: K networks at once must end exactly where K sequential runs end."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.playground.batched import (
    MAX_GRID_CELLS,
    StackedMLP,
    batch_key,
    compare_grid,
    grid_configs,
    parse_compare,
    train_batched,
)
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.mlp import MLP
from neuralab.playground.run import load_data, make_plan, train_playground

BASE = PlaygroundConfig(n=60, epochs=6, hidden=(5, 3))


def _assert_same_run(sequential, batched):
    assert len(sequential.history) == len(batched.history)
    assert sequential.stopped == batched.stopped
    for a, b in zip(sequential.history, batched.history, strict=True):
        assert a["steps"] == b["steps"] and a["epoch"] == b["epoch"]
        for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
            if a[key] is None:
                assert b[key] is None
            else:
                assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-6, nan_ok=True)
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-3, abs=1e-6, nan_ok=True)
        assert b["weight_norm"] == pytest.approx(a["weight_norm"], rel=1e-4, nan_ok=True)
        for key in ("dead_fraction", "saturated_fraction", "symmetric"):
            assert a[key] == b[key], key
    for p, q in zip(sequential.model.parameters(), batched.model.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-5, equal_nan=True)


MIXED = [
    replace(BASE, init="he", activation="relu", seed=1),
    replace(BASE, init="xavier", activation="tanh", lr=0.1),
    replace(BASE, init="small", activation="sigmoid", seed=3, l1=0.001, l2=0.01),
    replace(BASE, init="zeros", activation="relu", bias_init=0.01),
    replace(BASE, init="constant(0.2)", activation="tanh"),
    replace(BASE, activation="relu,tanh", dropout=0.3, seed=5),
    replace(BASE, activation="sigmoid", data="xor", noise=20, seed=2),  # other data, same shape
    replace(BASE, activation="relu", init="large", lr=3.0, data="plane"),  # diverges
]


def test_batched_equals_sequential_per_config():
    batched = train_batched(MIXED)
    groups = {r.extra["group"] for r in batched[:-1]}
    assert len(groups) == 1 and batched[0].extra["batched"] == len(MIXED) - 1
    for config, result in zip(MIXED, batched, strict=True):
        assert result.config is config  # results come back in the order given
        _assert_same_run(train_playground(config), result)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_batched_optimizers_equal_sequential(optimizer):
    configs = [
        replace(BASE, optimizer=optimizer, lr=0.05, momentum=0.5, activation="relu"),
        replace(BASE, optimizer=optimizer, lr=0.01, seed=4, batch_size=0, activation="tanh"),
        replace(BASE, optimizer=optimizer, lr=0.02, seed=4, batch_size=0, l2=0.1),
    ]
    batched = train_batched(configs)
    assert [r.extra["batched"] for r in batched] == [1, 2, 2]  # batch size splits the groups
    for config, result in zip(configs, batched, strict=True):
        _assert_same_run(train_playground(config), result)


def test_no_hidden_layer_and_regression_batch_too():
    configs = [
        replace(BASE, hidden=(), features=("x1^2", "x2^2"), lr=0.3),
        replace(BASE, hidden=(), features=("x1^2", "x2^2"), lr=0.1, seed=2),
        replace(BASE, data="curve", hidden=(6,), lr=0.05),
    ]
    for config, result in zip(configs, train_batched(configs), strict=True):
        _assert_same_run(train_playground(config), result)


def test_batch_key_separates_shapes_and_schedules():
    data = load_data(BASE)

    def key(**changes):
        config = replace(BASE, **changes)
        return batch_key(config, make_plan(config, data))

    assert key(init="he", lr=0.5, seed=3, activation="relu", l2=0.1) == key()
    for changes in ({"hidden": (5,)}, {"batch_size": 1}, {"epochs": 3}, {"optimizer": "adam"}):
        assert key(**changes) != key()


def test_stacked_forward_equals_each_network():
    torch.manual_seed(0)
    models = [MLP(2, (4, 3), 1, act, "sigmoid") for act in ("relu", "relu", "tanh")]
    stacked = StackedMLP(models, torch.device("cpu"))
    x = torch.randn(3, 7, 2)
    zs, logits, output = stacked.forward(x)
    for k, model in enumerate(models):
        trace = model.trace(x[k])
        assert torch.allclose(logits[k], trace.logits, atol=1e-6)
        assert torch.allclose(zs[1][k], trace.pre_activations[1], atol=1e-6)
        assert torch.allclose(output[k], trace.output, atol=1e-6)


def test_parse_compare_converts_values():
    axes = parse_compare(["init=zeros,he", "hidden=4,8+8,2x2", "lr=0.1,1", "features=x1+x2,x1^2"])
    assert axes == [
        ("init", ["zeros", "he"]),
        ("hidden", [(4,), (8, 8), (2, 2)]),
        ("lr", [0.1, 1.0]),
        ("features", [("x1", "x2"), ("x1^2",)]),
    ]
    assert parse_compare(["batch-size=0,1"]) == [("batch_size", [0, 1])]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["inti=he"], "unknown field to compare 'inti'; did you mean 'init'"),
        (["init"], "not of the form field=value"),
        (["init=he,"], "empty value"),
        (["lr=fast"], "not a number"),
        (["init=he", "init=zeros"], "twice"),
    ],
)
def test_parse_compare_refuses(specs, message):
    with pytest.raises(NeuralabError, match=message):
        parse_compare(specs)


def test_grid_limits():
    nine = [str(v) for v in range(1, 10)]
    axes = parse_compare(["lr=" + ",".join(nine), "seed=" + ",".join(nine[:8])])
    with pytest.raises(NeuralabError, match=f"9 x 8 = 72 cells; at most {MAX_GRID_CELLS}"):
        grid_configs(BASE, axes)
    with pytest.raises(NeuralabError, match="seeds=0"):
        grid_configs(BASE, [], seeds=0)


def test_grid_seeds_vary_training_not_data():
    grid = grid_configs(BASE, parse_compare(["init=he,zeros"]), seeds=3)
    assert [settings for settings, _ in grid] == [{"init": "he"}, {"init": "zeros"}]
    runs = grid[0][1]
    assert [c.seed for c in runs] == [0, 1, 2]
    assert {c.data_seed for c in runs} == {0}


def test_compare_grid_statistics():
    axes = parse_compare(["init=zeros,xavier", "activation=relu,tanh"])
    grid = compare_grid(replace(BASE, epochs=3), axes, seeds=2)
    assert grid.groups == 1  # all eight networks share one shape: one batched model
    assert [cell.label for cell in grid.cells] == [
        "init=zeros, activation=relu",
        "init=zeros, activation=tanh",
        "init=xavier, activation=relu",
        "init=xavier, activation=tanh",
    ]
    for cell in grid.cells:
        losses = [r.final["test_loss"] for r in cell.results]
        assert cell.mean["test_loss"] == pytest.approx(statistics.fmean(losses))
        assert cell.std["test_loss"] == pytest.approx(statistics.stdev(losses))
    zero_relu = grid.cells[0]
    assert zero_relu.mean["dead_fraction"] == 1.0  # z = 0 everywhere: every ReLU is dead
    rows = grid.rows()
    assert rows[0]["init"] == "zeros" and rows[0]["diverged"] == 0
    assert set(rows[0]) >= {"train_loss", "train_loss_std", "test_acc", "test_acc_std"}
