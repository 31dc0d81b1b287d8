"""sigma(c z) as c grows, case by case: z > 0 -> 1, z = 0 -> 1/2, z < 0 -> 0; at x = 0, z = b."""

from __future__ import annotations

import pytest
import sympy

from neuralab.errors import NeuralabError
from neuralab.theory.sigmoid_cases import default_inputs, sigmoid_cases


def test_every_case_and_its_exact_limit():
    report = sigmoid_cases()
    by_case = {(case.b, case.sign): case for case in report.cases}
    for b in (-0.5, 0.5):
        assert by_case[(b, "> 0")].limit == 1 and by_case[(b, "> 0")].outputs[-1] == 1.0
        assert by_case[(b, "= 0")].limit == sympy.Rational(1, 2)
        assert by_case[(b, "= 0")].outputs == (0.5, 0.5, 0.5, 0.5)  # for every c
        assert by_case[(b, "< 0")].limit == 0
    # at x = 0 the bias decides: b < 0 -> 0, b > 0 -> 1
    at_origin = {case.b: case for case in report.cases if case.x == (0.0, 0.0)}
    assert at_origin[-0.5].z == -0.5 and at_origin[-0.5].limit == 0
    assert at_origin[0.5].z == 0.5 and at_origin[0.5].limit == 1
    # the output moves monotonically towards the limit as c grows
    for case in report.cases:
        distances = [abs(float(case.limit) - out) for out in case.outputs]
        assert distances == sorted(distances, reverse=True)
    # step(0) = 0 (the perceptron's convention) while the sigmoid limit there is 1/2
    assert by_case[(-0.5, "= 0")].step == 0


def test_default_inputs_land_on_each_side():
    # on the line x = -b w / |w|^2 = (0.5, 0); then +-w / |w|^2 = +-(0.5, 0): z = +1, 0, -1
    assert default_inputs((2.0, 0.0), -1.0) == [(1.0, 0.0), (0.5, 0.0), (0.0, 0.0)]
    # x = 0 (z = b) is added when it is not already among them
    assert default_inputs((1.0, 1.0), -0.5)[3] == (0.0, 0.0)


def test_bad_input():
    with pytest.raises(NeuralabError, match="must be positive"):
        sigmoid_cases(c_values=(1.0, -1.0))
    with pytest.raises(NeuralabError, match="w is all zeros"):
        default_inputs((0.0, 0.0), 1.0)
