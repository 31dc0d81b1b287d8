"""``neuralab conv-matrix``: a convolution written as y = A x + b, symbolically or numerically."""

from __future__ import annotations

import re
from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._options import OutputFormat
from neuralab.errors import NeuralabError

# Matrices up to this size are printed in full; larger ones as shape, nnz and counts.
SHOW_ROWS, SHOW_COLUMNS = 36, 40
# --show-dense prints at most this many entries.
SHOW_DENSE_LIMIT = 20_000

_PAIR = re.compile(r"^\s*(\d+)\s*(?:[xX,]\s*(\d+)\s*)?$")


def parse_pair(text: str, what: str, *, minimum: int) -> tuple[int, int]:
    """Parse ``"2"`` or ``"2x1"`` into (h, w), each >= ``minimum``."""
    match = _PAIR.match(text)
    if not match:
        raise NeuralabError(f"{what} {text!r} is not an integer or HxW pair like 2 or 2x1")
    first = int(match.group(1))
    pair = (first, int(match.group(2)) if match.group(2) else first)
    if min(pair) < minimum:
        raise NeuralabError(f"{what} {text!r} must be >= {minimum}")
    return pair


def _input_shape(text: str, in_channels: int | None) -> tuple[int, int, int]:
    from neuralab.cli._options import parse_shape

    sizes = parse_shape(text, what="--input", expected="")
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
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="table, json, csv or markdown."
    ),
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
    channels, height, width = _input_shape(input_text, in_channels)
    kernel_hw = parse_pair(kernel, "--kernel", minimum=1)
    stride_hw = parse_pair(stride, "--stride", minimum=1)
    padding_hw = parse_pair(padding, "--padding", minimum=0)
    dilation_hw = parse_pair(dilation, "--dilation", minimum=1)
    if min(channels, out_channels, groups) < 1:
        raise NeuralabError("--in-channels, --out-channels and --groups must be >= 1")
    if channels % groups or out_channels % groups:
        raise NeuralabError(
            f"--groups {groups} must divide both C_in = {channels} and C_out = {out_channels}"
        )
    if (symbolic or weights is not None) and (channels, out_channels) != (1, 1):
        option = "--symbolic" if symbolic else "--weights"
        raise NeuralabError(
            f"{option} takes one input and one output channel; got C_in = {channels}, "
            f"C_out = {out_channels}"
        )
    span = [d * (k - 1) + 1 for d, k in zip(dilation_hw, kernel_hw, strict=True)]
    if any(s > size + 2 * p for s, size, p in zip(span, (height, width), padding_hw, strict=True)):
        raise NeuralabError(
            f"the kernel spans {span[0]}x{span[1]} (with dilation) but the input padded is "
            f"{height + 2 * padding_hw[0]}x{width + 2 * padding_hw[1]}: the output would be empty"
        )

    import torch
    from torch import nn

    torch.manual_seed(seed)
    conv = nn.Conv2d(
        channels,
        out_channels,
        kernel_hw,
        stride=stride_hw,
        padding=padding_hw,
        dilation=dilation_hw,
        groups=groups,
        bias=bias and not symbolic,
        dtype=torch.float64,
    )
    if weights is not None:
        from neuralab.theory.matrices import parse_matrix

        kernel_values = parse_matrix(
            weights, "--weights", shape=kernel_hw, shape_names=("k_h", "k_w")
        )
        with torch.no_grad():
            conv.weight.copy_(kernel_values.reshape(conv.weight.shape))
    if symbolic:
        _symbolic(conv, (height, width), output_format)
    else:
        _numeric(conv, (channels, height, width), show_dense, output_format)


def _check_line(difference: float, *, bias: bool = True) -> str:
    equation = "A x + b" if bias else "A x"
    return f"check: max |{equation} - conv(x)| = {difference:.3g} on a random x (float64)"


def _max_difference(conv: Any, A: Any, b: Any, shape: tuple[int, int, int]) -> float:
    import torch

    x = torch.randn(*shape, dtype=torch.float64)
    with torch.no_grad():
        expected = conv(x.unsqueeze(0)).reshape(-1)
    return float((A @ x.reshape(-1) + b - expected).abs().max())


def _symbolic(conv: Any, input_hw: tuple[int, int], output_format: OutputFormat) -> None:
    import sympy
    import torch

    from neuralab.arch.conv_matrix import symbolic_conv_matrix
    from neuralab.report.tabular import to_json

    if input_hw[0] * input_hw[1] > 400:
        raise NeuralabError(
            f"--symbolic writes one column per input pixel; {input_hw[0]}x{input_hw[1]} has "
            f"{input_hw[0] * input_hw[1]} (at most 400): use a smaller --input"
        )
    result = symbolic_conv_matrix(
        input_hw, conv.kernel_size, conv.stride, conv.padding, conv.dilation
    )
    # verify: put the layer's (random) weights into the symbols and compare with conv(x)
    values = dict(zip(result.weights, conv.weight.detach().reshape(-1).tolist(), strict=True))
    numeric = torch.tensor(result.matrix.subs(values).tolist(), dtype=torch.float64).reshape(
        result.matrix.shape
    )
    difference = _max_difference(
        conv, numeric, torch.zeros(numeric.shape[0], dtype=torch.float64), (1, *input_hw)
    )
    rows = [[str(entry) for entry in result.matrix.row(r)] for r in range(result.matrix.rows)]
    inputs = [str(x) for x in result.inputs]
    outputs = [f"y{r + 1}" for r in range(len(rows))]
    equations = [
        f"{y} = {sympy.sstr(expr)}" for y, expr in zip(outputs, result.outputs, strict=True)
    ]
    if output_format is OutputFormat.json:
        print(
            to_json(
                {
                    "input_hw": list(input_hw),
                    "output_hw": list(result.output_hw),
                    "matrix": rows,
                    "equations": equations,
                    "max_abs_difference": difference,
                }
            )
        )
        return
    if output_format in (OutputFormat.csv, OutputFormat.markdown):
        _print_grid(rows, outputs, inputs, output_format)
        return
    from neuralab.console import stdout_console

    console = stdout_console()
    console.print(
        f"A: {len(rows)}x{len(inputs)} for a {input_hw[0]}x{input_hw[1]} input and a "
        f"{conv.kernel_size[0]}x{conv.kernel_size[1]} kernel (stride {_pair_text(conv.stride)}, "
        f"padding {_pair_text(conv.padding)}, dilation {_pair_text(conv.dilation)}); "
        f"output {result.output_hw[0]}x{result.output_hw[1]}; y = A x"
    )
    width = max(len(text) for text in [*inputs, *(e for row in rows for e in row)])
    label = max(len(y) for y in outputs)
    console.print(" " * (label + 2) + " ".join(x.rjust(width) for x in inputs), markup=False)
    for y, row in zip(outputs, rows, strict=True):
        console.print(f"{y.ljust(label)}  " + " ".join(e.rjust(width) for e in row), markup=False)
    for equation in equations:
        console.print(equation, markup=False)
    console.print(_check_line(difference, bias=False) + ", the symbols set to random weights")


def _pair_text(pair: Any) -> str:
    pair = tuple(pair)
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _print_grid(
    rows: list[list[str]],
    row_names: list[str],
    column_names: list[str],
    output_format: OutputFormat,
) -> None:
    from neuralab.report.tabular import Column, csv_table, markdown_table

    columns = [Column("y", "", justify="left"), *(Column(x, x) for x in column_names)]
    table = [
        {"y": y, **dict(zip(column_names, row, strict=True))}
        for y, row in zip(row_names, rows, strict=True)
    ]
    render = csv_table if output_format is OutputFormat.csv else markdown_table
    print(render(table, columns), end="")


def _entry(value: float) -> str:
    return "0" if value == 0 else f"{value:.3g}"


def _numeric(
    conv: Any, input_shape: tuple[int, int, int], show_dense: bool, output_format: OutputFormat
) -> None:
    from neuralab.arch.conv_matrix import conv_parameter_counts, conv_to_matrix
    from neuralab.report.tabular import Column, csv_table, markdown_table, rich_table, to_json

    matrix = conv_to_matrix(conv, input_shape)
    counts = conv_parameter_counts(conv, input_shape)
    difference = _max_difference(conv, matrix.A, matrix.b, input_shape)
    rows, columns = matrix.shape
    small = rows <= SHOW_ROWS and columns <= SHOW_COLUMNS
    if show_dense and rows * columns > SHOW_DENSE_LIMIT:
        raise NeuralabError(
            f"--show-dense: A is {rows:,} x {columns:,} = {rows * columns:,} entries, more than "
            f"{SHOW_DENSE_LIMIT:,} to print; leave --show-dense out for the summary"
        )
    summary = [
        {"quantity": "input C_in x H x W", "value": "x".join(map(str, matrix.input_shape))},
        {"quantity": "output C_out x H_out x W_out", "value": "x".join(map(str, matrix.output_shape))},
        {"quantity": "A rows x columns", "value": f"{rows:,} x {columns:,}"},
        {"quantity": "non-zeros of A (connections)", "value": f"{matrix.nnz:,}"},
        {"quantity": "sparsity of A (zero fraction)", "value": f"{matrix.sparsity:.6f}"},
        {"quantity": "conv parameters (shared weights + bias)", "value": f"{counts.conv_weights:,} + {counts.conv_bias:,} = {counts.conv_total:,}"},
        {"quantity": "dense layer parameters (weights + bias)", "value": f"{counts.dense_weights:,} + {counts.dense_bias:,} = {counts.dense_total:,}"},
        {"quantity": "dense / conv", "value": f"{counts.ratio:,.1f}x"},
        {"quantity": "max |A x + b - conv(x)|", "value": f"{difference:.3g}"},
    ]  # fmt: skip
    dense_rows: list[list[str]] = []
    if small or show_dense:
        dense = matrix.dense()
        dense_rows = [[_entry(v) for v in row] for row in dense.tolist()]
    inputs = [f"x{c + 1}" for c in range(columns)]
    outputs = [f"y{r + 1}" for r in range(rows)]
    if output_format is OutputFormat.json:
        data: dict[str, Any] = {
            "input_shape": list(matrix.input_shape),
            "output_shape": list(matrix.output_shape),
            "rows": rows,
            "columns": columns,
            "nnz": matrix.nnz,
            "sparsity": matrix.sparsity,
            "conv_parameters": counts.conv_total,
            "dense_parameters": counts.dense_total,
            "max_abs_difference": difference,
        }
        if dense_rows:
            data["A"] = matrix.dense().tolist()
            data["b"] = matrix.b.tolist()
        print(to_json(data))
        return
    if output_format in (OutputFormat.csv, OutputFormat.markdown):
        if dense_rows:
            _print_grid(dense_rows, outputs, inputs, output_format)
        else:
            render = csv_table if output_format is OutputFormat.csv else markdown_table
            quantity = [Column("quantity", justify="left"), Column("value")]
            print(render(summary, quantity), end="")
        return
    from neuralab.console import stdout_console

    console = stdout_console()
    if dense_rows:
        grid = [
            {"y": y, **dict(zip(inputs, row, strict=True))}
            for y, row in zip(outputs, dense_rows, strict=True)
        ]
        if conv.bias is not None:
            for row, value in zip(grid, matrix.b.tolist(), strict=True):
                row["b"] = _entry(value)
        shown = [Column("y", "", justify="left"), *(Column(x, x) for x in inputs)]
        if conv.bias is not None:
            shown.append(Column("b", "b"))
        console.print(rich_table(grid, shown, title="A (rows: outputs y, columns: inputs x)"))
    console.print(
        rich_table(
            summary[:-1],  # the check gets its own line below
            [Column("quantity", justify="left"), Column("value")],
            title="y = A x + b",
        )
    )
    console.print(_check_line(difference, bias=conv.bias is not None))
