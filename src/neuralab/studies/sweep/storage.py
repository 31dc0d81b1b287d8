"""The sweep's Optuna storage (SQLite, a database server or a journal file) and its study."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from neuralab.errors import NeuralabError
from neuralab.studies.sweep.spec import SELECTS, SweepSpec

STUDY_NAME = "neuralab-sweep"


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
    # our workers record heartbeats themselves (sweep.worker), not through Study.optimize
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


def describe_storage(spec: SweepSpec, directory: str | os.PathLike[str]) -> str:
    """Return the storage URL, for messages (passwords hidden)."""
    url = storage_url(spec, directory)
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
