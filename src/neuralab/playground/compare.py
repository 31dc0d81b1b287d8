"""Comparison grids: every combination of some config fields, trained over several seeds.

``compare_grid(base, parse_compare(["init=zeros,he", "activation=relu,tanh"]), seeds=3)`` expands
the axes into configs (:func:`grid_configs`), trains them batched
(:func:`neuralab.playground.batched.train_batched`) and summarises each cell by the mean and
standard deviation over its seeds of the final losses, accuracies and dead fraction.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
import typing
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from neuralab.config import config_fields, convert_value
from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.playground.batched import train_batched
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.mlp import DEAD_ACTIVATIONS, parse_hidden
from neuralab.playground.session import PlaygroundResult

MAX_GRID_CELLS = 64  # combinations in one --compare grid
MAX_SEEDS = 20  # seeds per cell
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


def show_value(value: Any) -> str:
    """Return a grid value as the table shows it: (8, 8) -> 8x8, () -> none."""
    if isinstance(value, tuple | list):
        return "x".join(str(v) for v in value) if value else "none"
    return str(value)


def parse_compare(specs: Sequence[str]) -> list[tuple[str, list[Any]]]:
    """Return the grid axes from ``["init=zeros,he", "activation=relu,sigmoid"]``.

    Values are converted to the field's type; inside one value, ``+`` joins list items
    (``hidden=4,8+8`` is (4,) and (8, 8); ``features=x1+x2,x1^2+x2^2``; ``hidden`` also takes 8x8).
    """
    hints = typing.get_type_hints(PlaygroundConfig)
    axes: list[tuple[str, list[Any]]] = []
    for spec in specs:
        key, sep, text = spec.partition("=")
        name = key.strip().replace("-", "_")
        if not sep or not name or not text.strip():
            raise NeuralabError(f"--compare {spec!r} is not of the form field=value,value,...")
        if name not in config_fields(PlaygroundConfig):
            raise unknown_name_error("field to compare", name, config_fields(PlaygroundConfig))
        if any(name == axis for axis, _ in axes):
            raise NeuralabError(f"--compare names {name!r} twice; give all its values at once")
        values = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                raise NeuralabError(f"--compare {spec!r} has an empty value")
            item = part.replace("+", ",")
            if name == "hidden":
                values.append(parse_hidden("" if item.lower() == "none" else item))
            else:
                values.append(convert_value(item, hints[name], name))
        axes.append((name, values))
    return axes


def grid_configs(
    base: PlaygroundConfig, axes: Sequence[tuple[str, Sequence[Any]]], seeds: int = 1
) -> list[tuple[dict[str, Any], list[PlaygroundConfig]]]:
    """Return every combination of ``axes`` with its configs, one per seed.

    Seeds are ``base.seed``, ``base.seed + 1``, ...; they vary initialization, shuffling and
    dropout, while the data set stays the one of ``base`` (its seed is pinned) unless ``seed``
    or ``data_seed`` is itself an axis.
    """
    cells = math.prod(len(values) for _, values in axes) if axes else 1
    if cells > MAX_GRID_CELLS:
        sizes = " x ".join(str(len(v)) for _, v in axes)
        raise NeuralabError(
            f"the grid has {sizes} = {cells} cells; at most {MAX_GRID_CELLS} are allowed "
            "(compare fewer values at once)"
        )
    if not 1 <= seeds <= MAX_SEEDS:
        raise NeuralabError(f"seeds={seeds} must be 1..{MAX_SEEDS}")
    data_seed = base.seed if base.data_seed is None else base.data_seed
    names = [name for name, _ in axes]
    grid = []
    for combination in itertools.product(*(values for _, values in axes)):
        settings = dict(zip(names, combination, strict=True))
        cell = replace(base, **settings)
        if "data_seed" not in settings and "seed" not in settings:
            cell = replace(cell, data_seed=data_seed)
        if "seed" in settings:
            runs = [replace(cell, seed=cell.seed + i) for i in range(seeds)]
        else:
            runs = [replace(cell, seed=base.seed + i) for i in range(seeds)]
        grid.append((settings, runs))
    return grid


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
