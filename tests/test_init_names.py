"""The torch-free copy of the initialization table's names and aliases is exact."""

from __future__ import annotations

import pytest

from neuralab.errors import NeuralabError
from neuralab.theory.init_names import INIT_SCHEME_ALIASES, checked_init_scheme
from neuralab.theory.initialization import _SCHEMES, get_init_scheme, list_init_schemes


def test_names_and_aliases_are_the_tables():
    assert sorted(INIT_SCHEME_ALIASES) == list_init_schemes()
    for name in list_init_schemes():
        assert set(INIT_SCHEME_ALIASES[name]) == {
            alias for alias, target in _SCHEMES._aliases.items() if target == name
        }


def test_checked_names_give_the_tables_answer_and_error():
    for name in [*list_init_schemes(), *_SCHEMES._aliases, " HE ", "Glorot"]:
        assert checked_init_scheme(name) == _SCHEMES.canonical(name)
    for typo in ("hee", "xavir", "kaiming_norm"):
        with pytest.raises(NeuralabError) as table:
            get_init_scheme(typo)
        with pytest.raises(NeuralabError) as copy:
            checked_init_scheme(typo)
        assert str(copy.value) == str(table.value)
