"""What a training run works with, built once: loaders, optimiser, schedule, EMA, batch mixing.

:func:`prepare_fit` builds a :class:`Fit` for one process (under torchrun every rank builds the
same one and takes its shard of each batch); :meth:`Fit.restore` sets it to ``last.pt`` on resume;
:meth:`Fit.train_epoch` and :meth:`Fit.evaluate_epoch` run one epoch with it and
:meth:`Fit.save` writes its checkpoint, so :func:`neuralab.vision.train.train` reads as the loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from neuralab.config import config_to_dict
from neuralab.vision.batch_norm_statistics import recalibrate_batch_norm
from neuralab.vision.callbacks import BatchEndCallback
from neuralab.vision.checkpoint import load_model_state, save_checkpoint, set_rng_states
from neuralab.vision.config import TrainConfig
from neuralab.vision.distributed import Ranks
from neuralab.vision.early_stopping import (
    BestEpoch,
    EarlyStopping,
    restore_selection,
    selection_state,
)
from neuralab.vision.ema import WeightEMA
from neuralab.vision.engine import evaluate, train_one_epoch
from neuralab.vision.loader import DeviceLoader
from neuralab.vision.mixing import Mixing
from neuralab.vision.optimizer import build_optimizer
from neuralab.vision.progress import ProgressCallback
from neuralab.vision.recipe import batch_mixing
from neuralab.vision.run import Run, uses_amp
from neuralab.vision.sam import SAM
from neuralab.vision.schedules import make_schedule, set_base_lr


@dataclass
class Fit:
    """One process's share of a run: its loaders, optimiser, schedule, EMA and mixing."""

    config: TrainConfig
    run: Run
    ranks: Ranks
    generator: torch.Generator  # shuffles and augments the training batches
    train_loader: DeviceLoader
    val_loader: DeviceLoader
    test_loader: DeviceLoader
    statistics_loader: DeviceLoader  # precise BN: training images in order, unaugmented
    optimizer: torch.optim.Optimizer
    schedule: Callable[[int], float]  # optimizer step -> learning-rate factor
    ema: WeightEMA | None
    mixing: Mixing | None
    amp: bool

    @property
    def evaluated(self) -> nn.Module:
        """Return the weights the table reports and the checkpoints hold (the EMA's, if any)."""
        return self.ema.model if self.ema is not None else self.run.model

    def restore(self, checkpoint: dict[str, Any], path: Path) -> tuple[BestEpoch, EarlyStopping]:
        """Set weights, optimiser and random generators to ``checkpoint``; return the selection."""
        config = self.config
        if self.ema is not None:
            checkpoint = self.ema.resume_from(checkpoint, path=str(path))
        load_model_state(self.run.model, checkpoint, path=str(path))
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        set_rng_states(checkpoint["rng"], self.generator)
        return restore_selection(checkpoint["best"], config.monitor, config.patience)

    def train_epoch(
        self,
        model: nn.Module,
        epoch: int,
        step: int,
        progress: ProgressCallback | None,
        on_batch_end: BatchEndCallback | None,
    ) -> dict[str, Any]:
        """Return :func:`~neuralab.vision.engine.train_one_epoch`'s numbers for ``epoch``."""
        config, ema = self.config, self.ema
        return train_one_epoch(
            model,
            self.optimizer,
            self.train_loader,
            epoch=epoch,
            device=self.ranks.device,
            step=step,
            lr_schedule=self.schedule,
            label_smoothing=config.label_smoothing,
            grad_clip=config.grad_clip,
            amp=self.amp,
            progress=progress,
            ranks=self.ranks,
            global_batch_sizes=self.train_loader.global_batch_sizes(),
            mixing=self.mixing,
            accumulate_steps=config.accumulate_steps,
            after_step=(lambda: ema.update(self.run.model)) if ema is not None else None,
            on_batch_end=on_batch_end,
        )

    def evaluate_epoch(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Return (validation, test) metrics of the reported weights (test None when off)."""
        config, ranks, model = self.config, self.ranks, self.evaluated
        if config.bn_recalibrate:
            recalibrate_batch_norm(model, self.statistics_loader, config.bn_recalibrate, ranks)
        ranks.broadcast_buffers(model)  # evaluate the model rank 0 saves
        device, amp = ranks.device, self.amp
        val = evaluate(model, self.val_loader, device=device, amp=amp, ranks=ranks)
        # the test set is reported, never used; sweeps switch it off entirely
        if not config.evaluate_test:
            return val, None
        return val, evaluate(model, self.test_loader, device=device, amp=amp, ranks=ranks)

    def save(
        self, path: Path, epoch: int, step: int, best: BestEpoch, stopping: EarlyStopping
    ) -> None:
        """Write the checkpoint of the run after ``epoch`` to ``path`` (last.pt or best.pt)."""
        save_checkpoint(
            path,
            model=self.evaluated,
            optimizer=self.optimizer,
            epoch=epoch,
            step=step,
            config=config_to_dict(self.config),
            best=selection_state(best, stopping),
            extra=self.run.inputs.to_dict(),
            loader_generator=self.generator,
            **(self.ema.checkpoint_entries(self.run.model) if self.ema is not None else {}),
        )


def prepare_fit(config: TrainConfig, run: Run, ranks: Ranks) -> Fit:
    """Return the :class:`Fit` of ``run`` in this process, seeded from ``config.seed``."""
    device = ranks.device
    # the generator draws on the device the batches live on; MPS keeps it on the CPU. Every
    # rank seeds it alike: same permutation, same augmentation, each takes its shard
    generator = torch.Generator(device=device if device.type == "cuda" else "cpu")
    generator.manual_seed(config.seed)
    train_loader = run.loader(
        "train", batch_size=config.batch_size, generator=generator, shard=ranks.shard
    )
    eval_batch_size = max(config.batch_size, 256)  # no gradients: larger batches fit
    optimizer = build_optimizer(config, run.model)
    steps_per_epoch = math.ceil(len(train_loader) / config.accumulate_steps)
    schedule = make_schedule(
        config.schedule,
        config.epochs * steps_per_epoch,
        warmup_steps=round(config.warmup * steps_per_epoch),
    )
    set_base_lr(optimizer.base_optimizer if isinstance(optimizer, SAM) else optimizer)
    return Fit(
        config=config,
        run=run,
        ranks=ranks,
        generator=generator,
        train_loader=train_loader,
        val_loader=run.loader("val", batch_size=eval_batch_size, shard=ranks.shard),
        test_loader=run.loader("test", batch_size=eval_batch_size, shard=ranks.shard),
        statistics_loader=run.loader("train", batch_size=config.batch_size, shard=ranks.shard),
        optimizer=optimizer,
        schedule=schedule,
        ema=WeightEMA(run.model, config.ema_decay) if config.ema_decay else None,
        mixing=batch_mixing(config, len(run.inputs.classes), generator, ranks.rank),
        amp=uses_amp(config, device),
    )
