"""One trial of a sweep: a setting trained once per seed, each run checked for failure.

A run fails if it diverged or stayed at chance level; the trial's value is the selection metric
averaged over the seeds that did not fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuralab.config import make_config
from neuralab.studies.sweep.spec import SELECTS, SweepSpec

CHANCE_MARGIN = 0.03  # a run within 3 points of 1 / classes has learned nothing: failed


def chance_threshold(classes: int) -> float:
    """Return the validation accuracy at or below which a run counts as failed: 1/K + 0.03.

    For K = 10 classes that is 0.13: a run ending at 0.1009 (the course's dropout p = 0.2 run)
    guessed, it did not learn.
    """
    return 1.0 / classes + CHANCE_MARGIN


FAILURE_RULE = (
    "a run fails when its loss became NaN or infinite (diverged) or its best validation "
    f"accuracy is at most 1/K + {CHANCE_MARGIN:g} (chance level: 0.13 for K = 10 classes)"
)


@dataclass
class SeedRun:
    """One training run of a trial."""

    seed: int
    run_dir: str
    status: str  # "ok" or "failed: <why>"
    val_acc: float | None = None
    val_loss: float | None = None
    train_acc: float | None = None
    train_loss: float | None = None


# train(config) -> TrainResult; called as train(config, resume=True) to continue a run whose
# directory already holds a last.pt (a retried trial's seed), train(config, overwrite=True) to
# start again one stopped before its first checkpoint
TrainFunction = Callable[..., Any]


def run_setting(
    spec: SweepSpec,
    setting: dict[str, Any],
    run_root: Path,
    train_function: TrainFunction | None = None,
) -> list[SeedRun]:
    """Train ``setting`` once per seed (test set never evaluated) and return the runs."""
    from neuralab.vision.config import TrainConfig

    if train_function is None:
        from neuralab.vision.train import train as train_function_default

        train_function = train_function_default
    runs = []
    base_seed = int(spec.base.get("seed", 0))
    for offset in range(spec.seeds):
        seed = base_seed + offset
        run_dir = run_root / f"seed{seed}"
        values = {**spec.base, **setting, "seed": seed, "run_dir": str(run_dir)}
        values["monitor"] = spec.select
        values["evaluate_test"] = False  # choices are made on validation data only
        config = make_config(TrainConfig, values)
        runs.append(_run_one(config, seed, run_dir, train_function))
    return runs


def _run_one(config: Any, seed: int, run_dir: Path, train_function: TrainFunction) -> SeedRun:
    from neuralab.vision.engine import NonFiniteLossError

    try:
        if (run_dir / "last.pt").is_file():  # left by an interrupted attempt: continue it
            result = train_function(config, resume=True)
        elif run_dir.is_dir() and any(run_dir.iterdir()):
            # an attempt stopped before its first checkpoint: nothing to keep, start it again
            result = train_function(config, overwrite=True)
        else:
            result = train_function(config)
    except NonFiniteLossError as error:
        # recorded, never raised: one diverged run must not stop the sweep
        why = f"loss {error.value} at epoch {error.epoch}, batch {error.batch}"
        return SeedRun(seed, str(run_dir), f"failed: diverged ({why})")
    history = result.history
    best = next(r for r in history if r["epoch"] == result.best_epoch)
    run = SeedRun(
        seed,
        str(run_dir),
        "ok",
        val_acc=best.get("val_acc"),
        val_loss=best.get("val_loss"),
        train_acc=best.get("train_acc"),
        train_loss=best.get("train_loss"),
    )
    classes = getattr(result, "num_classes", None) or _classes_of(config)
    if run.val_loss is None or not _finite(run.val_loss):
        run.status = "failed: diverged (validation loss is not finite)"
    elif classes and run.val_acc is not None and run.val_acc <= chance_threshold(classes):
        run.status = (
            f"failed: chance level (val acc {run.val_acc:.4f} <= 1/{classes} + "
            f"{CHANCE_MARGIN:g} = {chance_threshold(classes):.4f})"
        )
    return run


def _classes_of(config: Any) -> int | None:
    try:
        from neuralab.vision.datasets import get_dataset

        return get_dataset(config.data, data_dir=config.data_dir).num_classes
    except Exception:  # noqa: BLE001 (the count is only used to flag chance-level runs)
        return None


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def objective_value(spec: SweepSpec, runs: list[SeedRun]) -> float:
    """Return the mean selection metric over the runs that did not fail (worst if all failed)."""
    values = [getattr(r, spec.select) for r in runs if r.status == "ok"]
    if not values:
        return 0.0 if SELECTS[spec.select] == "maximize" else 1e30
    return float(sum(values) / len(values))
