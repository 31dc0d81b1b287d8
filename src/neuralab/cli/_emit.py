"""Write a command's result, a list of :class:`~neuralab.report.tabular.Table`, in one format.

- ``table``: each table as a rich table (title above, totals row; columns marked
  ``terminal=False`` left out to fit), then its notes as lines;
- ``markdown``: each table as a Markdown table, its notes as paragraphs (titles are left to the
  document the table is pasted into);
- ``csv``: the first table that has columns, one CSV line per row: every key of the rows (those
  of the columns first), raw values (notes are left out so the output stays one CSV table);
- ``json``: every table as ``{"title", "rows", "footer", "notes"}`` with raw values, in a list.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer

FORMATS = ("table", "json", "csv", "markdown")


def format_option(help: str = "How to print the result.") -> Any:
    """Return the ``--format``/``-f`` option shared by every command that prints tables."""
    return typer.Option(
        "table",
        "--format",
        "-f",
        help=help,
        metavar="[" + "|".join(FORMATS) + "]",
        callback=_check_format,
    )


def _check_format(value: str) -> str:
    if value not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}")
    return value


def emit(tables: Any, output_format: str = "table", *, output: Path | None = None) -> None:
    """Print ``tables`` (a :class:`Table` or an iterable of them) as ``output_format``.

    With ``output``, write the text to that file instead (atomically; the table format as
    plain text 120 columns wide) and say so on stderr.
    """
    if output is not None:
        from neuralab.atomic import write_text

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):  # the console below writes to sys.stdout
            emit(tables, output_format)
        write_text(output, buffer.getvalue())
        print(f"wrote {output}", file=sys.stderr)
        return
    from neuralab.console import stdout_console
    from neuralab.report.tabular import (
        Column,
        Table,
        csv_table,
        markdown_table,
        rich_table,
        row_keys,
        table_data,
        to_json,
    )

    shown: list[Table] = [tables] if isinstance(tables, Table) else list(tables)
    if output_format == "json":
        print(to_json([table_data(table) for table in shown]))
    elif output_format == "csv":
        main = next((table for table in shown if table.columns), None)
        if main is not None:
            keys = [k for c in main.columns for k in (c.key, c.spread) if k is not None]
            keys += [k for k in row_keys(main.rows) if k not in keys]
            print(csv_table(main.rows, [Column(key) for key in keys]), end="")
    elif output_format == "markdown":
        print("\n\n".join(_markdown_blocks(shown, markdown_table)))
    else:
        console = stdout_console()
        for table in shown:
            columns = [c for c in table.columns if c.terminal]
            if columns:
                console.print(
                    rich_table(table.rows, columns, title=table.title, footer=table.footer)
                )
            for note in table.notes:
                console.print(note, markup=False, highlight=False, soft_wrap=True)


def _markdown_blocks(tables: Iterable[Any], markdown_table: Any) -> list[str]:
    blocks = []
    for table in tables:
        if table.columns:
            text = markdown_table(table.rows, table.columns, footer=table.footer)
            blocks.append(text.rstrip("\n"))
        blocks.extend(table.notes)
    return blocks
