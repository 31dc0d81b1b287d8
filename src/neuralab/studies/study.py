"""The course's studies: each a config dataclass -> run -> a result with tables, figures and one
sentence of conclusion computed from the numbers -> report.md and report.html.

Every study has the course's setting as its default and a ``quick`` size that runs on a laptop
CPU in a few minutes (the test suite runs it smaller still).

>>> list_studies()
['augmentation', 'degradation', 'dropout', 'initialization', 'sam']
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuralab.config import make_config
from neuralab.registry import Registry
from neuralab.report.result import ExperimentResult
from neuralab.studies import (
    augmentation_study,
    degradation_study,
    dropout_study,
    initialization_study,
    sam_study,
)


@dataclass(frozen=True)
class Study:
    """A study of the table: its config class (default = the course's setting) and its runner."""

    name: str
    summary: str
    config_class: type
    quick: Mapping[str, Any]  # field overrides of the --quick size
    run: Callable[[Any, Path], ExperimentResult]  # (config, study directory)


_STUDIES: Registry[Study] = Registry("study")
for _study in (
    Study(
        "augmentation",
        "with vs without augmentation: the train-validation gap over epochs",
        augmentation_study.AugmentationStudyConfig,
        augmentation_study.QUICK,
        augmentation_study.run_augmentation_study,
    ),
    Study(
        "degradation",
        "plain vs residual nets at depths 8/20/56: the deeper plain one trains worse",
        degradation_study.DegradationStudyConfig,
        degradation_study.QUICK,
        degradation_study.run_degradation_study,
    ),
    Study(
        "dropout",
        "dropout p = 0.0..0.9 for a CNN without and with batch norm, chosen on validation "
        "over seeds, tested once; 1- vs 10-epoch ranking",
        dropout_study.DropoutStudyConfig,
        dropout_study.QUICK,
        dropout_study.run_dropout_study,
    ),
    Study(
        "initialization",
        "a CNN initialised with zeros / too small / He: per-layer gradients and training",
        initialization_study.InitializationStudyConfig,
        initialization_study.QUICK,
        initialization_study.run_initialization_study,
    ),
    Study(
        "sam",
        "SGD vs SAM vs ASAM: test accuracy, ball sharpness, Hessian lambda_max, loss profile",
        sam_study.SamStudyConfig,
        sam_study.QUICK,
        sam_study.run_sam_study,
    ),
):
    _STUDIES.add(_study.name, _study)


def list_studies() -> list[str]:
    """Return the study names, sorted."""
    return _STUDIES.names()


def get_study(name: str) -> Study:
    """Return the study called ``name`` (unknown names list the valid ones)."""
    return _STUDIES.get(name)


def run_study(
    name: str,
    directory: str | os.PathLike[str],
    *,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> ExperimentResult:
    """Return the result of study ``name`` (``quick`` size, then ``overrides``), written into
    ``directory`` (:func:`neuralab.report.result_report.write_result`).

    The resolved config.yaml is written first. A directory holding the same study with the
    same settings is continued (finished runs are kept, an interrupted one resumes from its
    last.pt); one holding anything else is refused unless ``overwrite``.
    """
    from neuralab.report.result_report import write_result
    from neuralab.rundir import RunDirectory

    study = get_study(name)
    values: dict[str, Any] = dict(study.quick) if quick else {}
    values.update(overrides or {})
    config: Any = make_config(study.config_class, values)
    _check_data(config)  # a data set that cannot be read fails before anything is written
    directory_, _ = RunDirectory.create_or_continue(
        directory, config, overwrite=overwrite, kind="study", option="--study-dir"
    )
    folder = directory_.path
    (folder / "figures").mkdir(exist_ok=True)
    started = time.perf_counter()
    result = study.run(config, folder)
    result.seconds = time.perf_counter() - started
    write_result(result, folder)
    return result


def _check_data(config: Any) -> None:
    data = getattr(config, "data", None)
    if isinstance(data, str):
        from neuralab.vision.datasets import get_dataset

        get_dataset(data, data_dir=getattr(config, "data_dir", "data"))


__all__ = ["Study", "get_study", "list_studies", "run_study"]
