"""The torch-free name tables of ``neuralab train`` equal the registries they stand for."""

from __future__ import annotations

import pytest

from neuralab.errors import NeuralabError
from neuralab.vision.augment import _PRESETS, list_augmentation_presets
from neuralab.vision.config import TrainConfig
from neuralab.vision.datasets import list_datasets
from neuralab.vision.models import list_models
from neuralab.vision.names import (
    AUGMENTATION_PRESETS,
    DATASET_NAMES,
    MODEL_NAMES,
    check_names,
)


def test_dataset_names_are_the_registrys():
    assert list(DATASET_NAMES) == list_datasets()


def test_model_names_are_the_registrys():
    assert list(MODEL_NAMES) == list_models()


def test_augmentation_presets_and_aliases_are_the_registrys():
    assert sorted(AUGMENTATION_PRESETS) == list_augmentation_presets()
    for name in list_augmentation_presets():
        assert {a for a in AUGMENTATION_PRESETS[name]} == {
            alias for alias, target in _PRESETS._aliases.items() if target == name
        }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"data": "mnst"}, r"unknown data set 'mnst'; did you mean 'mnist'"),
        ({"model": "cnnn"}, r"unknown model 'cnnn'; did you mean 'cnn'"),
        ({"augment": "strnog"}, r"unknown augmentation preset 'strnog'; did you mean 'strong'"),
    ],
)
def test_check_names_refuses_a_typo_with_suggestions(fields, message):
    with pytest.raises(NeuralabError, match=message):
        check_names(TrainConfig(**fields))


@pytest.mark.parametrize(
    "fields",
    [
        {"data": "npz:some/file.npz", "model": "fast"},
        {"data": "GTSRB", "augment": "default"},
        {"data": "digits", "model": "spec:conv(8,3) -> relu -> flatten -> fc(10)"},
    ],
)
def test_check_names_accepts_valid_names(fields):
    check_names(TrainConfig(**fields))
