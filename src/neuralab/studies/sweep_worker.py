"""A sweep worker: pop waiting trials from the shared Optuna storage and train them.

Run many at once (``neuralab sweep --workers 4``, or ``neuralab sweep worker SWEEP_DIR`` on
several machines): each trial is handed to exactly one worker by the storage. A worker stops
when no trial is waiting and none is running elsewhere (a trial running elsewhere may still
fail and come back to the queue, so it waits for those).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from neuralab.errors import NeuralabError
from neuralab.studies.sweep import (
    SweepSpec,
    TrainFunction,
    objective_value,
    open_study,
    open_sweep,
    retry_callback,
    run_setting,
    sleep_briefly,
)

SCALAR_TYPES = (bool, int, float, str, type(None))


def run_worker(
    directory: str | os.PathLike[str],
    *,
    train_function: TrainFunction | None = None,
    max_trials: int | None = None,
) -> int:
    """Train waiting trials of the sweep in ``directory`` until none is left; return how many."""
    import optuna
    from optuna.storages import fail_stale_trials

    spec = open_sweep(directory)
    _check_scalar_grid(spec)
    study = open_study(spec, directory)
    current: dict[str, int] = {}
    trained = 0

    def objective(trial: optuna.Trial) -> float:
        current["number"] = trial.number
        if spec.search == "grid" and "grid_point" not in trial.user_attrs:
            # the queue emptied between our look and our ask: nothing to train
            raise optuna.TrialPruned("no grid point left")
        setting = {
            name: trial.suggest_categorical(name, values) for name, values in spec.grid.items()
        }
        trial.set_user_attr("setting", setting)
        run_root = Path(directory) / "runs" / f"trial-{trial.number:04d}"
        runs = run_setting(spec, setting, run_root, train_function)
        trial.set_user_attr("runs", [dataclasses.asdict(r) for r in runs])
        return objective_value(spec, runs)

    while max_trials is None or trained < max_trials:
        fail_stale_trials(study)
        action = _next_action(spec, study)
        if action == "stop":
            break
        if action == "wait":
            sleep_briefly()
            continue
        current.clear()
        try:
            study.optimize(objective, n_trials=1, catch=())
        except KeyboardInterrupt:
            number = current.get("number")
            if number is not None:  # give the interrupted trial back to the queue at once
                frozen = study.get_trials(deepcopy=False)[number]
                if frozen.state == optuna.trial.TrialState.FAIL:
                    retry_callback()(study, frozen)
            raise
        trial = study.get_trials(deepcopy=False)[current["number"]] if current else None
        if trial is not None and trial.state == optuna.trial.TrialState.COMPLETE:
            trained += 1
    return trained


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


def _has_heartbeat(study: Any) -> bool:
    from optuna.storages import RDBStorage

    storage = getattr(study, "_storage", None)
    storage = getattr(storage, "_backend", storage)  # Optuna may wrap the storage in a cache
    return isinstance(storage, RDBStorage) and storage.get_heartbeat_interval() is not None


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
