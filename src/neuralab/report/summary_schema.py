"""A summary as data and units: counts and bytes as text, the JSON schema, CSV.

:mod:`neuralab.report.summary_render` builds the tables (rich, Markdown, HTML) from these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from neuralab.arch.receptive import as_number
from neuralab.arch.shapes import fmt_size
from neuralab.arch.summary import LayerRow, Summary
from neuralab.report.tabular import Column, csv_table, to_json


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
        "input_shape": list(row.input_shape),
        "kernel_size": None if row.kernel_size is None else list(row.kernel_size),
        "recursive": row.recursive,
    }


def memory_dict(summary: Summary) -> dict[str, int]:
    """Return the training-step memory in bytes: inputs, params, gradients, saved, total."""
    memory = summary.memory
    if memory is None:
        return {}
    return {
        "input_bytes": memory.input_bytes,
        "param_bytes": memory.param_bytes,
        "grad_bytes": memory.grad_bytes,
        "saved_activation_bytes": memory.saved_bytes,
        "train_step_bytes": memory.total_bytes,
    }


def summary_to_dict(summary: Summary) -> dict[str, Any]:
    """Return ``{"input_shape", "layers": [...], "total_params", ..., "memory"}``."""
    return {
        "input_shape": list(summary.input_shape),
        "layers": [layer_dict(row) for row in summary.rows],
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "total_macs": summary.total_macs,
        "param_bytes": summary.param_bytes,
        "activation_bytes": summary.activation_bytes,
        "input_shapes": [list(shape) for shape in summary.input_shapes],
        "batch_size": summary.batch_size,
        "dtype": summary.dtype,
        "mode": summary.mode,
        "memory": memory_dict(summary),
    }


_NUMBER_LIST = re.compile(r"\[\s+((?:-?[\d.eE+-]+|null)(?:,\s+(?:-?[\d.eE+-]+|null))*)\s+\]")


def summary_json(summary: Summary) -> str:
    """Return :func:`summary_to_dict` as indented JSON with shapes and pairs kept on one line."""
    text = to_json(summary_to_dict(summary))
    return _NUMBER_LIST.sub(lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)


def summary_csv(summary: Summary, *, hwc: bool = False) -> str:
    """Return the rows as CSV with raw numbers (shapes and pairs joined by ``x``)."""
    rows = []
    for row in summary.rows:
        values = vars(row).copy()
        values["output_shape"] = shape_str(row.output_shape, hwc=hwc)
        values["input_shape"] = shape_str(row.input_shape, hwc=hwc)
        for key in ("receptive_field", "jump", "start", "kernel_size"):
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
            "input_shape",
            "kernel_size",
            "recursive",
        )
    ]
    return csv_table(rows, columns)


__all__ = [
    "human_bytes",
    "human_count",
    "layer_dict",
    "memory_dict",
    "pair_str",
    "shape_str",
    "summary_csv",
    "summary_json",
    "summary_to_dict",
]
