"""The sigmoid limit case by case: sigma(c (w . x + b)) as c grows, for z = w . x + b > 0, = 0, < 0.

One sigmoid unit with weights and bias multiplied by c > 0 computes sigma(c z), z = w . x + b:

    z > 0:  sigma(c z) -> 1        (e^(-c z) -> 0)
    z = 0:  sigma(c z) = 1/2       for every c
    z < 0:  sigma(c z) -> 0        (e^(-c z) -> inf)

At x = 0 the pre-activation is the bias alone, z = b, so there the sign of b decides: b > 0 gives
1, b < 0 gives 0. :func:`sigmoid_cases` evaluates sigma(c z) in float64 for growing c at inputs
chosen to give each sign, for a unit with a negative and one with a positive bias, and takes each
limit c -> inf with sympy (exactly, not by a large c), next to the step function's value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy
import torch

from neuralab.errors import NeuralabError

C_VALUES = (1.0, 10.0, 100.0, 1000.0)


@dataclass(frozen=True)
class SigmoidCase:
    """One unit at one input: z, sigma(c z) for each c, the exact limit and step(z)."""

    w: tuple[float, ...]
    b: float
    x: tuple[float, ...]
    z: float  # w . x + b
    outputs: tuple[float, ...]  # sigma(c z), one per c
    limit: sympy.Expr  # lim_(c -> inf) sigma(c z), by sympy: 1, 1/2 or 0
    step: int  # step(z), with step(0) = 0 as in the perceptron

    @property
    def sign(self) -> str:
        return "> 0" if self.z > 0 else "< 0" if self.z < 0 else "= 0"


@dataclass(frozen=True)
class SigmoidCases:
    """Every case, and the c values they were evaluated at."""

    c_values: tuple[float, ...]
    cases: list[SigmoidCase]


def default_inputs(w: Sequence[float], b: float) -> list[tuple[float, ...]]:
    """Return inputs giving z > 0, z = 0 and z < 0 for the unit (w, b), and x = 0 (z = b).

    The input on the line is x = -b w / |w|^2; the others move from it by +-w / |w|^2, so
    z = +-1 there.
    """
    weights = torch.tensor(list(w), dtype=torch.float64)
    norm2 = float(weights @ weights)
    if norm2 == 0:
        raise NeuralabError("w is all zeros: z = b for every x, there is no line w . x + b = 0")
    on_line = -b * weights / norm2
    inputs = [on_line + weights / norm2, on_line, on_line - weights / norm2]
    found = [tuple(float(v) for v in x) for x in inputs]
    zero = tuple(0.0 for _ in w)
    return found + ([zero] if zero not in found else [])


def sigmoid_cases(
    units: Sequence[tuple[Sequence[float], float]] = (((1.0, 1.0), -0.5), ((1.0, 1.0), 0.5)),
    c_values: Sequence[float] = C_VALUES,
    inputs: Sequence[Sequence[float]] | None = None,
) -> SigmoidCases:
    """Return sigma(c (w . x + b)) for every unit (w, b) at ``inputs`` (default
    :func:`default_inputs` of each unit), for each c, with the exact limit c -> inf."""
    if not c_values or any(c <= 0 for c in c_values):
        raise NeuralabError(f"c values {list(c_values)} must be positive (c <= 0 flips or kills z)")
    c = sympy.Symbol("c", positive=True)
    cases = []
    for w, b in units:
        for x in inputs if inputs is not None else default_inputs(w, b):
            if len(x) != len(w):
                raise NeuralabError(f"input {list(x)} has {len(x)} entries; w has {len(w)}")
            # exact z from the decimal inputs: 0 stays exactly 0
            z_exact = sum(
                (sympy.nsimplify(wi) * sympy.nsimplify(xi) for wi, xi in zip(w, x, strict=True)),
                sympy.nsimplify(b),
            )
            z = float(z_exact)
            outputs = tuple(
                float(torch.sigmoid(torch.tensor(ci * z, dtype=torch.float64))) for ci in c_values
            )
            cases.append(
                SigmoidCase(
                    w=tuple(float(v) for v in w),
                    b=float(b),
                    x=tuple(float(v) for v in x),
                    z=z,
                    outputs=outputs,
                    limit=sympy.limit(1 / (1 + sympy.exp(-c * z_exact)), c, sympy.oo),
                    step=int(z > 0),
                )
            )
    return SigmoidCases(tuple(float(c) for c in c_values), cases)


__all__ = ["C_VALUES", "SigmoidCase", "SigmoidCases", "default_inputs", "sigmoid_cases"]
