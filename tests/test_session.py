"""The stepping engine: step by step equals train_playground bit for bit; grids, edits, live changes."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.features import feature_matrix
from neuralab.playground.run import train_playground
from neuralab.playground.session import PlaygroundSession, plot_extent

SMALL = PlaygroundConfig(n=60, epochs=4, hidden=(4, 3))  # 30 training examples, 3 steps an epoch


def _without_seconds(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"dropout": 0.3, "activation": "relu", "init": "he"},
        {"iterations": 7},
        {"shuffle": False, "order": "sorted", "batch_size": 7},
        {"optimizer": "adam", "l1": 0.01, "l2": 0.02, "dropout": 0.2},
        {"data": "blobs", "optimizer": "momentum", "batch_size": 0},
    ],
)
def test_stepping_one_update_at_a_time_equals_train_playground(changes):
    config = replace(SMALL, **changes)
    expected = train_playground(config)
    session = PlaygroundSession(config)
    rows = [session.history[0]]
    while not session.done:
        # looking at the network between updates must not change what it learns
        session.output_grid(8)
        session.neuron_grids(8)
        session.evaluate()
        session.weights()
        row = session.step()
        if row is not None:
            rows.append(row)
    result = session.result()
    assert rows == result.history
    assert _without_seconds(result.history) == _without_seconds(expected.history)
    for a, b in zip(result.model.parameters(), expected.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_step_returns_the_row_only_when_an_epoch_ends():
    session = PlaygroundSession(SMALL)
    assert session.epoch == 0 and len(session.history) == 1
    assert session.step() is None and session.step() is None
    row = session.step()  # the third update of 30 examples in batches of 10 ends epoch 1
    assert row is not None and (row["epoch"], row["steps"], row["examples"]) == (1, 3, 30)
    assert session.run_epoch()["epoch"] == 2
    session.run_epoch(), session.run_epoch()
    assert session.done
    with pytest.raises(NeuralabError, match="done after 4 epochs"):
        session.step()


def test_divergence_stops_the_session():
    config = PlaygroundConfig(
        data="plane", n=60, lr=50.0, epochs=50, hidden=(8,), activation="relu"
    )
    session = PlaygroundSession(config)
    while not session.done:
        session.run_epoch()
    assert session.stopped == train_playground(config).stopped
    assert session.stopped is not None and session.stopped.startswith("loss became")
    with pytest.raises(NeuralabError, match="loss became"):
        session.step()


def test_output_grid_is_the_network_on_an_image_of_the_plane():
    session = PlaygroundSession(SMALL)
    session.run_epoch()
    side = plot_extent(session.data)
    assert side == math.ceil(float(session.data.x_all.abs().max()) * 1.1)
    output = session.output_grid(5)
    assert output.shape == (1, 5, 5)
    # row 0 is the top of the picture (x2 = +side), column 0 its left edge (x1 = -side)
    corners = torch.tensor([[-side, side], [side, side], [-side, -side], [0.0, 0.0]])
    expected = session.result().predict(corners)[:, 0]
    found = torch.stack([output[0, 0, 0], output[0, 0, 4], output[0, 4, 0], output[0, 2, 2]])
    assert torch.allclose(found, expected, atol=1e-6)
    neurons = session.neuron_grids(5)
    assert [tuple(g.shape) for g in neurons] == [(4, 5, 5), (3, 5, 5)]
    first = session.model.layers()[0]
    x = feature_matrix(torch.tensor([[-side, side]]), session.plan.features)
    with torch.no_grad():
        a = torch.tanh(first(x))[0]  # the first hidden layer at the top-left corner
    assert torch.allclose(neurons[0][:, 0, 0], a, atol=1e-6)


def test_grids_on_one_dimensional_data_are_curves():
    session = PlaygroundSession(replace(SMALL, data="curve", hidden=(6,)))
    assert session.output_grid(20, extent=3.0).shape == (1, 20)
    assert session.neuron_grids(20, extent=3.0)[0].shape == (6, 20)
    with pytest.raises(NeuralabError, match="resolution=1"):
        session.output_grid(1)


def test_set_weight_and_bias_edit_the_network():
    session = PlaygroundSession(replace(SMALL, hidden=(2,)))
    before = session.output_grid(4).clone()
    session.set_weight(0, 1, 0, 2.5)  # from input x1 to hidden unit 1
    session.set_bias(1, 0, -0.75)  # the output unit's bias
    assert session.weights()[0][1][0] == 2.5 and session.biases()[1] == [-0.75]
    assert [len(w) for w in session.weights()] == [2, 1]  # W_1 (2, 2), W_out (1, 2)
    assert not torch.equal(session.output_grid(4), before)  # the cached grid was recomputed
    with pytest.raises(NeuralabError, match="layer 2 does not exist"):
        session.set_weight(2, 0, 0, 1.0)
    with pytest.raises(NeuralabError, match="input 2 does not exist in layer 0"):
        session.set_weight(0, 0, 2, 1.0)
    with pytest.raises(NeuralabError, match="finite"):
        session.set_bias(0, 0, float("nan"))


def test_live_learning_rate_and_penalty_act_from_the_next_step():
    # a change before the first update gives exactly the run configured that way
    session = PlaygroundSession(SMALL)
    session.update(lr=0.3, l2=0.01)
    while not session.done:
        session.step()
    expected = train_playground(replace(SMALL, lr=0.3, l2=0.01))
    history = _without_seconds(session.result().history)
    assert history[1:] == _without_seconds(expected.history)[1:]


def test_live_batch_size_waits_for_the_next_epoch_and_epochs_stop_at_once():
    session = PlaygroundSession(SMALL)
    session.step()
    session.update(batch_size=5, epochs=2)
    first = session.run_epoch()
    assert (first["steps"], first["examples"]) == (3, 30)  # this epoch kept batches of 10
    second = session.run_epoch()
    assert (second["steps"], second["examples"]) == (9, 60)  # then 6 batches of 5
    assert session.done and session.plan.batch_size == 5


def test_settings_that_need_a_new_session_are_refused():
    session = PlaygroundSession(SMALL)
    with pytest.raises(NeuralabError, match="activation cannot change while training"):
        session.update(activation="relu")
    with pytest.raises(NeuralabError, match="lr=0.0 must be > 0"):
        session.update(lr=0.0)
    assert session.config.lr == SMALL.lr and session.optimizer.lr[0] == SMALL.lr


def test_a_target_test_loss_stops_at_the_end_of_the_epoch_that_reaches_it():
    free = train_playground(replace(SMALL, epochs=30)).history
    target = free[12]["test_loss"] + 1e-9  # reached first at some epoch <= 12
    first = next(row["epoch"] for row in free if row["test_loss"] <= target)
    stopped = train_playground(replace(SMALL, epochs=30, target_loss=target)).history
    assert stopped[-1]["epoch"] == first and stopped[-1]["test_loss"] <= target
    assert _without_seconds(stopped) == _without_seconds(free[: first + 1])
    session = PlaygroundSession(replace(SMALL, epochs=30))
    session.update(target_loss=1e-9)  # live: a target that is not reached changes nothing
    assert not session.done
    with pytest.raises(NeuralabError, match="target_loss=-1"):
        replace(SMALL, target_loss=-1.0)


def test_one_thread_computes_the_same_numbers():
    # the browser's server trains on one thread (much faster for tiny matrices); the CLI may not
    config = replace(SMALL, n=500, hidden=(4, 4), epochs=3, dropout=0.1)
    before = torch.get_num_threads()
    histories = []
    try:
        for threads in (2, 1):
            torch.set_num_threads(threads)
            histories.append(_without_seconds(train_playground(config).history))
    finally:
        torch.set_num_threads(before)
    assert histories[0] == histories[1]
