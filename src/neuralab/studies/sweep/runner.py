"""Run a whole sweep: create it, enqueue the grid, run workers, choose, retrain, report."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from neuralab.errors import NeuralabError
from neuralab.rundir import check_new_run_directory, clear_directory, is_run_directory
from neuralab.studies.sweep.report import write_report
from neuralab.studies.sweep.results import SweepOutcome, collect, final_run, pending
from neuralab.studies.sweep.spec import SweepSpec, open_sweep
from neuralab.studies.sweep.storage import enqueue_grid, open_storage, open_study
from neuralab.studies.sweep.trial import TrainFunction
from neuralab.studies.sweep.worker import run_worker

ProgressCallback = Callable[[int, int], None]


def start_sweep(
    spec: SweepSpec, directory: str | os.PathLike[str], *, overwrite: bool = False
) -> int:
    """Create (or reopen the same) sweep in ``directory`` and enqueue its grid; return the size.

    Every input is checked before anything is written (:func:`check_sweep`): the storage, each
    setting's config and model, the data sets. A directory holding the same sweep is
    continued; one holding anything else is refused unless ``overwrite``.
    """
    check_sweep(spec, directory, overwrite=overwrite)
    if overwrite and is_run_directory(directory):
        clear_directory(directory)
    open_sweep(directory, spec)
    study = open_study(spec, directory)
    enqueue_grid(spec, study)
    return sweep_size(spec)


def sweep_size(spec: SweepSpec) -> int:
    """Return the number of trials: every grid point, or ``trials`` for random / tpe."""
    return len(spec.settings()) if spec.search == "grid" else int(spec.trials or 0)


def check_sweep(
    spec: SweepSpec, directory: str | os.PathLike[str], *, overwrite: bool = False
) -> None:
    """Refuse, before anything is written or trained, a sweep that cannot run.

    The directory must be new, empty, or hold this same sweep (``overwrite``: any sweep or run);
    every setting must make a valid TrainConfig with known names; every data set the settings
    name must load (a missing ``mnist`` without ``--download`` fails here, not in the first
    trial); the storage must be reachable (checked last: opening a journal file creates it).
    """
    from neuralab.config import make_config
    from neuralab.vision.config import TrainConfig, check_names
    from neuralab.vision.datasets import get_dataset

    folder = Path(directory)
    if not overwrite and (folder / "sweep.yaml").is_file():
        open_sweep(folder, spec)  # the same sweep continues; another is refused
    else:
        check_new_run_directory(folder, overwrite=overwrite, kind="sweep", option="--sweep-dir")
    data_sets = set()
    for setting in spec.settings():
        values = {**spec.base, **setting, "run_dir": str(folder / "runs" / "check")}
        config = make_config(TrainConfig, values)
        check_names(config)
        data_sets.add((config.data, config.data_dir, config.image_size, config.download))
    for data, data_dir, image_size, download in sorted(data_sets, key=repr):
        get_dataset(data, data_dir=data_dir, image_size=image_size, download=download)
    check_storage(spec)


def check_storage(spec: SweepSpec) -> None:
    """Fail now, before anything is written or trained, if ``--storage`` cannot be reached."""
    if spec.storage is not None:
        open_storage(spec.storage)


def run_workers(
    directory: str | os.PathLike[str],
    workers: int,
    *,
    train_function: TrainFunction | None = None,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Run ``workers`` workers on the sweep: in this process for 1, else as child processes.

    Each child is ``python -m neuralab sweep worker DIR`` with an equal share of the CPU
    threads. Children that exit with an error are reported after the others finish.
    """
    if workers < 0:
        raise NeuralabError(f"workers must be >= 0, got {workers}")
    if workers == 0:  # create only: workers are started elsewhere (e.g. a Slurm job array)
        return
    if workers == 1:
        run_worker(directory, train_function=train_function)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    # children import the same neuralab as this process, wherever it was imported from
    package_root = str(Path(__file__).resolve().parents[3])
    python_path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    environment = {**os.environ, "NEURALAB_THREADS": str(threads), "PYTHONPATH": python_path}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "neuralab", "sweep", "worker", str(directory)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    spec = open_sweep(directory)
    study = open_study(spec, directory)
    try:
        while any(child.poll() is None for child in children):
            if on_progress is not None:
                on_progress(*_progress(spec, study))
            time.sleep(1.0)
    except KeyboardInterrupt:
        for child in children:
            child.terminate()
        raise
    if on_progress is not None:
        on_progress(*_progress(spec, study))
    failures = [c for c in children if c.returncode != 0]
    if failures:
        message = (failures[0].stderr.read() if failures[0].stderr else "").strip().splitlines()
        raise NeuralabError(
            f"{len(failures)} of {workers} sweep workers failed"
            + (f": {message[-1]}" if message else "")
        )


def _progress(spec: SweepSpec, study: object) -> tuple[int, int]:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)  # type: ignore[attr-defined]
    done = sum(t.state == TrialState.COMPLETE for t in trials)
    total = len(spec.settings()) if spec.search == "grid" else int(spec.trials or 0)
    return done, total


def finish_sweep(
    directory: str | os.PathLike[str], *, train_function: TrainFunction | None = None
) -> SweepOutcome:
    """Choose on validation, retrain the choice, test it once, write tables, figure, reports."""
    outcome = collect(directory)
    missing = pending(outcome)
    if missing:
        raise NeuralabError(
            f"{len(missing)} setting(s) of the sweep in {directory} have not run yet: "
            f"run `neuralab sweep worker {directory}` first"
        )
    outcome.final = final_run(outcome, directory, train_function)
    write_report(outcome, directory)
    return outcome


def run_sweep(
    spec: SweepSpec,
    directory: str | os.PathLike[str],
    *,
    workers: int = 1,
    train_function: TrainFunction | None = None,
    on_progress: ProgressCallback | None = None,
    overwrite: bool = False,
    on_start: Callable[[int], None] | None = None,
) -> SweepOutcome:
    """Start (or resume) the sweep, train every trial, then :func:`finish_sweep`.

    ``on_start(size)`` is called once the sweep is checked and created, before any training.
    """
    size = start_sweep(spec, directory, overwrite=overwrite)
    if on_start is not None:
        on_start(size)
    run_workers(directory, workers, train_function=train_function, on_progress=on_progress)
    if workers == 0:
        return collect(directory)
    return finish_sweep(directory, train_function=train_function)
