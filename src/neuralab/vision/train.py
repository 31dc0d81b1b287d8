"""``train(config)``: the whole run, wired together, epoch by epoch, into a run directory.

Data (uint8 on the device, a grouped validation split carved from the training set) -> model ->
optimiser (SAM around it if asked) -> per epoch: train, evaluate on validation and test, one
table row, ``metrics.csv``/``metrics.jsonl``, ``last.pt`` (and ``best.pt`` when the validation
metric improved). The test set is only evaluated and reported: ``best.pt`` and early stopping
look at the validation metric alone. At the end: figures and ``report.md`` of the best model.

A run interrupted after epoch k continues with ``train(overrides, resume=RUN_DIR)`` (the CLI's
``--resume RUN_DIR``) and, on the CPU with the same seed, ends with the same metrics and the same
weights, bit for bit, as a run that was never interrupted.

Started by torchrun, the same function runs in every process (:mod:`neuralab.vision.distributed`):
``batch_size`` is the global batch, each rank trains on its shard, the table's numbers are
all-reduced, and rank 0 alone prints and writes the run directory.

``callbacks`` (:mod:`.callbacks`) see the run as it goes and may stop it; so do the writers of
``log_to`` (:mod:`.loggers`, rank 0 only). The recipe options come from :mod:`.recipe`.
"""

from __future__ import annotations

import dataclasses
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from neuralab.atomic import WriteError, remove_temporaries
from neuralab.report.run_report import EpochTable
from neuralab.rundir import RunDirectory
from neuralab.vision.callbacks import Callbacks, TrainState
from neuralab.vision.checkpoint import (
    checkpoint_to_resume,
)
from neuralab.vision.config import TrainConfig, check_names, model_label
from neuralab.vision.distributed import (
    join_process_group,
    per_rank_batch_size,
    restarted_with_checkpoint,
)
from neuralab.vision.early_stopping import (
    BestEpoch,
    EarlyStopping,
)
from neuralab.vision.engine import NonFiniteLossError
from neuralab.vision.fit import prepare_fit
from neuralab.vision.loggers import loggers_for
from neuralab.vision.progress import epoch_progress
from neuralab.vision.recipe import deterministic_algorithms
from neuralab.vision.resolve import resolve_train_config
from neuralab.vision.run import build_run
from neuralab.vision.sync_batchnorm import convert_sync_batchnorm
from neuralab.vision.train_end import PeerLostError, finish_run, stopped_run_error


@dataclass
class TrainResult:
    """What a run produced: the per-epoch rows, the best epoch by validation, its test metrics."""

    run_dir: Path  # where everything was written
    history: list[dict[str, Any]]  # one row per epoch (the metrics.csv columns)
    best_epoch: int  # epoch with the best validation metric (the weights in best.pt)
    best_value: float  # that validation metric's value
    monitor: str  # val_acc or val_loss
    test: dict[str, Any] = field(default_factory=dict)  # loss, acc, n of best.pt on the test set
    stopped_early: bool = False  # early stopping ended the run before config.epochs
    stopped_by: str | None = None  # why a callback stopped the run (None: it did not)
    figures: list[Path] = field(default_factory=list)  # the figures written


def train(
    config: TrainConfig | Mapping[str, Any] | None = None,
    *,
    resume: bool | str | os.PathLike[str] = False,
    progress: bool = True,
    console: Console | None = None,
    report: bool = True,
    callbacks: Sequence[Any] = (),
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    overwrite: bool = False,
) -> TrainResult:
    """Run the training described by ``config`` and return a :class:`TrainResult`.

    ``config`` is a TrainConfig or a mapping of fields over the defaults. ``resume=RUN_DIR``
    continues that run from its ``last.pt`` as ``neuralab train --resume RUN_DIR`` does (a
    mapping is merged over the saved config); ``resume=True`` continues ``config.run_dir``. Only
    ``epochs``, ``device``, ``sync_bn`` and the logging fields may differ from the saved config. Everything printed goes to
    ``console`` (stdout by default) and to ``train.log``; ``report`` writes figures/ and
    report.md at the end (sweeps of many runs may leave them out). ``callbacks``: objects with
    ``on_train_begin`` / ``on_batch_end`` / ``on_epoch_end`` / ``on_train_end`` methods
    (:mod:`neuralab.vision.callbacks`); returning True or raising ``StopTraining`` stops the run.
    ``on_epoch(row)``, the shortest callback, is called with each epoch's metrics row once it is
    saved (benchmarks interleave a baseline there).
    A new run refuses a run
    directory that already holds something, unless ``overwrite`` (its old files are removed).
    A file that cannot be written during training (a full disk) stops the run with one line
    naming the last good checkpoint, which stays loadable.

    Under torchrun every process calls this (:mod:`neuralab.vision.distributed`); rank 0 returns
    the full result, the other ranks one with an empty history and no test.
    """
    config, resuming = resolve_train_config(config, resume)
    with deterministic_algorithms(config.deterministic):
        epoch_rows = [_EpochRows(on_epoch)] if on_epoch is not None else []
        return _train(
            config, resuming, progress, console, report, [*callbacks, *epoch_rows], overwrite
        )


class _EpochRows:
    """The callback behind ``train(on_epoch=...)``: each epoch's metrics row to a function."""

    def __init__(self, function: Callable[[dict[str, Any]], None]) -> None:
        self.function = function

    def on_epoch_end(self, state: Any) -> None:
        self.function(state.row)


def _train(
    config: TrainConfig,
    resume: bool,
    progress: bool,
    console: Console | None,
    report: bool,
    callbacks: Sequence[Any],
    overwrite: bool = False,
) -> TrainResult:
    """Run the training of the resolved ``config`` (see :func:`train`)."""
    config, resuming = resolve_train_config(config, resume)
    check_names(config)
    # one process, or one of torchrun's W: rank 0 prints and writes the run directory
    ranks = join_process_group(config.device)
    config = dataclasses.replace(config, run_dir=ranks.broadcast(config.run_dir))  # rank 0's
    per_rank_batch_size(config.batch_size, ranks.world_size)  # a batch that does not divide: out
    console = (console or Console(highlight=False)) if ranks.is_main else Console(quiet=True)
    device, run_dir = ranks.device, Path(str(config.run_dir))
    resuming = resuming or restarted_with_checkpoint(ranks, run_dir)
    # a restarted attempt that died before its first checkpoint replaces its own first try
    overwrite = overwrite or (ranks.restart > 0 and not resuming)
    checkpoint = checkpoint_to_resume(run_dir, config, resuming, overwrite=overwrite)

    # data, model, optimiser, schedule
    seed_everything(config.seed)
    with ranks.main_first():  # rank 0 downloads and caches the data, then the others read it
        run = build_run(config, device)
    if config.sync_bn and ranks.active:
        run.model = convert_sync_batchnorm(run.model)
    fit = prepare_fit(config, run, ranks)
    hooks = Callbacks([*(loggers_for(config) if ranks.is_main else []), *callbacks])

    directory = None  # rank 0 alone writes
    if ranks.is_main and checkpoint is None:  # every input checked: claimed, config first
        directory = RunDirectory.create(run_dir, config, overwrite=overwrite)
    elif ranks.is_main:
        directory = RunDirectory(run_dir)
        remove_temporaries(run_dir)  # what a writer killed mid-checkpoint left
    best, stopping = BestEpoch(config.monitor), EarlyStopping(config.patience)
    start_epoch, step = 1, 0
    if checkpoint is not None:  # every rank reads it
        best, stopping = fit.restore(checkpoint, run_dir / "last.pt")
        start_epoch, step = int(checkpoint["epoch"]) + 1, int(checkpoint["step"])
        if directory is not None:
            directory.truncate_metrics(int(checkpoint["epoch"]))
            directory.write_config(config)
    table = EpochTable(console, directory)
    if checkpoint is None:
        assert run.data is not None
        processes = f" x {ranks.world_size} processes" if ranks.active else ""
        table.say(
            f"training {model_label(config)} on {config.data}: {run.data.sizes()} on "
            f"{device}{processes}; run directory {run_dir}"
        )
    else:
        table.say(f"resuming {run_dir} after epoch {start_epoch - 1} of {config.epochs}")
    table.header()
    rows = directory.rows if directory is not None else []
    for row in rows:
        table.row(row)
    model = ranks.wrap(run.model)  # DDP: gradients all-reduced during backward
    batches = len(fit.train_loader)
    state = TrainState(config, run_dir, run.model, fit.optimizer, start_epoch, 0, batches)
    state = hooks.begin(dataclasses.replace(state, step=step, history=rows, say=table.say))

    epoch = start_epoch
    try:
        while epoch <= config.epochs and not stopping.stopped and hooks.stop_reason is None:
            state.epoch, state.row = epoch, None
            ranks.seed_epoch(config.seed, epoch)  # dropout masks differ between ranks
            bar_shown = progress and ranks.is_main
            with epoch_progress(bar_shown, epoch, config.epochs, batches) as bar:
                trained = fit.train_epoch(model, epoch, step, bar, hooks.batch_end(state))
            step = trained["steps"]
            val, test = fit.evaluate_epoch()
            row = epoch_row(epoch, trained, val, test)
            better = best.update(epoch, row)
            stopping.update(better)
            if directory is not None:
                # metrics first, then the checkpoint: a crash between them is undone by resume
                directory.append_metrics(row)
                for name in ("best.pt", "last.pt") if better else ("last.pt",):
                    fit.save(run_dir / name, epoch, step, best, stopping)
            table.row(row)
            state.row, state.step = row, step
            hooks.call("on_epoch_end", state)
            if trained["stopped"] and hooks.stop_reason is not None:
                hooks.stop_reason += f" (after batch {state.batch} of {batches})"
            epoch += 1
    except (NonFiniteLossError, torch.OutOfMemoryError, KeyboardInterrupt, WriteError) as error:
        raise stopped_run_error(error, table, run, epoch) from None
    except RuntimeError as error:
        lost = ranks.lost_peer(error)  # another rank died: the job goes down, not a bug here
        if lost is None:
            raise
        raise stopped_run_error(PeerLostError(lost), table, run, epoch) from None

    if stopping.stopped and epoch <= config.epochs:
        table.say(
            f"early stopping: {config.monitor} has not improved for {config.patience} epochs "
            f"(best {best.value:.4f} at epoch {best.epoch})"
        )
    if hooks.stop_reason is not None:
        table.say(f"stopped after epoch {epoch - 1}: {hooks.stop_reason}")
    history = list(directory.rows) if directory is not None else []  # other ranks: none
    result = _result(run_dir, history, best, config, stopping.stopped)
    if directory is not None:  # rank 0 tests best.pt and reports
        finish_run(result, run, directory, table, report)
    result.stopped_by = hooks.stop_reason
    state.result = result
    hooks.call("on_train_end", state)
    return result


def epoch_row(
    epoch: int,
    trained: dict[str, Any],
    val: dict[str, Any],
    test: dict[str, Any] | None,
) -> dict[str, Any]:
    """Return the metrics.csv row of one epoch (test columns None when the test set is off)."""
    return {
        "epoch": epoch,
        "train_loss": trained["loss"],
        "train_acc": trained["acc"],
        "val_loss": val["loss"],
        "val_acc": val["acc"],
        "test_loss": test["loss"] if test else None,
        "test_acc": test["acc"] if test else None,
        "lr": trained["lr"],
        "seconds": trained["seconds"],
        "images_per_s": trained["images_per_s"],
    }


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and Python's ``random`` with ``seed``."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def _result(
    run_dir: Path,
    history: list[dict[str, Any]],
    best: BestEpoch,
    config: TrainConfig,
    stopped_early: bool,
) -> TrainResult:
    """Return the result of a run before its test (rank 0 then evaluates best.pt)."""
    return TrainResult(
        run_dir=run_dir,
        history=history,
        best_epoch=best.epoch,
        best_value=float("nan") if best.value is None else best.value,
        monitor=config.monitor,
        stopped_early=stopped_early,
    )
