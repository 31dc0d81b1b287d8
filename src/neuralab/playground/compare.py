"""Comparison grids: every combination of some config fields, trained over several seeds.

``compare_grid(base, parse_compare(["init=zeros,he", "activation=relu,tanh"]), seeds=3)`` expands
the axes into configs (:func:`grid_configs`), trains them batched
(:func:`neuralab.playground.batched.train_batched`) and summarises each cell by the mean and
standard deviation over its seeds of the final losses, accuracies and dead fraction.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neuralab.playground.batched import train_batched
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.grid_axes import (
    grid_configs,
    show_value,
)
from neuralab.playground.mlp import DEAD_ACTIVATIONS
from neuralab.playground.session import PlaygroundResult

SUMMARY_METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")


@dataclass
class CompareCell:
    """One combination of the grid: its settings, one result per seed, mean and std over seeds."""

    settings: dict[str, Any]  # the varied fields and their values, e.g. {"init": "he"}
    results: list[PlaygroundResult]
    mean: dict[str, float | None]  # final train/test loss and accuracy, dead fraction
    std: dict[str, float | None]
    diverged: int  # seeds whose loss became NaN or infinite

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={show_value(v)}" for k, v in self.settings.items())


@dataclass
class CompareResult:
    """A comparison grid: every combination of the axes, trained over several seeds."""

    base: PlaygroundConfig
    axes: list[tuple[str, list[Any]]]  # (field, values) in the order given
    seeds: list[int]
    cells: list[CompareCell]
    groups: int  # batched models trained (configs of one shape train as one)
    seconds: float

    def rows(self) -> list[dict[str, Any]]:
        """Return one table row per cell: settings, then mean and std of the final metrics."""
        rows = []
        for cell in self.cells:
            row: dict[str, Any] = {k: show_value(v) for k, v in cell.settings.items()}
            for key in (*SUMMARY_METRICS, "dead_fraction"):
                row[key] = cell.mean[key]
                row[f"{key}_std"] = cell.std[key]
            row["diverged"] = cell.diverged
            rows.append(row)
        return rows


def compare_grid(
    base: PlaygroundConfig,
    axes: Sequence[tuple[str, Sequence[Any]]],
    *,
    seeds: int = 1,
    progress: bool = False,
) -> CompareResult:
    """Return the comparison grid of ``axes`` around ``base``, trained batched over ``seeds``."""
    started = time.perf_counter()
    grid = grid_configs(base, axes, seeds)
    configs = [config for _, runs in grid for config in runs]
    results = train_batched(configs, progress=progress)
    cells = []
    for number, (settings, _) in enumerate(grid):
        runs = results[number * seeds : (number + 1) * seeds]
        cells.append(_summarise(settings, runs))
    groups = len({(r.extra.get("group")) for r in results})
    return CompareResult(
        base,
        [(name, list(values)) for name, values in axes],
        [base.seed + i for i in range(seeds)],
        cells,
        groups,
        time.perf_counter() - started,
    )


def _summarise(settings: dict[str, Any], runs: list[PlaygroundResult]) -> CompareCell:
    mean: dict[str, float | None] = {}
    std: dict[str, float | None] = {}
    finals = [r.final for r in runs]
    for key in (*SUMMARY_METRICS, "dead_fraction"):
        values: list[float] = []
        for row in finals:
            value = row.get(key)
            if isinstance(value, list):
                value = sum(value) / len(value) if value else 0.0
            if value is not None:
                values.append(float(value))
        if len(values) < len(finals) or not values:
            mean[key] = std[key] = None
            continue
        mean[key] = statistics.fmean(values)
        std[key] = statistics.stdev(values) if len(values) > 1 else 0.0
    if not any(a in DEAD_ACTIVATIONS for r in runs if r.plan for a in r.plan.activations):
        mean["dead_fraction"] = std["dead_fraction"] = None  # no ReLU layer: cannot die
    diverged = sum(r.stopped is not None for r in runs)
    return CompareCell(settings, runs, mean, std, diverged)
