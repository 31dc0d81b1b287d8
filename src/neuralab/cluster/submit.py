"""Submitting a :class:`~neuralab.cluster.jobs.BatchJob`: write its files, run ``sbatch``.

Plain ``sbatch --parsable`` rather than a submission library: the script is the product here
(students hand in its output file, a site edits its header), so it is written as a readable
file and submitted as it is. (submitit pickles a Python function into a script of its own and
names the output files after itself, which hides both.)
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from neuralab.atomic import write_text
from neuralab.cluster.jobs import BatchJob
from neuralab.errors import NeuralabError
from neuralab.rundir import make_directory


def write_job(job: BatchJob) -> None:
    """Write the job's script and the files it reads (atomically), in folders it creates."""
    for folder in sorted({job.script_path.parent, *(Path(p).parent for p in job.files)}):
        make_directory(folder, "jobs")  # the --jobs-dir a person asks for, like a run directory
    for path, text in job.files.items():
        write_text(path, text)
    write_text(job.script_path, job.script)
    job.script_path.chmod(0o755)


def submit(job: BatchJob, *, dependency: str | None = None, sbatch: str = "sbatch") -> str:
    """Write ``job`` and submit it with sbatch; return the job id Slurm gave it.

    ``dependency`` is sbatch's ``--dependency`` (e.g. ``afterany:1234``). sbatch missing, or
    refusing the job, is one line naming why.
    """
    program = shutil.which(sbatch)
    if program is None:
        raise NeuralabError(
            f"{sbatch} not found: Slurm is not installed here (--dry-run prints the script)"
        )
    write_job(job)
    arguments: list[str] = [program, "--parsable"]
    if dependency:
        arguments.append(f"--dependency={dependency}")
    arguments.append(str(job.script_path))
    return _job_id(_run(arguments), job)


def _run(arguments: Sequence[str]) -> str:
    try:
        done = subprocess.run(arguments, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise NeuralabError("sbatch did not answer within 120 s (is slurmctld up?)") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise NeuralabError(f"sbatch refused the job: {lines[-1] if lines else done.returncode}")
    return done.stdout


def _job_id(output: str, job: BatchJob) -> str:
    # --parsable prints "ID" or "ID;CLUSTER"
    text = output.strip().splitlines()[-1] if output.strip() else ""
    job_id = text.split(";")[0]
    if not job_id.isdigit():
        raise NeuralabError(f"sbatch printed no job id for {job.script_path}: {output.strip()!r}")
    return job_id
