"""The best epoch by the validation monitor, and early stopping: the two choices a run makes.

Both look at validation metrics alone (``val_acc`` or ``val_loss``); the test set never informs
them. Their state is saved in every checkpoint (``"best"``), so a resumed run chooses as an
uninterrupted one would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass
class BestEpoch:
    """The epoch with the best validation ``monitor`` so far (its weights are best.pt)."""

    monitor: str  # val_acc (higher is better) or val_loss (lower is better)
    epoch: int = 0  # 0: no epoch yet
    value: float | None = None  # the monitor's value at that epoch
    val_loss: float = math.inf  # its validation loss (breaks val_acc ties)

    def improved_by(self, row: dict[str, Any]) -> bool:
        """Return whether the epoch ``row`` beats the best one.

        A tie in val_acc (common on a small validation set) goes to the lower val_loss.
        """
        value = row[self.monitor]
        if self.value is None or math.isnan(self.value):
            return not math.isnan(value)
        if self.monitor == "val_loss":
            return bool(value < self.value)
        return bool(value > self.value or (value == self.value and row["val_loss"] < self.val_loss))

    def update(self, epoch: int, row: dict[str, Any]) -> bool:
        """Return whether ``row`` (of ``epoch``) is the new best, remembering it if so."""
        if not self.improved_by(row):
            return False
        self.epoch, self.value, self.val_loss = epoch, row[self.monitor], row["val_loss"]
        return True


@dataclass
class EarlyStopping:
    """Stops a run after ``patience`` epochs in a row without a better monitor (None: never)."""

    patience: int | None
    bad_epochs: int = 0  # epochs since the best one

    def update(self, improved: bool) -> None:
        """Count one more epoch, with or without an improvement."""
        self.bad_epochs = 0 if improved else self.bad_epochs + 1

    @property
    def stopped(self) -> bool:
        """Return whether the run should stop."""
        return self.patience is not None and self.bad_epochs >= self.patience


def selection_state(best: BestEpoch, stopping: EarlyStopping) -> dict[str, Any]:
    """Return the checkpoint's ``"best"``: ``{"epoch", "value", "val_loss", "bad_epochs"}``."""
    return {
        "epoch": best.epoch,
        "value": best.value,
        "val_loss": best.val_loss,
        "bad_epochs": stopping.bad_epochs,
    }


def restore_selection(
    state: dict[str, Any], monitor: str, patience: int | None
) -> tuple[BestEpoch, EarlyStopping]:
    """Return the best epoch and early stopping saved by :func:`selection_state`."""
    value = state.get("value")
    best = BestEpoch(
        monitor,
        epoch=int(state.get("epoch", 0)),
        value=None if value is None else float(value),
        val_loss=float(state.get("val_loss", math.inf)),
    )
    return best, EarlyStopping(patience, bad_epochs=int(state.get("bad_epochs", 0)))
