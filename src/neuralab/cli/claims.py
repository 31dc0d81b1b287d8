"""``neuralab sam-step``, ``softmax``, ``receptive-field``, ``translation`` and ``perceptron
sigmoid-cases``: the course's claims, each computed and checked by a command."""

from __future__ import annotations

import typer

from neuralab.cli._app import app
from neuralab.cli._emit import emit, format_option
from neuralab.cli.perceptron import perceptron_app
from neuralab.theory.loss_names import SAM_STEP_LOSSES


@app.command("sam-step")
def sam_step_command(
    w: str = typer.Option("0.5,-1", "--w", help="The weights w of the linear unit out = w . x."),
    x: str = typer.Option(
        "[[1,2],[2,1],[0,1]]", "--x", help="The inputs, examples x inputs (one row per x_i)."
    ),
    y: str = typer.Option("1,0,1", "--y", help="The targets y_i, one per example."),
    loss: str = typer.Option(
        "mse", "--loss", help="mse: 1/n sum (w.x - y)^2; bce: on sigmoid(w.x)."
    ),
    rho: float = typer.Option(0.05, "--rho", help="SAM's radius rho."),
    lr: float = typer.Option(0.1, "--lr", help="The learning rate eta."),
    weight_decay: float = typer.Option(
        0.0, "--weight-decay", help="lambda of the L2 penalty lambda/2 ||w||^2 (0: none)."
    ),
    output_format: str = format_option(),
) -> None:
    """One SAM step on a linear unit, every quantity written out and checked.

    g = dL/dw at w, eps = rho g / ||g|| (the worst point of the ball of radius rho, to first
    order), the gradient again at w + eps, and the step w - eta dL/dw(w + eps), set beside
    autograd and beside neuralab's SAM optimiser. With --weight-decay, both L2-regularised
    forms: SAM on J = L + lambda/2 ||w||^2, and SAM around SGD with weight decay.

    Example: neuralab sam-step --weight-decay 0.1
    """
    from neuralab.errors import unknown_name_error
    from neuralab.theory.matrices import matrix_rows, vector_entries

    # the values are checked before torch (the step's computation) is imported
    if loss not in SAM_STEP_LOSSES:
        raise unknown_name_error("loss", loss, SAM_STEP_LOSSES)
    weights = vector_entries(w, "--w")
    inputs = matrix_rows(x, "--x", shape=(None, len(weights)), shape_names=("examples", "inputs"))
    targets = vector_entries(y, "--y", length=len(inputs), length_name="examples")
    from neuralab.report.claims_tables import sam_step_tables
    from neuralab.vision.sam_step import sam_step

    result = sam_step(
        weights,
        inputs,
        targets,
        loss=loss,
        rho=rho,
        lr=lr,
        weight_decay=weight_decay,
    )
    emit(sam_step_tables(result), output_format)


@app.command("softmax")
def softmax_command(
    logits: list[str] = typer.Argument(
        None, help="Logit vectors, e.g. '0,200' '[1,2,3]' (default: the course's four)."
    ),
    dtypes: str = typer.Option("float32,float64", "--dtype", help="float32, float64 or both."),
    output_format: str = format_option(),
) -> None:
    """Softmax in floating point: outputs in (0, 1) summing to 1, and where that breaks.

    softmax(z)_k = e^(z_k) / sum_j e^(z_j), computed stably (the largest logit subtracted
    first), beside the naive formula (e^1000 = inf: NaN). Gaps over ~17 (float32) or ~37
    (float64) round the largest output to exactly 1, gaps over ~104 (float32) the smallest to
    exactly 0: log(softmax) is then -inf, while log_softmax stays finite.

    Example: neuralab softmax 0,200 --dtype float32
    """
    from neuralab.report.claims_tables import softmax_tables
    from neuralab.theory.softmax import DEFAULT_LOGITS, parse_dtypes, parse_logits, softmax_check

    vectors = [parse_logits(text) for text in logits] if logits else list(DEFAULT_LOGITS)
    kinds = parse_dtypes(dtypes)
    emit(softmax_tables(softmax_check(vectors, kinds)), output_format)


@app.command("receptive-field")
def receptive_field_command(
    layers: int = typer.Option(4, "--layers", help="How many layers to derive (1..12)."),
    dilation: bool = typer.Option(False, "--dilation", help="Keep a dilation d_l per layer."),
    output_format: str = format_option(),
) -> None:
    """The receptive-field recursion and closed form, derived with sympy and shown equal.

    r_l = r_(l-1) + (k_l - 1) d_l j_(l-1), j_l = j_(l-1) s_l, r_0 = j_0 = 1, against
    r_L = 1 + sum_l (k_l - 1) d_l prod_(i<l) s_i: their difference simplifies to 0 at every
    layer; for identical layers, the sum for any depth L solves the recurrence.

    Example: neuralab receptive-field --layers 4
    """
    from neuralab.arch.receptive_symbolic import derive_receptive_field
    from neuralab.report.claims_tables import receptive_derivation_tables

    emit(
        receptive_derivation_tables(derive_receptive_field(layers, dilation=dilation)),
        output_format,
    )


@app.command("translation")
def translation_command(
    size: int = typer.Option(8, "--size", help="The image is size x size."),
    kernel: int = typer.Option(3, "--kernel", help="The convolution's kernel (odd)."),
    pool: int = typer.Option(2, "--pool", help="Max pooling window and stride."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random image and kernels."),
    output_format: str = format_option(),
) -> None:
    """Translation: convolution equivariant, pooling not invariant, global pooling invariant;
    and the dense layers no convolution can express.

    conv(T x) = T conv(x) for circular shifts T; max pooling only for shifts by multiples of
    its stride; global max/mean pooling gives gpool(T x) = gpool(x). The matrices A of all 2x2
    kernels on a 3x3 input span 4 of the 36 dimensions of 4x9 dense layers: a dense W outside
    that span (distance > 0 by least squares) is not a convolution.

    Example: neuralab translation --size 8 --kernel 3
    """
    from neuralab.report.claims_tables import translation_tables
    from neuralab.theory.translation import check_translation_sizes

    check_translation_sizes(size, kernel, pool)  # before torch is imported
    from neuralab.theory.translation import translation_check

    emit(translation_tables(translation_check(size, kernel, pool, seed)), output_format)


@perceptron_app.command("sigmoid-cases")
def sigmoid_cases_command(
    w: str = typer.Option("1,1", "--w", help="The unit's weights w."),
    b: str = typer.Option("-0.5,0.5", "--b", help="Biases: one unit per value."),
    c: str = typer.Option("1,10,100,1000", "--c", help="The factors c (> 0)."),
    output_format: str = format_option(),
) -> None:
    """sigma(c (w . x + b)) as c grows, case by case: z > 0 -> 1, z = 0 -> 1/2, z < 0 -> 0.

    For each bias, inputs on both sides of and on the line w . x + b = 0, and x = 0 (where
    z = b: the sign of b decides); the limit c -> inf is taken exactly by sympy.

    Example: neuralab perceptron sigmoid-cases --b -0.5,0.5
    """
    from neuralab.report.claims_tables import sigmoid_case_tables
    from neuralab.theory.matrices import parse_vector
    from neuralab.theory.sigmoid_cases import sigmoid_cases

    weights = tuple(parse_vector(w, "--w").tolist())
    units = [(weights, bias) for bias in parse_vector(b, "--b").tolist()]
    factors = parse_vector(c, "--c").tolist()
    emit(sigmoid_case_tables(sigmoid_cases(units, factors)), output_format)
