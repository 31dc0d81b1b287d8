"""Render rows of results as a rich table, JSON, CSV or Markdown.

Library functions return dataclasses; commands turn them into rows (dicts) and a list of
:class:`Column`, and this module renders them in the format the user asked for. Numbers are
formatted only here, never in the computation.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rich.table


@dataclass(frozen=True)
class Column:
    """One column: the row key, its header, and how a value is shown as text."""

    key: str
    header: str = ""
    format: str | Callable[[Any], str] | None = None  # e.g. ",d" or ".4f", or a function
    justify: str = "right"  # "left" | "right" | "center"
    spread: str | None = None  # key of a spread shown after the value: "0.52 ± 0.01"
    missing: str = ""  # what a value of None shows
    terminal: bool = True  # False: left out of the terminal's table (too wide), kept elsewhere

    def text(self, value: Any) -> str:
        """Return ``value`` as this column shows it."""
        if value is None:
            return self.missing
        if callable(self.format):
            return self.format(value)
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if self.format and isinstance(value, int | float) and not isinstance(value, bool):
            return format(value, self.format)
        if isinstance(value, list | tuple):
            return "x".join(str(v) for v in value)
        return str(value)

    def cell(self, row: Mapping[str, Any]) -> str:
        """Return this column's text for ``row``: the value, and `` ± spread`` when it has one."""
        value = row.get(self.key)
        text = self.text(value)
        if self.spread is not None and value is not None and row.get(self.spread) is not None:
            text += " ± " + self.text(row[self.spread])
        return text

    @property
    def title(self) -> str:
        return self.header or self.key


@dataclass
class Table:
    """A result ready to be shown: rows, their columns, a title, a totals row and notes.

    The value every renderer takes (terminal, JSON, CSV, Markdown, HTML report): library results
    are turned into one or more ``Table`` by a renderer in :mod:`neuralab.report`; ``notes`` are
    the lines printed after the table (checks, conclusions, where files were written). A table
    without columns is text only: its notes (e.g. the line that introduces the next table).
    """

    rows: Sequence[Mapping[str, Any]]
    columns: Sequence[Column]
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    footer: Mapping[str, Any] | None = None


def rich_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    *,
    title: str | None = None,
    footer: Mapping[str, Any] | None = None,
) -> rich.table.Table:
    """Return a rich ``Table`` of ``rows``; ``footer`` is an optional totals row."""
    table = rich.table.Table(title=title, show_footer=footer is not None, header_style="bold")
    for column in columns:
        footer_text = ""
        if footer is not None and footer.get(column.key) is not None:
            footer_text = column.cell(footer)
        table.add_column(
            column.title,
            justify=column.justify,  # type: ignore[arg-type]
            footer=footer_text,
        )
    for row in rows:
        table.add_row(*(column.cell(row) for column in columns))
    return table


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    *,
    footer: Mapping[str, Any] | None = None,
) -> str:
    """Return a GitHub-flavoured Markdown table of ``rows``; ``footer`` is a last totals row."""
    align = {"left": ":---", "right": "---:", "center": ":---:"}
    lines = [
        "| " + " | ".join(c.title for c in columns) + " |",
        "| " + " | ".join(align.get(c.justify, "---") for c in columns) + " |",
    ]
    for row in rows:
        cells = [c.cell(row).replace("|", "\\|") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    if footer is not None:
        cells = ["" if footer.get(c.key) is None else c.cell(footer) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """Return ``rows`` as CSV with the column keys as header (raw values, not formatted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column.key)
            if isinstance(value, list | tuple):
                value = "x".join(str(v) for v in value)
            cells.append("" if value is None else value)
        writer.writerow(cells)
    return buffer.getvalue()


def table_data(table: Table) -> dict[str, Any]:
    """Return ``table`` as plain data for JSON: title, rows (raw values, every key), footer, notes."""
    return {
        "title": table.title,
        "rows": [dict(row) for row in table.rows],
        "footer": None if table.footer is None else dict(table.footer),
        "notes": list(table.notes),
    }


def row_keys(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return every key of ``rows``, in the order they first appear."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return list(keys)


def to_json(data: Any) -> str:
    """Return ``data`` as indented JSON (NaN and infinity become null)."""
    return json.dumps(_finite(data), indent=2, ensure_ascii=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
