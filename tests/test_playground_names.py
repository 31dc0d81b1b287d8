"""The playground's torch-free name tables are exactly its registries (toy data, features)."""

from __future__ import annotations

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.playground.features import _FEATURES, feature_matrix
from neuralab.playground.names import (
    FEATURE_INPUTS,
    FEATURE_ORDER,
    TOY_DATA_ALIASES,
    checked_toy_data,
    resolve_features,
)
from neuralab.playground.toy_data import _TOY_DATA, get_toy_data_spec, list_toy_data


def _aliases(registry, name):
    return {alias for alias, target in registry._aliases.items() if target == name}


def test_toy_data_names_and_aliases_are_the_registrys():
    assert sorted(TOY_DATA_ALIASES) == list_toy_data()
    for name in list_toy_data():
        assert set(TOY_DATA_ALIASES[name]) == _aliases(_TOY_DATA, name)
    for name in [*list_toy_data(), *_TOY_DATA._aliases, " Spiral "]:
        assert checked_toy_data(name) == _TOY_DATA.canonical(name)


def test_a_mistyped_toy_data_set_gets_the_registrys_error():
    with pytest.raises(NeuralabError) as table:
        get_toy_data_spec("spirl")
    with pytest.raises(NeuralabError) as copy:
        checked_toy_data("spirl")
    assert str(copy.value) == str(table.value)
    assert "did you mean 'spiral'" in str(copy.value)


def test_features_and_their_inputs_are_the_registrys():
    assert sorted(FEATURE_ORDER) == _FEATURES.names()
    for name, (needs, aliases) in FEATURE_INPUTS.items():
        assert _FEATURES.get(name)[1] == needs
        assert set(aliases) == _aliases(_FEATURES, name)
    # the inputs each feature needs are the columns its function reads: x1x2 of (2, 3) is 6
    x = torch.tensor([[2.0, 3.0]])
    assert feature_matrix(x, resolve_features(["x1*x2", "x2sq"])).tolist() == [[6.0, 9.0]]
    with pytest.raises(NeuralabError, match="needs input x2, but the data has 1 input"):
        resolve_features(["x2"], input_dim=1)
