"""``neuralab study NAME``: the course's studies, each ending in a computed conclusion."""

from __future__ import annotations

from pathlib import Path

import typer

from neuralab.cli._app import app

_HELP = """Run one of the course's studies and write its report (tables, figures, conclusion).

Each study has the course's setting as its default and a --quick size for a laptop CPU; the
conclusion sentence is computed from the measured numbers. `neuralab study --list` names them.

Examples:

  neuralab study dropout --quick

  neuralab study dropout --set data=npz:../shared/datasets/mnist/mnist-28.npz
"""


@app.command("study", help=_HELP)
def study_command(
    name: str | None = typer.Argument(None, help="Study name (see --list)."),
    quick: bool = typer.Option(False, "--quick", help="The small size: minutes on a laptop CPU."),
    set_values: list[str] = typer.Option(
        [], "--set", help="Override a field of the study's config: field=value; repeatable."
    ),
    study_dir: Path | None = typer.Option(
        None, "--study-dir", help="Output directory (default runs/study-<name>-<timestamp>)."
    ),
    list_only: bool = typer.Option(False, "--list", help="List the studies and exit."),
) -> None:
    from neuralab.config import parse_overrides
    from neuralab.console import stdout_console
    from neuralab.errors import NeuralabError
    from neuralab.report.tabular import rich_table
    from neuralab.rundir import default_run_name
    from neuralab.studies.study import get_study, list_studies, run_study

    console = stdout_console()
    if list_only or name is None:
        for study_name in list_studies():
            console.print(f"{study_name:16s} {get_study(study_name).summary}")
        if name is None and not list_only:
            raise NeuralabError("name a study (listed above), e.g. neuralab study dropout --quick")
        return
    get_study(name)  # unknown names fail before anything is created
    directory = study_dir or Path("runs") / default_run_name("study", name)
    result = run_study(name, directory, quick=quick, overrides=parse_overrides(set_values))
    for table in result.tables:
        console.print(rich_table(table.rows, table.columns, title=table.title))
    console.print(result.conclusion)
    console.print(f"report: {directory / 'report.md'} and report.html")
