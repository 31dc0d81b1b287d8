"""A config as a link, as command-line flags and as config.yaml: each converts back without loss."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig
from neuralab.web.urlstate import (
    TabState,
    changed_fields,
    format_value,
    from_flags,
    from_query,
    from_yaml,
    to_command,
    to_flags,
    to_query,
    to_yaml,
)


def test_defaults_make_an_empty_link_and_no_flags():
    assert to_query(TabState(PlaygroundConfig())) == ""
    assert to_flags(PlaygroundConfig()) == []
    assert to_command(PlaygroundConfig()) == "neuralab playground"


def test_a_link_names_only_what_differs_in_field_order():
    config = PlaygroundConfig(seed=3, data="spiral", hidden=(8, 8), activation="relu", lr=0.1)
    assert to_query(TabState(config)) == "data=spiral&hidden=8,8&activation=relu&lr=0.1&seed=3"


def test_values_are_written_to_read_back_exactly():
    assert format_value(0.1 + 0.2) == "0.30000000000000004"
    assert format_value(1e-05) == "1e-05"
    assert format_value(25.0) == "25"
    assert format_value(()) == ""
    assert format_value(("x1", "x1^2")) == "x1,x1^2"


def test_no_hidden_layer_and_special_characters_survive_the_link():
    config = PlaygroundConfig(hidden=(), features=("x1^2", "x2^2"), init="constant(0.5)")
    query = to_query(TabState(config))
    assert "hidden=&" in query and "features=x1^2,x2^2" in query
    assert from_query(query).a == config
    assert from_query("?" + query).a == config  # a leading ? (location.search) is fine


def test_b_is_written_as_its_difference_from_a():
    a = PlaygroundConfig(data="circle", hidden=(8, 8, 8), activation="relu", iterations=250)
    b = dataclasses.replace(a, init="small")
    query = to_query(TabState(a, b, {"discretize": True}))
    assert query.endswith("&ab=1&b.init=small&discretize=1")
    state = from_query(query)
    assert state.a == a and state.b == b and state.view == {"discretize": True}


def test_identical_a_and_b_keep_the_compare_view():
    state = from_query(to_query(TabState(PlaygroundConfig(), PlaygroundConfig())))
    assert state.b == PlaygroundConfig()


def test_bad_links_say_what_is_wrong():
    with pytest.raises(NeuralabError, match="did you mean 'lr'"):
        from_query("lrr=0.1")
    with pytest.raises(NeuralabError, match="lr=-1"):
        from_query("lr=-1")
    with pytest.raises(NeuralabError, match="without ab=1"):
        from_query("b.lr=0.1")
    with pytest.raises(NeuralabError, match="characters"):
        from_query("seed=1&" * 1000)


def test_flags_name_booleans_as_the_command_line_does():
    config = PlaygroundConfig(data="xor", shuffle=False, data_seed=7, batch_size=0)
    assert to_flags(config) == [
        "--data",
        "xor",
        "--batch-size",
        "0",
        "--no-shuffle",
        "--data-seed",
        "7",
    ]
    assert from_flags(to_flags(config)) == config


def test_yaml_is_the_file_save_config_writes(tmp_path):
    from neuralab.config import load_config, save_config

    config = PlaygroundConfig(data="moons", hidden=(6, 3), noise=20.0, l2=0.001, shuffle=False)
    save_config(config, tmp_path / "config.yaml")
    assert (tmp_path / "config.yaml").read_text() == to_yaml(config)
    assert load_config(PlaygroundConfig, tmp_path / "config.yaml") == config
    assert from_yaml(to_yaml(config)) == config


# -- every valid config round-trips through every spelling ------------------------------------
def _config(values: dict) -> PlaygroundConfig:
    if "," in values["activation"] and len(values["hidden"]) != 2:
        values["activation"] = "tanh"  # one name per layer needs two layers here
    return PlaygroundConfig(**values)


names = st.sampled_from
configs = st.fixed_dictionaries(
    {
        "data": names(["circle", "xor", "gauss", "spiral", "moons", "blobs", "plane"]),
        "n": st.integers(4, 2000),
        "noise": st.floats(0, 100, allow_nan=False),
        "train_ratio": st.floats(0.05, 1.0, allow_nan=False),
        "order": names(["shuffled", "sorted"]),
        "features": st.lists(
            names(["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]),
            min_size=1,
            max_size=7,
            unique=True,
        ).map(tuple),
        "hidden": names([(), (4,), (4, 2), (8, 8), (3, 5, 7)]),
        "activation": names(["relu", "tanh", "sigmoid", "identity", "leaky_relu", "relu,tanh"]),
        "output": names(["auto", "sigmoid", "tanh", "linear"]),
        "init": names(["xavier_uniform", "he_normal", "zeros", "small", "constant(0.5)"]),
        "bias_init": st.floats(-2, 2, allow_nan=False),
        "optimizer": names(["sgd", "momentum", "adam"]),
        "lr": st.floats(1e-6, 10, allow_nan=False, exclude_min=True),
        "momentum": st.floats(0, 0.99, allow_nan=False),
        "batch_size": st.integers(0, 50),
        "l1": st.floats(0, 0.1, allow_nan=False),
        "l2": st.floats(0, 0.1, allow_nan=False),
        "dropout": st.floats(0, 0.9, allow_nan=False),
        "shuffle": st.booleans(),
        "epochs": st.integers(1, 5000),
        "iterations": st.integers(0, 5000),
        "seed": st.integers(0, 2**31),
        "data_seed": st.none() | st.integers(0, 1000),
        "classes": st.integers(2, 10),
    }
).map(_config)


@settings(max_examples=60, deadline=None)
@given(configs, configs)
def test_every_config_round_trips_through_link_flags_and_yaml(a, b):
    assert from_query(to_query(TabState(a))).a == a
    assert from_flags(to_flags(a)) == a
    assert from_yaml(to_yaml(a)) == a
    state = from_query(to_query(TabState(a, b)))
    assert (state.a, state.b) == (a, b)
    assert changed_fields(state.b, b) == {}


@pytest.mark.parametrize(
    "config",
    [
        PlaygroundConfig(data="spiral", hidden=(8, 8), activation="relu,tanh", epochs=1, seed=3),
        PlaygroundConfig(
            features=("x1^2", "x2^2"),
            hidden=(),
            shuffle=False,
            order="sorted",
            data_seed=7,
            init="constant(0.5)",
            target_loss=0.25,
            noise=12.5,
            epochs=1,
        ),
        PlaygroundConfig(
            data="blobs", classes=4, optimizer="adam", lr=1e-05, l2=0.001, iterations=3
        ),
    ],
)
def test_the_command_line_reads_the_flags_as_the_same_config(config, run_cli, tmp_path):
    from neuralab.config import load_config

    result = run_cli("playground", *to_flags(config), "--run-dir", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert load_config(PlaygroundConfig, tmp_path / "config.yaml") == config
