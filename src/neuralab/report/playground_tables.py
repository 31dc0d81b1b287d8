"""Text of the playground: the run's header line, one line per logged epoch, the grid's table.

A single run streams lines while it trains (:func:`run_header`, :func:`epoch_line`); a comparison
grid ends in one :class:`~neuralab.report.tabular.Table` of its final metrics, mean ± std over the
seeds (:func:`grid_table`). :func:`flatten_row` and :func:`grid_metrics_csv` shape the histories
for ``metrics.csv``.
"""

from __future__ import annotations

import csv
import io
import math
from typing import TYPE_CHECKING, Any

from neuralab.report.tabular import Column, Table

if TYPE_CHECKING:
    from neuralab.playground.compare import CompareResult
    from neuralab.playground.config import PlaygroundConfig

# final metrics of a grid cell, and their headers
GRID_METRICS = {
    "train_loss": "train loss",
    "test_loss": "test loss",
    "train_acc": "train acc",
    "test_acc": "test acc",
    "dead_fraction": "dead ReLU",
}


def flatten_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return a history row with per-layer lists as columns grad_norm_1, grad_norm_2, ..."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, list):
            for i, item in enumerate(value, start=1):
                flat[f"{key}_{i}"] = int(item) if isinstance(item, bool) else item
        else:
            flat[key] = value
    return flat


def epoch_line(row: dict[str, Any], epochs: int) -> str:
    """Return the one line printed for a logged epoch: losses, accuracies, ||dJ/dW|| per layer,
    and the dead, saturated and symmetric units where there are any."""
    width = len(str(epochs))
    parts = [f"epoch {row['epoch']:>{width}}", f"train loss {_number(row['train_loss'])}"]
    if row.get("test_loss") is not None:
        parts.append(f"test loss {_number(row['test_loss'])}")
    if row.get("train_acc") is not None:
        parts.append(f"train acc {row['train_acc']:6.1%}")
    if row.get("test_acc") is not None:
        parts.append(f"test acc {row['test_acc']:6.1%}")
    parts.append("|dJ/dW| " + " ".join(f"{g:.1e}" for g in row["grad_norm"]))
    if any(row["dead_fraction"]):
        parts.append("dead " + " ".join(f"{d:.0%}" for d in row["dead_fraction"]))
    if any(row["saturated_fraction"]):
        parts.append("saturated " + " ".join(f"{s:.0%}" for s in row["saturated_fraction"]))
    if any(row["symmetric"]):
        parts.append("symmetric " + " ".join("yes" if s else "no" for s in row["symmetric"]))
    return "  ".join(parts)


def _number(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) and abs(value) < 1e4 else f"{value:.3g}"


def run_header(config: PlaygroundConfig, plan: Any) -> str:
    """Return the header line of a run: data, features -> layers -> output, loss and optimiser."""
    layers = (
        "-".join(f"{h} {a}" for h, a in zip(plan.hidden, plan.activations, strict=True))
        or "no hidden layer"
    )
    batch = "full batch" if plan.batch_size == plan.n_train else f"batch {plan.batch_size}"
    return (
        f"{config.data}: {plan.n_train} train / {plan.n_test} test, noise {config.noise:g}; "
        f"{','.join(plan.features)} -> {layers} -> {plan.out_features} {plan.output}; "
        f"loss {plan.loss}; {config.optimizer} lr {config.lr:g}, {batch}, init {config.init}; "
        f"{plan.epochs} epochs"
    )


def grid_table(grid: CompareResult, notes: list[str] | None = None) -> Table:
    """Return one row per grid cell: its settings, then the final metrics (mean ± std over the
    seeds when there are several; a metric no cell has, such as dead ReLUs, is left out)."""
    rows = grid.rows()
    spread = len(grid.seeds) > 1
    columns = [Column(name, name, justify="left") for name, _ in grid.axes]
    for key, header in GRID_METRICS.items():
        if any(row[key] is not None for row in rows):
            show = _loss if key.endswith("loss") else _percent
            std = f"{key}_std" if spread else None
            columns.append(Column(key, header, show, spread=std, missing="-"))
    if any(row["diverged"] for row in rows):
        columns.append(Column("diverged", "diverged"))
    title = f"{grid.base.data}: final epoch" + (
        f", mean ± std over {len(grid.seeds)} seeds" if spread else ""
    )
    return Table(rows, columns, title=title, notes=list(notes or []))


def _loss(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "nan"


def _percent(value: float) -> str:
    return f"{value:.1%}" if math.isfinite(value) else "nan"


def grid_metrics_csv(grid: CompareResult) -> str:
    """Return every network's history as CSV: the cell's settings, its seed, the flattened row."""
    from neuralab.playground.grid_axes import show_value

    lines: list[dict[str, Any]] = []
    for cell in grid.cells:
        settings = {k: show_value(v) for k, v in cell.settings.items()}
        for result in cell.results:
            for row in result.history:
                lines.append(settings | {"seed": result.config.seed} | flatten_row(row))
    fields: dict[str, None] = {}
    for line in lines:
        fields.update(dict.fromkeys(line))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines)
    return buffer.getvalue()
