"""``neuralab experiment``: run one of the course's experiments and print what it shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neuralab.cli._app import app

FORMATS = ("table", "json", "csv", "markdown")


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
    set_values: list[str] | None = typer.Option(
        None,
        "--set",
        help="Change a config field: --set field=value (repeatable; see report's config.yaml).",
        show_default=False,
    ),
    output_format: str = typer.Option(
        "table", "--format", help="How to print the table: table, json, csv or markdown."
    ),
) -> None:
    """Run one of the course's experiments (see the help text above)."""
    from neuralab.config import config_to_dict, parse_overrides
    from neuralab.console import stderr_console, stdout_console
    from neuralab.errors import NeuralabError
    from neuralab.playground.experiments import get_experiment, list_experiments, run_experiment
    from neuralab.report.tabular import Column, csv_table, markdown_table, rich_table, to_json
    from neuralab.rundir import default_run_name

    if output_format not in FORMATS:
        raise NeuralabError(f"--format {output_format!r} is not one of {', '.join(FORMATS)}")
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
        _print_table(rows, columns, output_format, rows)
        return
    experiment_ = get_experiment(name)  # unknown names raise, listing the valid ones
    overrides = parse_overrides(set_values or [])
    folder = run_dir or Path("runs") / default_run_name("experiment", experiment_.name)
    with stderr_console().status(f"running experiment {experiment_.name}..."):
        result = run_experiment(
            experiment_.name, quick=quick, seeds=seeds, overrides=overrides, run_dir=folder
        )
    table = result.tables[0]  # an experiment has one table
    if output_format == "json":
        payload = {
            "name": result.name,
            "conclusion": result.conclusion,
            "holds": result.holds,
            "rows": table.rows,
            "figures": [str(f) for f in result.figures],
            "run_dir": str(result.run_dir),
            "config": config_to_dict(result.config),
        }
        print(to_json(payload))
        return
    if output_format == "csv":
        print(csv_table(table.rows, table.columns), end="")
    elif output_format == "markdown":
        print(markdown_table(table.rows, table.columns), end="")
    else:
        stdout_console().print(rich_table(table.rows, table.columns, title=result.title))
    console = stdout_console()
    console.print(f"conclusion ({result.verdict}): {result.conclusion}.", soft_wrap=True)
    for figure in result.figures:
        console.print(f"figure: {figure}", soft_wrap=True)
    console.print(f"run directory: {result.run_dir} ({result.seconds:.1f} s)", soft_wrap=True)


def _print_table(rows: list[dict[str, Any]], columns: list[Any], fmt: str, raw: Any) -> None:
    from neuralab.console import stdout_console
    from neuralab.report.tabular import csv_table, markdown_table, rich_table, to_json

    if fmt == "json":
        print(to_json(raw))
    elif fmt == "csv":
        print(csv_table(rows, columns), end="")
    elif fmt == "markdown":
        print(markdown_table(rows, columns), end="")
    else:
        stdout_console().print(rich_table(rows, columns))
