"""Grid axes for sweeps: ``--grid dropout=0:0.9:0.1`` or ``--grid lr=0.1,0.03,0.01``.

Two forms are accepted for the values of one config field:

- ``a:b:step``, every value from a to b inclusive in steps of ``step``
  (``0:0.9:0.1`` -> 0.0, 0.1, ..., 0.9; rounded to 10 decimals so 0.30000000000000004 is 0.3);
- ``a,b,c``, the listed values.

Each value is converted to the field's type in the config dataclass, so ``epochs=1,2`` gives
integers and ``optimizer=sgd,adam`` is checked against the valid names.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neuralab.config import convert_value
from neuralab.errors import NeuralabError, unknown_name_error

GRID_FORMS = "field=a:b:step (a range, both ends included) or field=a,b,c (a list)"
MAX_RANGE_VALUES = 1000


@dataclass(frozen=True)
class GridAxis:
    """One swept config field and the values it takes."""

    field: str
    values: tuple[Any, ...]


def parse_grid(text: str, config_class: type) -> GridAxis:
    """Return the axis described by ``text`` (``"dropout=0:0.9:0.1"``) for ``config_class``."""
    name, sep, spec = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name or not spec.strip():
        raise NeuralabError(f"grid {text!r} is not of the form {GRID_FORMS}")
    fields = [f.name for f in dataclasses.fields(config_class)]
    if name not in fields:
        raise unknown_name_error(f"{config_class.__name__} field in grid {text!r}:", name, fields)
    annotation = typing.get_type_hints(config_class)[name]
    spec = spec.strip()
    if ":" in spec:
        raw_values: list[Any] = _range_values(text, spec)
    else:
        raw_values = [part.strip() for part in spec.split(",")]
        if any(not part for part in raw_values):
            raise NeuralabError(f"grid {text!r} has an empty value; expected {GRID_FORMS}")
    values = []
    for raw in raw_values:
        try:
            values.append(convert_value(raw, annotation, name))
        except NeuralabError as error:
            raise NeuralabError(f"grid {text!r}: {error}") from None
    if len(set(map(repr, values))) != len(values):
        raise NeuralabError(f"grid {text!r} repeats a value")
    return GridAxis(name, tuple(values))


def grid_points(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Return every combination of the axes' values as ``{field: value}`` dicts, in order."""
    names = [axis.field for axis in axes]
    if len(set(names)) != len(names):
        raise NeuralabError(f"a field appears in two grids: {names}")
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def _range_values(text: str, spec: str) -> list[float]:
    parts = spec.split(":")
    if len(parts) != 3:
        raise NeuralabError(
            f"grid {text!r}: a range needs three numbers a:b:step; expected {GRID_FORMS}"
        )
    try:
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        bad = next(p for p in parts if not _is_number(p))
        raise NeuralabError(
            f"grid {text!r}: {bad!r} is not a number; expected {GRID_FORMS}"
        ) from None
    if step <= 0 or stop < start:
        raise NeuralabError(
            f"grid {text!r}: a range a:b:step needs step > 0 and b >= a (got step {step:g}, "
            f"a {start:g}, b {stop:g})"
        )
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_RANGE_VALUES:
        raise NeuralabError(f"grid {text!r} has {count} values; at most {MAX_RANGE_VALUES}")
    return [round(start + i * step, 10) for i in range(count)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
