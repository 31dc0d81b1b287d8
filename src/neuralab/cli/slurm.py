"""``neuralab slurm train|sweep|study``: write a Slurm batch script and submit it with sbatch."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from neuralab.cli._app import app
from neuralab.cli._config_flags import config_file_option, config_flags, set_option
from neuralab.cluster.batch import SlurmOptions
from neuralab.studies.study import Study, get_study, list_studies
from neuralab.studies.sweep.spec import SWEEP_DEFAULTS, SweepSpec
from neuralab.vision.config import TrainConfig

if TYPE_CHECKING:
    from neuralab.cluster.jobs import BatchJob

slurm_app = typer.Typer(
    name="slurm",
    help="""Run training, sweeps and studies on a Slurm cluster: write the batch script, submit it.

Each command writes a batch script (#SBATCH lines from the Slurm flags: partition, nodes, GPUs or CPUs, time, memory, account, output file %x-%j.out, extra --sbatch lines, --setup lines such as module loads) and submits it with sbatch; --dry-run prints it instead. The job runs the Python and the neuralab that wrote it: keep both on a file system every node sees.

Examples:

  neuralab slurm train --data gtsrb --gpus-per-node 1 --cpus-per-task 8 --time 02:00:00 --dry-run

  neuralab slurm train --data gtsrb --nodes 2 --gpus-per-node 4 --batch-size 512 --partition gpu

  neuralab slurm sweep --grid lr=0.001,0.003,0.01 --grid dropout=0:0.5:0.1 --tasks 50

  neuralab slurm study dropout --quick --time 01:00:00
""",
    no_args_is_help=True,
)
app.add_typer(slurm_app, name="slurm")

_SLURM_FLAGS = ("array", "extra", "setup")  # set by the commands, or --sbatch / --setup


def _sbatch_option() -> Any:
    return typer.Option(
        None,
        "--sbatch",
        metavar="OPTION",
        help="One more #SBATCH line, e.g. --sbatch qos=short (repeatable).",
        show_default=False,
        rich_help_panel="Slurm",
    )


def _setup_option() -> Any:
    return typer.Option(
        None,
        "--setup",
        metavar="LINE",
        help="A shell line run before the job, e.g. --setup 'module load cuda' (repeatable).",
        show_default=False,
        rich_help_panel="Slurm",
    )


def _dry_run_option() -> Any:
    return typer.Option(False, "--dry-run", help="Print the batch script; submit nothing.")


def _options(
    fields: dict[str, Any], sbatch: list[str] | None, setup: list[str] | None, job_name: str
) -> SlurmOptions:
    """Return the SlurmOptions of the flags (``job_name``: the command's default name)."""
    from neuralab.config import convert_fields

    values = {"job_name": job_name, **convert_fields(SlurmOptions, fields)}
    return SlurmOptions(**values, extra=list(sbatch or []), setup=list(setup or []))


def _submit_or_print(job: BatchJob, dry_run: bool) -> str | None:
    """Print the script (``--dry-run``) or submit it; return the job id (None when printed)."""
    from neuralab.cluster.submit import submit
    from neuralab.console import stderr_console

    if dry_run:
        print(job.script, end="")
        for path in job.files:
            # soft_wrap: a path is copied from here, so it is never broken over two lines
            stderr_console().print(
                f"(the script reads {path}, written when it is submitted)", soft_wrap=True
            )
        return None
    job_id = submit(job)
    print(f"submitted batch job {job_id}: {job.script_path}")
    return job_id


_TRAIN_HELP = """Train on a Slurm cluster with DDP: one torchrun per node, N processes on each.

Processes per node: one per GPU (--gpus-per-node), or --nproc CPU processes. The batch size is the global batch over all processes (nodes x N) and must divide by their number. The nodes meet through torchrun's c10d rendezvous on the job's first node. The job's output file (%x-%j.out) holds the per-epoch table of train/val/test CE and accuracy, also kept in RUN_DIR/train.log. A job that Slurm requeues, and torchrun's restarts (--max-restarts), continue from the run's last.pt.

Every flag of `neuralab train` sets the run.
"""


@slurm_app.command("train", help=_TRAIN_HELP)
@config_flags(
    SlurmOptions, exclude=_SLURM_FLAGS, into="slurm_fields", defaults={"job_name": "train"}
)
@config_flags(TrainConfig)
def slurm_train(
    fields: dict[str, Any],
    slurm_fields: dict[str, Any],
    config: Path | None = config_file_option(TrainConfig),
    set_: list[str] | None = set_option(),
    resume: Path | None = typer.Option(
        None, "--resume", help="Continue the run in RUN_DIR from its last.pt.", show_default=False
    ),
    nproc: int | None = typer.Option(
        None, "--nproc", help="CPU training processes per node (a GPU job: one per GPU)."
    ),
    max_restarts: int = typer.Option(
        0, "--max-restarts", help="torchrun restarts after a process dies (each resumes)."
    ),
    jobs_dir: Path = typer.Option(
        Path("slurm"), "--jobs-dir", help="Where the script and the run's config are written."
    ),
    sbatch: list[str] | None = _sbatch_option(),
    setup: list[str] | None = _setup_option(),
    dry_run: bool = _dry_run_option(),
) -> None:
    from neuralab.cluster.jobs import resume_job, train_job
    from neuralab.config import load_config, parse_overrides

    options = _options(slurm_fields, sbatch, setup, "train")
    overrides: dict[str, Any] = {**parse_overrides(set_ or []), **fields}
    if resume is not None:
        job = resume_job(
            resume,
            options,
            jobs_dir=jobs_dir,
            nproc=nproc,
            max_restarts=max_restarts,
            overrides=overrides,
        )
    else:
        job = train_job(
            load_config(TrainConfig, config, overrides),
            options,
            jobs_dir=jobs_dir,
            nproc=nproc,
            max_restarts=max_restarts,
        )
    job_id = _submit_or_print(job, dry_run)
    if job_id is not None:
        for line in job.follow(job_id):
            print(f"  {line}")


_SWEEP_HELP = """Run a sweep on a Slurm cluster: a job array of workers on one shared Optuna storage.

The sweep is created here (its grid enqueued once); each array task is a worker taking waiting trials from the storage until none is left, so every grid point is trained exactly once however many tasks there are. A worker that Slurm stops (scancel, pre-emption, time limit) gives its trial back to the queue. The storage must be reachable from every node: a journal file in the sweep directory by default (journal:SWEEP_DIR/optuna.journal, safe on a shared file system), or --storage postgresql://... A report job after the array chooses on validation, retrains (--final-epochs) and tests once.

Without --grid, --sweep-dir names an existing sweep and the command submits more workers for it.

Every flag of `neuralab train` sets the base config of the runs.
"""


@slurm_app.command("sweep", help=_SWEEP_HELP)
@config_flags(
    SlurmOptions, exclude=_SLURM_FLAGS, into="slurm_fields", defaults={"job_name": "sweep"}
)
@config_flags(SweepSpec, exclude=("base", "grid"), into="spec_fields")
@config_flags(TrainConfig, exclude=("run_dir",), defaults=SWEEP_DEFAULTS)
def slurm_sweep(
    fields: dict[str, Any],
    spec_fields: dict[str, Any],
    slurm_fields: dict[str, Any],
    grid: list[str] | None = typer.Option(
        None,
        "--grid",
        metavar="FIELD=VALUES",
        help="A TrainConfig field and its values: field=start:stop:step or field=a,b,c; "
        "repeatable (every combination).",
        show_default=False,
    ),
    tasks: int = typer.Option(4, "--tasks", help="Array tasks: workers, each on one node."),
    parallel: int | None = typer.Option(
        None, "--parallel", help="At most this many workers at once (--array=0-N%P)."
    ),
    report: bool = typer.Option(
        True, "--report/--no-report", help="Submit the report job after the array."
    ),
    sweep_dir: Path | None = typer.Option(
        None,
        "--sweep-dir",
        help="Sweep directory (default runs/sweep-<data>-<model>-<timestamp>).",
        show_default=False,
    ),
    config: Path | None = config_file_option(TrainConfig),
    set_values: list[str] | None = set_option("FIELD=VALUE for a TrainConfig field (repeatable)."),
    sbatch: list[str] | None = _sbatch_option(),
    setup: list[str] | None = _setup_option(),
    dry_run: bool = _dry_run_option(),
) -> None:
    from neuralab.cli.sweep import sweep_spec
    from neuralab.cluster.sweep_array import submit_sweep, sweep_jobs, with_cluster_storage
    from neuralab.errors import NeuralabError
    from neuralab.rundir import default_run_name

    options = _options(slurm_fields, sbatch, setup, "sweep")
    spec = None
    if grid:
        spec = sweep_spec(fields, spec_fields, grid, config, set_values)
        directory = sweep_dir or Path("runs") / default_run_name(
            "sweep", str(spec.base["data"]), str(spec.base["model"])
        )
        spec = with_cluster_storage(spec, directory)
    elif sweep_dir is None:
        raise NeuralabError(
            "give --grid field=values for a new sweep, or --sweep-dir DIR for more workers"
        )
    else:
        directory = sweep_dir
    jobs = sweep_jobs(directory, options, tasks=tasks, parallel=parallel, report=report)
    if dry_run:
        for job in (jobs.workers, jobs.report):
            if job is not None:
                print(job.script, end="\n")
        return
    submit_sweep(spec, jobs)
    print(f"submitted {tasks} sweep workers as job array {jobs.ids['workers']}: {jobs.directory}")
    for line in jobs.follow():
        print(f"  {line}")


slurm_study_app = typer.Typer(
    name="study",
    help="Run one of the course's studies as a Slurm job (one node); its flags as in "
    "`neuralab study NAME`.",
    no_args_is_help=True,
)
slurm_app.add_typer(slurm_study_app, name="study")


def _add_study(study: Study) -> None:
    @slurm_study_app.command(study.name, help=f"The {study.name} study as a Slurm job.")
    @config_flags(
        SlurmOptions,
        exclude=_SLURM_FLAGS,
        into="slurm_fields",
        defaults={"job_name": f"study-{study.name}"},
    )
    @config_flags(study.config_class)
    def run(
        fields: dict[str, Any],
        slurm_fields: dict[str, Any],
        quick_size: bool = typer.Option(False, "--quick", help="The small size."),
        set_: list[str] | None = set_option(),
        study_dir: Path | None = typer.Option(
            None,
            "--study-dir",
            help=f"Output directory (default runs/study-{study.name}-<timestamp>).",
            show_default=False,
        ),
        sbatch: list[str] | None = _sbatch_option(),
        setup: list[str] | None = _setup_option(),
        dry_run: bool = _dry_run_option(),
    ) -> None:
        from neuralab.cluster.jobs import study_job
        from neuralab.config import parse_overrides
        from neuralab.rundir import default_run_name

        directory = study_dir or Path("runs") / default_run_name("study", study.name)
        overrides = {**parse_overrides(set_ or []), **fields}
        job = study_job(
            study.name,
            _options(slurm_fields, sbatch, setup, f"study-{study.name}"),
            study_dir=directory,
            quick=quick_size,
            overrides=overrides,
        )
        job_id = _submit_or_print(job, dry_run)
        if job_id is not None:
            for line in job.follow(job_id):
                print(f"  {line}")


for _name in list_studies():
    _add_study(get_study(_name))
