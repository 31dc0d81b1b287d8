"""``neuralab sweep``: train a grid (or sampled settings) x seeds, choose on validation, test once."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from neuralab.cli._app import app
from neuralab.cli._config_flags import config_file_option, config_flags, set_option
from neuralab.cli._emit import emit, format_option
from neuralab.console import stderr_console, stdout_console
from neuralab.studies.sweep.spec import SWEEP_DEFAULTS, SweepSpec
from neuralab.vision.config import TrainConfig

if TYPE_CHECKING:
    from neuralab.studies.sweep.results import SweepOutcome

sweep_app = typer.Typer(
    help="""Sweep training settings over seeds; choose on the validation split; test the choice once.

Trains every grid point for every seed, chooses by the validation metric ONLY, retrains the
chosen setting for --final-epochs, and only then evaluates it once on the test set. Every flag of
`neuralab train` sets the base config of the runs.

Built on Optuna: an SQLite storage in the sweep directory by default, so a sweep that is
interrupted and started again skips finished trials and reruns unfinished ones; any Optuna
storage URL lets many workers (`neuralab sweep worker DIR`, e.g. a Slurm job array) share it.
Runs that diverge or stay at chance level are flagged failed and never selected.

Example:

  neuralab sweep --data mnist --model cnn --grid dropout=0:0.9:0.1 --seeds 3 --final-epochs 10
""",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(sweep_app, name="sweep")

_EXAMPLE = (
    "Example: neuralab sweep --data mnist --model cnn --grid dropout=0:0.9:0.1 --seeds 3 "
    "--epochs 1 --select val_acc --final-epochs 10"
)


@sweep_app.callback()
@config_flags(SweepSpec, exclude=("base", "grid"), into="spec_fields")
@config_flags(TrainConfig, exclude=("run_dir",), defaults=SWEEP_DEFAULTS)
def sweep(
    context: typer.Context,
    fields: dict[str, Any],
    spec_fields: dict[str, Any],
    grid: list[str] = typer.Option(
        [],
        "--grid",
        metavar="FIELD=VALUES",
        help="A TrainConfig field and its values: field=start:stop:step (a range, both ends "
        "included) or field=a,b,c; repeatable (every combination).",
    ),
    workers: int = typer.Option(
        1,
        help="Worker processes on this machine; 0 creates the sweep only (start workers "
        "elsewhere with `neuralab sweep worker DIR`, then `neuralab sweep report DIR`).",
    ),
    sweep_dir: Path | None = typer.Option(
        None,
        help="Sweep directory (default runs/sweep-<data>-<model>-<timestamp>).",
        show_default=False,
    ),
    config: Path | None = config_file_option(TrainConfig),
    set_values: list[str] | None = set_option("FIELD=VALUE for a TrainConfig field (repeatable)."),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Replace what --sweep-dir holds (its files are removed); without it the same sweep "
        "continues there.",
    ),
    output_format: str = format_option("How to print the sweep's table."),
) -> None:
    if context.invoked_subcommand is not None:
        return
    from neuralab.errors import NeuralabError
    from neuralab.rundir import default_run_path
    from neuralab.studies.sweep.runner import run_sweep
    from neuralab.studies.sweep.storage import describe_storage

    spec = sweep_spec(fields, spec_fields, grid, config, set_values)
    if workers < 0:
        raise NeuralabError(f"--workers {workers} must be >= 0 (0: create the sweep only)")
    data, model = str(spec.base["data"]), str(spec.base["model"])
    directory = sweep_dir or default_run_path("sweep", data, model)

    def announce(size: int) -> None:  # every input checked, the sweep created
        stdout_console().print(
            f"sweep in {directory}: {size} setting(s) x {spec.seeds} seed(s), {workers} "
            f"worker(s), storage {describe_storage(spec, directory)}"
        )

    outcome = run_sweep(
        spec,
        directory,
        workers=workers,
        on_progress=_progress_printer(workers),
        overwrite=overwrite,
        on_start=announce,
    )
    _emit_outcome(outcome, directory, output_format)


def sweep_spec(
    fields: dict[str, Any],
    spec_fields: dict[str, Any],
    grid: list[str] | None,
    config: Path | None,
    set_values: list[str] | None,
) -> SweepSpec:
    """Return the SweepSpec of the sweep flags (``neuralab sweep`` and ``neuralab slurm sweep``).

    The base config: SWEEP_DEFAULTS, then ``--config``, ``--set`` and the TrainConfig flags.
    """
    from neuralab.config import (
        config_to_dict,
        convert_fields,
        make_config,
        parse_overrides,
        read_config_file,
    )
    from neuralab.errors import NeuralabError
    from neuralab.studies.sweep.grid import parse_grid

    if not grid:
        raise NeuralabError(f"give at least one --grid field=values. {_EXAMPLE}")
    values = {**SWEEP_DEFAULTS, **(read_config_file(config) if config else {})}
    base = make_config(TrainConfig, {**values, **parse_overrides(set_values or []), **fields})
    axes = [parse_grid(text, TrainConfig) for text in grid]
    base_values = config_to_dict(base)
    base_values.pop("run_dir", None)
    return SweepSpec.from_axes(base_values, axes, **convert_fields(SweepSpec, spec_fields))


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
def report(
    sweep_dir: Path = typer.Argument(..., help="The sweep directory."),
    output_format: str = format_option("How to print the sweep's table."),
) -> None:
    """Choose, retrain (--final-epochs), test once and write the reports of a finished sweep."""
    from neuralab.studies.sweep.runner import finish_sweep

    _emit_outcome(finish_sweep(sweep_dir), sweep_dir, output_format)


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


def _emit_outcome(outcome: SweepOutcome, directory: Path, output_format: str) -> None:
    from neuralab.report.result_report import result_tables
    from neuralab.studies.sweep.report import sweep_result

    figures = sorted((Path(directory) / "figures").glob("*.png"))
    result = sweep_result(outcome, figures=figures)
    result.run_dir = Path(directory)
    emit(result_tables(result), output_format)
