"""The usual recipe options of a run, built from its config for the training loop.

``ema_decay`` (:mod:`.ema`), ``mixup_alpha`` / ``cutmix_alpha`` (:mod:`.mixing`),
``randaugment`` / ``random_erasing`` (:mod:`.augment_recipe`), ``accumulate_steps`` (in
:func:`neuralab.vision.engine.train_one_epoch`), ``deterministic`` (:func:`deterministic_algorithms`)
and ``grad_clip``. Each is off by default; this module turns the config into the objects the
loop takes.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from typing import Any

import torch

from neuralab.vision.augment import augmentation_preset
from neuralab.vision.augment_recipe import RecipeAugmentation
from neuralab.vision.config import TrainConfig, augmentation_name
from neuralab.vision.mixing import BatchMixing, Mixing


def train_augmentation(config: TrainConfig) -> Any:
    """Return the training batches' augmentation: the preset, with RandAugment / erasing if on."""
    base = augmentation_preset(augmentation_name(config))
    if config.randaugment == 0 and config.random_erasing == 0:
        return base
    return RecipeAugmentation(
        base=base,
        randaugment_ops=config.randaugment,
        randaugment_magnitude=config.randaugment_magnitude,
        erasing=config.random_erasing,
    )


def batch_mixing(
    config: TrainConfig, num_classes: int, generator: torch.Generator, rank: int = 0
) -> Mixing | None:
    """Return MixUp / CutMix drawing from ``generator``, or None when both are off."""
    if config.mixup_alpha == 0 and config.cutmix_alpha == 0:
        return None
    mixing = BatchMixing(num_classes, config.mixup_alpha, config.cutmix_alpha, rank=rank)
    return functools.partial(mixing, generator=generator)


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool) -> Iterator[None]:
    """Run the block with ``torch.use_deterministic_algorithms(True)`` if ``enabled``, then restore.

    cuDNN's autotuner is switched off and cuBLAS gets the fixed workspace it needs
    (``CUBLAS_WORKSPACE_CONFIG=:4096:8``, unless set already), so two GPU runs with the same
    seed give the same numbers; an operation without a deterministic kernel raises.
    """
    if not enabled:
        yield
        return
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
    )
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]
