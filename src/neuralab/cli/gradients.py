"""``neuralab gradients``: every weight's partial derivative, as a formula and against autograd."""

from __future__ import annotations

import typer

from neuralab.cli._app import app
from neuralab.cli._emit import emit, format_option
from neuralab.theory.loss_names import GRADIENT_LOSSES


@app.command("gradients")
def gradients_command(
    w1: str = typer.Option(
        "[[-1,1],[1,-1]]",
        "--w1",
        help="W1, hidden x inputs, e.g. '[[-1,1],[1,-1]]' or '-1,1;1,-1'.",
    ),
    w2: str = typer.Option("[[1,1]]", "--w2", help="W2, outputs x hidden, e.g. '[[1,1]]'."),
    b1: str = typer.Option(
        "", "--b1", help="Hidden biases (one per row of W1); left out: fixed 0."
    ),
    b2: str = typer.Option(
        "", "--b2", help="Output biases (one per row of W2); left out: fixed 0."
    ),
    x: str = typer.Option("1,0", "--x", help="The input, one value per column of W1, e.g. 1,0."),
    y: str = typer.Option(
        "1", "--y", help="The target, one per output (ce: also a class index, e.g. 1)."
    ),
    loss: str = typer.Option(
        "mse", "--loss", metavar="[" + "|".join(GRADIENT_LOSSES) + "]", help="The loss L."
    ),
    activation: str = typer.Option(
        "relu", "--activation", help="The hidden units' sigma: relu, sigmoid, tanh, identity, ..."
    ),
    output_format: str = format_option(),
) -> None:
    """Print dL/dW for every weight: the chain rule, the formula (sympy), its value, autograd's.

    Network: z = W1 x + b1, n = sigma(z), o = W2 n + b2. Losses: mse L = sum (out - y)^2 with
    out = o (no 1/2, no mean); bce with out = sigmoid(o); ce with out = softmax(o). For the XOR
    network with mse: dL/dW2_11 = 2(out - y) n1, dL/dW1_11 = 2(out - y) W2_11 sigma'(z1) x1.
    Every value must match autograd (float64) to 1e-10.

    Example: neuralab gradients --w1 "[[-1,1],[1,-1]]" --w2 "[[1,1]]" --x 1,0 --y 1 --loss mse
    """
    from neuralab.errors import unknown_name_error
    from neuralab.theory.activation_names import checked_activation
    from neuralab.theory.matrices import matrix_rows, vector_entries

    # every value and name is checked before torch and sympy are imported
    W1 = matrix_rows(w1, "--w1", shape_names=("hidden", "inputs"))
    W2 = matrix_rows(w2, "--w2", shape=(None, len(W1)), shape_names=("outputs", "hidden"))
    x_vector = vector_entries(x, "--x", length=len(W1[0]))
    b1_vector = vector_entries(b1, "--b1", length=len(W1)) if b1.strip() else None
    b2_vector = vector_entries(b2, "--b2", length=len(W2)) if b2.strip() else None
    y_vector = vector_entries(y, "--y")
    if loss.strip().lower() not in GRADIENT_LOSSES:
        raise unknown_name_error("loss", loss.strip().lower(), GRADIENT_LOSSES)
    checked_activation(activation)
    from neuralab.report.theory_tables import gradient_tables
    from neuralab.theory.gradients import gradient_report

    report = gradient_report(
        W1, W2, x_vector, y_vector, b1=b1_vector, b2=b2_vector, loss=loss, activation=activation
    )

    emit(gradient_tables(report), output_format)
