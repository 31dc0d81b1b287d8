"""Self-contained HTML reports: one file, tables and figures embedded (PNG as data URIs)."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neuralab.report.tabular import Column

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: 0.25rem 0.75rem; border-bottom: 1px solid #ddd; }
th { background: #f4f4f4; }
td.right { text-align: right; font-variant-numeric: tabular-nums; }
tr.highlight td { background: #fff6d5; font-weight: 600; }
img { max-width: 100%; }
p.conclusion { font-size: 1.1rem; background: #eef6ee; padding: 0.75rem; border-radius: 6px; }
"""


def html_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], *, highlight: str | None = None
) -> str:
    """Return an HTML table; rows whose ``status`` equals ``highlight`` are highlighted."""
    head = "".join(f"<th>{html.escape(c.title)}</th>" for c in columns)
    body = []
    for row in rows:
        marker = ' class="highlight"' if highlight and row.get("status") == highlight else ""
        cells = "".join(
            f'<td class="{c.justify}">{html.escape(c.text(row.get(c.key)))}</td>' for c in columns
        )
        body.append(f"<tr{marker}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def embedded_image(path: str | Path, alt: str = "") -> str:
    """Return an ``<img>`` whose PNG data is embedded, so the page needs no other file."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def html_page(title: str, body: Sequence[str]) -> str:
    """Return a complete HTML document with ``body`` fragments in order."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{''.join(body)}</body></html>\n"
    )


def paragraph(text: str, css_class: str = "") -> str:
    """Return an escaped paragraph."""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{html.escape(text)}</p>"
