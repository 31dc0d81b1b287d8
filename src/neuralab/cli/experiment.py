"""``neuralab experiment``: run one of the course's experiments and print what it shows."""

from __future__ import annotations

from pathlib import Path

import typer

from neuralab.cli._app import app
from neuralab.cli._config_flags import set_option
from neuralab.cli._emit import emit, format_option


@app.command(
    "experiment",
    help=(
        "Run one of the course's experiments: a table, figures and one sentence of conclusion "
        "computed from the numbers (it says so plainly when they contradict the course).\n\n"
        "Experiments: initialization (s = 0.01 vs 1 in N(0, s / fan_in): the poor one stalls), "
        "zero-init (constant weights never break symmetry), shuffling (SGD on sorted data), "
        "gd-variants (batch GD vs SGD vs mini-batch; SGD's noise escapes a local minimum), "
        "activation-fit (identity / ReLU / sigmoid on 100 scalar pairs), vanishing-gradients "
        "(per-layer gradient norms of deep sigmoid, tanh, ReLU networks), regularization "
        "(none / L2 / dropout on few noisy points).\n\n"
        "Everything is written to a run directory: config.yaml, results.csv, results.md, "
        "report.md, report.html and figures/experiment-*.png.\n\n"
        "Examples:\n\n"
        "  neuralab experiment --list\n\n"
        "  neuralab experiment initialization --quick\n\n"
        "  neuralab experiment shuffling --seeds 10 --set lr=0.1 --run-dir runs/shuffle"
    ),
)
def experiment(
    name: str | None = typer.Argument(
        None, help="Experiment name (see --list); 'list' lists them.", show_default=False
    ),
    list_experiments_: bool = typer.Option(
        False, "--list", help="List the experiments and the course's claim of each."
    ),
    seeds: int | None = typer.Option(
        None, "--seeds", help="Repetitions with different seeds (results as mean ± std)."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="Small sizes: every experiment runs in seconds."
    ),
    run_dir: Path | None = typer.Option(
        None,
        "--run-dir",
        help="Where to write the results (default runs/experiment-NAME-TIMESTAMP).",
        show_default=False,
    ),
    set_values: list[str] | None = set_option(
        "FIELD=VALUE for a field of the experiment's config (repeatable; see its config.yaml)."
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Replace the run in --run-dir if it holds one (its files are removed).",
    ),
    output_format: str = format_option(),
) -> None:
    """Run one of the course's experiments (see the help text above)."""
    from neuralab.config import parse_overrides
    from neuralab.console import stderr_console
    from neuralab.errors import NeuralabError
    from neuralab.playground.experiments import (
        get_experiment,
        list_experiments,
        make_experiment_config,
        run_experiment,
    )
    from neuralab.report.result_report import result_tables
    from neuralab.report.tabular import Column, Table
    from neuralab.rundir import check_new_run_directory, default_run_path

    if list_experiments_ or name == "list" or name is None:
        if name not in (None, "list"):
            raise NeuralabError("give an experiment name or --list, not both")
        rows = [
            {"name": n, "title": get_experiment(n).title, "claim": get_experiment(n).claim}
            for n in list_experiments()
        ]
        columns = [
            Column("name", "experiment", justify="left"),
            Column("title", "what", justify="left"),
            Column("claim", "the course's claim", justify="left"),
        ]
        emit(Table(rows, columns), output_format)
        return
    experiment_ = get_experiment(name)  # unknown names raise, listing the valid ones
    folder = run_dir or default_run_path("experiment", experiment_.name)
    check_new_run_directory(folder, overwrite=overwrite)
    config = make_experiment_config(
        experiment_.name, quick=quick, seeds=seeds, overrides=parse_overrides(set_values or [])
    )
    with stderr_console().status(f"running experiment {experiment_.name}..."):
        result = run_experiment(experiment_.name, config, run_dir=folder, overwrite=overwrite)
    emit(result_tables(result), output_format)
