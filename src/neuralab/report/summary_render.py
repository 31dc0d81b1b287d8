"""Render a :class:`neuralab.arch.summary.Summary`: rich table, Markdown, CSV, JSON dict, HTML.

Numbers are computed in :mod:`neuralab.arch.summary` and only formatted here: parameters with
thousands separators (``288,100``), MACs with SI prefixes (``12.3M``), memory in KiB / MiB, shapes
as C x H x W (PyTorch's order) or, with ``hwc``, H x W x C (the course's order). Pairs that are
equal on both axes (a square receptive field) are shown once: ``5`` rather than ``5x5``.

:func:`summary` (``neuralab.summary``) computes a summary and returns it as a
:class:`RenderedSummary`, which prints itself (``print``, ``rich.print``, Jupyter) and writes
JSON, CSV and Markdown: the numbers stay in arch, their renderings here.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from neuralab.arch.receptive import as_number
from neuralab.arch.shapes import fmt_size
from neuralab.arch.summary import LayerRow, Summary
from neuralab.arch.summary import summary as compute_summary
from neuralab.report import tabular
from neuralab.report.tabular import Column, csv_table, markdown_table, rich_table, to_json

if TYPE_CHECKING:
    from rich.table import Table
    from torch import nn


def human_count(value: int) -> str:
    """Return ``12_345_678`` as ``"12.3M"`` (K, M, G, T; three significant figures).

    Below 10,000 the exact count is shown: ``1000 -> "1,000"``.
    """
    if abs(value) < 10_000:
        return f"{value:,}"
    number = float(value)
    for prefix in ("", "K", "M", "G", "T"):
        if abs(number) < 1000 or prefix == "T":
            if not prefix:
                return f"{int(number)}"
            return f"{number:.1f}{prefix}" if abs(number) < 100 else f"{number:.0f}{prefix}"
        number /= 1000
    raise AssertionError("unreachable")


def human_bytes(value: int) -> str:
    """Return a byte count in B, KiB, MiB or GiB: ``1_153_432 -> "1.1 MiB"``."""
    number = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(number) < 1024 or unit == "GiB":
            return f"{int(number)} {unit}" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1024
    raise AssertionError("unreachable")


def shape_str(shape: Sequence[int], *, hwc: bool = False) -> str:
    """Return ``(20, 24, 24)`` as ``"20x24x24"``, or ``"24x24x20"`` with ``hwc``."""
    values = tuple(shape)
    if hwc and len(values) >= 3:
        values = values[1:] + values[:1]
    return fmt_size(values)


def pair_str(pair: Sequence[float] | None) -> str:
    """Return ``(5, 5)`` as ``"5"`` and ``(5, 3)`` as ``"5x3"``; ``None`` as ``""``."""
    if pair is None:
        return ""
    values = [as_number(v) for v in pair]
    if all(v == values[0] for v in values):
        return f"{values[0]:g}"
    return "x".join(f"{v:g}" for v in values)


def _pair_json(pair: Sequence[float] | None) -> list[int | float] | None:
    return None if pair is None else [as_number(v) for v in pair]


def layer_dict(row: LayerRow) -> dict[str, Any]:
    """Return one row in the JSON schema's ``layers`` entry."""
    return {
        "name": row.name,
        "type": row.type,
        "output_shape": list(row.output_shape),
        "params": row.params,
        "trainable_params": row.trainable_params,
        "fan_in": row.fan_in,
        "receptive_field": _pair_json(row.receptive_field),
        "jump": _pair_json(row.jump),
        "start": _pair_json(row.start),
        "macs": row.macs,
    }


def summary_to_dict(summary: Summary) -> dict[str, Any]:
    """Return ``{"input_shape", "layers": [...], "total_params", ..., "activation_bytes"}``."""
    return {
        "input_shape": list(summary.input_shape),
        "layers": [layer_dict(row) for row in summary.rows],
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "total_macs": summary.total_macs,
        "param_bytes": summary.param_bytes,
        "activation_bytes": summary.activation_bytes,
    }


_NUMBER_LIST = re.compile(r"\[\s+((?:-?[\d.eE+-]+|null)(?:,\s+(?:-?[\d.eE+-]+|null))*)\s+\]")


def summary_json(summary: Summary) -> str:
    """Return :func:`summary_to_dict` as indented JSON with shapes and pairs kept on one line."""
    text = to_json(summary_to_dict(summary))
    return _NUMBER_LIST.sub(lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)


def _columns(summary: Summary, hwc: bool) -> list[Column]:
    columns = [
        Column("name", "layer", justify="left"),
        Column("type", "type", justify="left"),
        Column(
            "output_shape",
            "output (HxWxC)" if hwc else "output (CxHxW)",
            lambda s: shape_str(s, hwc=hwc),
        ),
        Column("params", "params", ",d"),
    ]
    if any(row.trainable_params != row.params for row in summary.rows):
        columns.append(Column("trainable_params", "trainable", ",d"))
    columns += [
        Column("fan_in", "fan-in", ",d"),
        Column("receptive_field", "RF", pair_str),
        Column("jump", "jump", pair_str),
        Column("start", "start", pair_str),
        Column("macs", "MACs", human_count),
    ]
    return columns


def _rows(summary: Summary) -> list[dict[str, Any]]:
    return [vars(row) for row in summary.rows]


def _footer(summary: Summary) -> dict[str, Any]:
    return {
        "name": "total",
        "params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "macs": summary.total_macs,
    }


def totals_line(summary: Summary, *, hwc: bool = False) -> str:
    """Return one line with the input, parameters, MACs and memory of ``summary``."""
    batch = f", batch {summary.batch_size}" if summary.batch_size != 1 else ""
    return (
        f"input {shape_str(summary.input_shape, hwc=hwc)}{batch} · "
        f"params {summary.total_params:,} ({summary.trainable_params:,} trainable, "
        f"{human_bytes(summary.param_bytes)}) · MACs {human_count(summary.total_macs)} "
        f"({summary.total_macs:,}) · activations {human_bytes(summary.activation_bytes)} "
        "per forward pass"
    )


def summary_table(summary: Summary, *, hwc: bool = False) -> Table:
    """Return a rich ``Table`` of the rows with a totals footer and a memory caption."""
    table = rich_table(_rows(summary), _columns(summary, hwc), footer=_footer(summary))
    table.caption = totals_line(summary, hwc=hwc)
    table.caption_justify = "left"
    return table


def summary_markdown(summary: Summary, *, hwc: bool = False) -> str:
    """Return the rows as a Markdown table, a totals row, and the memory line."""
    columns = _columns(summary, hwc)
    footer = {k: v for k, v in _footer(summary).items()}
    footer["name"] = "**total**"
    return (
        markdown_table([*_rows(summary), footer], columns)
        + "\n"
        + totals_line(summary, hwc=hwc)
        + "\n"
    )


def summary_csv(summary: Summary, *, hwc: bool = False) -> str:
    """Return the rows as CSV with raw numbers (shapes and pairs joined by ``x``)."""
    rows = []
    for row in summary.rows:
        values = vars(row).copy()
        values["output_shape"] = shape_str(row.output_shape, hwc=hwc)
        for key in ("receptive_field", "jump", "start"):
            pair = values[key]
            values[key] = "" if pair is None else "x".join(f"{as_number(v):g}" for v in pair)
        rows.append(values)
    columns = [
        Column(key)
        for key in (
            "name",
            "type",
            "output_shape",
            "params",
            "trainable_params",
            "fan_in",
            "receptive_field",
            "jump",
            "start",
            "macs",
        )
    ]
    return csv_table(rows, columns)


def summary_html(summary: Summary, *, hwc: bool = False) -> str:
    """Return an HTML table (Jupyter's ``_repr_html_``) with a totals footer."""
    columns = _columns(summary, hwc)

    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(
            f"<{tag} style='text-align:{'left' if c.justify == 'left' else 'right'}'>"
            f"{html.escape(v)}</{tag}>"
            for c, v in zip(columns, values, strict=True)
        )

    head = cells("th", [c.title for c in columns])
    body = "".join(
        f"<tr>{cells('td', [c.text(row.get(c.key)) for c in columns])}</tr>"
        for row in _rows(summary)
    )
    footer = _footer(summary)
    foot = cells("th", [c.text(footer.get(c.key)) for c in columns])
    caption = html.escape(totals_line(summary, hwc=hwc))
    return (
        f"<table><caption style='caption-side:bottom'>{caption}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody><tfoot><tr>{foot}</tr></tfoot></table>"
    )


def summary_text(summary: Summary, *, hwc: bool = False, width: int = 120) -> str:
    """Return the rich table as plain text, ``width`` columns wide."""
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False).print(
        summary_table(summary, hwc=hwc)
    )
    return buffer.getvalue()


def summary_tables(summary: Summary, *, hwc: bool = False) -> tabular.Table:
    """Return the summary as a :class:`~neuralab.report.tabular.Table`: one row per layer in the
    JSON schema's ``layers`` form, the totals (and memory in bytes) as its footer, the totals
    line as its note."""
    footer = _footer(summary) | {
        "param_bytes": summary.param_bytes,
        "activation_bytes": summary.activation_bytes,
    }
    rows = [layer_dict(row) for row in summary.rows]
    return tabular.Table(
        rows, _columns(summary, hwc), footer=footer, notes=[totals_line(summary, hwc=hwc)]
    )


class RenderedSummary(Summary):
    """A :class:`~neuralab.arch.summary.Summary` that renders itself.

    ``print(s)`` and ``rich.print(s)`` show the table, Jupyter the HTML table; ``to_json``,
    ``to_csv`` and ``to_markdown`` write it for machines and documents.
    """

    @classmethod
    def of(cls, summary: Summary) -> RenderedSummary:
        """Return ``summary``'s rows and totals as a :class:`RenderedSummary`."""
        return cls(**{f.name: getattr(summary, f.name) for f in fields(summary)})

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as the JSON schema: input_shape, layers[...], and the totals."""
        return summary_to_dict(self)

    def to_json(self) -> str:
        """Return :meth:`to_dict` as indented JSON (shapes and pairs on one line)."""
        return summary_json(self)

    def to_csv(self, *, hwc: bool = False) -> str:
        """Return the rows as CSV (raw numbers; shapes as CxHxW, or HxWxC with ``hwc``)."""
        return summary_csv(self, hwc=hwc)

    def to_markdown(self, *, hwc: bool = False) -> str:
        """Return the rows and totals as a Markdown table."""
        return summary_markdown(self, hwc=hwc)

    def table(self, *, hwc: bool = False) -> Table:
        """Return a rich ``Table`` with a totals footer (shapes H x W x C with ``hwc``)."""
        return summary_table(self, hwc=hwc)

    def __rich__(self) -> Table:
        return self.table()

    def _repr_html_(self) -> str:
        return summary_html(self)

    def __str__(self) -> str:
        return summary_text(self)


def summary(
    model_or_source: nn.Module | str,
    input_shape: Sequence[int] | int,
    *,
    depth: int | None = None,
    batch_size: int = 1,
) -> RenderedSummary:
    """Return the summary of a model on one forward pass, as a :class:`RenderedSummary`.

    The numbers are :func:`neuralab.arch.summary.summary`'s: ``model_or_source`` is an
    ``nn.Module``, a layer spec, a torchvision name or ``package.module:factory``; ``depth=N``
    folds modules N levels deep into single rows.

    >>> s = summary("conv(10,5)", (3, 32, 32))
    >>> s.rows[0].params, s.total_macs
    (760, 588000)
    """
    return RenderedSummary.of(
        compute_summary(model_or_source, input_shape, depth=depth, batch_size=batch_size)
    )
