"""``neuralab sweep``: train a grid (or sampled settings) x seeds, choose on validation, test once."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from neuralab.cli._app import app
from neuralab.console import stderr_console, stdout_console

if TYPE_CHECKING:
    from neuralab.studies.sweep.results import SweepOutcome

sweep_app = typer.Typer(
    help="Sweep training settings over seeds; choose on the validation split; test the choice once.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(sweep_app, name="sweep")

_EXAMPLE = (
    "Example: neuralab sweep --data mnist --model cnn --grid dropout=0:0.9:0.1 --seeds 3 "
    "--epochs 1 --select val_acc --final-epochs 10"
)


@sweep_app.callback()
def sweep(
    context: typer.Context,
    data: str = typer.Option("digits", help="Data set (see `neuralab train --help`)."),
    model: str = typer.Option("cnn", help="Model name (cnn, mlp, resnet18, spec:...)."),
    grid: list[str] = typer.Option(
        [], "--grid", help="field=a:b:step (range, ends included) or field=a,b,c; repeatable."
    ),
    search: str = typer.Option("grid", help="grid (every point), random or tpe (Optuna's TPE)."),
    trials: int | None = typer.Option(None, help="random / tpe: number of trials."),
    seeds: int = typer.Option(1, help="Runs per setting (seeds seed, seed+1, ...)."),
    epochs: int = typer.Option(1, help="Epochs of each sweep run."),
    select: str = typer.Option(
        "val_acc", help="Validation metric that chooses: val_acc or val_loss."
    ),
    final_epochs: int | None = typer.Option(
        None, help="Retrain the chosen setting this long and evaluate it once on the test set."
    ),
    storage: str | None = typer.Option(
        None,
        help="Optuna storage URL shared by workers (default: SQLite file in the sweep directory; "
        "postgresql://..., or journal:PATH on a shared file system).",
    ),
    workers: int = typer.Option(
        1,
        help="Worker processes on this machine; 0 creates the sweep only (start workers "
        "elsewhere with `neuralab sweep worker DIR`, then `neuralab sweep report DIR`).",
    ),
    sweep_dir: Path | None = typer.Option(
        None, help="Sweep directory (default runs/sweep-<data>-<model>-<timestamp>)."
    ),
    config: Path | None = typer.Option(None, help="Base TrainConfig file (YAML/TOML)."),
    set_values: list[str] = typer.Option(
        [], "--set", help="Override a base TrainConfig field: field=value; repeatable."
    ),
) -> None:
    """Train every grid point for every seed, choose by the validation metric ONLY, retrain the
    chosen setting for --final-epochs, and only then evaluate it once on the test set.

    Built on Optuna: an SQLite storage in the sweep directory by default, so a sweep that is
    interrupted and started again skips finished trials and reruns unfinished ones; any Optuna
    storage URL lets many workers (`neuralab sweep worker DIR`, e.g. a Slurm job array) share it.
    Runs that diverge or stay at chance level are flagged failed and never selected.
    """
    if context.invoked_subcommand is not None:
        return
    from neuralab.config import config_to_dict, load_config, parse_overrides
    from neuralab.errors import NeuralabError
    from neuralab.rundir import default_run_name
    from neuralab.studies.sweep.grid import parse_grid
    from neuralab.studies.sweep.runner import check_storage, run_sweep
    from neuralab.studies.sweep.spec import SweepSpec
    from neuralab.studies.sweep.storage import describe_storage
    from neuralab.vision.config import TrainConfig

    if not grid:
        raise NeuralabError(f"give at least one --grid field=values. {_EXAMPLE}")
    overrides: dict[str, object] = {"data": data, "model": model, "epochs": epochs}
    overrides.update(parse_overrides(set_values))
    base = load_config(TrainConfig, config, overrides)
    axes = [parse_grid(text, TrainConfig) for text in grid]
    base_values = config_to_dict(base)
    base_values.pop("run_dir", None)
    spec = SweepSpec.from_axes(
        base_values,
        axes,
        search=search,
        trials=trials,
        seeds=seeds,
        select=select,
        final_epochs=final_epochs,
        storage=storage,
    )
    check_storage(spec)  # an unreachable storage fails before anything is written
    directory = sweep_dir or Path("runs") / default_run_name("sweep", data, model)
    console = stdout_console()
    size = len(spec.settings()) if spec.search == "grid" else spec.trials
    console.print(
        f"sweep in {directory}: {size} setting(s) x {seeds} seed(s), {workers} worker(s), "
        f"storage {describe_storage(spec, directory)}"
    )
    outcome = run_sweep(spec, directory, workers=workers, on_progress=_progress_printer(workers))
    _print_outcome(outcome, directory)


@sweep_app.command("worker")
def worker(
    sweep_dir: Path = typer.Argument(..., help="The sweep directory (holds sweep.yaml)."),
    max_trials: int | None = typer.Option(None, help="Stop after this many trials."),
    requeue_running: bool = typer.Option(
        False,
        help="First put trials left 'running' by killed workers back in the queue (journal "
        "storage has no heartbeats; only when no other worker is alive).",
    ),
) -> None:
    """Train waiting trials of an existing sweep until none is left (run several at once)."""
    threads = os.environ.get("NEURALAB_THREADS")
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    from neuralab.studies.sweep.worker import requeue_running as requeue
    from neuralab.studies.sweep.worker import run_worker

    if requeue_running:
        stderr_console().print(f"requeued {requeue(sweep_dir)} running trial(s)")
    trained = run_worker(sweep_dir, max_trials=max_trials)
    stderr_console().print(f"worker done: trained {trained} trial(s) of {sweep_dir}")


@sweep_app.command("report")
def report(sweep_dir: Path = typer.Argument(..., help="The sweep directory.")) -> None:
    """Choose, retrain (--final-epochs), test once and write the reports of a finished sweep."""
    from neuralab.studies.sweep.runner import finish_sweep

    _print_outcome(finish_sweep(sweep_dir), sweep_dir)


def _progress_printer(workers: int) -> Callable[[int, int], None] | None:
    if workers == 1:
        return None
    console = stderr_console()
    last = {"done": -1}

    def show(done: int, total: int) -> None:
        if done != last["done"]:
            console.print(f"  trials finished: {done}/{total}")
            last["done"] = done

    return show


def _print_outcome(outcome: SweepOutcome, directory: Path) -> None:
    from neuralab.report.tabular import rich_table
    from neuralab.studies.sweep.report import sweep_result

    result = sweep_result(outcome)
    console = stdout_console()
    for table in result.tables:
        console.print(rich_table(table.rows, table.columns, title=table.title))
    console.print(result.conclusion)
    console.print(f"report: {Path(directory) / 'report.md'} and report.html")
