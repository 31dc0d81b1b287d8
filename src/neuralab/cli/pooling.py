"""``neuralab pool`` and ``neuralab padding``: pooling window by window, padding pixel by pixel."""

from __future__ import annotations

import typer

from neuralab.cli._app import app
from neuralab.cli._emit import emit, format_option


@app.command("pool")
def pool_command(
    matrix: str = typer.Argument(
        ..., help="The input matrix: '[[1,0,2,3],[1,0,4,5],[-1,2,0,0],[3,3,0,1]]' or '1,0;1,0'."
    ),
    op: str = typer.Option("max", "--op", help="max or avg."),
    size: str = typer.Option("2", "--size", help="Window size k or k_hxk_w."),
    stride: str | None = typer.Option(None, "--stride", help="Stride s (default: the size)."),
    padding: str = typer.Option(
        "0", "--padding", help="Padding p (max pads with -inf, avg with zeros that count)."
    ),
    output_format: str = format_option(),
) -> None:
    """Pool a matrix and show the computation of every output entry.

    A k x k window moves by the stride s over the input; max pooling keeps the window's maximum,
    average pooling its mean. H_out = floor((H + 2p - k) / s) + 1. The result is checked
    against torch's F.max_pool2d / F.avg_pool2d.

    Example: neuralab pool --op max --size 2 --stride 2 "[[1,0,2,3],[1,0,4,5],[-1,2,0,0],[3,3,0,1]]"
    """
    from neuralab.arch.shapes import parse_pair
    from neuralab.report.conv_tables import pool_tables
    from neuralab.theory.matrices import parse_matrix
    from neuralab.theory.pooling import pool_arguments, pool_steps

    arguments = (
        op,
        parse_pair(size, "--size", minimum=1),
        None if stride is None else parse_pair(stride, "--stride", minimum=1),
        parse_pair(padding, "--padding", minimum=0),
    )
    pool_arguments(*arguments)  # every malformed option is refused before torch is imported
    result = pool_steps(parse_matrix(matrix, "MATRIX"), *arguments)
    emit(pool_tables(result), output_format)


@app.command("padding")
def padding_command(
    input_text: str = typer.Option("5x5", "--input", help="Input size HxW, e.g. 5x5."),
    kernel: str = typer.Option("3", "--kernel", help="Kernel size k or k_hxk_w."),
    stride: str = typer.Option("1", "--stride", help="Stride s or s_hxs_w."),
    padding: str = typer.Option("0", "--padding", help="Zero padding p or p_hxp_w."),
    output_format: str = format_option(),
) -> None:
    """Count, for every input pixel and padded zero, how many output positions use it.

    A k x k kernel at stride s reads pixel (r, c) once for every output whose window covers
    it. Without padding the corner is read once and the centre up to k^2 times: the border is
    under-used. Padding with p zeros lets border pixels be read as often as central ones; the
    padded zeros are shown in brackets. Ends with a one-line computed conclusion.

    Example: neuralab padding --input 5x5 --kernel 3 --padding 1
    """
    from neuralab.arch.shapes import parse_pair, parse_shape
    from neuralab.report.conv_tables import padding_tables
    from neuralab.theory.pooling import padding_usage

    height, width = parse_shape(input_text, what="--input", expected="HxW")
    usage = padding_usage(
        (height, width),
        parse_pair(kernel, "--kernel", minimum=1),
        parse_pair(stride, "--stride", minimum=1),
        parse_pair(padding, "--padding", minimum=0),
    )
    emit(padding_tables(usage), output_format)
