"""Comparison grids: axes parsed from the command line, cells over seeds, mean and std."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from neuralab.errors import NeuralabError
from neuralab.playground.compare import compare_grid
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.grid_axes import MAX_GRID_CELLS, grid_configs, parse_compare

BASE = PlaygroundConfig(n=60, epochs=6, hidden=(5, 3))


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
