"""``neuralab conv-matrix``: a convolution written as y = A x + b, symbolically or numerically."""

from __future__ import annotations

import typer

from neuralab.cli._app import app
from neuralab.cli._emit import emit, format_option
from neuralab.errors import NeuralabError
from neuralab.report.conv_tables import SHOW_DENSE_LIMIT


def _input_shape(text: str, in_channels: int | None) -> tuple[int, int, int]:
    from neuralab.arch.shapes import parse_shape

    sizes = parse_shape(text, what="--input", expected="", example="3x3 (HxW) or 3x64x64 (CxHxW)")
    if len(sizes) == 2:
        return (in_channels or 1, sizes[0], sizes[1])
    if len(sizes) == 3:
        if in_channels is not None and in_channels != sizes[0]:
            raise NeuralabError(
                f"--input {text!r} has {sizes[0]} channels but --in-channels is {in_channels}"
            )
        return (sizes[0], sizes[1], sizes[2])
    raise NeuralabError(f"--input {text!r} must be HxW (3x3) or CxHxW (3x64x64)")


@app.command("conv-matrix")
def conv_matrix_command(
    input_text: str = typer.Option(
        ..., "--input", help="Input size HxW (one channel) or CxHxW, e.g. 3x3 or 3x64x64."
    ),
    kernel: str = typer.Option("2x2", "--kernel", help="Kernel size k or k_hxk_w, e.g. 2x2."),
    stride: str = typer.Option("1", "--stride", help="Stride s or s_hxs_w."),
    padding: str = typer.Option("0", "--padding", help="Zero padding p or p_hxp_w."),
    dilation: str = typer.Option("1", "--dilation", help="Dilation d or d_hxd_w."),
    in_channels: int | None = typer.Option(
        None, "--in-channels", help="C_in (default 1, or C from a CxHxW --input)."
    ),
    out_channels: int = typer.Option(1, "--out-channels", help="C_out: number of filters."),
    groups: int = typer.Option(1, "--groups", help="Groups: each filter sees C_in/groups."),
    symbolic: bool = typer.Option(
        False, "--symbolic", help="Write A with w1..wK and x1..xN (one channel in and out)."
    ),
    weights: str | None = typer.Option(
        None,
        "--weights",
        help="The kernel's values for one channel in and out, e.g. '[[1,2],[3,4]]' "
        "(default: random from --seed).",
    ),
    bias: bool = typer.Option(True, "--bias/--no-bias", help="Give the filters a bias b."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights and of x."),
    show_dense: bool = typer.Option(
        False,
        "--show-dense",
        help=f"Print A in full even when large (up to {SHOW_DENSE_LIMIT:,} entries).",
    ),
    output_format: str = format_option(),
) -> None:
    """Print the matrix A of a convolution (y = A x + b on flattened tensors) and verify it.

    A has one row per output value (C_out H_out W_out) and one column per input value
    (C_in H W), numbered row-major: row (m, i, j) holds filter m placed where output (i, j)
    looks, zeros elsewhere. The convolution is a fully connected layer whose weight matrix is
    sparse and shares its few weights: both parameter counts are printed. The equality
    A x + b = conv(x) is checked on a random x (max |difference| printed).

    Example: neuralab conv-matrix --input 3x3 --kernel 2x2 --symbolic
    (first row: w1 w2 0 w3 w4 0 0 0 0, i.e. y1 = w1 x1 + w2 x2 + w3 x4 + w4 x5)

    Example: neuralab conv-matrix --input 3x64x64 --kernel 3 --padding 1 --out-channels 64
    """
    from neuralab.arch.shapes import parse_pair

    shape = _input_shape(input_text, in_channels)
    kernel_hw = parse_pair(kernel, "--kernel", minimum=1)
    sizes = {
        "stride": parse_pair(stride, "--stride", minimum=1),
        "padding": parse_pair(padding, "--padding", minimum=0),
        "dilation": parse_pair(dilation, "--dilation", minimum=1),
    }

    from neuralab.arch.shapes import conv_output_size

    # an empty output is refused before torch is imported
    conv_output_size(shape[1:], kernel_hw, sizes["stride"], sizes["padding"], sizes["dilation"])
    from neuralab.arch.conv_example import conv_example
    from neuralab.report.conv_tables import conv_matrix_tables
    from neuralab.theory.matrices import parse_matrix

    kernel_values = None
    if weights is not None:
        kernel_values = parse_matrix(
            weights, "--weights", shape=kernel_hw, shape_names=("k_h", "k_w")
        )
    example = conv_example(
        shape, kernel_hw, **sizes, out_channels=out_channels, groups=groups, bias=bias,
        weights=kernel_values, symbolic=symbolic, seed=seed,
    )  # fmt: skip
    emit(conv_matrix_tables(example, show_dense=show_dense), output_format)
