"""Config dataclasses: file + overrides, type conversion, unknown keys refused, round trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from neuralab.config import load_config, parse_overrides, read_config_file, save_config
from neuralab.errors import NeuralabError


@dataclass
class Example:
    lr: float = 0.1  # learning rate
    epochs: int = 3  # passes over the data
    hidden: tuple[int, ...] = (8, 8)  # hidden sizes
    shuffle: bool = True  # reshuffle each epoch
    optimizer: Literal["sgd", "adam"] = "sgd"  # optimiser name
    weights: str | None = None  # optional file


def test_defaults_file_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("lr: 0.5\nepochs: 7\n")
    config = load_config(Example, path, parse_overrides(["epochs=9", "hidden=4,4,2"]))
    assert config == Example(lr=0.5, epochs=9, hidden=(4, 4, 2))


def test_conversions():
    config = load_config(
        Example, overrides={"shuffle": "false", "optimizer": "adam", "weights": "none"}
    )
    assert config.shuffle is False and config.optimizer == "adam" and config.weights is None


def test_integers_are_read_exactly_whatever_their_size():
    # a 20-digit seed read through float() came back as another number
    assert load_config(Example, overrides={"epochs": "12345678901234567891"}).epochs == (
        12345678901234567891
    )
    assert load_config(Example, overrides={"epochs": "1e3"}).epochs == 1000
    assert load_config(Example, overrides={"epochs": " 12.0 "}).epochs == 12
    assert load_config(Example, overrides={"epochs": "9" * 400}).epochs == int("9" * 400)
    with pytest.raises(NeuralabError, match="is not an integer"):
        load_config(Example, overrides={"epochs": "1e400"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lr": "fast"}, "lr='fast' is not a number"),
        ({"epochs": "2.5"}, "epochs='2.5' is not an integer"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop' \\(valid: adam, sgd\\)"),
        ({"epoch": "1"}, "did you mean 'epochs'"),
    ],
)
def test_bad_values_name_the_value(overrides, message):
    with pytest.raises(NeuralabError, match=message):
        load_config(Example, overrides=overrides)


def test_save_and_reload_round_trip(tmp_path):
    config = Example(lr=0.01, hidden=(3,))
    path = save_config(config, tmp_path / "config.yaml")
    assert load_config(Example, path) == config
    assert read_config_file(path)["hidden"] == [3]


def test_toml_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('lr = 0.2\noptimizer = "adam"\n')
    assert load_config(Example, path) == Example(lr=0.2, optimizer="adam")


def test_override_without_equals_is_an_error():
    with pytest.raises(NeuralabError, match="field=value"):
        parse_overrides(["lr"])


def test_model_label_says_where_resnet_weights_came_from():
    from neuralab.vision.config import TrainConfig, model_label

    assert model_label(TrainConfig(model="resnet18")) == "resnet18 (random init)"
    assert model_label(TrainConfig(model="resnet18", pretrained=True)) == (
        "resnet18 (ImageNet weights)"
    )
    assert model_label(TrainConfig(model="resnet18", weights="r18.pth")) == (
        "resnet18 (weights from r18.pth)"
    )
    assert model_label(TrainConfig(model="cnn")) == "cnn"
