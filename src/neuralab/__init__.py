"""neuralab: a neural-networks course made executable.

Compute it, check it, see it, run it: architecture arithmetic (:mod:`neuralab.arch`), the theory
bench (:mod:`neuralab.theory`), the playground on toy 2-D data (:mod:`neuralab.playground`), image
classification (:mod:`neuralab.vision`), sweeps and studies (:mod:`neuralab.studies`) and reports
(:mod:`neuralab.report`).

The public names below are imported on first use, so ``import neuralab`` stays fast and the
command line does not pay for torch before it needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC: dict[str, str] = {
    "NeuralabError": "neuralab.errors",
    "get_activation": "neuralab.theory.activations",
    "list_activations": "neuralab.theory.activations",
    "init_weights": "neuralab.theory.initialization",
    "list_init_schemes": "neuralab.theory.initialization",
    "get_dataset": "neuralab.vision.datasets",
    "list_datasets": "neuralab.vision.datasets",
    "split_train_val": "neuralab.vision.splits",
    "DeviceLoader": "neuralab.vision.loader",
    "Normalization": "neuralab.vision.loader",
    "augmentation_preset": "neuralab.vision.augment",
    "TrainConfig": "neuralab.vision.config",
    "TrainResult": "neuralab.vision.train",
    "train": "neuralab.vision.train",
    "train_one_epoch": "neuralab.vision.engine",
    "evaluate_run": "neuralab.vision.checkpoint",
    "predict_files": "neuralab.vision.checkpoint",
    "load_checkpoint": "neuralab.vision.checkpoint",
    "lr_factor": "neuralab.vision.schedules",
}

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'neuralab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
