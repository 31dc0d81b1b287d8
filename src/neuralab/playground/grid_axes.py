"""The axes of a comparison grid and its configs, checked without torch.

``parse_compare(["init=zeros,he", "activation=relu,tanh"])`` turns ``--compare`` into axes
(field, values), each value converted to the field's type; :func:`grid_configs` expands them
into one :class:`PlaygroundConfig` per cell and seed, each validated as it is made. Training
them is :mod:`neuralab.playground.compare`'s job.
"""

from __future__ import annotations

import itertools
import math
import typing
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from neuralab.config import config_fields, convert_value
from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.names import parse_hidden

MAX_GRID_CELLS = 64  # combinations in one --compare grid
MAX_SEEDS = 20  # seeds per cell


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


__all__ = ["MAX_GRID_CELLS", "MAX_SEEDS", "grid_configs", "parse_compare", "show_value"]
