"""A sweep on Slurm: created here, trained by a job array of workers, reported by a job after them.

The sweep (``sweep.yaml`` and its grid, enqueued once) is created on the machine that submits,
so the array's workers only take trials from the shared Optuna storage: each grid point goes
to one worker however many there are, and a worker that Slurm stops gives its trial back
(:func:`neuralab.studies.sweep.worker.run_worker`). The report job waits for the whole array
(``--dependency=afterany``) and chooses, retrains and tests once.

The storage must be reachable from every node: by default a journal file in the sweep
directory (``journal:SWEEP_DIR/optuna.journal``, safe on a shared file system, where SQLite's
locks are not), or any database URL (``postgresql://...``) given with ``--storage``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from neuralab.cluster.batch import SlurmOptions, output_file
from neuralab.cluster.jobs import BatchJob, sweep_array_job, sweep_report_job
from neuralab.cluster.submit import submit
from neuralab.studies.sweep.runner import start_sweep
from neuralab.studies.sweep.spec import SweepSpec, open_sweep


def journal_storage(directory: str | os.PathLike[str]) -> str:
    """Return the default storage of a sweep on Slurm: a journal file in its directory."""
    return f"journal:{Path(directory).resolve() / 'optuna.journal'}"


def with_cluster_storage(spec: SweepSpec, directory: str | os.PathLike[str]) -> SweepSpec:
    """Return ``spec`` with the journal file as its storage when it names none."""
    if spec.storage is not None:
        return spec
    return dataclasses.replace(spec, storage=journal_storage(directory))


@dataclass
class SweepJobs:
    """The jobs of a sweep on Slurm and, once submitted, their ids."""

    directory: Path  # the sweep directory
    workers: BatchJob  # the array of workers
    report: BatchJob | None  # the report job after them (None: report by hand)
    ids: dict[str, str] = field(default_factory=dict)  # "workers", "report" -> Slurm job id

    def follow(self) -> list[str]:
        """Return the lines that tell how to follow the sweep."""
        workers = self.ids.get("workers", "ID")
        outputs = output_file(self.workers.output, self.workers.name, workers, array=True)
        lines = [
            f"follow the workers: squeue --job {workers}",
            f"their output files (each trial's epoch table): {outputs}",
            f"trials trained so far: ls {self.directory}/runs",
            f"stop one worker: scancel {workers}_TASK (its trial goes back to the queue)",
        ]
        if self.report is not None:
            report = self.ids.get("report", "ID")
            output = output_file(self.report.output, self.report.name, report)
            lines.append(
                f"report job {report} starts when the array ends: {self.directory}/report.md "
                f"(output file {output})"
            )
        else:
            lines.append(f"when the array ends: neuralab sweep report {self.directory}")
        return lines


def sweep_jobs(
    directory: str | os.PathLike[str],
    options: SlurmOptions,
    *,
    tasks: int,
    parallel: int | None = None,
    report: bool = True,
) -> SweepJobs:
    """Return the worker array (``tasks`` workers) and report job of the sweep in ``directory``."""
    folder = Path(directory).resolve()
    return SweepJobs(
        folder,
        sweep_array_job(folder, options, tasks=tasks, parallel=parallel),
        sweep_report_job(folder, options) if report else None,
    )


def submit_sweep(spec: SweepSpec | None, jobs: SweepJobs) -> SweepJobs:
    """Create (``spec``) or reopen (None: more workers) the sweep, then submit its jobs.

    Returns ``jobs`` with the ids Slurm gave them.
    """
    if spec is not None:
        jobs.directory.mkdir(parents=True, exist_ok=True)  # the journal file's folder
        start_sweep(spec, jobs.directory)
    else:
        open_sweep(jobs.directory)  # refuses a folder that holds no sweep
    jobs.ids["workers"] = submit(jobs.workers)
    if jobs.report is not None:
        jobs.ids["report"] = submit(jobs.report, dependency=f"afterany:{jobs.ids['workers']}")
    return jobs
