"""``neuralab logic``: Boolean functions computed by small networks, evaluated and searched for."""

from __future__ import annotations

from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._emit import emit, format_option
from neuralab.errors import NeuralabError

logic_app = typer.Typer(
    name="logic",
    help="Boolean functions and two-layer networks: out = W2 f(W1 x + b1) + b2 on x in {0,1}^n.",
    no_args_is_help=True,
)
app.add_typer(logic_app, name="logic")

_ACTIVATION_HELP = "Hidden activation f from the activation table: relu, step, sigmoid, ..."
_OUTPUT_HELP = "Output activation g (default: none, the output unit is linear as in the course)."
_TOLERANCE_HELP = (
    "An output within this of 0 or 1 counts as 0 or 1 (default 1e-6; 0.05 with a sigmoid output)."
)


@logic_app.command("eval")
def eval_command(
    w1: str = typer.Option(..., "--w1", help="W1, hidden x inputs, e.g. '[[-1,1],[1,-1]]'."),
    w2: str = typer.Option(..., "--w2", help="W2, outputs x hidden, e.g. '[[1,1]]'."),
    b1: str | None = typer.Option(
        None, "--b1", help="b1, one entry per hidden unit, e.g. '[0,-1]'."
    ),
    b2: str | None = typer.Option(None, "--b2", help="b2, one entry per output."),
    activation: str = typer.Option("relu", "--activation", help=_ACTIVATION_HELP),
    output_activation: str | None = typer.Option(None, "--output-activation", help=_OUTPUT_HELP),
    tolerance: float | None = typer.Option(None, "--tolerance", help=_TOLERANCE_HELP),
    output_format: str = format_option(),
) -> None:
    """Evaluate a two-layer network on every input in {0,1}^n and name the function it computes.

    n = f(W1 x + b1) (hidden values n1, n2, ...), out = W2 n + b2. W1 is hidden x inputs,
    W2 is outputs x hidden. Inputs are listed 00, 01, 10, 11 (A first); the outputs read in that
    order name the function (0110 = XOR); all 16 two-input functions are named, "not Boolean"
    when an output is not 0 or 1.

    Example (the course's XOR): neuralab logic eval --w1 "[[-1,1],[1,-1]]" --w2 "[[1,1]]"
    """
    from neuralab.theory.activation_names import checked_activation
    from neuralab.theory.matrices import matrix_rows, vector_entries

    # every value is checked before torch (the truth table's computation) is imported
    W1 = matrix_rows(w1, "--w1")
    hidden, inputs = len(W1), len(W1[0])
    if inputs > 16:
        raise NeuralabError(f"--w1 has {inputs} columns (inputs); at most 16 are supported")
    W2 = matrix_rows(w2, "--w2", shape=(None, hidden), shape_names=("outputs", "hidden"))
    bias1 = None if b1 is None else vector_entries(b1, "--b1", length=hidden, length_name="hidden")
    bias2 = None
    if b2 is not None:
        bias2 = vector_entries(b2, "--b2", length=len(W2), length_name="outputs")
    for name in (activation, output_activation):
        if name is not None:
            checked_activation(name)
    from neuralab.report.theory_tables import truth_table
    from neuralab.theory.boolean import evaluate_network

    result = evaluate_network(
        W1, W2, bias1, bias2, activation, output_activation=output_activation, tolerance=tolerance
    )
    emit(truth_table(result), output_format)


@logic_app.command("search")
def search_command(
    target: str = typer.Argument(
        ..., help="The function: OR, XOR, 'A AND NOT B', ... or its bits, e.g. 0110."
    ),
    values: str = typer.Option(
        "-1,0,1", "--values", help="The values every weight may take, e.g. -1,0,1."
    ),
    hidden: int = typer.Option(2, "--hidden", help="Number of hidden units."),
    bias: bool = typer.Option(False, "--bias/--no-bias", help="Search biases b1, b2 too."),
    inputs: int | None = typer.Option(
        None, "--inputs", help="Number of inputs n (default 2, or from the bits)."
    ),
    activation: str = typer.Option("relu", "--activation", help=_ACTIVATION_HELP),
    output_activation: str | None = typer.Option(None, "--output-activation", help=_OUTPUT_HELP),
    tolerance: float | None = typer.Option(None, "--tolerance", help=_TOLERANCE_HELP),
    limit: int = typer.Option(10, "--limit", help="List at most this many of the networks found."),
    check: str | None = typer.Option(
        None,
        "--check",
        help="Check candidates instead of searching: JSON '[[W1, W2], ...]' or a JSON file.",
    ),
    candidate: list[str] = typer.Option(
        [], "--candidate", help="Check one candidate 'W1 | W2' or 'W1 | W2 | b1 | b2' (repeatable)."
    ),
    output_format: str = format_option(),
) -> None:
    """Find every network with weights from a value set that computes a Boolean function.

    All len(values)^(number of weights) networks n = f(W1 x [+ b1]), out = W2 n [+ b2] are
    evaluated on the whole truth table (refused above 10,000,000, saying how many); those that
    compute the target are counted and the first --limit listed. Networks that only swap hidden
    units count separately. With --check or --candidate, only the given networks are checked.

    Example: neuralab logic search OR --values -1,0,1 --hidden 2

    Example: neuralab logic search XOR --candidate "[[-1,1],[1,-1]] | [[1,1]]" --candidate "1,1;1,1 | 1,-1"
    """
    if limit < 0:
        raise NeuralabError(f"--limit {limit} must be >= 0")
    from neuralab.theory.activation_names import checked_activation
    from neuralab.theory.boolean_names import check_target
    from neuralab.theory.matrices import vector_entries

    check_target(target, inputs)  # the target and the names are checked before torch
    for name in (activation, output_activation):
        if name is not None:
            checked_activation(name)
    choices = tuple(vector_entries(values, "--values"))
    from neuralab.report.theory_tables import candidates_table, search_table
    from neuralab.theory.boolean import target_bits
    from neuralab.theory.boolean_candidates import parse_candidates
    from neuralab.theory.boolean_search import check_candidates, search_weights

    if check is not None or candidate:
        name, bits = target_bits(target, inputs)
        checks = check_candidates(
            target, parse_candidates(check, candidate), inputs=inputs, activation=activation,
            output_activation=output_activation, tolerance=tolerance,
        )  # fmt: skip
        bits_text = "".join(str(int(b)) for b in bits.tolist())
        emit(candidates_table(checks, target=name, bits=bits_text, activation=activation),
             output_format)  # fmt: skip
        return
    with _progress() as bar:
        task = bar.add_task(f"searching {target}", total=None)
        result = search_weights(
            target, choices, hidden, bias, inputs, activation=activation,
            output_activation=output_activation, tolerance=tolerance, keep=limit,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    emit(search_table(result), output_format)


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from neuralab.console import stderr_console

    console = stderr_console()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    )  # fmt: skip
