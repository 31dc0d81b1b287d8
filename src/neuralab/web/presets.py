"""The course's experiments as A | B presets: one click loads two of an experiment's runs.

Every preset is computed from the experiment itself: its registered config class gives the
defaults (``neuralab experiment NAME`` without options), and the experiment's ``cases`` turn
that config into labelled :class:`PlaygroundConfig` runs. By default A and B are the first two
cases, the contrast the course's claim is about (poor vs proper initialization, sorted vs
shuffled, ...); any two cases can be chosen. Nothing here repeats a number of an experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.playground.config import PlaygroundConfig


@dataclass(frozen=True)
class PresetPair:
    """Two runs of one experiment, loaded into A and B."""

    experiment: str
    a_label: str
    a: PlaygroundConfig
    b_label: str
    b: PlaygroundConfig


def experiment_cases(name: str) -> dict[str, PlaygroundConfig]:
    """Return the labelled runs of experiment ``name`` at its default config."""
    from neuralab.playground.experiments import get_experiment

    experiment = get_experiment(name)
    if experiment.cases is None:
        raise NeuralabError(f"experiment {experiment.name!r} has no playground runs to load")
    return experiment.cases(experiment.config_class())


def preset_pair(name: str, a: str | None = None, b: str | None = None) -> PresetPair:
    """Return cases ``a`` and ``b`` of experiment ``name`` (default: its first two)."""
    from neuralab.playground.experiments import get_experiment

    experiment = get_experiment(name)
    cases = experiment_cases(experiment.name)
    labels = list(cases)
    a = labels[0] if a is None else a
    b = labels[1 if len(labels) > 1 else 0] if b is None else b
    for label in (a, b):
        if label not in cases:
            raise unknown_name_error(f"case of {experiment.name}", label, labels)
    return PresetPair(experiment.name, a, cases[a], b, cases[b])


def presets_meta() -> list[dict[str, Any]]:
    """Return, per experiment, its title, claim, case labels and default A and B (for the page)."""
    from neuralab.playground.experiments import get_experiment, list_experiments

    presets = []
    for name in list_experiments():
        experiment = get_experiment(name)
        if experiment.cases is None:
            continue
        pair = preset_pair(name)
        presets.append(
            {
                "name": name,
                "title": experiment.title,
                "claim": experiment.claim,
                "cases": list(experiment_cases(name)),
                "a": pair.a_label,
                "b": pair.b_label,
            }
        )
    return presets
