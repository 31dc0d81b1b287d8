"""Training recipes: named sets of :class:`TrainConfig` values, chosen for time to accuracy.

A recipe sits between the defaults and everything the user gives: the config of a run is the
defaults, then the recipe's values, then a config file, then ``--set`` and the flags, so any
field of a recipe can still be overridden. The run saves the resolved config, so a resumed run
needs no recipe name.

``fast`` was chosen on the validation split of the GTSRB subset and of MNIST, on a shared 2-core
CPU, for the time to reach 95 % (GTSRB) and 99 % (MNIST) accuracy; ``benchmarks/
time_to_accuracy.py`` measures it against the PyTorch tutorial's loop and docs/performance.md
says what each value buys and what was taken from airbench's CIFAR-10 recipes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from neuralab.config import make_config, read_config_file
from neuralab.errors import unknown_name_error
from neuralab.vision.config import TrainConfig

RECIPES: dict[str, dict[str, Any]] = {
    "default": {},  # TrainConfig's own defaults
    "fast": {
        "batch_size": 128,
        "lr": 0.003,
        "epochs": 6,
        "amp": True,
    },
}


def list_recipes() -> list[str]:
    """Return the recipe names."""
    return list(RECIPES)


def recipe_values(name: str) -> dict[str, Any]:
    """Return a copy of the field values of recipe ``name`` (one clear error if unknown)."""
    if name not in RECIPES:
        raise unknown_name_error("recipe", name, list_recipes())
    return dict(RECIPES[name])


def recipe_config(
    name: str,
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> TrainConfig:
    """Return the TrainConfig of recipe ``name``: defaults, recipe, ``config_file``, ``overrides``.

    ``overrides`` maps field names to values (None values are left out; strings are converted
    to the field's type, as on the command line).
    """
    values = recipe_values(name)
    if config_file is not None:
        values.update(read_config_file(config_file))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return make_config(TrainConfig, values)
