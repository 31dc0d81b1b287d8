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

    def text(self, value: Any) -> str:
        """Return ``value`` as this column shows it."""
        if value is None:
            return ""
        if callable(self.format):
            return self.format(value)
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if self.format and isinstance(value, int | float) and not isinstance(value, bool):
            return format(value, self.format)
        if isinstance(value, list | tuple):
            return "x".join(str(v) for v in value)
        return str(value)

    @property
    def title(self) -> str:
        return self.header or self.key


@dataclass
class Table:
    """A result ready to be shown: rows, their columns, a title, a totals row and notes.

    The value every renderer takes (terminal, JSON, CSV, Markdown, HTML report): library results
    are turned into one or more ``Table`` by a renderer in :mod:`neuralab.report`; ``notes`` are
    the lines printed after the table (checks, conclusions, where files were written).
    """

    rows: Sequence[Mapping[str, Any]]
    columns: list[Column]
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
        footer_text = column.text(footer.get(column.key)) if footer is not None else ""
        table.add_column(
            column.title,
            justify=column.justify,  # type: ignore[arg-type]
            footer=footer_text,
        )
    for row in rows:
        table.add_row(*(column.text(row.get(column.key)) for column in columns))
    return table


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """Return a GitHub-flavoured Markdown table of ``rows``."""
    align = {"left": ":---", "right": "---:", "center": ":---:"}
    lines = [
        "| " + " | ".join(c.title for c in columns) + " |",
        "| " + " | ".join(align.get(c.justify, "---") for c in columns) + " |",
    ]
    for row in rows:
        cells = [c.text(row.get(c.key)).replace("|", "\\|") for c in columns]
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


def to_json(data: Any) -> str:
    """Return ``data`` as indented JSON (NaN and infinity become null)."""
    return json.dumps(_finite(data), indent=2)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
