"""Batched training: K networks at once must end exactly where K sequential runs end."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from neuralab.playground.batched import StackedMLP, batch_key, train_batched
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.mlp import MLP
from neuralab.playground.plan import load_data, make_plan
from neuralab.playground.run import train_playground

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
