"""Learning-rate schedules as pure functions of (step, total_steps), nanoGPT style.

Each schedule returns a *factor* f in [0, 1]; the learning rate of step ``s`` (0-based, the s-th
optimiser update) is eta_s = eta * f(s). With T = total_steps, W = warmup_steps and the progress
p = (s - W) / (T - W) after the warm-up:

==========  =========================================================================
constant    f = 1
step        f = 1, then 0.1 from p >= 1/2, then 0.01 from p >= 3/4 (He et al. 2016)
cosine      f = (1 + cos(pi p)) / 2, from 1 down to 0 (Loshchilov and Hutter 2017)
onecycle    f rises from 1/25 to 1 over the first 30 % of T (cosine), then falls to
            1/(25 * 10^4) (cosine): torch.optim.lr_scheduler.OneCycleLR's defaults
==========  =========================================================================

Warm-up (constant, step, cosine): f_s = (s + 1) / (W + 1) * f_W for s < W, so the first update
already moves. The factor is applied to the *base* optimiser's param groups by
:func:`apply_lr`, so SAM (whose param groups are its base optimiser's) follows the same schedule,
and a group with a lower ``base_lr`` (the backbone when fine-tuning) keeps its ratio.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from neuralab.errors import NeuralabError
from neuralab.vision.config import ScheduleName

ONECYCLE_PCT_START = 0.3  # share of the steps spent rising
ONECYCLE_DIV = 25.0  # start at peak / 25
ONECYCLE_FINAL_DIV = 1e4  # end at start / 10^4


def constant(step: int, total_steps: int) -> float:
    """Return 1: the learning rate never changes."""
    return 1.0


def step_decay(step: int, total_steps: int) -> float:
    """Return 1, 0.1 or 0.01: divided by 10 at half and at three quarters of the steps."""
    progress = step / max(total_steps, 1)
    if progress >= 0.75:
        return 0.01
    if progress >= 0.5:
        return 0.1
    return 1.0


def cosine(step: int, total_steps: int) -> float:
    """Return (1 + cos(pi * step / total_steps)) / 2: half a cosine from 1 to 0."""
    progress = min(step / max(total_steps, 1), 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def onecycle(step: int, total_steps: int) -> float:
    """Return OneCycleLR's factor: cosine up from 1/25 to 1 over 30 %, then down to 1/(25e4)."""
    start = 1.0 / ONECYCLE_DIV
    end = start / ONECYCLE_FINAL_DIV
    # PyTorch's phase boundaries: the peak is reached at step pct * T - 1, the end at T - 1
    peak_step = float(ONECYCLE_PCT_START * total_steps) - 1
    last_step = float(total_steps) - 1
    if step <= peak_step:
        return _cosine_between(start, 1.0, step / peak_step if peak_step > 0 else 1.0)
    span = last_step - peak_step
    return _cosine_between(1.0, end, min((step - peak_step) / span, 1.0) if span > 0 else 1.0)


def _cosine_between(begin: float, end: float, fraction: float) -> float:
    return end + (begin - end) / 2.0 * (math.cos(math.pi * fraction) + 1.0)


# one function per name of vision.config.ScheduleName (the names the config and the CLI offer)
SCHEDULES: dict[ScheduleName, Callable[[int, int], float]] = {
    "constant": constant,
    "step": step_decay,
    "cosine": cosine,
    "onecycle": onecycle,
}


def lr_factor(name: str, step: int, total_steps: int, *, warmup_steps: int = 0) -> float:
    """Return the factor f of step ``step`` of schedule ``name`` with a linear warm-up.

    >>> lr_factor("cosine", 50, 100)
    0.5
    >>> lr_factor("constant", 0, 100, warmup_steps=3)
    0.25
    """
    if name not in SCHEDULES:
        raise NeuralabError(f"unknown schedule {name!r} (valid: {', '.join(SCHEDULES)})")
    if total_steps < 1:
        raise NeuralabError(f"a schedule needs total_steps >= 1, got {total_steps}")
    schedule = SCHEDULES[name]
    if name == "onecycle" or warmup_steps <= 0:
        return schedule(step, total_steps)
    warmup_steps = min(warmup_steps, total_steps - 1)
    after_warmup = schedule(0, total_steps - warmup_steps)
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1) * after_warmup
    return schedule(step - warmup_steps, total_steps - warmup_steps)


def make_schedule(name: str, total_steps: int, *, warmup_steps: int = 0) -> Callable[[int], float]:
    """Return ``step -> factor`` for schedule ``name`` over ``total_steps`` (validated now)."""
    lr_factor(name, 0, total_steps, warmup_steps=warmup_steps)
    return lambda step: lr_factor(name, step, total_steps, warmup_steps=warmup_steps)


def set_base_lr(optimizer: torch.optim.Optimizer) -> None:
    """Remember each param group's current ``lr`` as its peak ``base_lr`` (call once)."""
    for group in optimizer.param_groups:
        group.setdefault("base_lr", group["lr"])


def apply_lr(optimizer: torch.optim.Optimizer, factor: float) -> float:
    """Set every group's ``lr = base_lr * factor``; return the first group's new lr.

    Pass SAM's ``base_optimizer`` or SAM itself: they share their param groups.
    """
    lr = 0.0
    for index, group in enumerate(optimizer.param_groups):
        group["lr"] = group.get("base_lr", group["lr"]) * factor
        if index == 0:
            lr = group["lr"]
    return lr
