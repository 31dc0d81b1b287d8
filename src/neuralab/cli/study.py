"""``neuralab study NAME``: the course's studies, each ending in a computed conclusion.

One subcommand per study of :mod:`neuralab.studies.study`, its flags generated from the study's
config dataclass (torch-free, so ``--help`` stays fast).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._config_flags import config_flags, set_option
from neuralab.cli._emit import emit, format_option
from neuralab.config import show_value
from neuralab.studies.study import Study, get_study, list_studies

study_app = typer.Typer(
    name="study",
    help="""Run one of the course's studies and write its report (tables, figures, conclusion).

Each study has the course's setting as its default and a --quick size for a laptop CPU; the
conclusion sentence is computed from the measured numbers. `neuralab study NAME --help` shows
a study's settings.

Examples:

  neuralab study dropout --quick

  neuralab study dropout --data npz:../shared/datasets/mnist/mnist-28.npz --seeds 5
""",
    no_args_is_help=True,
)
app.add_typer(study_app, name="study")


@study_app.callback(invoke_without_command=True)
def study_group(
    context: typer.Context,
    list_only: bool = typer.Option(False, "--list", help="List the studies and exit."),
    output_format: str = format_option("How to print the list."),
) -> None:
    from neuralab.report.tabular import Column, Table

    if list_only and context.invoked_subcommand is None:
        rows = [{"name": name, "summary": get_study(name).summary} for name in list_studies()]
        columns = [Column("name", "study", justify="left"), Column("summary", justify="left")]
        emit(Table(rows, columns), output_format)


def _add_study(study: Study) -> None:
    quick = ", ".join(f"{k}={show_value(v)}" for k, v in study.quick.items())

    @study_app.command(study.name, help=f"{study.summary[:1].upper()}{study.summary[1:]}.")
    @config_flags(study.config_class)
    def run(
        fields: dict[str, Any],
        quick_size: bool = typer.Option(
            False, "--quick", help=f"The small size for a laptop CPU: {quick}."
        ),
        set_: list[str] | None = set_option(),
        study_dir: Path | None = typer.Option(
            None,
            "--study-dir",
            help=f"Output directory (default runs/study-{study.name}-<timestamp>).",
            show_default=False,
        ),
        overwrite: bool = typer.Option(
            False,
            "--overwrite",
            help="Replace what --study-dir holds (its files are removed); without it the same "
            "study with the same settings continues there.",
        ),
        output_format: str = format_option(),
    ) -> None:
        from neuralab.config import parse_overrides
        from neuralab.report.result_report import result_tables
        from neuralab.rundir import default_run_path
        from neuralab.studies.study import run_study

        directory = study_dir or default_run_path("study", study.name)
        overrides = {**parse_overrides(set_ or []), **fields}
        result = run_study(
            study.name, directory, quick=quick_size, overrides=overrides, overwrite=overwrite
        )
        emit(result_tables(result), output_format)


for _name in list_studies():
    _add_study(get_study(_name))
