"""The config a training run uses: built from overrides, given its run directory, merged on resume.

``neuralab train`` and ``neuralab.train(...)`` resolve a run's config here, so both do the same.
A new run takes the defaults, then a config file, then overrides. A resumed run takes the
run's saved ``config.yaml``, then a config file, then overrides; the result must match the saved
config except for ``RESUMABLE_CHANGES`` (epochs, device, sync_bn, where to log), checked against
``last.pt`` by :func:`neuralab.vision.checkpoint.checkpoint_to_resume`, which lists the fields
that differ with :func:`config_differences`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuralab.config import make_config, read_config_file
from neuralab.errors import NeuralabError
from neuralab.paths import input_dir
from neuralab.rundir import default_run_path
from neuralab.vision.config import RESUMABLE_CHANGES, TrainConfig


def resolve_resume_config(
    run_dir: str | os.PathLike[str],
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> TrainConfig:
    """Return the config that continues the run in ``run_dir``.

    Its saved ``config.yaml``, then the fields of ``config_file`` (YAML or TOML), then
    ``overrides`` (field -> value; None values are left out, strings converted to the field's
    type), with ``run_dir`` set to ``run_dir``.
    """
    folder = input_dir(
        run_dir, "cannot resume: run directory", expected="a run directory of neuralab train"
    )
    saved = folder / "config.yaml"
    if not saved.is_file():
        raise NeuralabError(f"cannot resume: {str(folder)!r} has no config.yaml (not a run?)")
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "run_dir" in given and Path(str(given["run_dir"])) != folder:
        raise NeuralabError("give --resume RUN_DIR or --run-dir DIR, not two different folders")
    values = read_config_file(saved)
    if config_file is not None:
        values.update(read_config_file(config_file))
    values.update(given)
    values["run_dir"] = str(folder)
    return make_config(TrainConfig, values)


def resolve_train_config(
    config: TrainConfig | Mapping[str, Any] | None, resume: bool | str | os.PathLike[str]
) -> tuple[TrainConfig, bool]:
    """Return (the config of ``train(config, resume=...)`` with its run directory, whether to resume).

    ``config`` is a TrainConfig or a mapping of fields to override (None: the defaults).
    ``resume=RUN_DIR`` continues that run as ``neuralab train --resume RUN_DIR`` does: a mapping
    is merged over the saved config (:func:`resolve_resume_config`); a TrainConfig is taken
    whole. ``resume=True`` continues the run in ``config.run_dir``.
    """
    if not isinstance(resume, bool):
        if not isinstance(config, TrainConfig):
            return resolve_resume_config(resume, None, config), True
        if config.run_dir is not None and Path(config.run_dir) != Path(resume):
            raise NeuralabError("give --resume RUN_DIR or --run-dir DIR, not two different folders")
        return dataclasses.replace(config, run_dir=str(resume)), True
    if not isinstance(config, TrainConfig):
        config = make_config(TrainConfig, config or {})
    return dataclasses.replace(config, run_dir=str(resolve_run_dir(config))), resume


def resolve_run_dir(config: TrainConfig) -> Path:
    """Return ``config.run_dir`` or the default ``runs/<data>-<model>-<timestamp>``."""
    if config.run_dir:
        return Path(config.run_dir)
    data = config.data
    if ":" in data:  # npz:/path/gtsrb-32.npz -> gtsrb-32
        data = Path(data.split(":", 1)[1]).stem or data.split(":", 1)[0]
    model = config.model.split(":", 1)[0]
    return default_run_path(data, model)


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Return ``["lr: 0.1 -> 0.2", ...]`` for every field that differs, except RESUMABLE_CHANGES."""
    differences = []
    for field in dataclasses.fields(TrainConfig):
        name = field.name
        if name in RESUMABLE_CHANGES:
            continue
        # a field newer than the saved run: that run trained with its default (new fields are
        # added with the old behaviour as the default), so only another value is a change
        default: Any = None
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        old, new = saved.get(name, default), current.get(name, default)
        if isinstance(old, list | tuple) and isinstance(new, list | tuple):
            old, new = list(old), list(new)
        if old != new:
            differences.append(f"{name}: {old!r} -> {new!r}")
    return differences
