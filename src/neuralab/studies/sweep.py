"""Sweeps: train every grid point (or sampled setting) for several seeds, on Optuna.

A sweep lives in one directory::

    SWEEP_DIR/
      sweep.yaml        what is swept: the base TrainConfig, the grid, search, seeds, selection
      optuna.db         the Optuna storage (SQLite by default; or --storage URL elsewhere)
      runs/trial-0003-seed1/   one run directory per trial and seed
      results.csv       one row per trial
      summary.csv       mean +- std over seeds per setting
      figures/          the selection metric against the swept values, with error bars
      final/            the chosen setting retrained for --final-epochs, evaluated once on test
      report.md report.html

**Exactly once, resumable, shared.** The grid (every point, with all seeds inside one trial) is
enqueued once into the Optuna study; workers pop waiting trials from the storage (one trial
goes to one worker), so with many workers each point still runs exactly once. (Optuna's own
``GridSampler`` may run a point twice when workers run concurrently, as its documentation says;
enqueuing avoids that.) Random and TPE search use Optuna's ``RandomSampler`` and
``TPESampler`` over the same value lists, up to ``--trials`` trials. Workers send heartbeats: a
worker that is killed leaves its trial running without heartbeat; once stale, it is marked
failed and re-enqueued (``RetryFailedTrialCallback``), so it is rerun. Ctrl-C re-enqueues the
interrupted trial at once. Starting the sweep again skips finished trials.

**Chosen on validation only.** Each trial reports the validation metric (mean over its seeds
that did not fail); runs that diverge (NaN loss) or stay at chance level are flagged as failed
and never selected or averaged. The test set is not evaluated during the sweep at all: only
the final retrained setting is evaluated on it, once.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from neuralab.atomic import write_text
from neuralab.config import config_to_dict, make_config
from neuralab.errors import NeuralabError
from neuralab.studies.grid import GridAxis, grid_points

SEARCHES = ("grid", "random", "tpe")
SELECTS = {"val_acc": "maximize", "val_loss": "minimize"}
STUDY_NAME = "neuralab-sweep"
CHANCE_MARGIN = 0.03  # a run within 3 points of 1 / classes has learned nothing: failed


@dataclass
class SweepSpec:
    """What a sweep trains: base config, swept values, search, seeds, selection."""

    base: dict[str, Any]  # TrainConfig fields shared by every run
    grid: dict[str, list[Any]]  # swept field -> its values
    search: str = "grid"  # grid | random | tpe
    trials: int | None = None  # random / tpe: number of trials (grid: all points)
    seeds: int = 1  # runs per setting, seeds base.seed, base.seed + 1, ...
    select: str = "val_acc"  # validation metric that chooses: val_acc | val_loss
    final_epochs: int | None = None  # retrain the chosen setting this long, then test once
    storage: str | None = None  # Optuna storage URL (None: SQLite file in the sweep directory)

    def __post_init__(self) -> None:
        if self.search not in SEARCHES:
            raise NeuralabError(f"search {self.search!r} is not one of {', '.join(SEARCHES)}")
        if self.select not in SELECTS:
            raise NeuralabError(f"select {self.select!r} is not one of {', '.join(SELECTS)}")
        if not self.grid:
            raise NeuralabError("a sweep needs at least one --grid field=values")
        if self.seeds < 1:
            raise NeuralabError(f"seeds must be >= 1, got {self.seeds}")
        if self.search != "grid" and (self.trials is None or self.trials < 1):
            raise NeuralabError(f"--search {self.search} needs --trials N (N >= 1)")
        if self.final_epochs is not None and self.final_epochs < 1:
            raise NeuralabError(f"final_epochs must be >= 1, got {self.final_epochs}")

    @classmethod
    def from_axes(cls, base: dict[str, Any], axes: list[GridAxis], **kwargs: Any) -> SweepSpec:
        grid_points(axes)  # refuses a field given twice
        return cls(base=base, grid={a.field: list(a.values) for a in axes}, **kwargs)

    def settings(self) -> list[dict[str, Any]]:
        """Return every grid point as ``{field: value}``."""
        return grid_points([GridAxis(k, tuple(v)) for k, v in self.grid.items()])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def open_sweep(directory: str | os.PathLike[str], spec: SweepSpec | None = None) -> SweepSpec:
    """Return the sweep in ``directory``; with ``spec``, create it or check it is the same.

    A directory that already holds a different sweep is refused, naming what differs.
    """
    folder = Path(directory)
    file = folder / "sweep.yaml"
    if file.is_file():
        saved = SweepSpec(**yaml.safe_load(file.read_text(encoding="utf-8")))
        if spec is not None:
            differences = _differences(saved.to_dict(), spec.to_dict())
            if differences:
                raise NeuralabError(
                    f"{folder} already holds a different sweep ({'; '.join(differences[:3])}): "
                    "use another --sweep-dir"
                )
        return saved
    if spec is None:
        raise NeuralabError(
            f"{folder} holds no sweep (no sweep.yaml); start one with neuralab sweep"
        )
    folder.mkdir(parents=True, exist_ok=True)
    write_text(file, yaml.safe_dump(spec.to_dict(), sort_keys=False))
    return spec


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b and not (
            isinstance(a, list | tuple) and isinstance(b, list | tuple) and list(a) == list(b)
        ):
            found.append(f"{prefix}{key}: {a!r} vs {b!r}")
    return found


# -- storage --------------------------------------------------------------------------------


def storage_url(spec: SweepSpec, directory: str | os.PathLike[str]) -> str:
    """Return the storage URL: the spec's, or ``sqlite:///SWEEP_DIR/optuna.db``."""
    return spec.storage or f"sqlite:///{Path(directory).resolve() / 'optuna.db'}"


def open_storage(url: str) -> Any:
    """Return an Optuna storage for ``url``, checked reachable before any training starts.

    ``journal:PATH`` is Optuna's journal file storage (for a shared file system without a
    database server); anything else is an SQLAlchemy URL (``sqlite:///``, ``postgresql://``,
    ``mysql://``) with heartbeats, so trials of killed workers are detected and rerun.
    """
    import optuna
    from optuna.storages import RDBStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    # our workers record heartbeats themselves (sweep_worker), not through Study.optimize
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
    try:
        if url.startswith("journal:"):
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            return JournalStorage(JournalFileBackend(url.removeprefix("journal:")))
        engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
        try:  # Optuna >= 4.9
            return RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=5,
                grace_period=20,
                heartbeat_stale_trial_callback=retry_callback(),
            )
        except TypeError:  # older Optuna names the callback failed_trial_callback
            return RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=5,
                grace_period=20,
                failed_trial_callback=retry_callback(),
            )
    except NeuralabError:
        raise
    except Exception as error:  # noqa: BLE001 (driver errors differ per database)
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise NeuralabError(f"storage {url!r} cannot be reached: {first_line}") from None


def retry_callback() -> Any:
    """Return Optuna's callback that puts a failed (stale or interrupted) trial back in the queue."""
    from optuna import storages

    retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
    if retry is None:  # Optuna < 4.9
        retry = storages.RetryFailedTrialCallback
    return retry(max_retry=3)


def open_study(spec: SweepSpec, directory: str | os.PathLike[str]) -> Any:
    """Return the Optuna study of the sweep (created on first use), with its sampler."""
    import optuna

    sampler: optuna.samplers.BaseSampler
    seed = int(spec.base.get("seed", 0))
    if spec.search == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    else:  # grid points are enqueued; the sampler only serves random search
        sampler = optuna.samplers.RandomSampler(seed=seed)
    return optuna.create_study(
        storage=open_storage(storage_url(spec, directory)),
        study_name=STUDY_NAME,
        direction="maximize" if SELECTS[spec.select] == "maximize" else "minimize",
        sampler=sampler,
        load_if_exists=True,
    )


def enqueue_grid(spec: SweepSpec, study: Any) -> int:
    """Enqueue every grid point once (a second call does nothing); return the number."""
    if spec.search != "grid" or study.user_attrs.get("grid_enqueued"):
        return 0
    points = spec.settings()
    for index, point in enumerate(points):
        study.enqueue_trial(point, user_attrs={"grid_point": index})
    study.set_user_attr("grid_enqueued", len(points))
    return len(points)


# -- one trial ------------------------------------------------------------------------------


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
    extra: dict[str, Any] = field(default_factory=dict)


TrainFunction = Callable[[Any], Any]


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
        result = train_function(config)
    except NonFiniteLossError as error:
        return SeedRun(seed, str(run_dir), f"failed: diverged ({error})")
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
    elif classes and run.val_acc is not None and run.val_acc <= 1.0 / classes + CHANCE_MARGIN:
        run.status = f"failed: chance level (val acc {run.val_acc:.3f} vs 1/{classes})"
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


def config_of(spec: SweepSpec) -> dict[str, Any]:
    """Return the base TrainConfig as plain data (for reports)."""
    from neuralab.vision.config import TrainConfig

    return config_to_dict(make_config(TrainConfig, spec.base))


def wait_seconds() -> float:
    """Seconds a worker waits between looks at trials still running elsewhere."""
    return float(os.environ.get("NEURALAB_SWEEP_POLL", "2"))


def sleep_briefly() -> None:
    time.sleep(wait_seconds())
