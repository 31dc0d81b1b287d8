"""Callbacks: code of yours that ``train(config, callbacks=[...])`` calls as the run goes.

A callback is any object with some of the methods ``on_train_begin``, ``on_batch_end``,
``on_epoch_end`` and ``on_train_end``; each receives the run's :class:`TrainState`. To stop the
run, return ``True`` from one of them or raise :class:`StopTraining`: the epoch in progress
ends there (its row and ``last.pt`` are written, over the batches it trained on), then the run
finishes as any run does, with ``best.pt`` tested and ``report.md`` written. An example, which
stops once the validation accuracy reaches 90 %::

    class StopAt90:
        def on_epoch_end(self, state):
            return state.row["val_acc"] >= 0.90

:class:`ProgressBar` is a callback too: a live bar (``tqdm.auto``: a widget in a notebook, text
in a terminal). The TensorBoard and MLflow writers of ``log_to`` are callbacks
(:mod:`neuralab.vision.loggers`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from neuralab.vision.config import TrainConfig

EVENTS = ("on_train_begin", "on_batch_end", "on_epoch_end", "on_train_end")
# what the training loop calls after each batch: (batches_done, images_done, steps_done,
# the batch's mean loss on the device) -> True to end the epoch there
BatchEndCallback = Callable[[int, int, int, Tensor], bool]


class StopTraining(Exception):  # noqa: N818 (a request, not an error)
    """Raised by a callback to end the run cleanly; ``reason`` goes to the log."""

    def __init__(self, reason: str = "a callback asked to stop") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class TrainState:
    """Where a run stands, as callbacks see it (updated in place as the run goes)."""

    config: TrainConfig
    run_dir: Path
    model: nn.Module  # the model being trained (not the EMA copy)
    optimizer: torch.optim.Optimizer
    epoch: int = 0  # the epoch in progress (1-based); at on_epoch_end the one that just ended
    batch: int = 0  # batches done in this epoch
    batches: int = 0  # batches per epoch
    step: int = 0  # optimiser steps since the run began
    images: int = 0  # training images seen in this epoch
    row: dict[str, Any] | None = None  # at on_epoch_end: the epoch's metrics.csv row
    history: list[dict[str, Any]] = field(default_factory=list)  # every row so far
    result: Any = None  # at on_train_end: the TrainResult
    batch_loss: Tensor | None = None  # the last batch's mean loss, on the device
    say: Callable[[str], None] = print  # prints a line to the run's console and train.log

    @property
    def epochs(self) -> int:
        """Return the number of epochs the run is configured for."""
        return self.config.epochs

    @property
    def loss(self) -> float:
        """Return the last batch's mean training loss (reading it waits for the device)."""
        return float("nan") if self.batch_loss is None else float(self.batch_loss)


class Callbacks:
    """The callbacks of one run, called in order; collects the first stop request."""

    def __init__(self, callbacks: Sequence[Any] = ()) -> None:
        for callback in callbacks:
            if not any(callable(getattr(callback, event, None)) for event in EVENTS):
                from neuralab.errors import NeuralabError

                raise NeuralabError(
                    f"callback {callback!r} has none of the methods {', '.join(EVENTS)}"
                )
        self.callbacks = list(callbacks)
        self.stop_reason: str | None = None

    def __bool__(self) -> bool:
        return bool(self.callbacks)

    def wants(self, event: str) -> bool:
        """Return whether any callback has a method for ``event``."""
        return any(callable(getattr(c, event, None)) for c in self.callbacks)

    def begin(self, state: TrainState) -> TrainState:
        """Return ``state`` after calling ``on_train_begin`` with it."""
        self.call("on_train_begin", state)
        return state

    def batch_end(self, state: TrainState) -> BatchEndCallback | None:
        """Return what the training loop calls after each batch (None: nobody listens)."""
        if not self.wants("on_batch_end"):
            return None

        def batch_end(done: int, images: int, steps: int, loss: Tensor) -> bool:
            state.batch, state.images, state.step, state.batch_loss = done, images, steps, loss
            return self.call("on_batch_end", state)

        return batch_end

    def call(self, event: str, state: TrainState) -> bool:
        """Call ``event`` on every callback; return whether one of them asked to stop."""
        for callback in self.callbacks:
            method = getattr(callback, event, None)
            if not callable(method):
                continue
            try:
                stop = method(state)
            except StopTraining as request:
                stop, reason = True, request.reason
            else:
                reason = f"{type(callback).__name__}.{event} asked to stop"
            if stop is True and self.stop_reason is None:
                self.stop_reason = reason
        return self.stop_reason is not None


class ProgressBar:
    """A live progress bar over all batches of the run, with the loss and the last epoch's row.

    ``tqdm.auto`` draws a widget in Jupyter and a text bar elsewhere; the loss shown is read
    every ``every`` batches (each read waits for the device).
    """

    def __init__(self, every: int = 10) -> None:
        self.every = max(1, every)
        self.bar: Any = None

    def on_train_begin(self, state: TrainState) -> None:
        import warnings

        with warnings.catch_warnings():
            # a notebook without ipywidgets gets the text bar; tqdm's warning says only that
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

            done = (state.epoch - 1) * state.batches
            self.bar = tqdm(total=state.epochs * state.batches, initial=done, unit="batch")

    def on_batch_end(self, state: TrainState) -> None:
        if self.bar is None:
            return
        self.bar.n = (state.epoch - 1) * state.batches + state.batch
        if state.batch % self.every == 0 or state.batch == state.batches:
            self.bar.set_description(f"epoch {state.epoch}/{state.epochs}")
            self.bar.set_postfix(loss=f"{state.loss:.4f}", refresh=False)
            self.bar.refresh()

    def on_epoch_end(self, state: TrainState) -> None:
        if self.bar is not None and state.row is not None:
            self.bar.set_postfix(
                val_acc=f"{100 * state.row['val_acc']:.2f} %", val_CE=f"{state.row['val_loss']:.4f}"
            )

    def on_train_end(self, state: TrainState) -> None:
        if self.bar is not None:
            self.bar.close()
