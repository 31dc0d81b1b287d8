"""What every course experiment shares: its table entry, averaging over seeds, saving figures."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.report.result import ExperimentResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Experiment:
    """An experiment of the table: its config class, how to run it and how to make it quick."""

    name: str
    title: str
    claim: str  # the course's claim, in one line
    config_class: type
    run: Callable[[Any, Path | None], ExperimentResult]  # (config, figure folder or None)
    quick: Callable[[Any], Any]  # config -> the same experiment at small sizes
    # config -> {label: PlaygroundConfig} of its runs, the first two the claim's contrast
    # (the browser's A | B presets)
    cases: Callable[[Any], dict[str, Any]] | None = None


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Return the mean and the sample standard deviation (0 for a single value)."""
    values = [float(v) for v in values]
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def geometric_mean(values: Sequence[float]) -> float:
    """Return the geometric mean of positive ``values`` (0 if any is 0)."""
    values = [float(v) for v in values]
    if any(v <= 0 for v in values):
        return 0.0
    return math.exp(statistics.fmean(math.log(v) for v in values))


def save(figure: Figure, folder: Path, name: str) -> Path:
    """Save ``figure`` as ``folder/name`` atomically, at the experiments' resolution."""
    from neuralab.atomic import save_figure
    from neuralab.report.experiment_figures import FIGURE_DPI

    return save_figure(figure, folder / name, dpi=FIGURE_DPI)


__all__ = ["Experiment", "geometric_mean", "mean_std", "save"]
