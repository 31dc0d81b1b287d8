"""A sweep worker: pop waiting trials from the shared Optuna storage and train them.

Run many at once (``neuralab sweep --workers 4``, or ``neuralab sweep worker SWEEP_DIR`` on
several machines): each trial goes to exactly one worker. A worker stops when no trial is
waiting and none is running elsewhere (a trial running elsewhere may still fail and come back
to the queue, so it waits for those).

Why the loop is written out (ask, train, tell) instead of ``study.optimize``: popping a waiting
trial is not atomic on SQLite (two processes can both read it as waiting and both run it), so
workers take a lock file in the sweep directory around ``ask``; PostgreSQL/MySQL lock the row
themselves. The heartbeat thread (every 5 s) is what lets a later worker see that a killed
worker's trial went silent, fail it and put it back in the queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from neuralab.errors import NeuralabError
from neuralab.studies.sweep.spec import SweepSpec, open_sweep
from neuralab.studies.sweep.storage import open_study, retry_callback
from neuralab.studies.sweep.trial import TrainFunction, objective_value, run_setting

SCALAR_TYPES = (bool, int, float, str, type(None))
HEARTBEAT_SECONDS = 5.0


def run_worker(
    directory: str | os.PathLike[str],
    *,
    train_function: TrainFunction | None = None,
    max_trials: int | None = None,
) -> int:
    """Train waiting trials of the sweep in ``directory`` until none is left; return how many.

    SIGTERM (Slurm's scancel, pre-emption and time limit; a parent stopping its workers) gives
    the trial being trained back to the queue at once, as Ctrl-C does, and stops the worker.
    """
    sigterm = _Sigterm()
    with _handling_sigterm(sigterm):
        return _work(directory, train_function, max_trials, sigterm)


def _work(
    directory: str | os.PathLike[str],
    train_function: TrainFunction | None,
    max_trials: int | None,
    sigterm: _Sigterm,
) -> int:
    from optuna.storages import fail_stale_trials
    from optuna.trial import TrialState

    spec = open_sweep(directory)
    _check_scalar_grid(spec)
    study = open_study(spec, directory)
    lock_file = Path(directory) / ".queue.lock"
    trained = 0
    while max_trials is None or trained < max_trials:
        sigterm.raise_pending()  # a SIGTERM between trials stops the worker here
        fail_stale_trials(study)
        with _queue_lock(lock_file):
            action = _next_action(spec, study)
            trial = study.ask() if action == "run" else None
        if trial is None:
            if action == "stop":
                break
            # trials still run elsewhere: look again shortly
            time.sleep(float(os.environ.get("NEURALAB_SWEEP_POLL", "2")))
            continue
        if spec.search == "grid" and "grid_point" not in trial.user_attrs:
            study.tell(trial, state=TrialState.PRUNED)  # not from the grid's queue: nothing to do
            continue
        with _heartbeat(study, trial):
            try:
                with sigterm.training():  # a SIGTERM from here on gives the trial back
                    setting = {
                        name: trial.suggest_categorical(name, values)
                        for name, values in spec.grid.items()
                    }
                    trial.set_user_attr("setting", setting)
                    run_root = Path(directory) / "runs" / f"trial-{trial.number:04d}"
                    _adopt_previous_attempt(study, trial.number, run_root)
                    runs = run_setting(spec, setting, run_root, train_function)
                    trial.set_user_attr("runs", [dataclasses.asdict(r) for r in runs])
                    value = objective_value(spec, runs)
            except BaseException:
                study.tell(trial, state=TrialState.FAIL)
                # give the trial back at once (Ctrl-C, an error): a later worker reruns it
                retry_callback()(study, study.get_trials(deepcopy=False)[trial.number])
                raise
        study.tell(trial, value)
        trained += 1
    return trained


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop like Ctrl-C (the trial goes back to the queue, exit code 130)."""


class _Sigterm:
    """SIGTERM handling of a worker: Slurm's scancel, pre-emption and time limit send it.

    Python would die on the spot, leaving the trial marked running (until its heartbeat goes
    stale, or for good on a journal file). Here SIGTERM raises :class:`Terminated` while a trial
    trains (inside :meth:`training`, whose caller gives the trial back); anywhere else (between
    ``ask`` and the training, between trials) it is remembered and raised at the next of those
    points, so no trial is ever left marked running.
    """

    def __init__(self) -> None:
        self.pending = False
        self.armed = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.pending = True
        if self.armed:
            self.raise_pending()

    def raise_pending(self) -> None:
        if self.pending:
            what = "the trial in training goes back to the queue" if self.armed else "stopping"
            print(f"neuralab: SIGTERM: {what}", file=sys.stderr)
            raise Terminated("SIGTERM")

    @contextlib.contextmanager
    def training(self) -> Iterator[None]:
        """Mark the block where SIGTERM raises at once (a SIGTERM already here, too)."""
        self.armed = True
        try:
            self.raise_pending()
            yield
        finally:
            self.armed = False


@contextlib.contextmanager
def _handling_sigterm(handler: _Sigterm) -> Iterator[None]:
    """Let ``handler`` take SIGTERM while the block runs (only the main thread gets signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _adopt_previous_attempt(study: Any, number: int, run_root: Path) -> None:
    """Move the run folders of the attempt trial ``number`` retries to ``run_root``.

    A worker killed or interrupted mid-trial leaves its seeds' run directories behind; the
    retry (a new trial, see :func:`neuralab.studies.sweep.storage.retry_callback`) takes them
    over, so finished seeds are not trained again and a half-trained one resumes from its
    ``last.pt`` (:func:`neuralab.studies.sweep.trial.run_setting`).
    """
    frozen = study.get_trials(deepcopy=False)[number]
    history = frozen.system_attrs.get("retry_history", [])
    if not history or run_root.exists():
        return
    previous = run_root.parent / f"trial-{int(history[-1]):04d}"
    if previous.is_dir():
        os.replace(previous, run_root)


@contextlib.contextmanager
def _queue_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` while the block runs, on every platform.

    ``filelock`` (a dependency of torch) takes ``flock`` on POSIX and ``msvcrt`` locks on
    Windows; the lock dies with its process, so a killed worker never leaves the queue locked.
    """
    from filelock import FileLock

    with FileLock(str(path)):
        yield


@contextlib.contextmanager
def _heartbeat(study: Any, trial: Any) -> Iterator[None]:
    """Record the trial's heartbeat every few seconds while the block runs (RDB storages)."""
    storage = _heartbeat_storage(study)
    if storage is None:
        yield
        return
    trial_id = trial._trial_id  # Optuna's own id of the trial in the storage
    stop = threading.Event()

    def beat() -> None:
        storage.record_heartbeat(trial_id)
        while not stop.wait(HEARTBEAT_SECONDS):
            storage.record_heartbeat(trial_id)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _next_action(spec: SweepSpec, study: Any) -> str:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    if running and not _has_heartbeat(study):
        # without heartbeats a dead worker's trial would look running forever: do not wait
        # for it (`neuralab sweep worker DIR --requeue-running` puts such trials back)
        running = 0
    if spec.search == "grid":
        if waiting:
            return "run"
        return "wait" if running else "stop"
    complete = sum(t.state == TrialState.COMPLETE for t in trials)
    if waiting or complete + running < (spec.trials or 0):
        return "run"
    return "wait" if running else "stop"


def _heartbeat_storage(study: Any) -> Any:
    from optuna.storages import RDBStorage

    storage = getattr(study, "_storage", None)
    storage = getattr(storage, "_backend", storage)  # Optuna may wrap the storage in a cache
    if isinstance(storage, RDBStorage) and storage.get_heartbeat_interval() is not None:
        return storage
    return None


def _has_heartbeat(study: Any) -> bool:
    return _heartbeat_storage(study) is not None


def requeue_running(directory: str | os.PathLike[str]) -> int:
    """Mark every running trial failed and put it back in the queue; return how many.

    For storages without heartbeats (the journal file), after workers were killed. Only use it
    when no worker is running: a live worker's trial would be trained twice.
    """
    from optuna.trial import TrialState

    spec = open_sweep(directory)
    study = open_study(spec, directory)
    requeued = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL)
        retry_callback()(study, study.get_trials(deepcopy=False)[trial.number])
        requeued += 1
    return requeued


def _check_scalar_grid(spec: SweepSpec) -> None:
    for name, values in spec.grid.items():
        for value in values:
            if not isinstance(value, SCALAR_TYPES):
                raise NeuralabError(
                    f"grid field {name!r} has value {value!r}: sweeps take single numbers, "
                    "names or booleans per field"
                )
