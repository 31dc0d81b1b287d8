"""The course's experiments as A | B presets: computed from the experiments, within the limits."""

from __future__ import annotations

import dataclasses

import pytest

from neuralab.errors import NeuralabError
from neuralab.playground.experiments import get_experiment, list_experiments
from neuralab.web.limits import Limits, check_config
from neuralab.web.presets import experiment_cases, preset_pair, presets_meta


def test_every_experiment_is_a_preset_within_the_browser_limits():
    names = [p["name"] for p in presets_meta()]
    assert names == list_experiments()
    for name in names:
        for config in experiment_cases(name).values():
            check_config(config, Limits())


def test_the_default_pair_is_the_claims_contrast():
    pairs = {name: preset_pair(name) for name in list_experiments()}
    init = pairs["initialization"]
    assert (init.a.init, init.b.init) == ("small", "appropriate")
    assert init.a.activation == init.b.activation == "relu"
    assert init.a.iterations == init.b.iterations == 250  # the course: about 250 iterations
    shuffling = pairs["shuffling"]
    assert (shuffling.a.order, shuffling.a.shuffle) == ("sorted", False)
    assert (shuffling.b.order, shuffling.b.shuffle) == ("shuffled", True)
    zero = pairs["zero-init"]
    assert (zero.a.init, zero.b.init, zero.a.bias_init) == ("zeros", "he_normal", 0.0)
    gd = pairs["gd-variants"]
    assert (gd.a.batch_size, gd.b.batch_size) == (0, 1)


def test_presets_follow_the_experiment_configs_not_copies(monkeypatch):
    import neuralab.playground.experiments as experiments

    experiment = get_experiment("initialization")
    changed = dataclasses.replace(experiment.config_class(), relu_iterations=99, hidden=(5, 5))
    edited = dataclasses.replace(experiment, config_class=lambda: changed)
    monkeypatch.setattr(experiments, "get_experiment", lambda name: edited)
    pair = preset_pair("initialization")
    assert pair.a.iterations == 99 and pair.a.hidden == (5, 5)


def test_any_two_cases_can_be_chosen():
    pair = preset_pair("zero-init", "tanh, constant(0.5), bias 0", "relu, zeros, bias 0.01")
    assert (pair.a.activation, pair.a.init) == ("tanh", "constant(0.5)")
    assert (pair.b.init, pair.b.bias_init) == ("zeros", 0.01)
    with pytest.raises(NeuralabError, match="unknown case of zero-init"):
        preset_pair("zero-init", "relu, ones")
    with pytest.raises(NeuralabError, match="unknown experiment"):
        preset_pair("initialisation-x")


def test_the_vanishing_gradient_preset_starts_where_the_experiment_measures():
    from neuralab.playground.experiments.vanishing_gradients import (
        VanishingGradientsConfig,
        gradient_norms_at_init,
    )
    from neuralab.playground.session import PlaygroundSession

    config = VanishingGradientsConfig()
    for activation, playground in experiment_cases("vanishing-gradients").items():
        session = PlaygroundSession(playground)
        assert session.history[0]["grad_norm"] == pytest.approx(
            gradient_norms_at_init(activation, config, 0), rel=1e-6
        )
