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
        "model": "fast",  # airbench's blocks: conv -> pool -> bn -> gelu -> conv -> bn -> gelu
        "widths": (24, 48, 96),  # 10M MACs per 32x32x3 image (course CNN: 38M)
        "batch_size": 64,
        "lr": 0.003,  # AdamW's peak of the one-cycle schedule
        "schedule": "onecycle",
        "label_smoothing": 0.1,
        "epochs": 8,  # GTSRB subset: 98.0 % validation accuracy (4 epochs: 96.9 %)
        "amp": True,  # bfloat16 on CUDA ...
        "amp_cpu": True,  # ... and on CPUs with AMX (2x on a 2-core Xeon, same accuracy)
        "channels_last": True,
    },
}

# a recipe's values for larger data sets, by a name in the data string (as augment="auto"
# picks its preset): about as many images seen, in fewer, larger-batch epochs
RECIPE_DATA_VALUES: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "fast": (("mnist", {"epochs": 1, "batch_size": 128, "lr": 0.004}),),
}


def list_recipes() -> list[str]:
    """Return the recipe names."""
    return list(RECIPES)


def recipe_values(name: str, data: str = "") -> dict[str, Any]:
    """Return the field values of recipe ``name`` for the data set ``data`` (a TrainConfig string).

    An unknown name raises one clear error. Values for a data set whose name contains a key of
    :data:`RECIPE_DATA_VALUES` (``mnist``, also in ``npz:.../mnist-28.npz``) replace the
    recipe's own.
    """
    if name not in RECIPES:
        raise unknown_name_error("recipe", name, list_recipes())
    values = dict(RECIPES[name])
    for key, specific in RECIPE_DATA_VALUES.get(name, ()):
        if key in data.lower():
            values.update(specific)
            break
    return values


def recipe_config(
    name: str,
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> TrainConfig:
    """Return the TrainConfig of recipe ``name``: defaults, recipe, ``config_file``, ``overrides``.

    ``overrides`` maps field names to values (None values are left out; strings are converted
    to the field's type, as on the command line).
    """
    given: dict[str, Any] = {}
    if config_file is not None:
        given.update(read_config_file(config_file))
    given.update({k: v for k, v in (overrides or {}).items() if v is not None})
    data = str(given.get("data", TrainConfig.data))
    return make_config(TrainConfig, {**recipe_values(name, data), **given})
