"""``train(config)``: the whole run, wired together, epoch by epoch, into a run directory.

Data (uint8 on the device, a grouped validation split carved from the training set) -> model ->
optimiser (SAM around it if asked) -> per epoch: train, evaluate on validation and test, one
table row, ``metrics.csv``/``metrics.jsonl``, ``last.pt`` (and ``best.pt`` when the validation
metric improved). The test set is only evaluated and reported: ``best.pt`` and early stopping
look at the validation metric alone. At the end: figures and ``report.md`` of the best model.

A run interrupted after epoch k continues with ``train(overrides, resume=RUN_DIR)`` (the CLI's
``--resume RUN_DIR``) and, on the CPU with the same seed, ends with the same metrics and the same
weights, bit for bit, as a run that was never interrupted.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from neuralab.atomic import WriteError, remove_temporaries
from neuralab.config import config_to_dict
from neuralab.device import resolve_device
from neuralab.errors import NeuralabError
from neuralab.report.run_report import EpochTable
from neuralab.rundir import RunDirectory
from neuralab.vision.checkpoint import (
    checkpoint_to_resume,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
    set_rng_states,
)
from neuralab.vision.config import TrainConfig, check_names
from neuralab.vision.early_stopping import (
    BestEpoch,
    EarlyStopping,
    restore_selection,
    selection_state,
)
from neuralab.vision.engine import (
    NonFiniteLossError,
    build_optimizer,
    epoch_progress,
    evaluate,
    fitting_batch_size,
    train_one_epoch,
)
from neuralab.vision.loader import DeviceLoader
from neuralab.vision.resolve import resolve_train_config
from neuralab.vision.run import Run, build_run
from neuralab.vision.sam import SAM
from neuralab.vision.schedules import make_schedule, set_base_lr


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
    figures: list[Path] = field(default_factory=list)  # the figures written


def train(
    config: TrainConfig | Mapping[str, Any] | None = None,
    *,
    resume: bool | str | os.PathLike[str] = False,
    progress: bool = True,
    console: Console | None = None,
    report: bool = True,
    overwrite: bool = False,
) -> TrainResult:
    """Run the training described by ``config`` and return a :class:`TrainResult`.

    ``config`` is a TrainConfig or a mapping of fields over the defaults. ``resume=RUN_DIR``
    continues that run from its ``last.pt`` as ``neuralab train --resume RUN_DIR`` does (a
    mapping is merged over the saved config); ``resume=True`` continues ``config.run_dir``. Only
    ``epochs`` and ``device`` may differ from the saved config. Everything printed goes to
    ``console`` (stdout by default) and to ``train.log``; ``report`` writes figures/ and
    report.md at the end (sweeps of many runs may leave them out). A new run refuses a run
    directory that already holds something, unless ``overwrite`` (its old files are removed).

    A file that cannot be written during training (a full disk) stops the run with one line
    naming the last good checkpoint, which stays loadable.
    """
    config, resuming = resolve_train_config(config, resume)
    console = console or Console(highlight=False)
    check_names(config)
    device, run_dir = resolve_device(config.device), Path(str(config.run_dir))
    checkpoint = checkpoint_to_resume(run_dir, config, resuming, overwrite=overwrite)

    # data, model, optimiser, schedule
    seed_everything(config.seed)
    run = build_run(config, device)
    # the generator draws on the device the batches live on; MPS keeps it on the CPU
    generator = torch.Generator(device=device if device.type == "cuda" else "cpu")
    generator.manual_seed(config.seed)
    train_loader = run.loader("train", batch_size=config.batch_size, generator=generator)
    eval_batch_size = max(config.batch_size, 256)  # no gradients: larger batches fit
    val_loader = run.loader("val", batch_size=eval_batch_size)
    test_loader = run.loader("test", batch_size=eval_batch_size)
    optimizer = build_optimizer(config, run.model)
    steps_per_epoch = len(train_loader)
    schedule = make_schedule(
        config.schedule,
        config.epochs * steps_per_epoch,
        warmup_steps=round(config.warmup * steps_per_epoch),
    )
    set_base_lr(optimizer.base_optimizer if isinstance(optimizer, SAM) else optimizer)
    amp = config.amp and device.type == "cuda"

    best, stopping = BestEpoch(config.monitor), EarlyStopping(config.patience)
    start_epoch, step = 1, 0
    if checkpoint is None:  # every input checked: the directory is claimed, its config first
        directory = RunDirectory.create(run_dir, config, overwrite=overwrite)
    else:
        directory = RunDirectory(run_dir)
        remove_temporaries(run_dir)  # what a writer killed mid-checkpoint left
        load_model_state(run.model, checkpoint, path=str(run_dir / "last.pt"))
        optimizer.load_state_dict(checkpoint["optimizer"])
        set_rng_states(checkpoint["rng"], generator)
        best, stopping = restore_selection(checkpoint["best"], config.monitor, config.patience)
        start_epoch, step = int(checkpoint["epoch"]) + 1, int(checkpoint["step"])
        directory.truncate_metrics(int(checkpoint["epoch"]))
        directory.write_config(config)
    table = EpochTable(console, directory)
    if checkpoint is None:
        assert run.data is not None
        table.say(
            f"training {config.model} on {config.data}: {run.data.sizes()} on {device}; "
            f"run directory {run_dir}"
        )
    else:
        table.say(f"resuming {run_dir} after epoch {start_epoch - 1} of {config.epochs}")
    table.header()
    for row in directory.rows:
        table.row(row)

    epoch = start_epoch
    try:
        while epoch <= config.epochs and not stopping.stopped:
            with epoch_progress(progress, epoch, config.epochs, steps_per_epoch) as bar:
                trained = train_one_epoch(
                    run.model,
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
                )
            step = trained["steps"]
            val = evaluate(run.model, val_loader, device=device, amp=amp)
            # the test set is reported, never used; sweeps switch it off entirely
            test = (
                evaluate(run.model, test_loader, device=device, amp=amp)
                if config.evaluate_test
                else None
            )
            row = epoch_row(epoch, trained, val, test)
            better = best.update(epoch, row)
            stopping.update(better)
            # metrics first, then the checkpoint: a crash between them is undone by resume
            directory.append_metrics(row)
            for name in ("best.pt", "last.pt") if better else ("last.pt",):
                save_checkpoint(
                    run_dir / name,
                    model=run.model,
                    optimizer=optimizer,
                    epoch=epoch,
                    step=step,
                    config=config_to_dict(config),
                    best=selection_state(best, stopping),
                    extra=run.inputs.to_dict(),
                    loader_generator=generator,
                )
            table.row(row)
            epoch += 1
    except (NonFiniteLossError, torch.OutOfMemoryError, KeyboardInterrupt, WriteError) as error:
        raise _stop(error, table, run, epoch) from None

    if stopping.stopped and epoch <= config.epochs:
        table.say(
            f"early stopping: {config.monitor} has not improved for {config.patience} epochs "
            f"(best {best.value:.4f} at epoch {best.epoch})"
        )
    return _finish(run, test_loader, directory, table, best, stopping.stopped, report)


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
    config, last = run.config, table.run.path / "last.pt"
    if isinstance(error, KeyboardInterrupt):
        table.say(
            f"interrupted during epoch {epoch}; epoch {epoch - 1} is saved in {last}. "
            f"Continue with: neuralab train --resume {table.run.path}"
            if epoch > 1
            else f"interrupted during epoch {epoch}; no epoch completed, nothing to resume"
        )
        return error
    if isinstance(error, WriteError):
        message = f"{error}; last good checkpoint: {_last_good(last)}"
        try:  # the log may be on the full disk too
            table.log_only(f"error: {message}")
        except WriteError:
            pass
        return NeuralabError(message)
    if isinstance(error, NonFiniteLossError):
        kept = f"{last} (epoch {epoch - 1})" if epoch > 1 else "none (first epoch)"
        message = f"{error}; last good checkpoint: {kept}"
    else:  # out of memory
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


def _finish(
    run: Run,
    test_loader: DeviceLoader,
    directory: RunDirectory,
    table: EpochTable,
    best: BestEpoch,
    stopped_early: bool,
    report: bool,
) -> TrainResult:
    """Evaluate best.pt on the test set, write figures and report.md, return the result."""
    from neuralab.report.run_report import write_run_report

    config = run.config
    result = TrainResult(
        run_dir=directory.path,
        history=list(directory.rows),
        best_epoch=best.epoch,
        best_value=float("nan") if best.value is None else best.value,
        monitor=config.monitor,
        stopped_early=stopped_early,
    )
    if not config.evaluate_test:  # a sweep run: choices see validation data only
        table.say(
            f"best epoch {best.epoch} by {config.monitor} ({result.best_value:.4f}); "
            "test set not evaluated (evaluate_test is off)"
        )
        return result
    best_file = directory.file("best.pt")
    load_model_state(run.model, load_checkpoint(best_file), path=str(best_file))
    amp = config.amp and run.device.type == "cuda"
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
