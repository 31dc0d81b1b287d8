"""Tables of the course's claims checked by a command: one SAM step, softmax in floating point,
the symbolic receptive field, the sigmoid limit case by case, translation and convolution.

Each function takes a library result and returns a list of :class:`Table` (a table without
columns is text: its notes); the CLI prints them with its one ``emit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.report.tabular import Column, Table

TOLERANCE = 1e-12  # float64: differences below this are rounding, and vary with the machine


def _vector(values: Sequence[float], digits: int = 6) -> str:
    return "(" + ", ".join(f"{v + 0.0:.{digits}g}" for v in values) + ")"  # no -0


def _text(*lines: str) -> Table:
    return Table([], [], notes=list(lines))


def sam_step_tables(result: Any) -> list[Table]:
    """Return the SAM step as a quantity/formula/value table, then the L2-regularised forms."""
    loss = (
        "L(w) = 1/n sum_i (w . x_i - y_i)^2"
        if result.loss == "mse"
        else "L(w) = mean BCE(sigmoid(w . x_i), y_i)"
    )
    gradient = "2/n X^T (X w - y)" if result.loss == "mse" else "1/n X^T (sigmoid(X w) - y)"
    rows = [
        {"name": "w", "formula": "given", "value": _vector(result.w)},
        {"name": "L(w)", "formula": loss, "value": f"{result.loss_at_w:.6g}"},
        {
            "name": "g = dL/dw",
            "formula": gradient,
            "value": _vector(result.g),
            "check": f"autograd {_vector(result.g_autograd)}",
        },
        {"name": "||g||", "formula": "sqrt(sum g_i^2)", "value": f"{result.g_norm:.6g}"},
        {
            "name": "eps",
            "formula": "rho g / ||g||",
            "value": _vector(result.eps),
            "check": f"||eps|| = {result.eps_norm:.6g} = rho",
        },
        {
            "name": "L(w + eps)",
            "formula": "the loss at the worst point of the ball",
            "value": f"{result.loss_at_w_eps:.6g}",
            "check": f"{result.loss_at_w_eps - result.loss_at_w:+.6g} vs L(w)",
        },
        {
            "name": "g_SAM",
            "formula": "dL/dw at w + eps",
            "value": _vector(result.g_at_w_eps),
            "check": f"autograd {_vector(result.g_at_w_eps_autograd)}",
        },
        {"name": "GD step", "formula": "w - eta g", "value": _vector(result.sgd_step)},
        {
            "name": "SAM step",
            "formula": "w - eta g_SAM",
            "value": _vector(result.sam_step),
            "check": f"SAM(SGD) optimiser {_vector(result.sam_optimizer)}",
        },
    ]
    columns = [
        Column("name", "quantity", justify="left"),
        Column("formula", "formula", justify="left"),
        Column("value", "value", justify="left"),
        Column("check", "check", justify="left"),
    ]
    head = _text(
        f"one linear unit out = w . x on {len(result.x)} examples; loss {result.loss}, "
        f"rho = {result.rho:g}, eta = {result.lr:g}"
    )
    tables = [head, Table(rows, columns, title="One SAM step")]
    if result.weight_decay:
        lam = result.weight_decay
        regular = [
            {
                "name": "g_J",
                "formula": f"g + lambda w, lambda = {lam:g}",
                "value": _vector(result.g_j),
                "check": f"autograd of J {_vector(result.g_j_autograd)}",
            },
            {"name": "eps_J", "formula": "rho g_J / ||g_J||", "value": _vector(result.eps_j)},
            {
                "name": "SAM on J",
                "formula": "w - eta (dL/dw(w + eps_J) + lambda (w + eps_J))",
                "value": _vector(result.inside_step),
                "check": f"autograd {_vector(result.inside_autograd)}",
            },
            {
                "name": "decoupled",
                "formula": "w - eta (dL/dw(w + eps) + lambda w)",
                "value": _vector(result.decoupled_step),
                "check": f"SAM(SGD, weight_decay) {_vector(result.decoupled_optimizer)}",
            },
        ]
        gap = max(
            abs(a - b) for a, b in zip(result.inside_step, result.decoupled_step, strict=True)
        )
        tables.append(
            Table(
                regular,
                columns,
                title="With L2: J(w) = L(w) + lambda/2 ||w||^2",
                notes=[f"the two forms differ by up to {gap:.3g} per weight after one step"],
            )
        )
    difference = result.largest_difference
    shown = f"{difference:.3g}" if difference >= TOLERANCE else f"below {TOLERANCE:g}"
    tables.append(
        _text(f"check: largest difference to autograd and to the SAM optimiser {shown} (float64)")
    )
    return tables


def softmax_tables(report: Any) -> list[Table]:
    """Return one row per (logits, dtype): the outputs, abs(sum - 1), exact 0s and 1s, and the
    cross-entropy of the least likely class through log(softmax) and through log_softmax;
    notes say where the naive formula gave NaN and where the gradient was not finite."""
    rows = [
        {
            "logits": _vector(row.logits, 4),
            "dtype": row.dtype,
            "softmax": _vector(row.probabilities, 4),
            "sum_error": abs(row.total - 1.0),
            "zeros": row.zeros,
            "ones": row.ones,
            "ce_log": row.cross_entropy_via_log,
            "ce_log_softmax": row.cross_entropy_via_log_softmax,
        }
        for row in report.rows
    ]
    columns = [
        Column("logits", "z", justify="left"),
        Column("dtype", justify="left"),
        Column("softmax", "softmax(z)", justify="left"),
        Column("sum_error", "abs(sum - 1)", ".2g"),
        Column("zeros", "= 0"),
        Column("ones", "= 1"),
        Column("ce_log", "-log(softmax)", ".6g"),
        Column("ce_log_softmax", "-log_softmax", ".6g"),
    ]

    def which(selected: list[Any]) -> str:
        return "; ".join(f"{_vector(r.logits, 4)} in {r.dtype}" for r in selected) or "none"

    broken = [r for r in report.rows if not r.open_interval]
    notes = [
        f"{len(broken)} of {len(report.rows)} rows have an output of exactly 0 or 1 (= 0, = 1): "
        "in exact arithmetic every output lies strictly between 0 and 1",
        "-log(softmax), -log_softmax: the cross-entropy of the least likely class (smallest z); "
        "its gradient through log(softmax) is not finite for "
        + which([r for r in report.rows if not r.gradient_finite]),
        "the naive e^z / sum e^z gives NaN for "
        + which([r for r in report.rows if any(v != v for v in r.naive)]),
    ]
    return [Table(rows, columns, title="softmax(z)_k = e^z_k / sum_j e^z_j", notes=notes)]


def receptive_derivation_tables(derivation: Any) -> list[Table]:
    """Return the per-layer recursion and closed form, the identical-layer case and examples."""
    rows = [
        {
            "layer": layer.layer,
            "recursion": str(layer.recursion),
            "closed": str(layer.closed_form),
            "difference": str(layer.difference),
            "jump": str(layer.jump),
        }
        for layer in derivation.layers
    ]
    dilation = " d_l" if derivation.dilation else ""
    columns = [
        Column("layer", "l"),
        Column("recursion", f"r_l = r_(l-1) + (k_l - 1){dilation} j_(l-1)", justify="left"),
        Column("closed", f"1 + sum_(i<=l) (k_i - 1){dilation} prod_(m<i) s_m", justify="left"),
        Column("difference", "simplify(difference)", justify="center"),
        Column("jump", "j_l", justify="left"),
    ]
    examples = [
        {"k": k, "s": s, "d": d, "sizes": ", ".join(str(r) for r in sizes)}
        for k, s, d, sizes in derivation.examples
    ]
    example_columns = [
        Column("k"),
        Column("s"),
        Column("d"),
        Column("sizes", f"r after layers 1..{len(derivation.layers)}", justify="left"),
    ]
    verdict = "equal" if derivation.all_equal else "NOT equal"
    return [
        Table(rows, columns, title="Receptive field: recursion vs closed form (sympy)"),
        _text(
            f"identical layers, any depth L: r(L) = {derivation.uniform} (s != 1, by "
            f"sympy.summation: difference {derivation.uniform_sum}); r(L + 1) - r(L) - "
            f"(k - 1) d s^L = {derivation.uniform_step}, r(0) - 1 = {derivation.uniform_base}",
            f"s = 1: r(L) = {derivation.stride_one} by summation, {derivation.stride_one_rsolve} "
            "by sympy.rsolve",
        ),
        Table(examples, example_columns, title="Identical layers, substituted"),
        _text(f"recursion and closed form: {verdict} for every layer and every depth"),
    ]


def sigmoid_case_tables(report: Any) -> list[Table]:
    """Return sigma(c z) per case and c, with the exact limit and step(z)."""
    rows = []
    for case in report.cases:
        row: dict[str, Any] = {
            "unit": f"w = {_vector(case.w, 3)}, b = {case.b:g}",
            "x": _vector(case.x, 3),
            "z": case.z,
            "sign": case.sign,
            "limit": str(case.limit),
            "step": case.step,
        }
        for index, value in enumerate(case.outputs):
            row[f"c{index}"] = value
        rows.append(row)
    columns = [
        Column("unit", justify="left"),
        Column("x", justify="left"),
        Column("z", "z = w . x + b", "g"),
        Column("sign", "z", justify="center"),
        *(Column(f"c{i}", f"sigma({c:g} z)", ".4g") for i, c in enumerate(report.c_values)),
        Column("limit", "limit c -> inf", justify="center"),
        Column("step", "step(z)"),
    ]
    return [Table(rows, columns, title="sigma(c (w . x + b)) as c grows")]


def translation_tables(report: Any) -> list[Table]:
    """Return the equivariance/invariance comparisons and the strict-inclusion table."""
    rows = [
        {
            "operation": row.operation,
            "statement": row.statement,
            "shift": f"{row.shift[0]},{row.shift[1]}",
            "region": row.region,
            "difference": row.max_difference if not row.holds else 0.0,
            "unchanged": row.unchanged,
            "holds": "yes" if row.holds else "NO",
        }
        for row in report.rows
    ]
    columns = [
        Column("operation", justify="left"),
        Column("statement", "compared", justify="left"),
        Column("shift", "T shifts by", justify="center"),
        Column("region", justify="left"),
        Column("difference", "max |left - right|", ".3g"),
        Column("unchanged", "equal", ".0%"),
        Column("holds", justify="center"),
    ]
    inclusion = [
        {
            "matrix": row.name,
            "residual": row.relative_residual if not row.is_convolution else 0.0,
            "kernel": "; ".join(_vector(r, 3) for r in row.best_kernel),
            "conv": "yes" if row.is_convolution else "NO",
        }
        for row in report.inclusion
    ]
    inclusion_columns = [
        Column("matrix", "dense matrix W", justify="left"),
        Column("residual", "||W - A(w*)|| / ||W||", ".3g"),
        Column("kernel", "best kernel w*", justify="left"),
        Column("conv", "a convolution", justify="center"),
    ]
    n, k = report.input_size, report.inclusion_kernel
    return [
        Table(
            rows,
            columns,
            title=f"Translations of a random {report.size}x{report.size} image (float64)",
            notes=[f"differences below {TOLERANCE:g} (rounding) are shown as 0"],
        ),
        Table(
            inclusion,
            inclusion_columns,
            title=f"Dense layers a {k}x{k} convolution can express ({n}x{n} input)",
            notes=[
                f"a dense {(n - k + 1) ** 2}x{n * n} matrix has {report.dense_dimension} free "
                f"entries; the matrices A of all {k}x{k} kernels span {report.conv_dimension} "
                "dimensions of them: convolutions are a strict subset of dense layers"
            ],
        ),
    ]


__all__ = [
    "receptive_derivation_tables",
    "sam_step_tables",
    "sigmoid_case_tables",
    "softmax_tables",
    "translation_tables",
]
