"""A playground run, or a comparison grid, recorded in a run directory (what the CLI writes).

:func:`record_run` writes ``config.yaml``, ``train.log`` (the header and one line per logged
epoch, each also handed to ``say``), ``metrics.csv`` (every epoch, per-layer lists as columns
``grad_norm_1, grad_norm_2, ...``) and ``figures/`` (boundary, loss, gradient norms).
:func:`record_grid` writes ``config.yaml``, ``compare.csv`` (one row per cell: mean and std of
the final metrics), ``metrics.csv`` (every network's every epoch, with its cell and seed) and
``figures/compare.png``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from neuralab.atomic import save_figure, write_text
from neuralab.playground.compare import CompareResult, compare_grid
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.grid_axes import grid_configs, parse_compare
from neuralab.playground.plan import load_data, make_plan
from neuralab.playground.run import PlaygroundResult, resolve_log_every, train_playground
from neuralab.report.compare_figures import compare_figure
from neuralab.report.playground_figures import save_run_figures
from neuralab.report.playground_tables import epoch_line, flatten_row, grid_metrics_csv, run_header
from neuralab.report.tabular import Column, csv_table, row_keys
from neuralab.rundir import RunDirectory, check_new_run_directory, default_run_path


def _path(path: str | os.PathLike[str] | None, *name: str) -> Path:
    return Path(path) if path is not None else default_run_path(*name)


def record_run(
    config: PlaygroundConfig,
    run_dir: str | os.PathLike[str] | None = None,
    *,
    say: Callable[[str], None] = print,
    progress: bool = True,
    overwrite: bool = False,
) -> tuple[PlaygroundResult, Path]:
    """Train ``config`` and return its result and the run directory it was recorded in.

    ``run_dir`` defaults to ``runs/playground-<data>-<timestamp>``; one that already holds a
    run is refused unless ``overwrite``. About ten epochs are logged (``config.log_every``),
    the last one and a diverging one always.
    """
    path = check_new_run_directory(_path(run_dir, "playground", config.data), overwrite=overwrite)
    data = load_data(config)
    plan = make_plan(config, data)
    directory = RunDirectory.create(path, config, overwrite=overwrite)
    every = resolve_log_every(config, plan.epochs)
    pending: list[dict[str, Any]] = []

    def log(line: str) -> None:
        say(line)
        directory.log(line)

    def flush() -> None:
        # metrics.csv is appended once per logged line: the rows in between go in with it
        if pending:
            directory.rows.extend(flatten_row(r) for r in pending[:-1])
            directory.append_metrics(flatten_row(pending[-1]))
            pending.clear()

    def on_epoch(row: dict[str, Any]) -> None:
        pending.append(row)
        last = row["epoch"] == plan.epochs or not math.isfinite(row["train_loss"])
        if row["epoch"] % every == 0 or last:
            log(epoch_line(row, plan.epochs))
            flush()

    log(run_header(config, plan))
    result = train_playground(config, data=data, progress=progress, on_epoch=on_epoch)
    flush()
    figures = save_run_figures(result, directory.figures)
    names = ", ".join(f"figures/{p.name}" for p in figures.values())
    log(f"wrote {directory.path}: config.yaml, metrics.csv, train.log, {names}")
    return result, directory.path


def record_grid(
    config: PlaygroundConfig,
    compare: Sequence[str],
    *,
    seeds: int = 1,
    run_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> tuple[CompareResult, str]:
    """Train every combination of ``compare`` (``["init=zeros,he", ...]``) around ``config``,
    ``seeds`` times each, and return the grid and the line that says what was written.

    ``run_dir`` defaults to ``runs/playground-compare-<data>-<timestamp>``; one that already
    holds a run is refused unless ``overwrite``.
    """
    path = check_new_run_directory(
        _path(run_dir, "playground-compare", config.data), overwrite=overwrite
    )
    axes = parse_compare(compare)
    for _, runs in grid_configs(config, axes, seeds):  # every cell is valid before any trains
        make_plan(runs[0], load_data(runs[0]))
    directory = RunDirectory.create(path, config, overwrite=overwrite)
    grid = compare_grid(config, axes, seeds=seeds, progress=progress)
    rows = grid.rows()
    write_text(directory.file("compare.csv"), csv_table(rows, [Column(k) for k in row_keys(rows)]))
    write_text(directory.file("metrics.csv"), grid_metrics_csv(grid))
    figure = save_figure(compare_figure(grid), directory.figure("compare.png"))
    line = (
        f"trained {len(grid.cells) * seeds} networks as {grid.groups} batched model(s) in "
        f"{grid.seconds:.1f} s; wrote {directory.path}: config.yaml, compare.csv, metrics.csv, "
        f"figures/{figure.name}"
    )
    directory.log(line)
    return grid, line
