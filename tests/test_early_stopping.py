"""The best epoch and early stopping: validation only, ties to the lower loss, kept in checkpoints."""

from __future__ import annotations

import math

from neuralab.vision.early_stopping import (
    BestEpoch,
    EarlyStopping,
    restore_selection,
    selection_state,
)


def test_val_acc_ties_go_to_the_lower_val_loss():
    best = BestEpoch("val_acc", epoch=1, value=0.9, val_loss=0.3)
    assert best.improved_by({"val_acc": 0.9, "val_loss": 0.2})
    assert not best.improved_by({"val_acc": 0.9, "val_loss": 0.4})
    assert not best.improved_by({"val_acc": 0.8, "val_loss": 0.1})
    assert BestEpoch("val_loss", epoch=1, value=0.3).improved_by({"val_acc": 0.1, "val_loss": 0.1})
    assert BestEpoch("val_acc").improved_by({"val_acc": 0.0, "val_loss": 9.0})  # the first epoch
    assert not BestEpoch("val_acc").improved_by({"val_acc": math.nan, "val_loss": math.nan})
    assert best.update(2, {"val_acc": 0.95, "val_loss": 0.5}) and (best.epoch, best.value) == (
        2,
        0.95,
    )


def test_early_stopping_counts_epochs_without_improvement_and_survives_a_checkpoint():
    best, stopping = BestEpoch("val_loss"), EarlyStopping(patience=2)
    for epoch, loss in enumerate([0.5, 0.4, 0.45, 0.41], start=1):
        stopping.update(best.update(epoch, {"val_acc": 0.0, "val_loss": loss}))
    assert (best.epoch, best.value, stopping.bad_epochs, stopping.stopped) == (2, 0.4, 2, True)
    saved = selection_state(best, stopping)
    assert saved == {"epoch": 2, "value": 0.4, "val_loss": 0.4, "bad_epochs": 2}
    assert restore_selection(saved, "val_loss", 2) == (best, stopping)
    assert not EarlyStopping(patience=None, bad_epochs=100).stopped
