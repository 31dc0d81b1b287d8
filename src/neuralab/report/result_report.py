"""The one writer of experiment, study and sweep results: report.md, report.html, CSV per table.

A run directory of an experiment or a study holds::

    config.yaml              the resolved config (when the result has one)
    results.csv results.md   its table (several tables: results-1.csv, results-2.csv, ...)
    figures/*.png            its figures (saved by the run)
    report.md report.html    claim, tables, conclusion, figures (the HTML embeds them)
"""

from __future__ import annotations

import dataclasses
import html
import os
from pathlib import Path

from neuralab.atomic import write_text
from neuralab.config import save_config
from neuralab.report.html import embedded_image, html_page, html_table, paragraph
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Table, csv_table, markdown_table


def write_result(result: ExperimentResult, run_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``result`` into ``run_dir`` (see the module docstring); return the files written.

    Sets ``result.run_dir``.
    """
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if result.config is not None:
        written.append(save_config(result.config, folder / "config.yaml"))
    for stem, table in zip(table_stems(result), result.tables, strict=True):
        written.append(write_text(folder / f"{stem}.csv", csv_table(table.rows, table.columns)))
        written.append(write_text(folder / f"{stem}.md", markdown_table(table.rows, table.columns)))
    written.append(write_text(folder / "report.md", report_markdown(result, folder)))
    written.append(write_text(folder / "report.html", report_html(result)))
    result.run_dir = folder
    return written


def table_stems(result: ExperimentResult) -> list[str]:
    """Return the file stem of each table: ``results``, or ``results-1``, ``results-2``, ..."""
    if len(result.tables) == 1:
        return ["results"]
    return [f"results-{index}" for index in range(1, len(result.tables) + 1)]


def report_markdown(result: ExperimentResult, run_dir: str | os.PathLike[str] | None = None) -> str:
    """Return ``report.md``: title, claim, tables with their notes, conclusion, figures.

    Figures inside ``run_dir`` are linked by their path relative to it.
    """
    lines = [f"# {result.title}", ""]
    if result.claim:
        lines += [f"Course's claim: {_sentence(result.claim)}", ""]
    for table in result.tables:
        if table.title:
            lines += [f"## {table.title}", ""]
        lines += [markdown_table(table.rows, table.columns).rstrip("\n"), ""]
        for note in table.notes:
            lines += [note, ""]
    lines += [f"**Conclusion**{_verdict(result)}: {_sentence(result.conclusion)}", ""]
    for figure in result.figures:
        lines += [f"![{figure.stem}]({_relative(figure, run_dir)})", ""]
    if result.seconds is not None:
        lines += [f"Run time: {result.seconds:.1f} s.", ""]
    return "\n".join(lines)


def report_html(result: ExperimentResult) -> str:
    """Return ``report.html``: the same content as ``report.md``, figures embedded (one file).

    Table rows whose ``status`` is ``chosen`` are highlighted.
    """
    body = []
    if result.claim:
        body.append(paragraph(f"Course's claim: {_sentence(result.claim)}"))
    for table in result.tables:
        if table.title:
            body.append(f"<h2>{html.escape(table.title)}</h2>")
        body.append(html_table(table.rows, table.columns, highlight="chosen"))
        body += [paragraph(note) for note in table.notes]
    conclusion = f"Conclusion{_verdict(result)}: {_sentence(result.conclusion)}"
    body.append(paragraph(conclusion, "conclusion"))
    body += [embedded_image(figure, figure.stem) for figure in result.figures]
    if result.seconds is not None:
        body.append(paragraph(f"Run time: {result.seconds:.1f} s."))
    return html_page(result.title, body)


def result_tables(result: ExperimentResult) -> list[Table]:
    """Return the result's tables as a command prints them.

    A first table without a title takes the result's; the last one ends with the conclusion
    (and its verdict), the figures and where the report is, as notes.
    """
    tables = [dataclasses.replace(table, notes=list(table.notes)) for table in result.tables]
    if tables and not tables[0].title:
        tables[0].title = result.title
    notes = [f"conclusion{_verdict(result)}: {_sentence(result.conclusion)}"]
    notes += [f"figure: {figure}" for figure in result.figures]
    if result.run_dir is not None:
        seconds = f" ({result.seconds:.1f} s)" if result.seconds is not None else ""
        notes.append(f"report: {Path(result.run_dir) / 'report.md'} and report.html{seconds}")
    if not tables:
        return [Table([], [], notes=notes)]
    tables[-1].notes += notes
    return tables


def _verdict(result: ExperimentResult) -> str:
    return f" ({result.verdict})" if result.verdict else ""


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _relative(figure: Path, run_dir: str | os.PathLike[str] | None) -> Path:
    if run_dir is not None and figure.is_relative_to(run_dir):
        return figure.relative_to(run_dir)
    return figure


__all__ = [
    "report_html",
    "report_markdown",
    "result_tables",
    "table_stems",
    "write_result",
]
