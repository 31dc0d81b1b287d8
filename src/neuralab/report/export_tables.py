"""The table of an exported model: where it went, how it was checked, how close it is."""

from __future__ import annotations

from neuralab.report.summary_render import human_bytes
from neuralab.report.tabular import Column, Table
from neuralab.vision.export import ExportResult


def export_table(result: ExportResult) -> Table:
    """Return one row: format, file, size, the runtime that ran it, images compared, the largest
    logit difference |logit_export - logit_torch|, the tolerance and the top-1 agreement (0..1)."""
    check = result.check
    row = {
        "format": result.format,
        "path": result.path,
        "size_bytes": result.size_bytes,
        "runtime": check.runtime if check else "not run",
        "images": check.images if check else None,
        "max_abs_diff": check.max_abs_diff if check else None,
        "tolerance": check.tolerance if check else None,
        "top1_agreement": check.top1_agreement if check else None,
        "passed": check.passed if check else None,
    }
    columns = [
        Column("format", "format", justify="left"),
        Column("runtime", "checked with", justify="left"),
        Column("images", "test images", ",d"),
        Column("max_abs_diff", "max |Δ logit|", ".2e"),
        Column("tolerance", "tolerance", ".1e"),
        Column("top1_agreement", "same top-1", ".4f"),
    ]
    notes = [
        f"wrote {result.path} ({human_bytes(result.size_bytes)}) from {result.checkpoint}.pt",
        f"takes {result.takes}; returns {result.returns}",
    ]
    if result.skipped:
        notes.append(f"not checked: {result.skipped}")
    return Table([row], columns, notes=notes)


__all__ = ["export_table"]
