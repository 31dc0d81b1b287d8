"""``neuralab perceptron fit|scale|sigmoid-limit``: the perceptron and networks of step units."""

from __future__ import annotations

from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._options import OutputFormat
from neuralab.cli._render import render_rows
from neuralab.errors import NeuralabError

perceptron_app = typer.Typer(
    name="perceptron",
    help="The perceptron rule, and networks of step units: scaling and the sigmoid limit.",
    no_args_is_help=True,
)
app.add_typer(perceptron_app, name="perceptron")

_NETWORK_HELP = "Default: the course's XOR of step units (h1 = OR, h2 = AND, out = h1 AND NOT h2)."


def _numbers(text: str, name: str) -> list[float]:
    from neuralab.theory.matrices import parse_vector

    return parse_vector(text, name).tolist()


def _network(w1: str, b1: str, w2: str, b2: str) -> Any:
    from neuralab.theory.matrices import parse_matrix, parse_vector
    from neuralab.theory.perceptron import StepNetwork, xor_step_network

    if not (w1.strip() or b1.strip() or w2.strip() or b2.strip()):
        return xor_step_network()
    if not w1.strip():
        raise NeuralabError("--w1 is needed when any of --b1, --w2, --b2 is given")
    W1 = parse_matrix(w1, "--w1", shape_names=("hidden", "inputs"))
    layers = [(W1, parse_vector(b1, "--b1", length=W1.shape[0]) if b1.strip() else None)]
    if w2.strip():
        W2 = parse_matrix(w2, "--w2", shape=(None, W1.shape[0]), shape_names=("outputs", "hidden"))
        layers.append((W2, parse_vector(b2, "--b2", length=W2.shape[0]) if b2.strip() else None))
    elif b2.strip():
        raise NeuralabError("--b2 needs --w2 (the output layer's weights)")
    return StepNetwork(layers)


@perceptron_app.command("fit")
def fit_command(
    data: str = typer.Option(
        "xor", "--data", help="and, or, nand, xor, or a CSV file (features..., label per row)."
    ),
    lr: float = typer.Option(1.0, "--lr", help="Learning rate eta of w <- w + eta (y - y_hat) x."),
    max_iter: int = typer.Option(20, "--max-iter", help="Most epochs."),
    shuffle: bool = typer.Option(False, "--shuffle", help="A new random sample order each epoch."),
    seed: int = typer.Option(0, "--seed", help="Seed of the shuffled order."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """Train a perceptron and print w, b after every epoch, and the mistakes made in it.

    Rule: y_hat = step(w . x + b) (step(0) = 0); w <- w + lr (y - y_hat) x, b <- b + lr (y - y_hat).
    Training stops after an epoch without a mistake. AND, OR, NAND converge in a few epochs;
    XOR is not linearly separable and makes mistakes in every epoch.

    Example: neuralab perceptron fit --data and
    """
    from pathlib import Path

    from neuralab.report.tabular import Column
    from neuralab.theory.perceptron import (
        BOOLEAN_DATASETS,
        Perceptron,
        boolean_dataset,
        load_csv_dataset,
    )

    if data.strip().lower() in BOOLEAN_DATASETS:
        X, y = boolean_dataset(data)
    elif data.lower().endswith(".csv") or Path(data).exists():
        X, y = load_csv_dataset(data)
    else:
        X, y = boolean_dataset(data)  # raises: unknown data set, listing the valid ones
    if max_iter < 1:
        raise NeuralabError(f"--max-iter {max_iter} must be at least 1")
    model = Perceptron(lr=lr, max_iter=max_iter, shuffle=shuffle, random_state=seed).fit(X, y)
    rows = [
        {
            "epoch": r.epoch,
            "w": "(" + ", ".join(f"{v:g}" for v in r.coef) + ")",
            "b": r.intercept,
            "mistakes": r.mistakes,
        }
        for r in model.history_
    ]
    columns = [
        Column("epoch", "epoch"),
        Column("w", "w after the epoch", justify="left"),
        Column("b", "b", "g"),
        Column("mistakes", "mistakes"),
    ]
    render_rows(rows, columns, output_format, f"Perceptron on {data} ({len(X)} samples)")
    if output_format is OutputFormat.table or output_format is OutputFormat.markdown:
        accuracy = model.score(X, y)
        if model.converged_:
            print(
                f"converged after {model.n_iter_} epochs: an epoch without mistakes, "
                f"accuracy {accuracy:.0%}"
            )
        else:
            mistakes = sorted({r.mistakes for r in model.history_[-5:]})
            print(
                f"not converged in {model.n_iter_} epochs: the last epochs still made "
                f"{', '.join(map(str, mistakes))} mistakes (accuracy {accuracy:.0%}); no line "
                "w . x + b = 0 separates these classes"
            )
            repeat = _repeated_state(model.history_)
            if repeat is not None and not shuffle:
                first, again = repeat
                print(
                    f"the weights after epoch {again} equal those after epoch {first}, with "
                    "mistakes in between: the same order of samples repeats the same epochs, "
                    "so the rule cycles forever"
                )


def _repeated_state(history: list[Any]) -> tuple[int, int] | None:
    """Return (i, j), i < j, the first epochs ending in the same w, b with mistakes in epoch j."""
    seen: dict[tuple[tuple[float, ...], float], int] = {}
    for record in history:
        state = (record.coef, record.intercept)
        if state in seen and record.mistakes > 0:
            return seen[state], record.epoch
        seen.setdefault(state, record.epoch)
    return None


@perceptron_app.command("scale")
def scale_command(
    w1: str = typer.Option("", "--w1", help="W1, hidden x inputs. " + _NETWORK_HELP),
    b1: str = typer.Option("", "--b1", help="Biases of layer 1."),
    w2: str = typer.Option("", "--w2", help="W2, outputs x hidden (optional second layer)."),
    b2: str = typer.Option("", "--b2", help="Biases of layer 2."),
    c: str = typer.Option("-1,0,0.5,1,2,10,1000", "--c", help="The factors c, comma-separated."),
    n_inputs: int = typer.Option(1000, "--n-inputs", help="Random standard-normal inputs."),
    seed: int = typer.Option(0, "--seed", help="Seed of the inputs."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """Multiply every weight and bias of a step network by c and count the outputs that change.

    step(c a) = step(a) for c > 0: no output changes. c = 0 sends every unit to step(0) = 0;
    c < 0 flips every unit with a != 0.

    Example: neuralab perceptron scale --c -1,0,0.5,2,1000
    """
    from neuralab.report.tabular import Column
    from neuralab.theory.perceptron import scale_demo

    network = _network(w1, b1, w2, b2)
    demo = scale_demo(network, _numbers(c, "--c"), n_inputs, seed)
    rows = [
        {
            "c": r.c,
            "inputs": r.inputs,
            "changed": r.changed,
            "outputs": r.outputs,
            "fraction": r.changed_fraction,
        }
        for r in demo.rows
    ]
    columns = [
        Column("c", "c", "g"),
        Column("inputs", "inputs"),
        Column("outputs", "outputs compared"),
        Column("changed", "outputs changed"),
        Column("fraction", "fraction changed", ".3f"),
    ]
    render_rows(rows, columns, output_format, "Step network with weights and biases times c")
    if output_format is OutputFormat.table or output_format is OutputFormat.markdown:
        print(demo.conclusion)


@perceptron_app.command("sigmoid-limit")
def sigmoid_limit_command(
    w1: str = typer.Option("", "--w1", help="W1, hidden x inputs. " + _NETWORK_HELP),
    b1: str = typer.Option("", "--b1", help="Biases of layer 1."),
    w2: str = typer.Option("", "--w2", help="W2, outputs x hidden (optional second layer)."),
    b2: str = typer.Option("", "--b2", help="Biases of layer 2."),
    c: str = typer.Option("1,10,100,1000", "--c", help="The factors c, comma-separated."),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format"),
) -> None:
    """Replace step units by sigmoids with weights times c: the network tends to the step one.

    sigma(c a) -> step(a) for a != 0 as c -> inf, so the largest difference over the inputs
    {0,1}^n shrinks to 0. The input x = -b w / |w|^2 lies exactly on unit 1's line w . x + b = 0:
    there sigma(c 0) = 1/2 for every c, while step(0) = 0, and the difference stays.

    Example: neuralab perceptron sigmoid-limit --c 1,10,100,1000
    """
    from neuralab.report.tabular import Column
    from neuralab.theory.perceptron import sigmoid_limit

    network = _network(w1, b1, w2, b2)
    result = sigmoid_limit(network, _numbers(c, "--c"))
    layer, unit = result.boundary_unit
    point = "(" + ", ".join(f"{v:g}" for v in result.boundary_input) + ")"
    rows = [
        {
            "c": r.c,
            "max_difference": r.max_difference,
            "boundary_difference": r.boundary_difference,
            "boundary_unit_output": r.boundary_unit_output,
        }
        for r in result.rows
    ]
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
    render_rows(
        rows, columns, output_format, "Sigmoid network with weights times c vs step network"
    )
    if output_format is OutputFormat.table or output_format is OutputFormat.markdown:
        half = all(r.boundary_unit_output == 0.5 for r in result.rows)
        there = (
            "it outputs sigma(c 0) = 1/2 for every c"
            if half
            else "it sits where step jumps (its output is in the last column)"
        )
        print(
            f"x = {point} lies on the line of layer {layer} unit {unit}: w . x + b = "
            f"{result.boundary_pre_activation:g} exactly, so {there}; off the lines the smallest "
            f"|w . x + b| is {result.margin:g}, and the difference falls like "
            f"sigma(-c {result.margin:g})"
        )
