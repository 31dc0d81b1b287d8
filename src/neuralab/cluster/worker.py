"""The sweep worker of a Slurm array task: a sweep worker that gives its trial back on SIGTERM.

Slurm stops a job with SIGTERM (then SIGKILL after ``KillWait``, 30 s by default): ``scancel``,
pre-emption and the time limit alike. Python's default for SIGTERM is to die on the spot, which
would leave the trial being trained marked running; here SIGTERM raises :class:`Cancelled`
instead, the worker marks the trial failed and enqueues it again at once (what it does on
Ctrl-C), and another worker, of this array or of a later one, trains it from the start.
A worker killed outright (SIGKILL, a node that dies) leaves its trial to the storage's
heartbeat (PostgreSQL, MySQL, SQLite), or to ``neuralab sweep worker DIR --requeue-running``.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

from neuralab.studies.sweep.worker import run_worker


class Cancelled(BaseException):
    """Slurm asked the job to stop (SIGTERM): not an error of the trial being trained."""


def run_array_worker(directory: str | os.PathLike[str]) -> int:
    """Train waiting trials of the sweep in ``directory`` until none is left; return how many.

    SIGTERM raises :class:`Cancelled` out of the trial being trained, after it was given back.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Cancelled(f"signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return run_worker(directory)
    finally:
        signal.signal(signal.SIGTERM, previous)
