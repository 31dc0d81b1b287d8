"""The receptive-field recursion and closed form, equal as sympy expressions, and as numbers."""

from __future__ import annotations

import pytest
import sympy

from neuralab.arch.receptive import receptive_field
from neuralab.arch.receptive_symbolic import derive_receptive_field
from neuralab.errors import NeuralabError


def test_recursion_equals_closed_form_symbolically():
    derivation = derive_receptive_field(4)
    k1, k2, s1 = sympy.symbols("k1 k2 s1", positive=True, integer=True)
    assert derivation.layers[0].recursion == k1
    assert sympy.expand(derivation.layers[1].recursion - (k1 + (k2 - 1) * s1)) == 0
    assert all(layer.difference == 0 for layer in derivation.layers)
    assert str(derivation.layers[3].jump) == "s1*s2*s3*s4"
    assert derivation.all_equal


def test_identical_layers_for_any_depth():
    derivation = derive_receptive_field(3)
    k, s, d = sympy.symbols("k s d", positive=True)
    big_l = sympy.Symbol("L", integer=True, nonnegative=True)
    assert derivation.uniform_step == 0 and derivation.uniform_base == 0
    assert derivation.uniform_sum == 0
    assert sympy.expand(derivation.stride_one - (1 + big_l * (k - 1) * d)) == 0
    assert derivation.uniform.subs({k: 3, s: 2, d: 1, big_l: 5}) == 63  # 1 + 2 (2^5 - 1)


def test_course_numbers_and_the_numeric_recursion():
    derivation = derive_receptive_field(4, dilation=True)
    assert derivation.all_equal
    for k, s, d, sizes in derivation.examples:
        numeric = [row.r[0] for row in receptive_field([(k, s, 0, d)] * 4)]
        assert sizes == numeric
    assert derivation.examples[0] == (5, 1, 1, [5, 9, 13, 17])


def test_layer_count_is_checked():
    with pytest.raises(NeuralabError, match="layers must be 1..12, got 0"):
        derive_receptive_field(0)
