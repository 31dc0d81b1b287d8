"""What a sweep trains (base config, swept values, search, seeds, selection) and its sweep.yaml."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neuralab.atomic import write_text
from neuralab.config import option
from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.paths import input_dir
from neuralab.rundir import make_directory
from neuralab.studies.sweep.grid import GridAxis, grid_points

SEARCHES = ("grid", "random", "tpe")
MAX_SETTINGS = 10_000  # trials of one sweep: more is a typo, not a plan
SELECTS = {"val_acc": "maximize", "val_loss": "minimize"}
# TrainConfig fields a sweep's runs default to: many short runs; the chosen setting is retrained
# for final_epochs
SWEEP_DEFAULTS: dict[str, Any] = {"epochs": 1}
_SWEEP = "Sweep"


@dataclass
class SweepSpec:
    """What a sweep trains: base config, swept values, search, seeds, selection."""

    base: dict[str, Any]  # TrainConfig fields shared by every run
    grid: dict[str, list[Any]]  # swept field -> its values
    search: str = option(
        "grid",
        help="grid (every point), random or tpe (Optuna's TPE) over the --grid values",
        choices=SEARCHES,
        group=_SWEEP,
    )
    trials: int | None = option(
        None, help="random / tpe: number of trials (grid: every point)", group=_SWEEP
    )
    seeds: int = option(1, help="Runs per setting, with seeds seed, seed + 1, ...", group=_SWEEP)
    select: str = option(
        "val_acc", help="Validation metric that chooses", choices=tuple(SELECTS), group=_SWEEP
    )
    final_epochs: int | None = option(
        None,
        help="Retrain the chosen setting this long and evaluate it once on the test set "
        "(none: report the choice only)",
        group=_SWEEP,
    )
    storage: str | None = option(
        None,
        help="Optuna storage URL shared by workers (none: an SQLite file in the sweep "
        "directory; postgresql://..., or journal:PATH on a shared file system)",
        group=_SWEEP,
    )

    def __post_init__(self) -> None:
        if self.search not in SEARCHES:
            raise unknown_name_error("search", str(self.search), SEARCHES)
        if self.select not in SELECTS:
            raise unknown_name_error("select", str(self.select), SELECTS)
        if not self.grid:
            raise NeuralabError("a sweep needs at least one --grid field=values")
        points = math.prod(len(values) for values in self.grid.values())
        if points > MAX_SETTINGS:
            sizes = " x ".join(str(len(values)) for values in self.grid.values())
            raise NeuralabError(
                f"the grid has {sizes} = {points:,} settings; at most {MAX_SETTINGS:,} "
                "(sweep fewer values, or --search random --trials N)"
            )
        if self.trials is not None and self.trials > MAX_SETTINGS:
            raise NeuralabError(f"trials {self.trials:,} is too many; at most {MAX_SETTINGS:,}")
        if self.seeds < 1:
            raise NeuralabError(f"seeds must be >= 1, got {self.seeds}")
        if self.search != "grid" and (self.trials is None or self.trials < 1):
            raise NeuralabError(f"--search {self.search} needs --trials N (N >= 1)")
        if self.final_epochs is not None and self.final_epochs < 1:
            raise NeuralabError(f"final_epochs must be >= 1, got {self.final_epochs}")

    @classmethod
    def from_axes(cls, base: dict[str, Any], axes: list[GridAxis], **kwargs: Any) -> SweepSpec:
        grid_points(axes)  # refuses a field given twice
        return cls(base=base, grid={a.field: list(a.values) for a in axes}, **kwargs)

    def settings(self) -> list[dict[str, Any]]:
        """Return every grid point as ``{field: value}``."""
        return grid_points([GridAxis(k, tuple(v)) for k, v in self.grid.items()])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def open_sweep(directory: str | os.PathLike[str], spec: SweepSpec | None = None) -> SweepSpec:
    """Return the sweep in ``directory``; with ``spec``, create it or check it is the same.

    A directory that already holds a different sweep is refused, naming what differs.
    """
    folder = Path(directory)
    file = folder / "sweep.yaml"
    if spec is None:
        input_dir(folder, "sweep directory", expected="a sweep directory (holding sweep.yaml)")
    if file.is_file():
        saved = _read_spec(file)
        if spec is not None:
            differences = _differences(saved.to_dict(), spec.to_dict())
            if differences:
                raise NeuralabError(
                    f"{folder} already holds a different sweep ({'; '.join(differences[:3])}): "
                    "pass --overwrite to replace it or use another --sweep-dir"
                )
        return saved
    if spec is None:
        raise NeuralabError(
            f"{folder} holds no sweep (no sweep.yaml); start one with neuralab sweep"
        )
    make_directory(folder, "sweep")
    write_text(file, yaml.safe_dump(spec.to_dict(), sort_keys=False))
    return spec


def _read_spec(file: Path) -> SweepSpec:
    try:
        values = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(values, dict):
            raise TypeError("not a mapping")
        return SweepSpec(**values)
    except NeuralabError:
        raise
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NeuralabError(f"{file} is not a valid sweep.yaml ({first})") from None


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b and not (
            isinstance(a, list | tuple) and isinstance(b, list | tuple) and list(a) == list(b)
        ):
            found.append(f"{prefix}{key}: {a!r} vs {b!r}")
    return found
