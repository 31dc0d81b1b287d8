"""``neuralab logic``: Boolean functions computed by small networks, evaluated and searched for."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._options import OutputFormat
from neuralab.cli._render import render_rows
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


def _number(value: float) -> str:
    return f"{value:.4g}"


def _check_activation(name: str | None, option: str) -> None:
    if name is None:
        return
    from neuralab.theory.activations import list_activations

    try:
        from neuralab.theory.activations import get_activation

        get_activation(name)
    except NeuralabError:
        raise NeuralabError(
            f"{option} {name!r} is unknown; valid: {', '.join(list_activations())}"
        ) from None


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
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="table, json, csv or markdown."
    ),
) -> None:
    """Evaluate a two-layer network on every input in {0,1}^n and name the function it computes.

    n = f(W1 x + b1) (hidden values n1, n2, ...), out = W2 n + b2. W1 is hidden x inputs,
    W2 is outputs x hidden. Inputs are listed 00, 01, 10, 11 (A first); the outputs read in that
    order name the function (0110 = XOR); all 16 two-input functions are named, "not Boolean"
    when an output is not 0 or 1.

    Example (the course's XOR): neuralab logic eval --w1 "[[-1,1],[1,-1]]" --w2 "[[1,1]]"
    """
    from neuralab.theory.matrices import parse_matrix, parse_vector

    W1 = parse_matrix(w1, "--w1")
    hidden, inputs = W1.shape
    if inputs > 16:
        raise NeuralabError(f"--w1 has {inputs} columns (inputs); at most 16 are supported")
    W2 = parse_matrix(w2, "--w2", shape=(None, hidden), shape_names=("outputs", "hidden"))
    bias1 = None if b1 is None else parse_vector(b1, "--b1", length=hidden, length_name="hidden")
    bias2 = None
    if b2 is not None:
        bias2 = parse_vector(b2, "--b2", length=W2.shape[0], length_name="outputs")
    _check_activation(activation, "--activation")
    _check_activation(output_activation, "--output-activation")

    from neuralab.report.tabular import Column
    from neuralab.theory.boolean import evaluate_network
    from neuralab.theory.matrices import format_matrix

    result = evaluate_network(
        W1, W2, bias1, bias2, activation, output_activation=output_activation, tolerance=tolerance
    )
    hidden_names = [f"n{h + 1}" for h in range(hidden)]
    output_names = ["out"] if W2.shape[0] == 1 else [f"out{k + 1}" for k in range(W2.shape[0])]
    rows = []
    for x, n, out in zip(
        result.inputs.tolist(), result.hidden.tolist(), result.outputs.tolist(), strict=True
    ):
        row: dict[str, Any] = dict(zip(result.input_names, (int(v) for v in x), strict=True))
        row |= dict(zip(hidden_names, n, strict=True)) | dict(zip(output_names, out, strict=True))
        rows.append(row)
    columns = [
        *(Column(name, name, justify="center") for name in result.input_names),
        *(Column(name, name, _number) for name in hidden_names),
        *(Column(name, name, _number) for name in output_names),
    ]
    if output_format is OutputFormat.json:
        from neuralab.report.tabular import to_json

        print(
            to_json(
                {
                    "rows": rows,
                    "functions": dict(zip(output_names, result.names, strict=True)),
                    "tolerance": result.tolerance,
                }
            )
        )
        return
    output_text = "out = W2 n" + (" + b2" if bias2 is not None else "")
    if output_activation:
        output_text = f"out = {output_activation}(W2 n{' + b2' if bias2 is not None else ''})"
    formula = f"n = {activation}(W1 x{' + b1' if bias1 is not None else ''}), {output_text}"
    if output_format is OutputFormat.table:
        from neuralab.console import stdout_console

        stdout_console().print(
            f"{formula}; W1 = {format_matrix(W1)}, W2 = {format_matrix(W2)}"
            + (f", b1 = {format_matrix(bias1)}" if bias1 is not None else "")
            + (f", b2 = {format_matrix(bias2)}" if bias2 is not None else ""),
            markup=False,
            soft_wrap=True,
        )
    render_rows(rows, columns, output_format, None)
    if output_format in (OutputFormat.table, OutputFormat.markdown):
        rule = ""
        if output_activation or tolerance is not None:
            rule = f" (outputs within {result.tolerance:g} of 0 or 1 count as 0 or 1)"
        for name, function in zip(output_names, result.names, strict=True):
            print(f"{name} computes: {function}{rule}")


def _values(text: str) -> tuple[float, ...]:
    from neuralab.theory.matrices import parse_vector

    return tuple(parse_vector(text, "--values").tolist())


def _matrix_from(value: Any, name: str, **kwargs: Any) -> Any:
    from neuralab.theory.matrices import parse_matrix

    text = value if isinstance(value, str) else json.dumps(value)
    return parse_matrix(text, name, **kwargs)


def _vector_from(value: Any, name: str) -> Any:
    from neuralab.theory.matrices import parse_vector

    return parse_vector(value if isinstance(value, str) else json.dumps(value), name)


def _candidate(parts: list[Any], number: int) -> Any:
    """Return a BooleanNetwork from [W1, W2] or [W1, W2, b1, b2] (text or nested lists)."""
    from neuralab.theory.boolean import BooleanNetwork

    if len(parts) not in (2, 3, 4):
        raise NeuralabError(
            f"candidate {number} has {len(parts)} parts; expected W1 | W2 or W1 | W2 | b1 | b2"
        )
    W1 = _matrix_from(parts[0], f"candidate {number} W1")
    W2 = _matrix_from(parts[1], f"candidate {number} W2")
    b1 = _vector_from(parts[2], f"candidate {number} b1") if len(parts) > 2 else None
    b2 = _vector_from(parts[3], f"candidate {number} b2") if len(parts) > 3 else None
    return BooleanNetwork(W1, W2, b1, b2)


def _is_matrix(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and isinstance(value[0], list)
        and bool(value[0])
        and not isinstance(value[0][0], (list, dict))
    )


def parse_candidates(check: str | None, candidate: list[str]) -> list[Any]:
    """Return the candidate networks of ``--check`` (JSON text or file) and ``--candidate``.

    ``--check``: a list of candidates, each ``[W1, W2]``, ``[W1, W2, b1, b2]`` or
    ``{"w1": ..., "w2": ..., "b1": ..., "b2": ...}`` (a single ``[W1, W2]`` pair also works),
    given inline or as the path of a JSON file. ``--candidate "W1 | W2 [| b1 | b2]"``: one
    network, repeatable, each part a matrix as for ``--w1``.
    """
    networks = []
    if check is not None:
        path = Path(check)
        text = path.read_text() if path.is_file() else check
        try:
            data = json.loads(text)
        except ValueError:
            try:
                data = ast.literal_eval(text.strip())
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                raise NeuralabError(
                    f"--check {check[:80]!r} is neither a JSON file nor a list of candidates "
                    "like '[[W1, W2], [W1, W2]]'"
                ) from None
        if (
            isinstance(data, (list, tuple))
            and len(data) in (2, 4)
            and all(_is_matrix(d) or (i >= 2 and isinstance(d, list)) for i, d in enumerate(data))
        ):
            data = [data]  # one [W1, W2] pair rather than a list of pairs
        if not isinstance(data, (list, tuple)) or not data:
            raise NeuralabError(
                f"--check must hold a non-empty list of candidates; got {type(data).__name__}"
            )
        for number, item in enumerate(data, start=1):
            if isinstance(item, dict):
                keys = {k.lower(): v for k, v in item.items()}
                if not {"w1", "w2"} <= set(keys) or set(keys) - {"w1", "w2", "b1", "b2"}:
                    raise NeuralabError(
                        f"candidate {number} has keys {sorted(item)}; expected w1, w2 and optionally b1, b2"
                    )
                item = [keys[k] for k in ("w1", "w2", "b1", "b2") if k in keys]
            if not isinstance(item, (list, tuple)):
                raise NeuralabError(
                    f"candidate {number} is {item!r}; expected [W1, W2] or [W1, W2, b1, b2]"
                )
            networks.append(_candidate(list(item), number))
    for text in candidate:
        networks.append(_candidate([part.strip() for part in text.split("|")], len(networks) + 1))
    return networks


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
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="table, json, csv or markdown."
    ),
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
    _check_activation(activation, "--activation")
    _check_activation(output_activation, "--output-activation")
    from neuralab.report.tabular import Column
    from neuralab.theory.boolean import check_candidates, search_weights, target_bits
    from neuralab.theory.matrices import format_matrix

    name, bits = target_bits(target, inputs)
    bits_text = "".join(str(int(b)) for b in bits.tolist())

    def network_row(number: int, network: Any) -> dict[str, Any]:
        row = {"#": number, "W1": format_matrix(network.W1), "W2": format_matrix(network.W2)}
        if network.b1 is not None:
            row["b1"] = format_matrix(network.b1)
        if network.b2 is not None:
            row["b2"] = format_matrix(network.b2)
        return row

    if check is not None or candidate:
        networks = parse_candidates(check, candidate)
        checks = check_candidates(
            target, networks, inputs=inputs, activation=activation,
            output_activation=output_activation, tolerance=tolerance,
        )  # fmt: skip
        rows = [
            network_row(i, c.network)
            | {
                "outputs": " ".join(_number(v) for v in c.outputs.tolist()),
                "computes": c.computed,
                "is_target": "yes" if c.computes_target else "no",
            }
            for i, c in enumerate(checks, start=1)
        ]
        columns = [Column("#"), Column("W1", justify="left"), Column("W2", justify="left")]
        columns += [Column(k, justify="left") for k in ("b1", "b2") if any(k in r for r in rows)]
        columns += [
            Column("outputs", f"outputs ({bits_text} wanted)", justify="left"),
            Column("computes", justify="left"),
            Column("is_target", f"= {name}?", justify="center"),
        ]
        render_rows(
            rows, columns, output_format, f"candidates for {name} ({activation} hidden units)"
        )
        if output_format is OutputFormat.table:
            print(
                f"{sum(c.computes_target for c in checks)} of {len(checks)} candidates compute {name}"
            )
        return

    from neuralab.theory.matrices import parse_vector

    choices = tuple(parse_vector(values, "--values").tolist())
    progress_bar = _progress()
    with progress_bar as bar:
        task = bar.add_task(f"searching {name}", total=None)
        result = search_weights(
            target, choices, hidden, bias, inputs, activation=activation,
            output_activation=output_activation, tolerance=tolerance, keep=limit,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    rows = [network_row(i, s) for i, s in enumerate(result.solutions, start=1)]
    columns = [Column("#"), Column("W1", justify="left"), Column("W2", justify="left")]
    if bias:
        columns += [Column("b1", justify="left"), Column("b2", justify="left")]
    if output_format is OutputFormat.json:
        from neuralab.report.tabular import to_json

        print(to_json({
            "target": name, "truth_table": bits_text, "values": list(result.values),
            "hidden": hidden, "bias": bias, "weights": result.weights_per_network,
            "space": result.space, "count": result.count, "listed": rows,
        }))  # fmt: skip
        return
    summary = (
        f"{name} ({bits_text}) with {result.inputs} inputs, {hidden} {activation} hidden units"
        f"{', biases' if bias else ''}, weights from {{{', '.join(f'{v:g}' for v in result.values)}}}: "
        f"{len(result.values)}^{result.weights_per_network} = {result.space:,} networks tried, "
        f"{result.count:,} compute {name} ({100 * result.count / result.space:.3g}%)"
    )
    if output_format is OutputFormat.table:
        print(summary)
    if rows:
        render_rows(rows, columns, output_format, f"the first {len(rows)} of {result.count:,}")


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from neuralab.console import stderr_console

    console = stderr_console()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    )  # fmt: skip
