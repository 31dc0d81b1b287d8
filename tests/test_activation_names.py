"""The torch-free copy of the activation table's names, aliases and parameters is exact."""

from __future__ import annotations

import pytest

from neuralab.errors import NeuralabError
from neuralab.theory.activation_names import (
    ACTIVATION_ALIASES,
    ACTIVATION_PARAMETERS,
    activation_names,
    canonical_activation,
    checked_activation,
)
from neuralab.theory.activations import _TABLE, get_activation, list_activations


def test_names_are_the_tables():
    assert activation_names() == list_activations()


def test_aliases_are_the_tables():
    for name in list_activations():
        assert set(ACTIVATION_ALIASES[name]) == {
            alias for alias, target in _TABLE._aliases.items() if target == name
        }


def test_parameters_are_the_tables():
    for name in list_activations():
        assert get_activation(name).parameters == ACTIVATION_PARAMETERS.get(name, {})


def test_canonical_names_any_case():
    assert canonical_activation("LReLU") == "leaky_relu"
    assert canonical_activation("Logistic") == "sigmoid"
    assert canonical_activation("relux") is None


def test_checked_names_give_the_tables_answer_and_error():
    for name in [*list_activations(), *_TABLE._aliases, " ReLU ", "LRELU"]:
        assert checked_activation(name) == _TABLE.canonical(name)
    for typo in ("rellu", "sigmoidd", "xyz"):
        with pytest.raises(NeuralabError) as table:
            get_activation(typo)
        with pytest.raises(NeuralabError) as copy:
            checked_activation(typo)
        assert str(copy.value) == str(table.value)
