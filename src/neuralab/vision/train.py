"""``train(config)``: the whole run, wired together, epoch by epoch, into a run directory.

Data (uint8 on the device, a grouped validation split carved from the training set) -> model ->
optimiser (SAM around it if asked) -> per epoch: train, evaluate on validation and test, one
table row, ``metrics.csv``/``metrics.jsonl``, ``last.pt`` (and ``best.pt`` when the validation
metric improved). The test set is only evaluated and reported: ``best.pt`` and early stopping
look at the validation metric alone. At the end: figures and ``report.md`` of the best model.

A run interrupted after epoch k continues with ``train(config, resume=True)`` (the CLI's
``--resume RUN_DIR``) and, on the CPU with the same seed, ends with the same metrics and the same
weights, bit for bit, as a run that was never interrupted.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from neuralab.config import config_to_dict
from neuralab.errors import NeuralabError
from neuralab.report.run_report import EpochTable
from neuralab.rundir import RunDirectory, default_run_name
from neuralab.vision.checkpoint import (
    load_checkpoint,
    load_model_state,
    save_checkpoint,
    set_rng_states,
)
from neuralab.vision.config import (
    TrainConfig,
    augmentation_name,
    check_names,
    config_differences,
)
from neuralab.vision.engine import (
    NonFiniteLossError,
    build_optimizer,
    epoch_progress,
    evaluate,
    fitting_batch_size,
    train_one_epoch,
)
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


@dataclass
class RunData:
    """The loaders of one run and what the report needs to know about the data."""

    train: Any  # DeviceLoader: shuffled, augmented
    val: Any  # DeviceLoader: in order, no augmentation
    test: Any  # DeviceLoader: in order, no augmentation (only evaluated, never used to choose)
    generator: torch.Generator  # the training loader's shuffling and augmentation generator
    classes: list[str]  # class names, index = label
    input_shape: tuple[int, int, int]  # (C, H, W) of one image
    test_images: torch.Tensor  # uint8 (N, C, H, W) test images on the CPU, for the figures
    extra: dict[str, Any] = field(default_factory=dict)  # normalisation statistics

    def sizes(self) -> str:
        """Return ``"train 1,455 / val 162 / test 180 images, 10 classes"``."""
        return (
            f"train {self.train.num_samples:,} / val {self.val.num_samples:,} / "
            f"test {self.test.num_samples:,} images, {len(self.classes)} classes"
        )


def load_run_data(config: TrainConfig, device: torch.device) -> RunData:
    """Return the run's loaders: the data set on ``device``, a validation split, normalisation.

    The validation split is carved from the training set (grouped by GTSRB track when the data
    has groups, so frames of one sign never sit on both sides); the normalisation statistics
    come from the training split only.
    """
    from neuralab.vision.augment import augmentation_preset
    from neuralab.vision.datasets import get_dataset
    from neuralab.vision.loader import DeviceLoader, Normalization
    from neuralab.vision.splits import split_train_val

    augmentation = augmentation_preset(augmentation_name(config))  # validated before loading
    dataset = get_dataset(
        config.data,
        data_dir=config.data_dir,
        image_size=config.image_size,
        download=config.download,
    )
    train_idx, val_idx = split_train_val(
        dataset.y_train, config.val_fraction, groups=dataset.groups_train, seed=config.seed
    )
    train_idx, val_idx = torch.as_tensor(train_idx), torch.as_tensor(val_idx)
    x_train, y_train = dataset.x_train[train_idx], dataset.y_train[train_idx]
    normalization = Normalization.from_images(x_train, mode=config.normalization)
    # the generator draws on the device the batches live on; MPS keeps it on the CPU
    generator_device = device if device.type == "cuda" else torch.device("cpu")
    generator = torch.Generator(device=generator_device).manual_seed(config.seed)
    channels_last = uses_channels_last(config, device)
    common: dict[str, Any] = {
        "batch_size": config.batch_size,
        "device": device,
        "normalization": normalization,
        "channels_last": channels_last,
    }
    train_loader = DeviceLoader(
        x_train,
        y_train,
        shuffle=True,
        augmentation=augmentation,
        generator=generator,
        **common,
    )
    eval_common = {**common, "batch_size": max(config.batch_size, 256)}  # no gradients: bigger
    val_loader = DeviceLoader(
        dataset.x_train[val_idx], dataset.y_train[val_idx], shuffle=False, **eval_common
    )
    test_loader = DeviceLoader(dataset.x_test, dataset.y_test, shuffle=False, **eval_common)
    return RunData(
        train=train_loader,
        val=val_loader,
        test=test_loader,
        generator=generator,
        classes=[str(c) for c in dataset.classes],
        input_shape=tuple(int(s) for s in dataset.x_train.shape[1:]),  # type: ignore[arg-type]
        test_images=dataset.x_test.cpu(),
        extra={"normalization": normalization.to_dict()},
    )


def uses_channels_last(config: TrainConfig, device: torch.device) -> bool:
    """Return whether the run stores images and convolution weights as NHWC (channels_last).

    cuDNN's and oneDNN's convolutions are faster in NHWC: on a 2-core CPU the course CNN trains
    1.25-1.3x faster on 28x28 and 32x32 images (the layout only changes strides, not values).
    MPS keeps NCHW.
    """
    return config.channels_last and device.type in ("cuda", "cpu")


def build_model(config: TrainConfig, data: RunData, device: torch.device) -> torch.nn.Module:
    """Return the model of ``config`` for the data's classes and input shape, on ``device``."""
    from neuralab.vision.models import get_model

    model = get_model(
        config.model,
        num_classes=len(data.classes),
        input_shape=data.input_shape,
        init=config.init,
        **config.model_options(),
    ).to(device)
    if uses_channels_last(config, device):
        model = model.to(memory_format=torch.channels_last)
    if config.compile:
        model = torch.compile(model)  # type: ignore[assignment]
    return model


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and Python's ``random`` with ``seed``."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def resolve_run_dir(config: TrainConfig) -> Path:
    """Return ``config.run_dir`` or the default ``runs/<data>-<model>-<timestamp>``."""
    if config.run_dir:
        return Path(config.run_dir)
    data = config.data
    if ":" in data:  # npz:/path/gtsrb-32.npz -> gtsrb-32
        data = Path(data.split(":", 1)[1]).stem or data.split(":", 1)[0]
    model = config.model.split(":", 1)[0]
    return Path("runs") / default_run_name(data, model)


def improved(monitor: str, row: dict[str, Any], best: dict[str, Any]) -> bool:
    """Return whether ``row`` beats ``best`` on the validation ``monitor``.

    A tie in val_acc (common on a small validation set) goes to the lower val_loss.
    """
    value, best_value = row[monitor], best.get("value")
    if best_value is None or math.isnan(best_value):
        return not math.isnan(value)
    if monitor == "val_loss":
        return bool(value < best_value)
    return bool(
        value > best_value
        or (value == best_value and row["val_loss"] < best.get("val_loss", math.inf))
    )


def train(
    config: TrainConfig,
    *,
    progress: bool = True,
    resume: bool = False,
    console: Console | None = None,
    report: bool = True,
) -> TrainResult:
    """Run the training described by ``config`` and return a :class:`TrainResult`.

    ``resume`` continues the run in ``config.run_dir`` from its ``last.pt``; any field other
    than ``epochs``, ``run_dir`` and ``device`` that differs from the saved config is an error.
    Everything printed goes to ``console`` (stdout by default) and to ``train.log``; ``report``
    writes figures/ and report.md at the end (sweeps of many runs may leave them out).
    """
    console = console or Console(highlight=False)
    check_names(config)
    device, run_dir = _device(config), resolve_run_dir(config)
    if resume and not (run_dir / "last.pt").is_file():
        raise NeuralabError(f"cannot resume: {str(run_dir)!r} has no last.pt checkpoint")
    if not resume and (run_dir / "last.pt").is_file():
        raise NeuralabError(
            f"run directory {str(run_dir)!r} already holds a run; resume it with "
            f"--resume {run_dir} or choose another --run-dir"
        )
    resolved = TrainConfig(**{**vars(config), "run_dir": str(run_dir)})
    checkpoint = load_checkpoint(run_dir / "last.pt") if resume else None
    if checkpoint is not None:
        differences = config_differences(checkpoint["config"], config_to_dict(resolved))
        if differences:
            raise NeuralabError(
                f"cannot resume {str(run_dir)!r} with a different config: {'; '.join(differences)}"
                " (only epochs and device may change)"
            )

    seed_everything(config.seed)
    data = load_run_data(resolved, device)
    model = build_model(resolved, data, device)
    optimizer = build_optimizer(resolved, model)
    steps_per_epoch = len(data.train)
    warmup_steps = round(config.warmup * steps_per_epoch)
    schedule = make_schedule(
        config.schedule, config.epochs * steps_per_epoch, warmup_steps=warmup_steps
    )
    base = optimizer.base_optimizer if isinstance(optimizer, SAM) else optimizer
    set_base_lr(base)

    run = RunDirectory(run_dir)
    best: dict[str, Any] = {"epoch": 0, "value": None, "bad_epochs": 0}
    start_epoch, step = 1, 0
    if checkpoint is not None:
        load_model_state(model, checkpoint, path=str(run_dir / "last.pt"))
        optimizer.load_state_dict(checkpoint["optimizer"])
        set_rng_states(checkpoint["rng"], data.generator)
        best = dict(checkpoint["best"]) or best
        start_epoch, step = int(checkpoint["epoch"]) + 1, int(checkpoint["step"])
        run.truncate_metrics(int(checkpoint["epoch"]))
    run.write_config(resolved)

    table = EpochTable(console, run)
    amp = config.amp and device.type == "cuda"
    extra = {"classes": list(data.classes), "input_shape": list(data.input_shape), **data.extra}
    if checkpoint is None:
        table.say(
            f"training {config.model} on {config.data}: {data.sizes()} on {device}; "
            f"run directory {run_dir}"
        )
    else:
        table.say(f"resuming {run_dir} after epoch {start_epoch - 1} of {config.epochs}")
    table.header()
    for row in run.rows:
        table.row(row)

    stopped_early = config.patience is not None and best.get("bad_epochs", 0) >= config.patience
    epoch = start_epoch
    try:
        while epoch <= config.epochs and not stopped_early:
            with epoch_progress(progress, epoch, config.epochs, steps_per_epoch) as bar:
                trained = train_one_epoch(
                    model,
                    optimizer,
                    data.train,
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
            val = evaluate(model, data.val, device=device, amp=amp)
            # the test set is reported, never used; sweeps switch it off entirely
            test = (
                evaluate(model, data.test, device=device, amp=amp) if config.evaluate_test else None
            )
            row = {
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
            better = improved(config.monitor, row, best)
            if better:
                best = {
                    "epoch": epoch,
                    "value": row[config.monitor],
                    "val_loss": row["val_loss"],
                    "bad_epochs": 0,
                }
            else:
                best["bad_epochs"] = int(best.get("bad_epochs", 0)) + 1
            stopped_early = config.patience is not None and best["bad_epochs"] >= config.patience
            # metrics first, then the checkpoint: a crash between them is undone by resume
            run.append_metrics(row)
            state = {
                "model": model,
                "optimizer": optimizer,
                "epoch": epoch,
                "step": step,
                "config": config_to_dict(resolved),
                "best": best,
                "extra": extra,
                "loader_generator": data.generator,
            }
            if better:
                save_checkpoint(run_dir / "best.pt", **state)
            save_checkpoint(run_dir / "last.pt", **state)
            table.row(row)
            epoch += 1
    except NonFiniteLossError as error:
        kept = f"{run_dir / 'last.pt'} (epoch {epoch - 1})" if epoch > 1 else "none (first epoch)"
        message = f"{error}; last good checkpoint: {kept}"
        table.log_only(f"error: {message}")
        raise NeuralabError(message) from None
    except torch.OutOfMemoryError:
        suggestion = fitting_batch_size(model, data.input_shape, config.batch_size, device)
        message = (
            f"batch size {config.batch_size} does not fit in the memory of {device}; "
            f"try --batch-size {suggestion}"
        )
        table.log_only(f"error: {message}")
        raise NeuralabError(message) from None
    except KeyboardInterrupt:
        completed = epoch - 1
        table.say(
            f"interrupted during epoch {epoch}; epoch {completed} is saved in "
            f"{run_dir / 'last.pt'}. Continue with: neuralab train --resume {run_dir}"
            if completed >= 1
            else f"interrupted during epoch {epoch}; no epoch completed, nothing to resume"
        )
        raise

    if stopped_early and epoch <= config.epochs:
        table.say(
            f"early stopping: {config.monitor} has not improved for {config.patience} epochs "
            f"(best {best['value']:.4f} at epoch {best['epoch']})"
        )
    return _finish(model, run, table, data, device, amp, best, config, stopped_early, report)


def _finish(
    model: torch.nn.Module,
    run: RunDirectory,
    table: EpochTable,
    data: RunData,
    device: torch.device,
    amp: bool,
    best: dict[str, Any],
    config: TrainConfig,
    stopped_early: bool,
    report: bool,
) -> TrainResult:
    """Evaluate best.pt on the test set, write figures and report.md, return the result."""
    from neuralab.report.run_report import write_run_report

    if not config.evaluate_test:  # a sweep run: choices see validation data only
        table.say(
            f"best epoch {best['epoch']} by {config.monitor} ({float(best['value']):.4f}); "
            "test set not evaluated (evaluate_test is off)"
        )
        return TrainResult(
            run_dir=run.path,
            history=list(run.rows),
            best_epoch=int(best["epoch"]),
            best_value=float(best["value"]),
            monitor=config.monitor,
            stopped_early=stopped_early,
        )
    best_checkpoint = load_checkpoint(run.file("best.pt"))
    load_model_state(model, best_checkpoint, path=str(run.file("best.pt")))
    test = evaluate(model, data.test, device=device, amp=amp, return_predictions=True)
    result = TrainResult(
        run_dir=run.path,
        history=list(run.rows),
        best_epoch=int(best["epoch"]),
        best_value=float(best["value"]),
        monitor=config.monitor,
        test={k: test[k] for k in ("loss", "acc", "n")},
        stopped_early=stopped_early,
    )
    if report:
        result.figures = write_run_report(run, result, test, data.test_images, data.classes, config)
    table.say(
        f"best epoch {result.best_epoch} by {config.monitor} ({result.best_value:.4f}): "
        f"test CE {test['loss']:.4f}, test accuracy {100 * test['acc']:.2f} % on {test['n']} images"
    )
    written = "config.yaml metrics.csv train.log best.pt last.pt" + (
        " figures/ report.md" if report else ""
    )
    table.say(f"wrote {run.path}/: {written}")
    return result


def _device(config: TrainConfig) -> torch.device:
    from neuralab.device import resolve_device

    return resolve_device(config.device)
