"""Print rows in the format the user asked for: a rich table, JSON, CSV or Markdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from neuralab.cli._options import OutputFormat
from neuralab.report.tabular import Column


def render_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    output_format: OutputFormat,
    title: str | None = None,
) -> None:
    """Print ``rows``: JSON (raw values), CSV (raw values), Markdown or a rich table."""
    from neuralab.console import stdout_console
    from neuralab.report.tabular import csv_table, markdown_table, rich_table, to_json

    if output_format is OutputFormat.json:
        print(to_json(list(rows)))
    elif output_format is OutputFormat.csv:
        print(csv_table(rows, columns), end="")
    elif output_format is OutputFormat.markdown:
        print(markdown_table(rows, columns), end="")
    else:
        stdout_console().print(rich_table(rows, columns, title=title))
