"""Tables of the theory bench: Boolean networks, activation properties, gradients, perceptrons.

Each function takes a result of :mod:`neuralab.theory` and returns the
:class:`~neuralab.report.tabular.Table` values a command prints, the computed conclusions as
notes. Rows hold raw values (JSON and CSV get the numbers); columns say how they are shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from neuralab.report.tabular import Column, Table

if TYPE_CHECKING:
    from neuralab.theory.activation_properties import ActivationProperties
    from neuralab.theory.boolean import BooleanNetwork, TruthTableResult
    from neuralab.theory.boolean_search import CandidateCheck, SearchResult
    from neuralab.theory.gradients import GradientReport
    from neuralab.theory.perceptron import Perceptron
    from neuralab.theory.step_network import ScaleDemo, SigmoidLimit


def _number(value: float) -> str:
    return f"{value:.4g}"


def _numbers(values: Sequence[float], digits: str = ".6g") -> str:
    return ", ".join(format(v, digits) for v in values)


# ----------------------------------------------------------------------------- Boolean networks
def truth_table(result: TruthTableResult) -> list[Table]:
    """Return the formula line, one row per input in {0,1}^n (inputs, hidden n, out), and the
    name of the function each output computes."""
    from neuralab.theory.boolean import EXACT_TOLERANCE
    from neuralab.theory.matrices import format_matrix

    network = result.network
    hidden = [f"n{h + 1}" for h in range(network.W1.shape[0])]
    outputs = ["out"] if network.W2.shape[0] == 1 else [f"out{k + 1}" for k in range(network.W2.shape[0])]  # fmt: skip
    rows = []
    for x, n, out in zip(
        result.inputs.tolist(), result.hidden.tolist(), result.outputs.tolist(), strict=True
    ):
        row: dict[str, Any] = dict(zip(result.input_names, (int(v) for v in x), strict=True))
        rows.append(row | dict(zip(hidden, n, strict=True)) | dict(zip(outputs, out, strict=True)))
    columns = [
        *(Column(name, name, justify="center") for name in result.input_names),
        *(Column(name, name, _number) for name in [*hidden, *outputs]),
    ]
    b1 = " + b1" if network.b1 is not None else ""
    b2 = " + b2" if network.b2 is not None else ""
    output = f"out = W2 n{b2}"
    if result.output_activation:
        output = f"out = {result.output_activation}(W2 n{b2})"
    weights = f"W1 = {format_matrix(network.W1)}, W2 = {format_matrix(network.W2)}"
    for name, bias in (("b1", network.b1), ("b2", network.b2)):
        if bias is not None:
            weights += f", {name} = {format_matrix(bias)}"
    header = f"n = {result.activation}(W1 x{b1}), {output}; {weights}"
    rule = ""
    if result.output_activation or result.tolerance != EXACT_TOLERANCE:
        rule = f" (outputs within {result.tolerance:g} of 0 or 1 count as 0 or 1)"
    notes = [f"{o} computes: {f}{rule}" for o, f in zip(outputs, result.names, strict=True)]
    return [Table([], [], notes=[header]), Table(rows, columns, notes=notes)]


def _network_row(number: int, network: BooleanNetwork) -> dict[str, Any]:
    from neuralab.theory.matrices import format_matrix

    row: dict[str, Any] = {"#": number, "W1": format_matrix(network.W1)}
    row["W2"] = format_matrix(network.W2)
    for name in ("b1", "b2"):
        bias = getattr(network, name)
        if bias is not None:
            row[name] = format_matrix(bias)
    return row


def _network_columns(rows: Sequence[dict[str, Any]]) -> list[Column]:
    columns = [Column("#"), Column("W1", justify="left"), Column("W2", justify="left")]
    return columns + [Column(k, justify="left") for k in ("b1", "b2") if any(k in r for r in rows)]


def search_table(result: SearchResult) -> list[Table]:
    """Return the count of networks computing the target and the first ones found."""
    bits = "".join(str(int(b)) for b in result.target_outputs.tolist())
    values = ", ".join(f"{v:g}" for v in result.values)
    summary = (
        f"{result.target} ({bits}) with {result.inputs} inputs, {result.hidden} "
        f"{result.activation} hidden units{', biases' if result.bias else ''}, weights from "
        f"{{{values}}}: {len(result.values)}^{result.weights_per_network} = {result.space:,} "
        f"networks tried, {result.count:,} compute {result.target} "
        f"({100 * result.count / result.space:.3g}%)"
    )
    rows = [_network_row(i, s) for i, s in enumerate(result.solutions, start=1)]
    tables = [Table([], [], notes=[summary])]
    if rows:
        title = f"the first {len(rows)} of {result.count:,}"
        tables.append(Table(rows, _network_columns(rows), title=title))
    return tables


def candidates_table(
    checks: Sequence[CandidateCheck], *, target: str, bits: str, activation: str
) -> Table:
    """Return, per candidate network, its outputs, the function it computes and whether it is
    the target."""
    rows = [
        _network_row(i, c.network)
        | {
            "outputs": " ".join(_number(v) for v in c.outputs.tolist()),
            "computes": c.computed,
            "is_target": c.computes_target,
        }
        for i, c in enumerate(checks, start=1)
    ]
    columns = _network_columns(rows) + [
        Column("outputs", f"outputs ({bits} wanted)", justify="left"),
        Column("computes", justify="left"),
        Column("is_target", f"= {target}?", _yes, justify="center"),
    ]
    count = sum(c.computes_target for c in checks)
    note = f"{count} of {len(checks)} candidates compute {target}"
    return Table(rows, columns, title=f"candidates for {target} ({activation} hidden units)",
                 notes=[note])  # fmt: skip


def _yes(value: bool) -> str:
    return "yes" if value else "no"


# ----------------------------------------------------------------------------- activations
def activation_table(table: Sequence[ActivationProperties]) -> Table:
    """Return every activation's measured properties; where f is not differentiable, the value
    autograd uses is a note below the table (mean f(x) is left out of the terminal's table, to
    fit)."""
    from neuralab.theory.activation_properties import properties_rows

    rows = properties_rows(table)
    number = ".3g"
    columns = [
        Column("name", "f", justify="left"),
        Column("range", "range", justify="left"),
        Column("zero_centred", "centred", justify="center"),
        Column("mean_output", "mean f(x)", _mean, terminal=False),
        Column("d0", "f'(0)", number),
        Column("d_minus5", "f'(-5)", number),
        Column("d_plus5", "f'(5)", number),
        Column("saturates", "saturates", justify="center"),
        Column("nonlinear", "non-linear", justify="center"),
        Column("monotonic", "monotonic", justify="center"),
        Column("differentiable", "diff'able", justify="center"),
    ]
    notes = [f"{r['name']}: {r['autograd_convention']}" for r in rows if r["autograd_convention"]]
    notes.append(
        "zero-centred: mean f(x) = 0 on a symmetric sample; saturates: |f'(+-5)| < 0.01 "
        "(vanishing gradients on that side); softmax: one output, two other logits at 0"
    )
    return Table(rows, columns, title="Activation properties (measured)", notes=notes)


def _mean(value: float) -> str:
    # a mean of -1e-17 is rounding, not a sign: show it as 0.000
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


# ----------------------------------------------------------------------------- gradients
def gradient_tables(report: GradientReport) -> list[Table]:
    """Return the forward pass, dL/dW of every weight (chain rule, formula, value, autograd's
    value), and whether every formula agrees with autograd."""
    forward = [
        f"sigma = {report.activation}; {report.loss_formula}",
        f"x = ({_numbers(report.x)}), z = W1 x + b1 = ({_numbers(report.z)}), "
        f"n = sigma(z) = ({_numbers(report.n)}), sigma'(z) = ({_numbers(report.sigma_prime)})",
        f"out = ({_numbers(report.out)}), y = ({_numbers(report.y)}), "
        f"L = {report.loss_value:.10g} (autograd {report.autograd_loss:.10g})",
    ]
    rows = [
        {"weight": r.weight, "chain": r.chain, "formula": r.formula, "value": r.value,
         "autograd": r.autograd, "match": r.match}
        for r in report.rows
    ]  # fmt: skip
    columns = [
        Column("weight", "dL/d", justify="left"),
        Column("chain", "chain rule", justify="left"),
        Column("formula", "formula", justify="left"),
        Column("value", "value", ".10g"),
        Column("autograd", "autograd", ".10g"),
        Column("match", "match", lambda ok: "yes" if ok else "NO", justify="center"),
    ]
    verdict = (
        f"all {len(rows)} formulas agree with autograd (largest difference "
        f"{report.max_difference:.2g})"
        if report.all_match
        else f"MISMATCH: largest difference {report.max_difference:.3g}"
    )
    return [
        Table([], [], notes=forward),
        Table(rows, columns, title="Partial derivatives of L", notes=[verdict]),
    ]


# ----------------------------------------------------------------------------- perceptrons
def perceptron_fit_table(
    model: Perceptron, *, data: str, samples: int, accuracy: float, shuffle: bool
) -> Table:
    """Return w, b after every epoch and its mistakes, and whether (and why not) it converged."""
    from neuralab.theory.perceptron import repeated_state

    rows = [
        {"epoch": r.epoch, "w": "(" + ", ".join(f"{v:g}" for v in r.coef) + ")",
         "b": r.intercept, "mistakes": r.mistakes}
        for r in model.history_
    ]  # fmt: skip
    columns = [
        Column("epoch", "epoch"),
        Column("w", "w after the epoch", justify="left"),
        Column("b", "b", "g"),
        Column("mistakes", "mistakes"),
    ]
    if model.converged_:
        notes = [
            f"converged after {model.n_iter_} epochs: an epoch without mistakes, "
            f"accuracy {accuracy:.0%}"
        ]
    else:
        mistakes = sorted({r.mistakes for r in model.history_[-5:]})
        notes = [
            f"not converged in {model.n_iter_} epochs: the last epochs still made "
            f"{', '.join(map(str, mistakes))} mistakes (accuracy {accuracy:.0%}); no line "
            "w . x + b = 0 separates these classes"
        ]
        repeat = repeated_state(model.history_)
        if repeat is not None and not shuffle:
            notes.append(
                f"the weights after epoch {repeat[1]} equal those after epoch {repeat[0]}, with "
                "mistakes in between: the same order of samples repeats the same epochs, "
                "so the rule cycles forever"
            )
    return Table(rows, columns, title=f"Perceptron on {data} ({samples} samples)", notes=notes)


def scale_table(demo: ScaleDemo) -> Table:
    """Return, per factor c, how many outputs of the step network change when scaled by c."""
    rows = [
        {"c": r.c, "inputs": r.inputs, "outputs": r.outputs, "changed": r.changed,
         "fraction": r.changed_fraction}
        for r in demo.rows
    ]  # fmt: skip
    columns = [
        Column("c", "c", "g"),
        Column("inputs", "inputs"),
        Column("outputs", "outputs compared"),
        Column("changed", "outputs changed"),
        Column("fraction", "fraction changed", ".3f"),
    ]
    title = "Step network with weights and biases times c"
    return Table(rows, columns, title=title, notes=[demo.conclusion])


def sigmoid_limit_table(result: SigmoidLimit) -> Table:
    """Return the largest difference between the sigmoid network (weights times c) and the step
    network, off the units' lines and on one of them."""
    layer, unit = result.boundary_unit
    point = "(" + ", ".join(f"{v:g}" for v in result.boundary_input) + ")"
    rows = [
        {"c": r.c, "max_difference": r.max_difference,
         "boundary_difference": r.boundary_difference,
         "boundary_unit_output": r.boundary_unit_output}
        for r in result.rows
    ]  # fmt: skip
    columns = [
        Column("c", "c", "g"),
        Column(
            "max_difference",
            f"largest difference to step, {result.inputs} inputs off the lines",
            ".3g",
        ),
        Column("boundary_difference", f"difference at x = {point}", ".3g"),
        Column("boundary_unit_output", f"layer {layer} unit {unit} output at x = {point}", ".6g"),
    ]
    half = all(r.boundary_unit_output == 0.5 for r in result.rows)
    there = (
        "it outputs sigma(c 0) = 1/2 for every c"
        if half
        else "it sits where step jumps (its output is in the last column)"
    )
    note = (
        f"x = {point} lies on the line of layer {layer} unit {unit}: w . x + b = "
        f"{result.boundary_pre_activation:g} exactly, so {there}; off the lines the smallest "
        f"|w . x + b| is {result.margin:g}, and the difference falls like "
        f"sigma(-c {result.margin:g})"
    )
    title = "Sigmoid network with weights times c vs step network"
    return Table(rows, columns, title=title, notes=[note])
