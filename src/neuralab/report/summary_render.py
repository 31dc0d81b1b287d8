"""Render a :class:`neuralab.arch.summary.Summary`: rich table, Markdown, HTML (JSON and CSV, and
the units, in :mod:`neuralab.report.summary_schema`).

Numbers are computed in :mod:`neuralab.arch.summary` and only formatted here: parameters with
thousands separators (``288,100``), MACs with SI prefixes (``12.3M``), memory in KiB / MiB, shapes
as C x H x W (PyTorch's order) or, with ``hwc``, H x W x C (the course's order). Pairs that are
equal on both axes (a square receptive field) are shown once: ``5`` rather than ``5x5``. The
columns are chosen by name (:mod:`neuralab.report.summary_columns`); a repeated call of a shared
module shows ``(recursive)`` in the parameters column, and ``hide_recursive`` leaves it out.

:func:`summary` (``neuralab.summary``) computes a summary and returns it as a
:class:`RenderedSummary`, which prints itself (``print``, ``rich.print``, Jupyter) and writes
JSON, CSV and Markdown: the numbers stay in arch, their renderings here.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from neuralab.arch.summary import LayerRow, Summary
from neuralab.arch.summary import summary as compute_summary
from neuralab.report import tabular
from neuralab.report.summary_columns import DEFAULT_COLUMNS, parse_columns
from neuralab.report.summary_schema import (
    human_bytes,
    human_count,
    layer_dict,
    memory_dict,
    pair_str,
    shape_str,
    summary_csv,
    summary_json,
    summary_to_dict,
)
from neuralab.report.tabular import Column, markdown_table, rich_table

if TYPE_CHECKING:
    from rich.table import Table
    from torch import nn

    from neuralab.arch.summary_inputs import InputShape


class _ParamsColumn(Column):
    """The parameters column: a repeated call of a module shows ``(recursive)``, as torchinfo."""

    def cell(self, row: Mapping[str, Any]) -> str:
        return "(recursive)" if row.get("recursive") else super().cell(row)


def _columns(summary: Summary, hwc: bool, chosen: Sequence[str] | None = None) -> list[Column]:
    """Return the name and type columns, then ``chosen`` (default: the course's columns)."""
    shapes = "HxWxC" if hwc else "CxHxW"
    available = {
        "input_size": Column("input_shape", f"input ({shapes})", lambda s: shape_str(s, hwc=hwc)),
        "output_size": Column(
            "output_shape", f"output ({shapes})", lambda s: shape_str(s, hwc=hwc)
        ),
        "kernel_size": Column("kernel_size", "kernel", pair_str),
        "num_params": _ParamsColumn("params", "params", ",d"),
        "params_percent": Column("params_percent", "params %", ".1f"),
        "trainable": Column("trainable_params", "trainable", ",d"),
        "fan_in": Column("fan_in", "fan-in", ",d"),
        "receptive_field": Column("receptive_field", "RF", pair_str),
        "jump": Column("jump", "jump", pair_str),
        "start": Column("start", "start", pair_str),
        "mult_adds": Column("macs", "MACs", human_count),
    }
    names = list(chosen) if chosen is not None else list(DEFAULT_COLUMNS)
    if chosen is None and all(row.trainable_params == row.params for row in summary.rows):
        names.remove("trainable")  # by default only when some parameters are frozen
    return [
        Column("name", "layer", justify="left"),
        Column("type", "type", justify="left"),
        *(available[name] for name in names),
    ]


def _shown_rows(summary: Summary, hide_recursive: bool = False) -> list[LayerRow]:
    return [row for row in summary.rows if not (hide_recursive and row.recursive)]


def _rows(summary: Summary, hide_recursive: bool = False) -> list[dict[str, Any]]:
    total = summary.total_params or 1
    return [
        vars(row) | {"params_percent": 100 * row.params / total}
        for row in _shown_rows(summary, hide_recursive)
    ]


def _footer(summary: Summary) -> dict[str, Any]:
    return {
        "name": "total",
        "params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "macs": summary.total_macs,
    }


def totals_line(summary: Summary, *, hwc: bool = False) -> str:
    """Return one line with the input, parameters, MACs and memory of ``summary``."""
    shapes = summary.input_shapes or (summary.input_shape,)
    inputs = " + ".join(shape_str(shape, hwc=hwc) for shape in shapes)
    batch = f", batch {summary.batch_size}" if summary.batch_size != 1 else ""
    return (
        f"input {inputs}{batch} · "
        f"params {summary.total_params:,} ({summary.trainable_params:,} trainable, "
        f"{human_bytes(summary.param_bytes)}) · MACs {human_count(summary.total_macs)} "
        f"({summary.total_macs:,}) · activations {human_bytes(summary.activation_bytes)} "
        "per forward pass"
    )


def memory_line(summary: Summary) -> str:
    """Return the memory of one training step: inputs + params + gradients + saved activations.

    The formula and what it leaves out are in :mod:`neuralab.arch.summary_memory`.
    """
    memory = summary.memory
    if memory is None:
        return ""
    return (
        f"training step ({summary.dtype}, {summary.mode} mode, batch {summary.batch_size}): "
        f"inputs {human_bytes(memory.input_bytes)} + params {human_bytes(memory.param_bytes)} "
        f"+ gradients {human_bytes(memory.grad_bytes)} + saved activations "
        f"{human_bytes(memory.saved_bytes)} = {human_bytes(memory.total_bytes)} "
        "(optimizer state not included)"
    )


def _notes(summary: Summary, *, hwc: bool, hide_recursive: bool) -> list[str]:
    notes = [totals_line(summary, hwc=hwc)]
    if summary.memory is not None:
        notes.append(memory_line(summary))
    hidden = len(summary.rows) - len(_shown_rows(summary, hide_recursive))
    if hidden:
        notes.append(
            f"{hidden} repeated call{'' if hidden == 1 else 's'} of shared modules hidden; "
            "their MACs are in the total"
        )
    return notes


def summary_table(
    summary: Summary,
    *,
    hwc: bool = False,
    columns: Sequence[str] | None = None,
    hide_recursive: bool = False,
) -> Table:
    """Return a rich ``Table`` of the rows with a totals footer and the totals and memory lines."""
    table = rich_table(
        _rows(summary, hide_recursive), _columns(summary, hwc, columns), footer=_footer(summary)
    )
    table.caption = "\n".join(_notes(summary, hwc=hwc, hide_recursive=hide_recursive))
    table.caption_justify = "left"
    return table


def summary_markdown(
    summary: Summary,
    *,
    hwc: bool = False,
    columns: Sequence[str] | None = None,
    hide_recursive: bool = False,
) -> str:
    """Return the rows as a Markdown table, a totals row, and the totals and memory lines."""
    footer = _footer(summary)
    footer["name"] = "**total**"
    notes = _notes(summary, hwc=hwc, hide_recursive=hide_recursive)
    return (
        markdown_table([*_rows(summary, hide_recursive), footer], _columns(summary, hwc, columns))
        + "\n"
        + "\n\n".join(notes)
        + "\n"
    )


def summary_html(
    summary: Summary,
    *,
    hwc: bool = False,
    columns: Sequence[str] | None = None,
    hide_recursive: bool = False,
) -> str:
    """Return an HTML table (Jupyter's ``_repr_html_``) with a totals footer."""
    shown = _columns(summary, hwc, columns)

    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(
            f"<{tag} style='text-align:{'left' if c.justify == 'left' else 'right'}'>"
            f"{html.escape(v)}</{tag}>"
            for c, v in zip(shown, values, strict=True)
        )

    head = cells("th", [c.title for c in shown])
    body = "".join(
        f"<tr>{cells('td', [c.cell(row) for c in shown])}</tr>"
        for row in _rows(summary, hide_recursive)
    )
    footer = _footer(summary)
    foot = cells("th", [c.text(footer.get(c.key)) for c in shown])
    caption = "<br>".join(
        html.escape(n) for n in _notes(summary, hwc=hwc, hide_recursive=hide_recursive)
    )
    return (
        f"<table><caption style='caption-side:bottom'>{caption}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody><tfoot><tr>{foot}</tr></tfoot></table>"
    )


def summary_text(
    summary: Summary,
    *,
    hwc: bool = False,
    width: int = 120,
    columns: Sequence[str] | None = None,
    hide_recursive: bool = False,
) -> str:
    """Return the rich table as plain text, ``width`` columns wide."""
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False).print(
        summary_table(summary, hwc=hwc, columns=columns, hide_recursive=hide_recursive)
    )
    return buffer.getvalue()


def summary_tables(
    summary: Summary,
    *,
    hwc: bool = False,
    columns: Sequence[str] | None = None,
    hide_recursive: bool = False,
) -> tabular.Table:
    """Return the summary as a :class:`~neuralab.report.tabular.Table`: one row per layer in the
    JSON schema's ``layers`` form, the totals (and memory in bytes) as its footer, the totals
    and memory lines as its notes. ``columns`` (names of
    :data:`~neuralab.report.summary_columns.SUMMARY_COLUMNS`) choose what the table shows;
    ``hide_recursive`` leaves out repeated calls of shared modules."""
    footer = (
        _footer(summary)
        | {
            "param_bytes": summary.param_bytes,
            "activation_bytes": summary.activation_bytes,
        }
        | memory_dict(summary)
    )
    total = summary.total_params or 1
    rows = [
        layer_dict(row)
        | (
            {"params_percent": 100 * row.params / total}
            if "params_percent" in (columns or ())
            else {}
        )
        for row in _shown_rows(summary, hide_recursive)
    ]
    return tabular.Table(
        rows,
        _columns(summary, hwc, columns),
        footer=footer,
        notes=_notes(summary, hwc=hwc, hide_recursive=hide_recursive),
    )


@dataclass(frozen=True)
class RenderedSummary(Summary):
    """A :class:`~neuralab.arch.summary.Summary` that renders itself.

    ``print(s)`` and ``rich.print(s)`` show the table, Jupyter the HTML table; ``to_json``,
    ``to_csv`` and ``to_markdown`` write it for machines and documents. ``columns`` and
    ``hide_recursive`` are how it shows itself (the numbers are the same).
    """

    columns: tuple[str, ...] | None = field(default=None, repr=False)
    hide_recursive: bool = field(default=False, repr=False)

    @classmethod
    def of(
        cls,
        summary: Summary,
        *,
        columns: Sequence[str] | None = None,
        hide_recursive: bool = False,
    ) -> RenderedSummary:
        """Return ``summary``'s rows and totals as a :class:`RenderedSummary`."""
        return cls(
            **{f.name: getattr(summary, f.name) for f in fields(Summary)},
            columns=parse_columns(columns),
            hide_recursive=hide_recursive,
        )

    def _shown(self) -> dict[str, Any]:
        return {"columns": self.columns, "hide_recursive": self.hide_recursive}

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
        return summary_markdown(self, hwc=hwc, **self._shown())

    def table(self, *, hwc: bool = False) -> Table:
        """Return a rich ``Table`` with a totals footer (shapes H x W x C with ``hwc``)."""
        return summary_table(self, hwc=hwc, **self._shown())

    def __rich__(self) -> Table:
        return self.table()

    def _repr_html_(self) -> str:
        return summary_html(self, **self._shown())

    def __str__(self) -> str:
        return summary_text(self, **self._shown())


def summary(
    model_or_source: nn.Module | str,
    input_shape: InputShape | None = None,
    *,
    input_data: Any = None,
    depth: int | None = None,
    batch_size: int = 1,
    dtype: str | None = None,
    device: str | None = None,
    mode: str = "eval",
    columns: Sequence[str] | str | None = None,
    hide_recursive: bool = False,
    **forward_kwargs: Any,
) -> RenderedSummary:
    """Return the summary of a model on one forward pass, as a :class:`RenderedSummary`.

    The numbers are :func:`neuralab.arch.summary.summary`'s: ``model_or_source`` is an
    ``nn.Module``, a layer spec, a torchvision name or ``package.module:factory``;
    ``input_shape`` one shape or a list of them (several inputs), or ``input_data`` the tensors
    themselves; other keyword arguments go to ``forward``. ``depth=N`` folds modules N levels
    deep into single rows; ``batch_size``, ``dtype``, ``device`` and ``mode`` (eval or train)
    set the forward pass. ``columns`` (torchinfo's names: input_size, output_size, kernel_size,
    num_params, params_percent, trainable, mult_adds, and fan_in, receptive_field, jump, start)
    and ``hide_recursive`` choose what it shows.

    >>> s = summary("conv(10,5)", (3, 32, 32))
    >>> s.rows[0].params, s.total_macs
    (760, 588000)
    """
    chosen = parse_columns(columns)  # a bad column name fails before the model runs
    return RenderedSummary.of(
        compute_summary(
            model_or_source,
            input_shape,
            input_data=input_data,
            depth=depth,
            batch_size=batch_size,
            dtype=dtype,
            device=device,
            mode=mode,
            **forward_kwargs,
        ),
        columns=chosen,
        hide_recursive=hide_recursive,
    )
