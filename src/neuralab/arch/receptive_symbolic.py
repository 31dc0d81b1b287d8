"""The receptive-field recursion and its closed form, derived with sympy and shown equal.

Per axis, through layers with kernel k_l, stride s_l and dilation d_l, starting from one input
pixel (r_0 = 1, j_0 = 1):

    recursion     r_l = r_(l-1) + (k_l - 1) d_l j_(l-1),     j_l = j_(l-1) s_l
    closed form   r_L = 1 + sum_(l=1..L) (k_l - 1) d_l prod_(i<l) s_i

:func:`derive_receptive_field` builds both as sympy expressions in the symbols k1, s1, d1, ...,
and subtracts them: the difference simplifies to 0 at every layer, for all values of the
symbols (not just at sample points). For identical layers (k, s, d the same everywhere) it also
sums the closed form with ``sympy.summation`` for any depth L, 1 + (k - 1) d (s^L - 1)/(s - 1),
and shows that it solves the recurrence r(L + 1) = r(L) + (k - 1) d s^L with r(0) = 1 (the
residuals simplify to 0: a proof by induction); for s = 1 the sum, 1 + L (k - 1) d, equals what
``sympy.rsolve`` finds for that recurrence (four 5x5 convolutions: 5, 9, 13, 17).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from neuralab.errors import NeuralabError

MAX_LAYERS = 12  # the expressions grow with L; a dozen layers read on a screen


@dataclass(frozen=True)
class SymbolicLayer:
    """One layer of the derivation: r_l by the recursion and by the closed form, and j_l."""

    layer: int
    recursion: sympy.Expr  # r_l built step by step from r_(l-1) and j_(l-1)
    closed_form: sympy.Expr  # 1 + sum_(i<=l) (k_i - 1) d_i prod_(m<i) s_m
    difference: sympy.Expr  # simplify(recursion - closed_form): 0
    jump: sympy.Expr  # j_l = prod_(i<=l) s_i


@dataclass(frozen=True)
class ReceptiveDerivation:
    """The derivation for ``layers`` layers, and the identical-layer case for any depth L."""

    layers: list[SymbolicLayer]
    dilation: bool  # whether d_l appears (False: d_l = 1)
    uniform: sympy.Expr  # r(L) = 1 + (k - 1) d (s^L - 1)/(s - 1), identical layers, s != 1
    uniform_sum: sympy.Expr  # simplify(uniform - sympy.summation's r(L)): 0
    uniform_step: sympy.Expr  # simplify(r(L + 1) - r(L) - (k - 1) d s^L): 0
    uniform_base: sympy.Expr  # r(0) - 1: 0
    stride_one: sympy.Expr  # r(L) for s = 1, by sympy.summation
    stride_one_rsolve: sympy.Expr  # the s = 1 recurrence solved by sympy.rsolve
    examples: list[tuple[int, int, int, list[int]]]  # (k, s, d, r_1..r_L) by substitution

    @property
    def all_equal(self) -> bool:
        """Return whether every difference simplified to exactly 0."""
        return (
            all(layer.difference == 0 for layer in self.layers)
            and self.uniform_sum == 0
            and self.uniform_step == 0
            and self.uniform_base == 0
            and sympy.simplify(self.stride_one - self.stride_one_rsolve) == 0
        )


def derive_receptive_field(
    layers: int = 4,
    *,
    dilation: bool = False,
    examples: tuple[tuple[int, int, int], ...] = ((5, 1, 1), (3, 2, 1), (3, 1, 2)),
) -> ReceptiveDerivation:
    """Return the symbolic derivation for ``layers`` layers (see the module docstring).

    ``examples`` are (k, s, d) of identical layers substituted into the closed form, giving the
    receptive field after each of the ``layers`` layers.
    """
    if not 1 <= layers <= MAX_LAYERS:
        raise NeuralabError(f"layers must be 1..{MAX_LAYERS}, got {layers}")
    k = sympy.symbols(f"k1:{layers + 1}", positive=True, integer=True)
    s = sympy.symbols(f"s1:{layers + 1}", positive=True, integer=True)
    one = sympy.Integer(1)
    d = (
        sympy.symbols(f"d1:{layers + 1}", positive=True, integer=True)
        if dilation
        else (one,) * layers
    )
    rows = []
    r, jump = one, one
    for index in range(layers):
        r = sympy.expand(r + (k[index] - 1) * d[index] * jump)  # the recursion, one step
        jump = jump * s[index]
        closed = 1 + sum(((k[i] - 1) * d[i] * sympy.prod(s[:i]) for i in range(index + 1)), 0)
        rows.append(SymbolicLayer(index + 1, r, closed, sympy.simplify(r - closed), jump))
    computed = []
    for k_value, s_value, d_value in examples:
        values = {**_same(k, k_value), **_same(s, s_value), **_same(d, d_value)}
        sizes = [int(row.closed_form.subs(values)) for row in rows]
        computed.append((k_value, s_value, d_value, sizes))
    uniform, from_sum, step, base, stride_one, solved = _uniform()
    return ReceptiveDerivation(
        layers=rows,
        dilation=dilation,
        uniform=uniform,
        uniform_sum=from_sum,
        uniform_step=step,
        uniform_base=base,
        stride_one=stride_one,
        stride_one_rsolve=solved,
        examples=computed,
    )


def _uniform() -> tuple[sympy.Expr, sympy.Expr, sympy.Expr, sympy.Expr, sympy.Expr, sympy.Expr]:
    """Return, for identical layers: r(L) = 1 + (k - 1) d (s^L - 1)/(s - 1), its difference to
    what sympy.summation finds (s != 1), the residuals of the recurrence r(L + 1) = r(L) +
    (k - 1) d s^L and of r(0) = 1 (all 0), and r(L) for s = 1 by summation and by rsolve."""
    k, s, d = sympy.symbols("k s d", positive=True)
    big_l = sympy.Symbol("L", integer=True, nonnegative=True)
    i = sympy.Symbol("i", integer=True, positive=True)
    # summation answers with a Piecewise: (s = 1 branch, s != 1 branch)
    summed = sympy.piecewise_fold(1 + sympy.summation((k - 1) * d * s ** (i - 1), (i, 1, big_l)))
    branches = {str(condition): expression for expression, condition in summed.args}
    general = 1 + (k - 1) * d * (s**big_l - 1) / (s - 1)
    from_sum = sympy.simplify(general - branches["True"])
    step = sympy.simplify(general.subs(big_l, big_l + 1) - general - (k - 1) * d * s**big_l)
    base = sympy.simplify(general.subs(big_l, 0) - 1)
    stride_one = sympy.expand(branches[str(sympy.Eq(s, 1))].subs(s, 1))
    r = sympy.Function("r")
    solved = sympy.rsolve(r(big_l + 1) - r(big_l) - (k - 1) * d, r(big_l), {r(0): 1})
    return general, from_sum, step, base, stride_one, sympy.expand(solved)


def _same(symbols: tuple[sympy.Expr, ...], value: int) -> dict[sympy.Expr, int]:
    return {symbol: value for symbol in symbols if isinstance(symbol, sympy.Symbol)}


__all__ = ["ReceptiveDerivation", "SymbolicLayer", "derive_receptive_field"]
