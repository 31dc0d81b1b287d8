"""The batch jobs neuralab submits: a training run, an array of sweep workers, a report, a study.

Each builder returns a :class:`BatchJob`: the script's text and the files it reads, nothing
written yet (``--dry-run`` prints it, :func:`neuralab.cluster.submit.submit` writes and submits).
Every script runs the Python and the neuralab that wrote it, so they must sit on a file system
all nodes see (a cluster's home or project directory).

**Training** runs one torchrun per node (``srun``, one task per node); the torchruns meet
through the c10d rendezvous on the job's first node and start N processes each (N GPUs per
node, or ``--nproc`` CPU processes), W = nodes x N in all. The same script serves one node and
many. A job that Slurm requeues (pre-emption, node failure) and torchrun's own restarts
(``--max-restarts``) both continue from the run's ``last.pt``.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.cluster.batch import (
    ARRAY_OUTPUT,
    DEFAULT_OUTPUT,
    SlurmOptions,
    batch_script,
    output_file,
    shell_words,
)
from neuralab.config import config_to_dict, make_config
from neuralab.errors import NeuralabError
from neuralab.vision.config import TrainConfig, check_names
from neuralab.vision.distributed import per_rank_batch_size
from neuralab.vision.resolve import resolve_resume_config, resolve_run_dir

RENDEZVOUS_PORT_BASE = 20000  # the c10d store listens on 20000 + job id mod 20000, on node 1


@dataclass
class BatchJob:
    """A batch script and the files it reads, ready to be written and submitted."""

    name: str  # the job name (sbatch --job-name)
    script: str  # the batch script's text
    script_path: Path  # where the script is written before sbatch reads it
    files: dict[Path, str] = field(default_factory=dict)  # more files the script reads
    outputs: list[str] = field(default_factory=list)  # what it writes, for the user
    output: str = DEFAULT_OUTPUT  # sbatch's --output pattern: where its standard output goes

    def follow(self, job_id: str) -> list[str]:
        """Return what to tell the user once Slurm gave the job ``job_id``: its files, squeue."""
        output = output_file(self.output, self.name, job_id)
        return [
            *self.outputs,
            f"output file {output} (as it runs: tail -f {output})",
            f"in the queue: squeue --job {job_id}; stop it: scancel {job_id}",
        ]


def _environment_lines() -> list[str]:
    """Return the lines that make a job run this Python with this neuralab."""
    # this file is src/neuralab/cluster/jobs.py: the folder that holds the package is three up
    package_root = Path(__file__).resolve().parents[2]
    return [
        "# the Python and the neuralab that wrote this script (on a file system every node sees)",
        f"export PYTHONPATH={shell_words([str(package_root)])}${{PYTHONPATH:+:$PYTHONPATH}}",
        f"PYTHON={shell_words([sys.executable])}",
    ]


def train_job(
    config: TrainConfig,
    options: SlurmOptions,
    *,
    jobs_dir: str | os.PathLike[str],
    nproc: int | None = None,
    max_restarts: int = 0,
) -> BatchJob:
    """Return the job that trains ``config`` on ``options.nodes`` nodes.

    Processes per node: ``options.gpus_per_node`` on GPUs (one each), else ``nproc`` (default
    1) on the CPU cores of the node's task. ``config.batch_size`` is the global batch over all
    nodes x processes and must divide by their number. The resolved config (with its run
    directory, absolute) is written beside the script.
    """
    per_node = _processes_per_node(config, options, nproc, max_restarts)
    run_dir = resolve_run_dir(config).resolve()
    if (run_dir / "last.pt").is_file():
        raise NeuralabError(
            f"run directory {str(run_dir)!r} already holds a run; resume it with "
            f"--resume {run_dir} or choose another --run-dir"
        )
    return _train_job(
        dataclasses.replace(config, run_dir=str(run_dir)),
        options,
        Path(jobs_dir),
        per_node,
        max_restarts,
    )


def resume_job(
    run_dir: str | os.PathLike[str],
    options: SlurmOptions,
    *,
    jobs_dir: str | os.PathLike[str],
    nproc: int | None = None,
    max_restarts: int = 0,
    overrides: Mapping[str, Any] | None = None,
) -> BatchJob:
    """Return the job that continues the run in ``run_dir`` (any number of processes)."""
    folder = Path(run_dir).resolve()
    if not (folder / "last.pt").is_file():
        raise NeuralabError(f"cannot resume: {str(folder)!r} has no last.pt checkpoint")
    config = resolve_resume_config(folder, None, overrides)
    per_node = _processes_per_node(config, options, nproc, max_restarts)
    return _train_job(config, options, Path(jobs_dir), per_node, max_restarts)


def _processes_per_node(
    config: TrainConfig, options: SlurmOptions, nproc: int | None, max_restarts: int
) -> int:
    """Return the training processes per node after checking what the job can run."""
    check_names(config)
    gpus = options.gpus_per_node
    if gpus and nproc is not None and nproc != gpus:
        raise NeuralabError(
            f"--nproc {nproc} with --gpus-per-node {gpus}: a GPU job starts one process per GPU"
        )
    per_node = gpus or nproc or 1
    if per_node < 1:
        raise NeuralabError(f"--nproc must be >= 1, got {per_node}")
    if not gpus and options.cpus_per_task < per_node:
        raise NeuralabError(
            f"{per_node} CPU processes per node need --cpus-per-task >= {per_node} "
            f"(got {options.cpus_per_task})"
        )
    if not gpus and config.device.startswith("cuda"):
        raise NeuralabError(f"device {config.device!r} needs --gpus-per-node >= 1")
    if gpus and config.device == "cpu":
        raise NeuralabError("--gpus-per-node with device cpu: set --device auto or cuda")
    if max_restarts < 0:
        raise NeuralabError(f"--max-restarts must be >= 0, got {max_restarts}")
    per_rank_batch_size(config.batch_size, options.nodes * per_node)
    return per_node


def _train_job(
    config: TrainConfig, options: SlurmOptions, jobs_dir: Path, per_node: int, max_restarts: int
) -> BatchJob:
    run_dir = Path(str(config.run_dir))
    jobs_dir = jobs_dir.resolve()
    config_file = jobs_dir / f"{options.job_name}-{run_dir.name}.yaml"
    script_path = config_file.with_suffix(".sbatch")
    world = options.nodes * per_node
    threads = max(1, options.cpus_per_task // per_node)
    torchrun = [
        "--nnodes",
        str(options.nodes),
        "--nproc-per-node",
        str(per_node),
        "--rdzv-backend",
        "c10d",
        "--max-restarts",
        str(max_restarts),
    ]
    train = ["-m", "neuralab", "train", "--config", str(config_file), "--no-progress"]
    body = [
        *_environment_lines(),
        f"export OMP_NUM_THREADS={threads}  # the task's "
        f"{_count(options.cpus_per_task, 'core')} shared by {_count(per_node, 'process')}",
        "",
        "# a requeued job (pre-emption, node failure) continues from the last checkpoint",
        f"run_dir={shell_words([str(run_dir)])}",
        'if [ -f "$run_dir/last.pt" ]; then start=(--resume "$run_dir"); '
        'else start=(--run-dir "$run_dir"); fi',
        "",
        "# one torchrun per node; they meet at the first node (c10d rendezvous)",
        'head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        f"port=$(( {RENDEZVOUS_PORT_BASE} + SLURM_JOB_ID % {RENDEZVOUS_PORT_BASE} ))",
        f"srun --nodes={options.nodes} --ntasks-per-node=1 "
        f"--cpus-per-task={options.cpus_per_task} --kill-on-bad-exit=1 \\",
        f'  "$PYTHON" -m torch.distributed.run {shell_words(torchrun)} \\',
        '  --rdzv-endpoint="$head:$port" --rdzv-id="$SLURM_JOB_ID" \\',
        f'  {shell_words(train)} "${{start[@]}}"',
    ]
    kind = "GPU" if options.gpus_per_node else "CPU process"
    how = f"{world} processes (DDP)" if world > 1 else "one process"
    comment = (
        f"neuralab: train {config.model} on {config.data} on {how}: "
        f"{_count(options.nodes, 'node')} x {_count(per_node, kind)},\n"
        f"global batch {config.batch_size} ({config.batch_size // world} per process); "
        f"the per-epoch table goes to the output file and to {run_dir}/train.log"
    )
    script = batch_script(options, comment, body)
    config_text = _yaml(config_to_dict(config))
    return BatchJob(
        options.job_name,
        script,
        script_path,
        {config_file: config_text},
        [f"run directory {run_dir}"],
        options.output,
    )


def sweep_array_job(
    sweep_dir: str | os.PathLike[str], options: SlurmOptions, *, tasks: int, parallel: int | None
) -> BatchJob:
    """Return the job array of ``tasks`` sweep workers on the sweep in ``sweep_dir``.

    Each task is one worker: it takes waiting trials from the sweep's shared Optuna storage
    until none is left; ``parallel`` caps how many run at once (``--array=0-N%P``). A worker
    that Slurm stops (scancel, pre-emption, time limit: SIGTERM) gives its trial back.
    """
    if tasks < 1:
        raise NeuralabError(f"--tasks must be >= 1, got {tasks}")
    if parallel is not None and parallel < 1:
        raise NeuralabError(f"--parallel must be >= 1, got {parallel}")
    folder = Path(sweep_dir).resolve()
    array = f"0-{tasks - 1}" + (f"%{parallel}" if parallel else "")
    # one file per task, named by the array and the task (each task's %j is its own)
    output = ARRAY_OUTPUT if options.output == DEFAULT_OUTPUT else options.output
    options = dataclasses.replace(options, array=array, output=output)
    body = [
        *_environment_lines(),
        f"export OMP_NUM_THREADS={options.cpus_per_task}",
        "",
        "# one worker: trials from the shared storage until none is left; SIGTERM gives the",
        "# trial being trained back to the queue",
        f'exec "$PYTHON" -m neuralab sweep worker {shell_words([str(folder)])}',
    ]
    comment = (
        f"neuralab: {tasks} sweep workers (a job array) on the sweep in {folder};\n"
        "each grid point is trained once, by whichever worker takes it"
    )
    return BatchJob(
        options.job_name,
        batch_script(options, comment, body),
        folder / "slurm" / f"{options.job_name}-workers.sbatch",
        outputs=[f"trials in {folder}/runs/"],
        output=options.output,
    )


def sweep_report_job(sweep_dir: str | os.PathLike[str], options: SlurmOptions) -> BatchJob:
    """Return the job that chooses, retrains and reports the sweep once its workers are done."""
    folder = Path(sweep_dir).resolve()
    # one job, not an array: the array's %A (array id) and %a (task id) have no meaning here
    output = options.output.replace("%A", "%j").replace("_%a", "").replace("%a", "")
    options = dataclasses.replace(
        options, job_name=f"{options.job_name}-report", array=None, output=output
    )
    body = [
        *_environment_lines(),
        f"export OMP_NUM_THREADS={options.cpus_per_task}",
        f'exec "$PYTHON" -m neuralab sweep report {shell_words([str(folder)])}',
    ]
    comment = f"neuralab: choose on validation, retrain, test once and report the sweep {folder}"
    return BatchJob(
        options.job_name,
        batch_script(options, comment, body),
        folder / "slurm" / f"{options.job_name}.sbatch",
        outputs=[f"{folder}/report.md"],
        output=options.output,
    )


def study_job(
    name: str,
    options: SlurmOptions,
    *,
    study_dir: str | os.PathLike[str],
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> BatchJob:
    """Return the job that runs study ``name`` into ``study_dir`` (one node)."""
    from neuralab.studies.study import get_study

    study = get_study(name)  # an unknown name fails here, before anything is written
    values: dict[str, Any] = dict(study.quick) if quick else {}
    values.update(overrides or {})
    make_config(study.config_class, values)  # refuses unknown fields and bad values now
    if options.nodes != 1:
        raise NeuralabError("a study runs on one node: --nodes 1")
    folder = Path(study_dir).resolve()
    arguments = ["-m", "neuralab", "study", name, "--study-dir", str(folder)]
    if quick:
        arguments.append("--quick")
    for key, value in (overrides or {}).items():
        arguments += ["--set", f"{key}={_override_text(value)}"]
    body = [
        *_environment_lines(),
        f"export OMP_NUM_THREADS={options.cpus_per_task}",
        f'exec "$PYTHON" {shell_words(arguments)}',
    ]
    comment = f"neuralab: the {name} study into {folder}"
    return BatchJob(
        options.job_name,
        batch_script(options, comment, body),
        folder.parent / f"{folder.name}.sbatch",
        outputs=[f"{folder}/report.md"],
        output=options.output,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}es" if noun.endswith("s") else f"{n} {noun}s"


def _override_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _yaml(values: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(values, sort_keys=False)
