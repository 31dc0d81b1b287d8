"""Softmax: outputs in (0, 1) summing to 1 in exact arithmetic; what float32/float64 make of it."""

from __future__ import annotations

import math

import pytest

from neuralab.errors import NeuralabError
from neuralab.theory.softmax import parse_logits, softmax_check, softmax_row


def test_course_values_and_sum():
    row = softmax_row((1.0, 2.0, 3.0), "float64")
    total = math.e + math.e**2 + math.e**3
    assert row.probabilities == pytest.approx([math.e**k / total for k in (1, 2, 3)], abs=1e-15)
    assert row.total == pytest.approx(1.0, abs=1e-15) and row.open_interval


def test_float32_rounds_to_exactly_zero_and_one_and_log_softmax_does_not():
    row = softmax_row((0.0, 200.0), "float32")
    assert row.probabilities == (0.0, 1.0)  # e^-200 underflows; 1 - e^-200 rounds to 1
    assert (row.zeros, row.ones) == (1, 1) and not row.open_interval
    assert row.log_of_softmax[0] == -math.inf and row.cross_entropy_via_log == math.inf
    assert not row.gradient_finite
    assert row.log_softmax == (-200.0, 0.0) and row.cross_entropy_via_log_softmax == 200.0
    wide = softmax_row((0.0, 200.0), "float64")
    assert wide.zeros == 0 and wide.ones == 1  # e^-200 = 1.4e-87 survives; 1 still rounds
    assert wide.probabilities[0] == pytest.approx(math.exp(-200), rel=1e-12)


def test_a_gap_of_20_is_1_in_float32_not_in_float64():
    assert softmax_row((0.0, 20.0), "float32").ones == 1
    assert softmax_row((0.0, 20.0), "float64").ones == 0


def test_the_naive_formula_overflows_the_stable_one_does_not():
    row = softmax_row((1000.0, 1001.0, 1002.0), "float64")
    assert all(math.isnan(p) for p in row.naive)  # e^1000 = inf, inf / inf = NaN
    assert row.probabilities == pytest.approx(softmax_row((0.0, 1.0, 2.0), "float64").probabilities)


def test_default_report_covers_both_dtypes():
    report = softmax_check()
    assert [(r.logits, r.dtype) for r in report.rows][:2] == [
        ((1.0, 2.0, 3.0), "float32"),
        ((1.0, 2.0, 3.0), "float64"),
    ]
    assert len(report.rows) == 8


def test_bad_input():
    with pytest.raises(NeuralabError, match="need at least two entries"):
        parse_logits("3")
    with pytest.raises(NeuralabError, match="unknown dtype 'float16'"):
        softmax_row((0.0, 1.0), "float16")
    assert parse_logits("[0, 200]") == (0.0, 200.0)
