"""Recipes: their values under the user's, per data set, and the fast recipe run end to end."""

from __future__ import annotations

import contextlib

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.vision import engine
from neuralab.vision.config import TrainConfig
from neuralab.vision.recipes import list_recipes, recipe_config, recipe_values
from neuralab.vision.train import train


def test_recipe_values_sit_under_the_users():
    config = recipe_config("fast", overrides={"data": "digits", "epochs": 2, "lr": None})
    assert config.model == "fast" and config.widths == (24, 48, 96)
    assert config.epochs == 2  # the user's value wins
    assert config.lr == 0.003  # None means "not given": the recipe's value stays


def test_the_default_recipe_is_the_defaults():
    assert recipe_config("default") == TrainConfig()


def test_mnist_gets_its_own_epochs_and_batch_size():
    assert recipe_values("fast", "npz:../shared/datasets/mnist/mnist-28.npz")["epochs"] == 1
    assert recipe_values("fast", "MNIST")["batch_size"] == 128
    assert recipe_values("fast", "npz:gtsrb-32.npz")["epochs"] == 8


def test_a_config_file_overrides_the_recipe(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("batch_size: 16\n")
    config = recipe_config("fast", path, {"epochs": 1})
    assert (config.batch_size, config.epochs, config.model) == (16, 1, "fast")


def test_unknown_recipe_names_the_valid_ones():
    with pytest.raises(NeuralabError, match=r"unknown recipe 'fastt'; did you mean 'fast'"):
        recipe_values("fastt")
    assert list_recipes() == ["default", "fast"]


def test_autocast_is_chosen_by_device_type():
    assert engine.autocast_supported(torch.device("cuda"))
    assert not engine.autocast_supported(torch.device("meta"))
    assert isinstance(engine.autocast(torch.device("cpu"), False), contextlib.nullcontext)


def test_the_fast_recipe_runs_the_device_path_on_the_cpu(tmp_path, monkeypatch):
    """The code a GPU runs (data resident on the device, bf16 autocast chosen by device type),
    on device "cpu": autocast is forced on, as on CUDA, whatever this CPU has."""
    monkeypatch.setattr(engine, "autocast_supported", lambda device: True)
    entered: list[str] = []
    real_autocast = torch.autocast

    def spy(device_type: str, **kwargs):
        entered.append(f"{device_type} {kwargs['dtype']}")
        return real_autocast(device_type, **kwargs)

    monkeypatch.setattr(engine.torch, "autocast", spy)
    config = recipe_config(
        "fast",
        overrides={"data": "digits", "epochs": 3, "device": "cpu", "run_dir": str(tmp_path / "r")},
    )
    result = train(config, progress=False, report=False)
    assert entered and set(entered) == {"cpu torch.bfloat16"}
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor(row["train_loss"])) for row in result.history)
    assert result.test["acc"] > 0.5  # ten classes: chance is 0.1
