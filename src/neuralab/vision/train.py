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

import contextlib
import dataclasses
import math
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
from neuralab.config import config_to_dict
from neuralab.errors import NeuralabError
from neuralab.report.run_report import EpochTable
from neuralab.rundir import RunDirectory
from neuralab.vision.batch_norm_statistics import recalibrate_batch_norm
from neuralab.vision.callbacks import Callbacks, TrainState
from neuralab.vision.checkpoint import (
    checkpoint_to_resume,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
    set_rng_states,
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
    restore_selection,
    selection_state,
)
from neuralab.vision.ema import WeightEMA
from neuralab.vision.engine import (
    NonFiniteLossError,
    evaluate,
    fitting_batch_size,
    train_one_epoch,
)
from neuralab.vision.loggers import loggers_for
from neuralab.vision.optimizer import build_optimizer
from neuralab.vision.progress import epoch_progress
from neuralab.vision.recipe import batch_mixing, deterministic_algorithms
from neuralab.vision.resolve import resolve_train_config
from neuralab.vision.run import Run, build_run, uses_amp
from neuralab.vision.sam import SAM
from neuralab.vision.schedules import make_schedule, set_base_lr
from neuralab.vision.sync_batchnorm import convert_sync_batchnorm


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
    # the generator draws on the device the batches live on; MPS keeps it on the CPU. Every
    # rank seeds it alike: same permutation, same augmentation, each takes its shard
    generator = torch.Generator(device=device if device.type == "cuda" else "cpu")
    generator.manual_seed(config.seed)
    train_loader = run.loader(
        "train", batch_size=config.batch_size, generator=generator, shard=ranks.shard
    )
    eval_batch_size = max(config.batch_size, 256)  # no gradients: larger batches fit
    val_loader = run.loader("val", batch_size=eval_batch_size, shard=ranks.shard)
    test_loader = run.loader("test", batch_size=eval_batch_size, shard=ranks.shard)
    # precise BN: training images in order, unaugmented, in training's batch size
    statistics_loader = run.loader("train", batch_size=config.batch_size, shard=ranks.shard)
    optimizer = build_optimizer(config, run.model)
    hooks = Callbacks([*(loggers_for(config) if ranks.is_main else []), *callbacks])
    ema = WeightEMA(run.model, config.ema_decay) if config.ema_decay else None
    evaluated = ema.model if ema is not None else run.model  # the weights the table reports
    mixing = batch_mixing(config, len(run.inputs.classes), generator, ranks.rank)
    steps_per_epoch = math.ceil(len(train_loader) / config.accumulate_steps)
    schedule = make_schedule(
        config.schedule,
        config.epochs * steps_per_epoch,
        warmup_steps=round(config.warmup * steps_per_epoch),
    )
    set_base_lr(optimizer.base_optimizer if isinstance(optimizer, SAM) else optimizer)
    amp = uses_amp(config, device)

    directory = None  # rank 0 alone writes
    if ranks.is_main and checkpoint is None:  # every input checked: claimed, config first
        directory = RunDirectory.create(run_dir, config, overwrite=overwrite)
    elif ranks.is_main:
        directory = RunDirectory(run_dir)
        remove_temporaries(run_dir)  # what a writer killed mid-checkpoint left
    best, stopping = BestEpoch(config.monitor), EarlyStopping(config.patience)
    start_epoch, step = 1, 0
    if checkpoint is not None:  # every rank reads it
        if ema is not None:
            checkpoint = ema.resume_from(checkpoint, path=str(run_dir / "last.pt"))
        load_model_state(run.model, checkpoint, path=str(run_dir / "last.pt"))
        optimizer.load_state_dict(checkpoint["optimizer"])
        set_rng_states(checkpoint["rng"], generator)
        best, stopping = restore_selection(checkpoint["best"], config.monitor, config.patience)
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
    for row in directory.rows if directory is not None else []:
        table.row(row)
    model = ranks.wrap(run.model)  # DDP: gradients all-reduced during backward
    rows = directory.rows if directory is not None else []
    state = TrainState(config, run_dir, run.model, optimizer, start_epoch, 0, len(train_loader))
    state = hooks.begin(dataclasses.replace(state, step=step, history=rows, say=table.say))

    epoch = start_epoch
    try:
        while epoch <= config.epochs and not stopping.stopped and hooks.stop_reason is None:
            state.epoch, state.row = epoch, None
            ranks.seed_epoch(config.seed, epoch)  # dropout masks differ between ranks
            bar_shown = progress and ranks.is_main
            with epoch_progress(bar_shown, epoch, config.epochs, len(train_loader)) as bar:
                trained = train_one_epoch(
                    model,
                    optimizer,
                    train_loader,
                    epoch=epoch,
                    device=device,
                    step=step,
                    lr_schedule=schedule,
                    label_smoothing=config.label_smoothing,
                    grad_clip=config.grad_clip,
                    amp=amp,
                    progress=bar,
                    ranks=ranks,
                    global_batch_sizes=train_loader.global_batch_sizes(),
                    mixing=mixing,
                    accumulate_steps=config.accumulate_steps,
                    after_step=(lambda: ema.update(run.model)) if ema is not None else None,
                    on_batch_end=hooks.batch_end(state),
                )
            step = trained["steps"]
            if config.bn_recalibrate:
                recalibrate_batch_norm(evaluated, statistics_loader, config.bn_recalibrate, ranks)
            ranks.broadcast_buffers(evaluated)  # evaluate the model rank 0 saves
            val = evaluate(evaluated, val_loader, device=device, amp=amp, ranks=ranks)
            # the test set is reported, never used; sweeps switch it off entirely
            test = (
                evaluate(evaluated, test_loader, device=device, amp=amp, ranks=ranks)
                if config.evaluate_test
                else None
            )
            row = epoch_row(epoch, trained, val, test)
            better = best.update(epoch, row)
            stopping.update(better)
            if directory is not None:
                # metrics first, then the checkpoint: a crash between them is undone by resume
                directory.append_metrics(row)
                for name in ("best.pt", "last.pt") if better else ("last.pt",):
                    save_checkpoint(
                        run_dir / name,
                        model=evaluated,
                        optimizer=optimizer,
                        epoch=epoch,
                        step=step,
                        config=config_to_dict(config),
                        best=selection_state(best, stopping),
                        extra=run.inputs.to_dict(),
                        loader_generator=generator,
                        **(ema.checkpoint_entries(run.model) if ema is not None else {}),
                    )
            table.row(row)
            state.row, state.step = row, step
            hooks.call("on_epoch_end", state)
            if trained["stopped"] and hooks.stop_reason is not None:
                hooks.stop_reason += f" (after batch {state.batch} of {len(train_loader)})"
            epoch += 1
    except (NonFiniteLossError, torch.OutOfMemoryError, KeyboardInterrupt, WriteError) as error:
        raise _stop(error, table, run, epoch) from None

    if stopping.stopped and epoch <= config.epochs:
        table.say(
            f"early stopping: {config.monitor} has not improved for {config.patience} epochs "
            f"(best {best.value:.4f} at epoch {best.epoch})"
        )
    if hooks.stop_reason is not None:
        table.say(f"stopped after epoch {epoch - 1}: {hooks.stop_reason}")
    result = _result(run_dir, [], best, config, stopping.stopped)  # other ranks: this
    if directory is not None:  # rank 0 tests best.pt and reports
        result = _finish(run, directory, table, best, stopping.stopped, report)
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


def _stop(error: BaseException, table: EpochTable, run: Run, epoch: int) -> BaseException:
    """Return what to raise for a run stopped during ``epoch``, after logging why."""
    config = run.config
    last = Path(str(config.run_dir)) / "last.pt"
    if isinstance(error, KeyboardInterrupt):
        table.say(
            f"interrupted during epoch {epoch}; epoch {epoch - 1} is saved in {last}. "
            f"Continue with: neuralab train --resume {config.run_dir}"
            if epoch > 1
            else f"interrupted during epoch {epoch}; no epoch completed, nothing to resume"
        )
        return error
    if isinstance(error, WriteError):
        message = f"{error}; last good checkpoint: {_last_good(last)}"
        with contextlib.suppress(WriteError):  # the log may be on the full disk too
            table.log_only(f"error: {message}")
        return NeuralabError(message)
    if isinstance(error, NonFiniteLossError):
        kept = f"{last} (epoch {epoch - 1})" if epoch > 1 else "none (first epoch)"
        # still a NonFiniteLossError: a sweep records the run as diverged and goes on
        diverged = error.with_note(f"; last good checkpoint: {kept}")
        table.log_only(f"error: {diverged}")
        return diverged
    # out of memory
    suggestion = fitting_batch_size(
        run.model, run.inputs.input_shape, config.batch_size, run.device
    )
    message = (
        f"batch size {config.batch_size} does not fit in the memory of {run.device}; "
        f"try --batch-size {suggestion}"
    )
    table.log_only(f"error: {message}")
    return NeuralabError(message)


def _last_good(last: Path) -> str:
    """Return ``last.pt`` with its epoch, read back (so it is known to load), or ``none``."""
    if not last.is_file():
        return "none (no epoch completed)"
    try:
        return f"{last} (epoch {int(load_checkpoint(last)['epoch'])})"
    except NeuralabError:
        return f"none ({last} cannot be read)"


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


def _finish(
    run: Run,
    directory: RunDirectory,
    table: EpochTable,
    best: BestEpoch,
    stopped_early: bool,
    report: bool,
) -> TrainResult:
    """Evaluate best.pt on the test set, write figures and report.md, return the result."""
    from neuralab.report.run_report import write_run_report

    config = run.config
    result = _result(directory.path, list(directory.rows), best, config, stopped_early)
    if not config.evaluate_test:  # a sweep run: choices see validation data only
        table.say(
            f"best epoch {best.epoch} by {config.monitor} ({result.best_value:.4f}); "
            "test set not evaluated (evaluate_test is off)"
        )
        return result
    best_file = directory.file("best.pt")
    load_model_state(run.model, load_checkpoint(best_file), path=str(best_file))
    amp = uses_amp(config, run.device)
    # the whole test set, in this process (the epochs' test loader was this rank's shard)
    test_loader = run.loader("test", batch_size=max(config.batch_size, 256))
    test = evaluate(run.model, test_loader, device=run.device, amp=amp, return_predictions=True)
    result.test = {k: test[k] for k in ("loss", "acc", "n")}
    if report:
        assert run.data is not None
        test_images = run.data.dataset.x_test.cpu()
        result.figures = write_run_report(
            directory, result, test, test_images, run.inputs.classes, config
        )
    table.say(
        f"best epoch {result.best_epoch} by {config.monitor} ({result.best_value:.4f}): "
        f"test CE {test['loss']:.4f}, test accuracy {100 * test['acc']:.2f} % on {test['n']} images"
    )
    written = "config.yaml metrics.csv train.log best.pt last.pt" + (
        " figures/ report.md" if report else ""
    )
    table.say(f"wrote {directory.path}/: {written}")
    return result
