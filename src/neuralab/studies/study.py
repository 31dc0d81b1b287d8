"""The course's studies: each a config dataclass -> run -> a result with tables, figures and
one sentence of conclusion computed from the numbers -> report.md and report.html.

Every study has the course's setting as its default and a ``quick`` size that runs on a laptop
CPU in a few minutes (the test suite runs it smaller still).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.atomic import write_text
from neuralab.config import make_config, save_config
from neuralab.registry import Registry
from neuralab.report.html import embedded_image, html_page, html_table, paragraph
from neuralab.report.tabular import Column, csv_table, markdown_table


@dataclass
class StudyTable:
    """One table of a study's result."""

    title: str
    rows: list[dict[str, Any]]
    columns: list[Column]


@dataclass
class StudyResult:
    """What a study found: tables, figures and a conclusion computed from the numbers."""

    name: str
    title: str
    directory: Path
    conclusion: str
    tables: list[StudyTable] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)  # the measured values the tests check

    def write_report(self) -> list[Path]:
        """Write ``report.md``, ``report.html`` and one CSV per table into the study directory."""
        lines = [f"# {self.title}", "", f"**{self.conclusion}**", ""]
        body = [paragraph(self.conclusion, "conclusion")]
        written = []
        for index, table in enumerate(self.tables, start=1):
            lines += [f"## {table.title}", "", markdown_table(table.rows, table.columns)]
            body += [f"<h2>{table.title}</h2>", html_table(table.rows, table.columns)]
            written.append(
                write_text(
                    self.directory / f"table{index}.csv", csv_table(table.rows, table.columns)
                )
            )
        for figure in self.figures:
            relative = (
                figure.relative_to(self.directory)
                if figure.is_relative_to(self.directory)
                else figure
            )
            lines += [f"![{figure.stem}]({relative})", ""]
            body.append(embedded_image(figure, figure.stem))
        written.append(write_text(self.directory / "report.md", "\n".join(lines)))
        written.append(write_text(self.directory / "report.html", html_page(self.title, body)))
        return written


StudyRunner = Callable[[Any, Path], StudyResult]


@dataclass(frozen=True)
class Study:
    """A registered study: its config class (default = the course's setting) and its runner."""

    name: str
    summary: str
    config_class: type
    quick: Mapping[str, Any]  # field overrides of the --quick size
    run: StudyRunner


STUDIES: Registry[Study] = Registry("study")


def register_study(study: Study) -> Study:
    """Add ``study`` to the registry (duplicate names are refused)."""
    return STUDIES.add(study.name, study)


def list_studies() -> list[str]:
    """Return the study names."""
    _load_all()
    return STUDIES.names()


def get_study(name: str) -> Study:
    """Return the study called ``name`` (unknown names list the valid ones)."""
    _load_all()
    return STUDIES.get(name)


def run_study(
    name: str,
    directory: str | os.PathLike[str],
    *,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> StudyResult:
    """Run study ``name`` (``quick`` size, then ``overrides``) into ``directory`` and report it."""
    study = get_study(name)
    values: dict[str, Any] = dict(study.quick) if quick else {}
    values.update(overrides or {})
    config: Any = make_config(study.config_class, values)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    save_config(config, folder / "config.yaml")
    result = study.run(config, folder)
    result.write_report()
    return result


def _load_all() -> None:
    # importing a study module registers it
    from neuralab.studies import (  # noqa: F401
        augmentation_study,
        degradation_study,
        dropout_study,
        initialization_study,
        sam_study,
    )
