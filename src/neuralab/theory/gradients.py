"""Symbolic gradients of a two-layer network (sympy), each checked against autograd.

The network, in the course's names (W1 is hidden x inputs, W2 outputs x hidden)::

    z = W1 x + b1          (z1, z2, ...: hidden pre-activations)
    n = sigma(z)           (n1, n2, ...: hidden outputs; sigma from the activation table)
    o = W2 n + b2          (the output layer is linear)
    mse:  out = o,           L = sum_k (out_k - y_k)^2            (no 1/2 factor, no mean)
    bce:  out = sigmoid(o),  L = -sum_k [y_k log out_k + (1 - y_k) log(1 - out_k)]
    ce:   out = softmax(o),  L = -sum_k y_k log out_k              (y one-hot, sums to 1)

Each weight's partial derivative is the chain rule, every local factor differentiated by sympy:

    dL/dW2_kj = dL/do_k * do_k/dW2_kj                     e.g. 2(out - y) n1
    dL/dW1_ji = sum_k dL/do_k * do_k/dn_j * dn_j/dz_j * dz_j/dW1_ji
                                                          e.g. 2(out - y) W2_11 sigma'(z1) x1

with dL/do_k = 2(out_k - y_k) for mse and out_k - y_k for bce and ce (sympy simplifies the
sigmoid's out (1 - out) and the softmax Jacobian away). The value of each formula at the given
x, y is computed from it and set beside autograd's (float64); they must agree to 1e-10.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy
import torch
from torch import Tensor

from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.theory.activations import get_activation
from neuralab.theory.gradient_inputs import check_shapes, target_vector
from neuralab.theory.loss_names import GRADIENT_LOSSES as LOSSES

TOLERANCE = 1e-10  # formula vs autograd, float64
MAX_WEIGHTS = 400  # more would make a table nobody reads

_LOSS_TEXT = {
    "mse": "L = sum_k (out_k - y_k)^2 (no 1/2, no mean), out = o",
    "bce": "L = -sum_k [y_k log out_k + (1 - y_k) log(1 - out_k)], out = sigmoid(o)",
    "ce": "L = -sum_k y_k log out_k, out = softmax(o)",
}


@dataclass(frozen=True)
class GradientRow:
    """One weight's partial derivative: the chain, the formula, its value, autograd's value."""

    weight: str  # e.g. "W1_11" (row 1 = hidden unit 1, column 1 = input 1)
    chain: str  # e.g. "dL/dout * dout/dn1 * dn1/dz1 * dz1/dW1_11"
    formula: str  # e.g. "2(out - y) W2_11 sigma'(z1) x1"
    expression: Any  # the same formula as a sympy expression
    value: float  # the formula at the given x, y, weights
    autograd: float  # PyTorch's gradient
    match: bool  # |value - autograd| <= TOLERANCE


@dataclass(frozen=True)
class GradientReport:
    """Every weight's gradient for one input and target, with the forward pass that led there."""

    activation: str
    loss: str
    loss_formula: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    z: tuple[float, ...]  # hidden pre-activations
    n: tuple[float, ...]  # hidden outputs sigma(z)
    sigma_prime: tuple[float, ...]  # sigma'(z) from the activation table
    out: tuple[float, ...]
    loss_value: float
    autograd_loss: float
    rows: tuple[GradientRow, ...]

    @property
    def max_difference(self) -> float:
        """Return the largest |formula - autograd| over all weights."""
        return max(abs(r.value - r.autograd) for r in self.rows)

    @property
    def all_match(self) -> bool:
        """Return whether every formula agrees with autograd to :data:`TOLERANCE`."""
        return all(r.match for r in self.rows)


def gradient_report(
    W1: Any,
    W2: Any,
    x: Any,
    y: Any,
    *,
    b1: Any = None,
    b2: Any = None,
    loss: str = "mse",
    activation: str = "relu",
) -> GradientReport:
    """Return the :class:`GradientReport` of L(W1, W2, b1, b2) at input ``x`` and target ``y``.

    Biases given (even zeros) are parameters and get rows; biases left out are fixed at 0.
    For ``ce`` a single class index may stand for the one-hot target (``y=1`` -> [0, 1]).

    >>> r = gradient_report([[-1, 1], [1, -1]], [[1, 1]], [1, 0], [0], loss="mse")
    >>> r.rows[0].weight, r.rows[0].formula, r.rows[0].value
    ('W1_11', "2(out - y) W2_11 sigma'(z1) x1", 0.0)
    """
    loss = loss.strip().lower()
    if loss not in LOSSES:
        raise unknown_name_error("loss", loss, LOSSES)
    act = get_activation(activation)
    if not act.elementwise:
        raise NeuralabError(
            f"activation {activation!r} is not elementwise; a hidden layer needs one such as "
            "relu, sigmoid, tanh, identity"
        )
    W1t, W2t, b1t, b2t, xt = check_shapes(W1, W2, b1, b2, x)
    hidden, inputs = W1t.shape
    outputs = W2t.shape[0]
    yt = target_vector(y, loss, outputs)
    count = W1t.numel() + W2t.numel() + (hidden if b1 is not None else 0)
    count += outputs if b2 is not None else 0
    if count > MAX_WEIGHTS:
        raise NeuralabError(f"the network has {count} weights; at most {MAX_WEIGHTS} are shown")

    # forward pass, float64, in the course's names
    z = W1t @ xt + b1t
    n = act.function(z)
    sigma_prime = act.derivative(z)
    o = W2t @ n + b2t
    out = {"mse": o, "bce": torch.sigmoid(o), "ce": torch.softmax(o, dim=0)}[loss]

    names = _Names(inputs, hidden, outputs, loss)
    delta = _output_deltas(loss, names)  # dL/do_k in terms of out, y
    z_expr = [
        sum(names.W1[j][i] * names.x[i] for i in range(inputs)) + names.b1[j] for j in range(hidden)
    ]
    o_expr = [
        sum(names.W2[k][j] * names.n[j] for j in range(hidden)) + names.b2[k]
        for k in range(outputs)
    ]

    values: dict[sympy.Symbol, float] = {}
    for j in range(hidden):
        values[names.n[j]] = float(n[j])
        values[names.sigma_prime[j]] = float(sigma_prime[j])
        values[names.b1[j]] = float(b1t[j])
        for i in range(inputs):
            values[names.W1[j][i]] = float(W1t[j, i])
    for i in range(inputs):
        values[names.x[i]] = float(xt[i])
    for k in range(outputs):
        values[names.out[k]] = float(out[k])
        values[names.y[k]] = float(yt[k])
        values[names.b2[k]] = float(b2t[k])
        for j in range(hidden):
            values[names.W2[k][j]] = float(W2t[k, j])

    autograd, autograd_loss = _autograd(W1t, W2t, b1t, b2t, xt, yt, loss, act.function)

    rows: list[GradientRow] = []
    chain_out = "dL/dout" if loss == "mse" and outputs == 1 else "dL/d{o}"
    for j in range(hidden):
        for i in range(inputs):
            weight = names.W1[j][i]
            factors = [sympy.diff(z_expr[j], weight)]  # dz_j/dW1_ji = x_i
            rows.append(
                _hidden_row(names, delta, o_expr, j, weight, factors, chain_out, values, autograd)
            )
    if b1 is not None:
        for j in range(hidden):
            factors = [sympy.diff(z_expr[j], names.b1[j])]  # = 1
            rows.append(
                _hidden_row(
                    names, delta, o_expr, j, names.b1[j], factors, chain_out, values, autograd
                )
            )
    for k in range(outputs):
        for j in range(hidden):
            weight = names.W2[k][j]
            local = sympy.diff(o_expr[k], weight)  # do_k/dW2_kj = n_j
            expression = delta[k] * local
            chain = chain_out.format(o=names.o_name(k)) + f" * d{names.o_name(k)}/d{weight}"
            formula = _product_text([delta[k], local])
            rows.append(_row(str(weight), chain, formula, expression, values, autograd))
    if b2 is not None:
        for k in range(outputs):
            local = sympy.diff(o_expr[k], names.b2[k])  # = 1
            chain = chain_out.format(o=names.o_name(k)) + f" * d{names.o_name(k)}/d{names.b2[k]}"
            rows.append(
                _row(
                    str(names.b2[k]),
                    chain,
                    _product_text([delta[k], local]),
                    delta[k] * local,
                    values,
                    autograd,
                )
            )

    loss_value = float(_loss_expression(loss, names).subs(values))
    return GradientReport(
        activation=act.name,
        loss=loss,
        loss_formula=_LOSS_TEXT[loss],
        x=tuple(xt.tolist()),
        y=tuple(yt.tolist()),
        z=tuple(z.tolist()),
        n=tuple(n.tolist()),
        sigma_prime=tuple(sigma_prime.tolist()),
        out=tuple(out.tolist()),
        loss_value=loss_value,
        autograd_loss=autograd_loss,
        rows=tuple(rows),
    )


def _entry_name(prefix: str, row: int, column: int, wide: bool) -> str:
    """Return the name of entry (row, column), 0-based, as the course writes it: ``W1_12``."""
    if wide:  # W1_1,11 and W1_11,1 would both read W1_111
        return f"{prefix}_{row + 1},{column + 1}"
    return f"{prefix}_{row + 1}{column + 1}"


class _Names:
    """The sympy symbols of one network, named the course's way."""

    def __init__(self, inputs: int, hidden: int, outputs: int, loss: str) -> None:
        single = outputs == 1
        self.x = [sympy.Symbol(f"x{i + 1}") for i in range(inputs)]
        self.n = [sympy.Symbol(f"n{j + 1}") for j in range(hidden)]
        self.sigma_prime = [sympy.Symbol(f"sigma'(z{j + 1})") for j in range(hidden)]
        wide = max(inputs, hidden, outputs) > 9
        self.W1 = [
            [sympy.Symbol(_entry_name("W1", j, i, wide)) for i in range(inputs)]
            for j in range(hidden)
        ]
        self.W2 = [
            [sympy.Symbol(_entry_name("W2", k, j, wide)) for j in range(hidden)]
            for k in range(outputs)
        ]
        self.b1 = [sympy.Symbol(f"b1_{j + 1}") for j in range(hidden)]
        self.b2 = [sympy.Symbol(f"b2_{k + 1}") for k in range(outputs)]
        self.out = [sympy.Symbol("out" if single else f"out{k + 1}") for k in range(outputs)]
        self.y = [sympy.Symbol("y" if single else f"y{k + 1}") for k in range(outputs)]
        self.loss = loss

    def o_name(self, k: int) -> str:
        """Return the name of output k's pre-activation (``out`` itself for mse)."""
        if self.loss == "mse":
            return str(self.out[k])
        return "o" if len(self.out) == 1 else f"o{k + 1}"


def _loss_expression(loss: str, names: _Names) -> sympy.Expr:
    """Return L as a sympy expression of the symbols out_k and y_k."""
    pairs = list(zip(names.out, names.y, strict=True))
    if loss == "mse":
        return sympy.Add(*((out - y) ** 2 for out, y in pairs))
    if loss == "bce":
        return -sympy.Add(*(y * sympy.log(out) + (1 - y) * sympy.log(1 - out) for out, y in pairs))
    return -sympy.Add(*(y * sympy.log(out) for out, y in pairs))


def _output_deltas(loss: str, names: _Names) -> list[sympy.Expr]:
    """Return dL/do_k for every output k, simplified and in terms of out and y."""
    L = _loss_expression(loss, names)
    deltas = []
    for k, out_k in enumerate(names.out):
        if loss == "mse":  # out = o
            delta = sympy.diff(L, out_k)
        elif loss == "bce":  # out = sigmoid(o): dout/do = out (1 - out)
            delta = sympy.factor(sympy.simplify(sympy.diff(L, out_k) * out_k * (1 - out_k)))
        else:  # out = softmax(o): dout_m/do_k = out_m (delta_mk - out_k)
            delta = sympy.Add(
                *(
                    sympy.diff(L, out_m) * out_m * ((1 if m == k else 0) - out_k)
                    for m, out_m in enumerate(names.out)
                )
            )
            # -y_k + out_k (y_1 + ... + y_K): the targets sum to 1
            delta = sympy.collect(sympy.expand(delta), out_k).xreplace({sympy.Add(*names.y): 1})
        deltas.append(delta)
    return deltas


def _hidden_row(
    names: _Names,
    delta: list[sympy.Expr],
    o_expr: list[sympy.Expr],
    j: int,
    weight: sympy.Symbol,
    local: list[sympy.Expr],
    chain_out: str,
    values: dict[sympy.Symbol, float],
    autograd: dict[str, float],
) -> GradientRow:
    n_j, sigma_prime_j = names.n[j], names.sigma_prime[j]
    # do_k/dn_j = W2_kj, differentiated by sympy
    terms = [(delta[k], sympy.diff(o_expr[k], n_j)) for k in range(len(delta))]
    expression = sympy.Add(*(d * w for d, w in terms)) * sigma_prime_j * local[0]
    if len(terms) == 1:
        upstream = _product_text(list(terms[0]))
    else:
        upstream = "(" + " + ".join(_product_text(list(t)) for t in terms) + ")"
    formula = _join([upstream, str(sigma_prime_j), _factor_text(local[0])])
    o_names = [names.o_name(k) for k in range(len(delta))]
    link = f"d{{o}}/d{n_j} * d{n_j}/dz{j + 1} * dz{j + 1}/d{weight}"
    if len(o_names) == 1:
        chain = chain_out.format(o=o_names[0]) + " * " + link.format(o=o_names[0])
    else:
        chain = "sum_k dL/do_k * " + link.format(o="o_k")
    return _row(str(weight), chain, formula, expression, values, autograd)


def _row(
    weight: str,
    chain: str,
    formula: str,
    expression: sympy.Expr,
    values: dict[sympy.Symbol, float],
    autograd: dict[str, float],
) -> GradientRow:
    value = float(sympy.sympify(expression).xreplace(values))
    reference = autograd[weight]
    return GradientRow(
        weight, chain, formula, expression, value, reference, abs(value - reference) <= TOLERANCE
    )


def _factor_text(expression: sympy.Expr) -> str:
    """Return one factor as the course writes it: ``2(out - y)``, ``(out - y)``, ``W2_11``."""
    expression = sympy.sympify(expression)
    if expression.is_Add:
        content, primitive = expression.as_content_primitive()
        inner = sympy.sstr(primitive)
        if content == 1:
            return f"({inner})"
        return f"{sympy.sstr(content)}({inner})"
    return sympy.sstr(expression).replace("*", " ")


def _product_text(factors: Sequence[sympy.Expr]) -> str:
    return _join([_factor_text(f) for f in factors if sympy.sympify(f) != 1])


def _join(parts: Sequence[str]) -> str:
    kept = [p for p in parts if p != "1"]
    return " ".join(kept) if kept else "1"


def _autograd(
    W1: Tensor,
    W2: Tensor,
    b1: Tensor,
    b2: Tensor,
    x: Tensor,
    y: Tensor,
    loss: str,
    sigma: Any,
) -> tuple[dict[str, float], float]:
    """Return autograd's gradient of every parameter by name, and the loss, via PyTorch's losses."""
    import torch.nn.functional as F

    params = [t.clone().requires_grad_(True) for t in (W1, W2, b1, b2)]
    w1, w2, c1, c2 = params
    o = w2 @ sigma(w1 @ x + c1) + c2
    if loss == "mse":
        value = F.mse_loss(o, y, reduction="sum")
    elif loss == "bce":
        value = F.binary_cross_entropy_with_logits(o, y, reduction="sum")
    else:
        value = F.cross_entropy(o.unsqueeze(0), y.unsqueeze(0), reduction="sum")
    grads = torch.autograd.grad(value, params, allow_unused=True)  # step: no path to W1, b1
    wide = max(W1.shape[0], W1.shape[1], W2.shape[0]) > 9
    gradient = {}
    for prefix, param, grad in zip(("W1", "W2", "b1", "b2"), params, grads, strict=True):
        g = torch.zeros_like(param) if grad is None else grad
        if g.dim() == 2:
            for (row, column), v in zip(
                ((r, c) for r in range(g.shape[0]) for c in range(g.shape[1])),
                g.reshape(-1).tolist(),
                strict=True,
            ):
                gradient[_entry_name(prefix, row, column, wide)] = v
        else:
            for row, v in enumerate(g.tolist()):
                gradient[f"{prefix}_{row + 1}"] = v
    return gradient, float(value.detach())
