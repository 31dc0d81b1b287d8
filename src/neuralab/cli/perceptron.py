"""``neuralab perceptron fit|scale|sigmoid-limit``: the perceptron and networks of step units."""

from __future__ import annotations

from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._emit import emit, format_option
from neuralab.errors import NeuralabError

perceptron_app = typer.Typer(
    name="perceptron",
    help="The perceptron rule, and networks of step units: scaling and the sigmoid limit.",
    no_args_is_help=True,
)
app.add_typer(perceptron_app, name="perceptron")

_NETWORK_HELP = "Default: the course's XOR of step units (h1 = OR, h2 = AND, out = h1 AND NOT h2)."


def _numbers(text: str, name: str) -> list[float]:
    from neuralab.theory.matrices import vector_entries

    return vector_entries(text, name)


def _layers(w1: str, b1: str, w2: str, b2: str) -> list[tuple[Any, Any]] | None:
    """Return the layers (W, b) of the options, checked without torch; None when none is given
    (the course's XOR)."""
    from neuralab.theory.matrices import matrix_rows, vector_entries

    if not (w1.strip() or b1.strip() or w2.strip() or b2.strip()):
        return None
    if not w1.strip():
        raise NeuralabError("--w1 is needed when any of --b1, --w2, --b2 is given")
    W1 = matrix_rows(w1, "--w1", shape_names=("hidden", "inputs"))
    layers: list[tuple[Any, Any]] = [
        (W1, vector_entries(b1, "--b1", length=len(W1)) if b1.strip() else None)
    ]
    if w2.strip():
        W2 = matrix_rows(w2, "--w2", shape=(None, len(W1)), shape_names=("outputs", "hidden"))
        layers.append((W2, vector_entries(b2, "--b2", length=len(W2)) if b2.strip() else None))
    elif b2.strip():
        raise NeuralabError("--b2 needs --w2 (the output layer's weights)")
    return layers


def _network(layers: list[tuple[Any, Any]] | None) -> Any:
    from neuralab.theory.step_network import StepNetwork, xor_step_network

    return xor_step_network() if layers is None else StepNetwork(layers)


@perceptron_app.command("fit")
def fit_command(
    data: str = typer.Option(
        "xor", "--data", help="and, or, nand, xor, or a CSV file (features..., label per row)."
    ),
    lr: float = typer.Option(1.0, "--lr", help="Learning rate eta of w <- w + eta (y - y_hat) x."),
    max_iter: int = typer.Option(20, "--max-iter", help="Most epochs."),
    shuffle: bool = typer.Option(False, "--shuffle", help="A new random sample order each epoch."),
    seed: int = typer.Option(0, "--seed", help="Seed of the shuffled order."),
    output_format: str = format_option(),
) -> None:
    """Train a perceptron and print w, b after every epoch, and the mistakes made in it.

    Rule: y_hat = step(w . x + b) (step(0) = 0); w <- w + lr (y - y_hat) x, b <- b + lr (y - y_hat).
    Training stops after an epoch without a mistake. AND, OR, NAND converge in a few epochs;
    XOR is not linearly separable and makes mistakes in every epoch.

    Example: neuralab perceptron fit --data and
    """
    from pathlib import Path

    from neuralab.report.theory_tables import perceptron_fit_table
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
    model = Perceptron(lr=lr, max_iter=max_iter, shuffle=shuffle, random_state=seed).fit(X, y)
    table = perceptron_fit_table(
        model, data=data, samples=len(X), accuracy=model.score(X, y), shuffle=shuffle
    )
    emit(table, output_format)


@perceptron_app.command("scale")
def scale_command(
    w1: str = typer.Option("", "--w1", help="W1, hidden x inputs. " + _NETWORK_HELP),
    b1: str = typer.Option("", "--b1", help="Biases of layer 1."),
    w2: str = typer.Option("", "--w2", help="W2, outputs x hidden (optional second layer)."),
    b2: str = typer.Option("", "--b2", help="Biases of layer 2."),
    c: str = typer.Option("-1,0,0.5,1,2,10,1000", "--c", help="The factors c, comma-separated."),
    n_inputs: int = typer.Option(1000, "--n-inputs", help="Random standard-normal inputs."),
    seed: int = typer.Option(0, "--seed", help="Seed of the inputs."),
    output_format: str = format_option(),
) -> None:
    """Multiply every weight and bias of a step network by c and count the outputs that change.

    step(c a) = step(a) for c > 0: no output changes. c = 0 sends every unit to step(0) = 0;
    c < 0 flips every unit with a != 0.

    Example: neuralab perceptron scale --c -1,0,0.5,2,1000
    """
    layers, factors = _layers(w1, b1, w2, b2), _numbers(c, "--c")  # checked before torch
    from neuralab.report.theory_tables import scale_table
    from neuralab.theory.step_network import scale_demo

    demo = scale_demo(_network(layers), factors, n_inputs, seed)
    emit(scale_table(demo), output_format)


@perceptron_app.command("sigmoid-limit")
def sigmoid_limit_command(
    w1: str = typer.Option("", "--w1", help="W1, hidden x inputs. " + _NETWORK_HELP),
    b1: str = typer.Option("", "--b1", help="Biases of layer 1."),
    w2: str = typer.Option("", "--w2", help="W2, outputs x hidden (optional second layer)."),
    b2: str = typer.Option("", "--b2", help="Biases of layer 2."),
    c: str = typer.Option("1,10,100,1000", "--c", help="The factors c, comma-separated."),
    output_format: str = format_option(),
) -> None:
    """Replace step units by sigmoids with weights times c: the network tends to the step one.

    sigma(c a) -> step(a) for a != 0 as c -> inf, so the largest difference over the inputs
    {0,1}^n shrinks to 0. The input x = -b w / |w|^2 lies exactly on unit 1's line w . x + b = 0:
    there sigma(c 0) = 1/2 for every c, while step(0) = 0, and the difference stays.

    Example: neuralab perceptron sigmoid-limit --c 1,10,100,1000
    """
    layers, factors = _layers(w1, b1, w2, b2), _numbers(c, "--c")  # checked before torch
    from neuralab.report.theory_tables import sigmoid_limit_table
    from neuralab.theory.step_network import sigmoid_limit

    result = sigmoid_limit(_network(layers), factors)
    emit(sigmoid_limit_table(result), output_format)
