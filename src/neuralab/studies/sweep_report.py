"""The sweep's figure and reports: metric against the swept value, report.md, report.html."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from neuralab.atomic import save_figure, write_text
from neuralab.report.html import embedded_image, html_page, html_table, paragraph
from neuralab.report.tabular import markdown_table
from neuralab.studies.sweep_results import SweepOutcome, conclusion, summary_table


def draw_sweep_figure(outcome: SweepOutcome, path: str | os.PathLike[str]) -> Path:
    """Plot the selection metric (mean +- std over seeds) against the first swept field.

    One line per value of a second swept field, if any; failed settings are marked with x.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fields = list(outcome.spec.grid)
    x_field = fields[0]
    group_field = fields[1] if len(fields) > 1 else None
    x_values = outcome.spec.grid[x_field]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in x_values)
    figure, axes = plt.subplots(figsize=(7, 4.2))
    groups: dict[Any, list[Any]] = {}
    for summary in outcome.settings:
        key = summary.setting.get(group_field) if group_field else None
        groups.setdefault(key, []).append(summary)
    for key, members in groups.items():
        members.sort(key=lambda s: x_values.index(s.setting[x_field]))
        usable = [s for s in members if s.usable]
        xs = [_position(s.setting[x_field], x_values, numeric) for s in usable]
        label = f"{group_field}={key}" if group_field else outcome.spec.select
        axes.errorbar(
            xs,
            [s.mean for s in usable],
            yerr=[s.std for s in usable],
            marker="o",
            capsize=4,
            label=label,
        )
        failed = [s for s in members if s.trials and not s.usable]
        if failed:
            axes.scatter(
                [_position(s.setting[x_field], x_values, numeric) for s in failed],
                [axes.get_ylim()[0]] * len(failed),
                marker="x",
                color="crimson",
                label="failed (excluded)",
                zorder=3,
            )
    if outcome.chosen is not None:
        axes.axvline(
            _position(outcome.chosen.setting[x_field], x_values, numeric),
            color="gray",
            linestyle=":",
            label="chosen (validation)",
        )
    if not numeric:
        axes.set_xticks(range(len(x_values)), [str(v) for v in x_values])
    axes.set_xlabel(x_field)
    seeds = outcome.spec.seeds
    axes.set_ylabel(
        f"{outcome.spec.select} (mean +- std over {seeds} seed{'s' if seeds > 1 else ''})"
    )
    axes.set_title(f"Sweep over {', '.join(fields)}: chosen on validation data")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    saved = save_figure(figure, path, dpi=120)
    plt.close(figure)
    return saved


def _position(value: Any, values: list[Any], numeric: bool) -> float:
    return float(value) if numeric else float(values.index(value))


def write_reports(
    outcome: SweepOutcome, directory: str | os.PathLike[str], figure: Path | None
) -> list[Path]:
    """Write ``report.md`` and the self-contained ``report.html``."""
    folder = Path(directory)
    rows, columns = summary_table(outcome)
    sentence = conclusion(outcome)
    spec = outcome.spec
    base = ", ".join(f"{k}={v}" for k, v in spec.base.items() if k in ("data", "model", "epochs"))
    lines = [
        "# Sweep report",
        "",
        f"Base: {base}; search: {spec.search}; seeds per setting: {spec.seeds}; "
        f"selection: {spec.select} on the validation split.",
        "",
        f"**{sentence}**",
        "",
        markdown_table(rows, columns),
    ]
    if figure is not None:
        lines += [f"![{spec.select} against {', '.join(spec.grid)}](figures/{figure.name})", ""]
    if outcome.final:
        final = outcome.final
        lines += [
            "## Final run (the only test-set evaluation)",
            "",
            f"Setting {final['setting']}, {final['epochs']} epochs, best epoch by validation "
            f"{final['best_epoch']}: test accuracy {final['test_acc']:.4f}, "
            f"test cross-entropy {final['test_loss']:.4f} on {final['test_n']} images.",
            "",
        ]
    markdown = write_text(folder / "report.md", "\n".join(lines))
    body = [paragraph(sentence, "conclusion"), html_table(rows, columns, highlight="chosen")]
    if figure is not None:
        body.append(embedded_image(figure, f"{spec.select} against {', '.join(spec.grid)}"))
    if outcome.final:
        body.append(paragraph(lines[-2]))
    page = write_text(folder / "report.html", html_page("Sweep report", body))
    return [markdown, page]
