"""What every course experiment shares: its result, its registry entry and small helpers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.report.tabular import Column

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class ExperimentResult:
    """One experiment's outcome: a table, figures and one computed sentence of conclusion.

    ``holds`` says whether the course's claim held in these numbers (the sentence says so too);
    ``measurements`` keeps the key numbers the sentence was computed from, for tests and JSON.
    """

    name: str
    title: str
    rows: list[dict[str, Any]]
    columns: list[Column]
    conclusion: str
    holds: bool
    measurements: dict[str, Any] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    config: Any = None
    run_dir: Path | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its config class, how to run it and how to make it quick."""

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


def pm(values: Sequence[float], spec: str = ".3f") -> str:
    """Return ``"mean +- std"`` of ``values`` formatted with ``spec``."""
    mean, std = mean_std(values)
    return f"{mean:{spec}} ± {std:{spec}}"


def geometric_mean(values: Sequence[float]) -> float:
    """Return the geometric mean of positive ``values`` (0 if any is 0)."""
    values = [float(v) for v in values]
    if any(v <= 0 for v in values):
        return 0.0
    return math.exp(statistics.fmean(math.log(v) for v in values))


def new_figure(columns: int = 1, rows: int = 1, *, width: float = 4.2, height: float = 3.2):
    """Return a matplotlib (figure, axes) pair without touching pyplot's global state."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * columns, height * rows), dpi=100, layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, axes


def save(figure: Figure, folder: Path | None, name: str, figures: list[Path]) -> None:
    """Save ``figure`` as ``folder/name`` (atomically) and add the path to ``figures``."""
    if folder is None:
        return
    from neuralab.atomic import save_figure

    figures.append(save_figure(figure, folder / name, dpi=100))


__all__ = [
    "Experiment",
    "ExperimentResult",
    "geometric_mean",
    "mean_std",
    "new_figure",
    "pm",
    "save",
]
