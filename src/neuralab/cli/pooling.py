"""``neuralab pool`` and ``neuralab padding``: pooling window by window, padding pixel by pixel."""

from __future__ import annotations

from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._options import OutputFormat
from neuralab.errors import NeuralabError


def _grid_table(
    grid: list[list[str]],
    title: str,
    styles: list[list[str]] | None = None,
    first: tuple[int, int] = (1, 1),
) -> Any:
    """Return a rich table of ``grid``; rows and columns numbered from ``first`` (1-based input
    coordinates, so padded rows and columns get 0, -1, ... and H + 1, ...)."""
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("", justify="right", style="bold")
    for c in range(len(grid[0])):
        table.add_column(str(c + first[1]), justify="right")
    for r, row in enumerate(grid):
        cells = row
        if styles is not None:
            cells = [f"[{s}]{v}[/]" if s else v for v, s in zip(row, styles[r], strict=True)]
        table.add_row(str(r + first[0]), *cells)
    return table


def _print_rows(
    rows: list[dict[str, Any]], columns: list[Any], output_format: OutputFormat
) -> None:
    from neuralab.report.tabular import csv_table, markdown_table

    render = csv_table if output_format is OutputFormat.csv else markdown_table
    print(render(rows, columns), end="")


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
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="table, json, csv or markdown (the windows)."
    ),
) -> None:
    """Pool a matrix and show the computation of every output entry.

    A k x k window moves by the stride s over the input; max pooling keeps the window's maximum,
    average pooling its mean. H_out = floor((H + 2p - k) / s) + 1. The result is checked
    against torch's F.max_pool2d / F.avg_pool2d.

    Example: neuralab pool --op max --size 2 --stride 2 "[[1,0,2,3],[1,0,4,5],[-1,2,0,0],[3,3,0,1]]"
    """
    from neuralab.cli.conv_matrix import parse_pair
    from neuralab.theory.matrices import parse_matrix
    from neuralab.theory.pooling import POOL_OPS

    if op not in POOL_OPS:
        raise NeuralabError(f"--op {op!r} is unknown; valid: {', '.join(POOL_OPS)}")
    values = parse_matrix(matrix, "MATRIX")
    size_hw = parse_pair(size, "--size", minimum=1)
    stride_hw = None if stride is None else parse_pair(stride, "--stride", minimum=1)
    padding_hw = parse_pair(padding, "--padding", minimum=0)

    import torch.nn.functional as F

    from neuralab.report.tabular import Column, rich_table, to_json
    from neuralab.theory.matrices import format_matrix
    from neuralab.theory.pooling import pool_steps

    result = pool_steps(values, op, size_hw, stride_hw, padding_hw)
    pool = F.max_pool2d if op == "max" else F.avg_pool2d
    reference = pool(values[None, None], result.size, result.stride, result.padding)[0, 0]
    difference = float((reference - result.output).abs().max())
    rows = [
        {
            "output": f"({w.output_index[0] + 1},{w.output_index[1] + 1})",
            "rows": f"{w.rows[0] + 1}..{w.rows[1] + 1}",
            "columns": f"{w.columns[0] + 1}..{w.columns[1] + 1}",
            "computation": w.computation,
            "value": w.result,
        }
        for w in result.windows
    ]
    columns = [
        Column("output", "output (row,col)", justify="left"),
        Column("rows", "input rows", justify="left"),
        Column("columns", "input cols", justify="left"),
        Column("computation", "computation", justify="left"),
    ]
    if output_format is OutputFormat.json:
        print(
            to_json(
                {
                    "op": op,
                    "size": list(result.size),
                    "stride": list(result.stride),
                    "padding": list(result.padding),
                    "input": result.input.tolist(),
                    "output": result.output.tolist(),
                    "windows": rows,
                    "max_abs_difference_to_torch": difference,
                }
            )
        )
        return
    if output_format is not OutputFormat.table:
        _print_rows(rows, [*columns, Column("value")], output_format)
        return
    from neuralab.console import stdout_console

    console = stdout_console()
    text = [[f"{v:g}" for v in row] for row in result.output.tolist()]
    console.print(
        f"{op} pooling, window {_pair(result.size)}, stride {_pair(result.stride)}, padding "
        f"{_pair(result.padding)}: {result.input.shape[0]}x{result.input.shape[1]} -> "
        f"{result.output.shape[0]}x{result.output.shape[1]}"
    )
    console.print(rich_table(rows, columns, title="one window per output entry"))
    console.print(_grid_table(text, "pooled matrix"))
    console.print(f"pooled = {format_matrix(result.output)}", markup=False)
    name = "F.max_pool2d" if op == "max" else "F.avg_pool2d"
    console.print(f"check: max |pooled - {name}| = {difference:.3g}")


def _pair(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


@app.command("padding")
def padding_command(
    input_text: str = typer.Option("5x5", "--input", help="Input size HxW, e.g. 5x5."),
    kernel: str = typer.Option("3", "--kernel", help="Kernel size k or k_hxk_w."),
    stride: str = typer.Option("1", "--stride", help="Stride s or s_hxs_w."),
    padding: str = typer.Option("0", "--padding", help="Zero padding p or p_hxp_w."),
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="table, json, csv or markdown (the grid)."
    ),
) -> None:
    """Count, for every input pixel and padded zero, how many output positions use it.

    A k x k kernel at stride s reads pixel (r, c) once for every output whose window covers
    it. Without padding the corner is read once and the centre up to k^2 times: the border is
    under-used. Padding with p zeros lets border pixels be read as often as central ones; the
    padded zeros are shown in brackets. Ends with a one-line computed conclusion.

    Example: neuralab padding --input 5x5 --kernel 3 --padding 1
    """
    from neuralab.cli._options import parse_shape
    from neuralab.cli.conv_matrix import parse_pair

    height, width = parse_shape(input_text, what="--input", expected="HxW")
    kernel_hw = parse_pair(kernel, "--kernel", minimum=1)
    stride_hw = parse_pair(stride, "--stride", minimum=1)
    padding_hw = parse_pair(padding, "--padding", minimum=0)

    from neuralab.report.tabular import Column, to_json
    from neuralab.theory.pooling import padding_usage

    usage = padding_usage((height, width), kernel_hw, stride_hw, padding_hw)
    if output_format is OutputFormat.json:
        print(
            to_json(
                {
                    "input_hw": list(usage.input_hw),
                    "kernel": list(usage.kernel),
                    "stride": list(usage.stride),
                    "padding": list(usage.padding),
                    "output_hw": list(usage.output_hw),
                    "counts": usage.counts,
                    "padded": usage.padded,
                    "conclusion": usage.conclusion,
                }
            )
        )
        return
    grid = [
        [f"({count})" if pad else str(count) for count, pad in zip(row, mask, strict=True)]
        for row, mask in zip(usage.counts, usage.padded, strict=True)
    ]
    if output_format is not OutputFormat.table:
        # input coordinates, from 1: padded rows and columns are 0, -1, ... and H + 1, ...
        p_h, p_w = usage.padding
        names = [f"c{c + 1 - p_w}" for c in range(len(grid[0]))]
        rows = [
            {"row": f"r{r + 1 - p_h}", **dict(zip(names, g, strict=True))}
            for r, g in enumerate(grid)
        ]
        _print_rows(
            rows, [Column("row", justify="left"), *(Column(n) for n in names)], output_format
        )
        print(usage.conclusion)
        return
    from neuralab.console import stdout_console

    styles = [["dim italic" if pad else "" for pad in mask] for mask in usage.padded]
    console = stdout_console()
    console.print(
        f"{height}x{width} input, kernel {_pair(usage.kernel)}, stride {_pair(usage.stride)}, "
        f"padding {_pair(usage.padding)}: output {usage.output_hw[0]}x{usage.output_hw[1]}; "
        "each cell = how many output positions read it"
        + ("; (n) = a padded zero" if any(any(m) for m in usage.padded) else "")
    )
    first = (1 - usage.padding[0], 1 - usage.padding[1])
    console.print(_grid_table(grid, "uses per pixel", styles, first))
    console.print(usage.conclusion, soft_wrap=True)
