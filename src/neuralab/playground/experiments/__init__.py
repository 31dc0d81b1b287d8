"""The course's experiments: each a config -> run -> table, figures and a computed conclusion.

>>> list_experiments()  # doctest: +NORMALIZE_WHITESPACE
['activation-fit', 'gd-variants', 'initialization', 'regularization', 'shuffling',
 'vanishing-gradients', 'zero-init']

``run_experiment("zero-init", quick=True, run_dir="runs/zero")`` runs one at small sizes and writes
its run directory (:func:`neuralab.report.result_report.write_result`): ``config.yaml``,
``results.csv``, ``results.md``, ``report.md``, ``report.html`` and ``figures/experiment-*.png``.
The sentence of conclusion is computed from the measured numbers and says plainly when they
contradict the course's claim (``result.holds`` is then False).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from typing import Any

from neuralab.errors import NeuralabError
from neuralab.playground.experiments import (
    activation_fit,
    gd_variants,
    initialization,
    regularization,
    shuffling,
    vanishing_gradients,
    zero_init,
)
from neuralab.playground.experiments._base import Experiment
from neuralab.registry import Registry
from neuralab.report.result import ExperimentResult

_EXPERIMENTS: Registry[Experiment] = Registry("experiment")
for _experiment in (
    Experiment(
        "initialization",
        "Proper vs poor initialization",
        "a poorly initialised network (s = 0.01 too small, s = 100 too large) stalls or "
        "fails; s = 1 learns",
        initialization.InitializationConfig,
        initialization.run,
        initialization.quick,
        initialization.playground_cases,
    ),
    Experiment(
        "zero-init",
        "Zero and constant initialization",
        "constant init never breaks symmetry; zero ReLU weights get zero gradients; "
        "bias 0.01 keeps ReLUs active",
        zero_init.ZeroInitConfig,
        zero_init.run,
        zero_init.quick,
        zero_init.playground_cases,
    ),
    Experiment(
        "shuffling",
        "Sorted vs shuffled training data",
        "SGD on sorted data does worse than on data reshuffled every epoch",
        shuffling.ShufflingConfig,
        shuffling.run,
        shuffling.quick,
        shuffling.playground_cases,
    ),
    Experiment(
        "gd-variants",
        "Batch GD vs SGD vs mini-batch",
        "SGD makes more progress per epoch, reaches a training loss sooner in wall time on "
        "large data, and its noise leaves a local minimum GD stays in",
        gd_variants.GDVariantsConfig,
        gd_variants.run,
        gd_variants.quick,
        gd_variants.playground_cases,
    ),
    Experiment(
        "activation-fit",
        "Identity vs ReLU vs sigmoid on 100 scalar pairs",
        "identity fits a line, ReLU a piecewise linear function, sigmoid a smooth one",
        activation_fit.ActivationFitConfig,
        activation_fit.run,
        activation_fit.quick,
        activation_fit.playground_cases,
    ),
    Experiment(
        "vanishing-gradients",
        "Vanishing gradients in deep networks",
        "in a deep network of saturating units (sigmoid, tanh) the first layer's gradient is "
        "orders of magnitude smaller than the last layer's; with ReLU it is not",
        vanishing_gradients.VanishingGradientsConfig,
        vanishing_gradients.run,
        vanishing_gradients.quick,
        vanishing_gradients.playground_cases,
    ),
    Experiment(
        "regularization",
        "No regularization vs L2 vs dropout",
        "L2 and dropout lower the test loss of an over-parameterised network on few points",
        regularization.RegularizationConfig,
        regularization.run,
        regularization.quick,
        regularization.playground_cases,
    ),
):
    _EXPERIMENTS.add(_experiment.name, _experiment, aliases=(_experiment.name.replace("-", "_"),))


def list_experiments() -> list[str]:
    """Return the names of the course's experiments, sorted."""
    return _EXPERIMENTS.names()


def get_experiment(name: str) -> Experiment:
    """Return the experiment ``name``; unknown names raise listing the valid ones."""
    return _EXPERIMENTS.get(name)


def make_experiment_config(
    name: str,
    *,
    quick: bool = False,
    seeds: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """Return the config of experiment ``name``: defaults, then ``quick``, ``seeds``, overrides.

    ``seeds`` sets the ``seeds`` field (experiments that run one seed have ``seed`` instead and
    refuse it); ``overrides`` maps field names to values (strings are converted, as from
    ``--set field=value``).
    """
    from neuralab.config import make_config

    experiment = get_experiment(name)
    config = experiment.config_class()
    if quick:
        config = experiment.quick(config)
    values = dataclasses.asdict(config)
    if seeds is not None:
        if "seeds" not in values:
            raise NeuralabError(
                f"experiment {experiment.name!r} runs a single seed; use --set seed=N instead "
                "of --seeds"
            )
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise NeuralabError(f"seeds={seeds!r} must be a positive integer")
        values["seeds"] = seeds
    values.update(overrides or {})
    return make_config(experiment.config_class, values)


def run_experiment(
    name: str,
    config: Any = None,
    *,
    quick: bool = False,
    seeds: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> ExperimentResult:
    """Return the result of experiment ``name``; with ``run_dir`` also write its run directory.

    ``config`` (the experiment's config dataclass) replaces the defaults; otherwise they are
    built by :func:`make_experiment_config` from ``quick``, ``seeds`` and ``overrides``.
    Figures are drawn only when there is a run directory to keep them. A ``run_dir`` that
    already holds a run is refused unless ``overwrite``; its config.yaml is written first.
    """
    experiment = get_experiment(name)
    if config is None:
        config = make_experiment_config(name, quick=quick, seeds=seeds, overrides=overrides)
    elif not isinstance(config, experiment.config_class):
        raise NeuralabError(
            f"experiment {experiment.name!r} needs a {experiment.config_class.__name__}, "
            f"not {type(config).__name__}"
        )
    import torch

    from neuralab.rundir import RunDirectory

    folder = None
    if run_dir is not None:
        folder = RunDirectory.create(run_dir, config, overwrite=overwrite).figures
        folder.mkdir(exist_ok=True)
    started = time.perf_counter()
    threads = torch.get_num_threads()
    # networks of a few hundred weights: more threads only add synchronisation overhead
    torch.set_num_threads(1)
    try:
        result = experiment.run(config, folder)
    finally:
        torch.set_num_threads(threads)
    result.seconds = time.perf_counter() - started
    result.claim = experiment.claim
    if run_dir is not None:
        from neuralab.report.result_report import write_result

        write_result(result, run_dir)
    return result


__all__ = [
    "Experiment",
    "get_experiment",
    "list_experiments",
    "make_experiment_config",
    "run_experiment",
]
