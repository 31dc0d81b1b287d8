"""Callbacks in train(): what they see, and a stop request that ends the run cleanly."""

from __future__ import annotations

import pytest

import train_configs
from neuralab.errors import NeuralabError
from neuralab.vision.callbacks import Callbacks, ProgressBar, StopTraining
from neuralab.vision.checkpoint import load_checkpoint
from neuralab.vision.train import train


def tiny(tmp_path, name="run", **changes):
    return train_configs.tiny(tmp_path, name, **{"epochs": 3, **changes})


class Recorder:
    def __init__(self, stop_after_epoch=None):
        self.events = []
        self.stop_after_epoch = stop_after_epoch

    def on_train_begin(self, state):
        self.events.append(("begin", state.epoch, state.batches))

    def on_batch_end(self, state):
        self.events.append(("batch", state.epoch, state.batch, state.step, state.images))

    def on_epoch_end(self, state):
        self.events.append(("epoch", state.epoch, state.row["val_acc"], len(state.history)))
        return state.epoch == self.stop_after_epoch

    def on_train_end(self, state):
        self.events.append(("end", state.result.best_epoch, state.result.stopped_by))


def test_callbacks_see_every_batch_and_epoch_in_order(tmp_path):
    recorder = Recorder()
    result = train(tiny(tmp_path, epochs=2), progress=False, report=False, callbacks=[recorder])
    batches = recorder.events[0][2]
    assert recorder.events[0] == ("begin", 1, 11)  # 1,293 training images / 128 = 11 batches
    first_epoch = [e for e in recorder.events if e[:2] == ("batch", 1)]
    assert [e[2] for e in first_epoch] == list(range(1, batches + 1))
    assert [e[3] for e in first_epoch] == list(range(1, batches + 1))  # one step per batch
    assert first_epoch[-1][4] == 1293
    epochs = [e for e in recorder.events if e[0] == "epoch"]
    assert [(e[1], e[3]) for e in epochs] == [(1, 1), (2, 2)]
    assert epochs[1][2] == result.history[1]["val_acc"]
    assert recorder.events[-1] == ("end", result.best_epoch, None)


def test_epoch_end_stop_request_finishes_with_checkpoint_and_report(tmp_path):
    recorder = Recorder(stop_after_epoch=1)
    result = train(tiny(tmp_path), progress=False, callbacks=[recorder])
    assert len(result.history) == 1 and result.stopped_by == "Recorder.on_epoch_end asked to stop"
    assert load_checkpoint(result.run_dir / "last.pt")["epoch"] == 1
    assert (result.run_dir / "report.md").is_file() and result.test["n"] == 360
    assert (
        "stopped after epoch 1: Recorder.on_epoch_end asked to stop"
        in (result.run_dir / "train.log").read_text()
    )
    assert recorder.events[-1] == ("end", 1, result.stopped_by)


def test_batch_end_stop_ends_the_epoch_there(tmp_path):
    class StopAtBatch3:
        def on_batch_end(self, state):
            if state.batch == 3:
                assert state.loss > 0  # the batch loss, read from the device
                raise StopTraining("enough for a demo")

    result = train(tiny(tmp_path), progress=False, report=False, callbacks=[StopAtBatch3()])
    assert result.stopped_by == "enough for a demo (after batch 3 of 11)"
    assert len(result.history) == 1
    checkpoint = load_checkpoint(result.run_dir / "last.pt")
    assert checkpoint["epoch"] == 1 and checkpoint["step"] == 3


def test_progress_bar_callback_runs(tmp_path, capsys):
    train(tiny(tmp_path, epochs=1), progress=False, report=False, callbacks=[ProgressBar(every=2)])
    err = capsys.readouterr().err
    assert "11/11" in err and "loss=" in err


def test_an_object_without_callback_methods_is_refused():
    with pytest.raises(NeuralabError, match="has none of the methods on_train_begin"):
        Callbacks([object()])
