"""The sweep's tables, figure and report: results.csv, summary.csv, figures/sweep.png, report.md.

The report is an :class:`~neuralab.report.result.ExperimentResult` written by the same renderer
as the experiments' and studies' reports.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuralab.atomic import save_figure, write_text
from neuralab.report.result import ExperimentResult
from neuralab.report.result_report import report_html, report_markdown
from neuralab.report.tabular import Column, Table, csv_table
from neuralab.studies.sweep.results import SweepOutcome, conclusion
from neuralab.studies.sweep.trial import FAILURE_RULE


def write_report(outcome: SweepOutcome, directory: str | os.PathLike[str]) -> ExperimentResult:
    """Write ``results.csv`` (one row per trial), ``summary.csv`` (one row per setting),
    ``figures/sweep.png``, ``report.md`` and ``report.html``; return the report's result."""
    folder = Path(directory)
    summary = summary_table(outcome)
    trial_columns = [Column(key) for key in _ordered_keys(outcome.trials)]
    write_text(folder / "results.csv", csv_table(outcome.trials, trial_columns))
    write_text(folder / "summary.csv", csv_table(summary.rows, summary.columns))
    (folder / "figures").mkdir(exist_ok=True)
    figure = draw_sweep_figure(outcome, folder / "figures" / "sweep.png")
    result = sweep_result(outcome, figures=[figure])
    write_text(folder / "report.md", report_markdown(result, folder))
    write_text(folder / "report.html", report_html(result))
    result.run_dir = folder
    return result


def sweep_result(outcome: SweepOutcome, *, figures: list[Path] | None = None) -> ExperimentResult:
    """Return the sweep as a result: the summary table (with the base and the final run as its
    notes), the computed conclusion and ``figures``."""
    spec = outcome.spec
    base = ", ".join(f"{k}={v}" for k, v in spec.base.items() if k in ("data", "model", "epochs"))
    table = summary_table(outcome)
    table.notes.append(
        f"Base: {base}; search: {spec.search}; seeds per setting: {spec.seeds}; "
        f"selection: {spec.select} on the validation split."
    )
    final = outcome.final
    if final:
        table.notes.append(
            f"Final run (the only test-set evaluation): setting {final['setting']}, "
            f"{final['epochs']} epochs, best epoch by validation {final['best_epoch']}: test "
            f"accuracy {final['test_acc']:.4f}, test cross-entropy {final['test_loss']:.4f} on "
            f"{final['test_n']} images."
        )
    return ExperimentResult(
        name="sweep",
        title="Sweep report",
        tables=[table],
        conclusion=conclusion(outcome),
        measurements={
            "chosen": outcome.chosen.setting if outcome.chosen else None,
            "final": final,
        },
        figures=figures or [],
    )


def summary_table(outcome: SweepOutcome) -> Table:
    """Return one row per setting: mean and std of the metric, seeds ok and failed, status."""
    rows: list[Mapping[str, Any]] = []
    for summary in outcome.settings:
        if summary is outcome.chosen:
            status = "chosen"
        elif summary.trials:
            status = "" if summary.usable else "failed"
        else:
            status = "pending"
        rows.append(
            {
                **summary.setting,
                "mean": summary.mean if summary.usable else None,
                "std": summary.std if summary.usable else None,
                "seeds": len(summary.values),
                "failed": len(summary.failed),
                "status": status,
                "why": "; ".join(dict.fromkeys(w.removeprefix("failed: ") for w in summary.failed)),
            }
        )
    metric = outcome.spec.select
    columns = [Column(f, justify="left") for f in outcome.spec.grid] + [
        Column("mean", f"{metric} mean", ".4f"),
        Column("std", f"{metric} std", ".4f"),
        Column("seeds", "seeds ok"),
        Column("failed", "seeds failed"),
        Column("status", justify="left"),
        Column("why", "why seeds failed", justify="left"),
    ]
    return Table(
        rows, columns, title="Sweep: validation metric per setting", notes=[FAILURE_RULE + "."]
    )


def draw_sweep_figure(outcome: SweepOutcome, path: str | os.PathLike[str]) -> Path:
    """Save the selection metric against the swept values (:func:`sweep_figure`) at ``path``."""
    from neuralab.report.study_figures import FIGURE_DPI, sweep_figure

    figure = sweep_figure(
        outcome.settings,
        outcome.spec.grid,
        select=outcome.spec.select,
        seeds=outcome.spec.seeds,
        chosen=outcome.chosen.setting if outcome.chosen else None,
    )
    return save_figure(figure, path, dpi=FIGURE_DPI)


def _ordered_keys(rows: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    return keys
