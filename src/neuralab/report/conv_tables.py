"""Tables of the convolution lessons: A of y = A x + b, pooling window by window, padding use.

Each function takes a library result (:class:`~neuralab.arch.conv_example.ConvExample`,
:class:`~neuralab.theory.pooling.PoolResult`, :class:`~neuralab.theory.pooling.PaddingUsage`)
and returns the :class:`~neuralab.report.tabular.Table` values a command prints: a line that
says what is shown, the tables, and the check against PyTorch as a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from neuralab.errors import NeuralabError
from neuralab.report.tabular import Column, Table

if TYPE_CHECKING:
    from neuralab.arch.conv_example import ConvExample
    from neuralab.theory.pooling import PaddingUsage, PoolResult

# A matrix up to this size is shown in full; a larger one as its shape and counts.
SHOW_ROWS, SHOW_COLUMNS = 36, 40
# show_dense=True shows at most this many entries.
SHOW_DENSE_LIMIT = 20_000


def pair_text(pair: Sequence[int]) -> str:
    """Return ``(2, 2)`` as ``"2"`` and ``(3, 2)`` as ``"3x2"``."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _entry(value: Any) -> str:
    return "0" if value == 0 else value if isinstance(value, str) else f"{value:.3g}"


def _grid(
    values: Sequence[Sequence[Any]],
    row_names: Sequence[Any],
    column_names: Sequence[str],
    *,
    keys: Sequence[str] | None = None,
    label: str = "y",
    **cell: Any,
) -> tuple[list[dict[str, Any]], list[Column]]:
    """Return rows and columns of a matrix: a label column, then one column per entry."""
    keys = list(keys or column_names)
    rows = [
        {label: name, **dict(zip(keys, row, strict=True))}
        for name, row in zip(row_names, values, strict=True)
    ]
    # the output names y1, y2, ... are headed "y"; row numbers have a blank header (a space:
    # an empty one means "the key")
    columns = [Column(label, "y", justify="left") if label == "y" else Column(label, " ")]
    columns += [Column(k, header, **cell) for k, header in zip(keys, column_names, strict=True)]
    return rows, columns


def conv_matrix_tables(example: ConvExample, *, show_dense: bool = False) -> list[Table]:
    """Return A (in full when small, in symbols for ``symbolic``), the counts, and the check.

    ``show_dense`` shows A in full up to ``SHOW_DENSE_LIMIT`` entries (refused above, saying
    how many).
    """
    if example.symbolic is not None:
        return _symbolic_tables(example)
    matrix, counts = example.matrix, example.counts
    rows, columns = matrix.shape
    if show_dense and rows * columns > SHOW_DENSE_LIMIT:
        raise NeuralabError(
            f"show-dense: A is {rows:,} x {columns:,} = {rows * columns:,} entries, more than "
            f"{SHOW_DENSE_LIMIT:,} to print; leave show-dense out for the summary"
        )
    tables = []
    bias = example.conv.bias is not None
    if show_dense or (rows <= SHOW_ROWS and columns <= SHOW_COLUMNS):
        inputs = [f"x{c + 1}" for c in range(columns)]
        values = matrix.dense().tolist()
        if bias:
            values = [[*row, b] for row, b in zip(values, matrix.b.tolist(), strict=True)]
            inputs.append("b")
        grid, shown = _grid(values, [f"y{r + 1}" for r in range(rows)], inputs, format=_entry)
        tables.append(Table(grid, shown, title="A (rows: outputs y, columns: inputs x)"))
    summary = [
        ("input C_in x H x W", "x".join(map(str, matrix.input_shape))),
        ("output C_out x H_out x W_out", "x".join(map(str, matrix.output_shape))),
        ("A rows x columns", f"{rows:,} x {columns:,}"),
        ("non-zeros of A (connections)", f"{matrix.nnz:,}"),
        ("sparsity of A (zero fraction)", f"{matrix.sparsity:.6f}"),
        ("conv parameters (shared weights + bias)",
         f"{counts.conv_weights:,} + {counts.conv_bias:,} = {counts.conv_total:,}"),
        ("dense layer parameters (weights + bias)",
         f"{counts.dense_weights:,} + {counts.dense_bias:,} = {counts.dense_total:,}"),
        ("dense / conv", f"{counts.ratio:,.1f}x"),
    ]  # fmt: skip
    equation = "A x + b" if bias else "A x"
    check = (
        f"check: max |{equation} - conv(x)| = {example.max_difference:.3g} on a random x (float64)"
    )
    tables.append(
        Table(
            [{"quantity": q, "value": v} for q, v in summary],
            [Column("quantity", justify="left"), Column("value")],
            title="y = A x + b",
            notes=[check],
        )
    )
    return tables


def _symbolic_tables(example: ConvExample) -> list[Table]:
    import sympy

    written = example.symbolic
    assert written is not None
    conv = example.conv
    height, width = example.input_shape[1:]
    values = [[str(e) for e in written.matrix.row(r)] for r in range(written.matrix.rows)]
    outputs = [f"y{r + 1}" for r in range(len(values))]
    grid, columns = _grid(values, outputs, [str(x) for x in written.inputs])
    header = (
        f"A: {len(values)}x{len(written.inputs)} for a {height}x{width} input and a "
        f"{conv.kernel_size[0]}x{conv.kernel_size[1]} kernel (stride {pair_text(conv.stride)}, padding "
        f"{pair_text(cast(tuple[int, int], conv.padding))}, dilation {pair_text(conv.dilation)}); "
        "output "
        f"{written.output_hw[0]}x{written.output_hw[1]}; y = A x"
    )
    equations = [
        f"{y} = {sympy.sstr(expr)}" for y, expr in zip(outputs, written.outputs, strict=True)
    ]
    check = (
        f"check: max |A x - conv(x)| = {example.max_difference:.3g} on a random x (float64), "
        "the symbols set to random weights"
    )
    return [Table([], [], notes=[header]), Table(grid, columns, notes=[*equations, check])]


def pool_tables(result: PoolResult) -> list[Table]:
    """Return the window of every output entry, the pooled matrix and the check against torch."""
    from neuralab.theory.matrices import format_matrix

    windows = [
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
    height, width = result.input.shape
    out_h, out_w = result.output.shape
    header = (
        f"{result.op} pooling, window {pair_text(result.size)}, stride {pair_text(result.stride)}, "
        f"padding {pair_text(result.padding)}: {height}x{width} -> {out_h}x{out_w}"
    )
    names = [str(c + 1) for c in range(out_w)]
    pooled, grid_columns = _grid(
        result.output.tolist(), list(range(1, out_h + 1)), names, label="row", format="g"
    )
    notes = [
        f"pooled = {format_matrix(result.output)}",
        f"check: max |pooled - {result.torch_function}| = {result.max_difference:.3g}",
    ]
    return [
        Table([], [], notes=[header]),
        Table(windows, columns, title="one window per output entry"),
        Table(pooled, grid_columns, title="pooled matrix", notes=notes),
    ]


def padding_tables(usage: PaddingUsage) -> list[Table]:
    """Return, for every input pixel and padded zero, how many output positions read it.

    Rows and columns are numbered as input coordinates from 1: padded rows and columns are
    0, -1, ... and H + 1, ...; a padded zero's count is shown in brackets.
    """
    height, width = usage.input_hw
    counts = [
        [f"({count})" if pad else str(count) for count, pad in zip(row, mask, strict=True)]
        for row, mask in zip(usage.counts, usage.padded, strict=True)
    ]
    p_h, p_w = usage.padding
    first_column = 1 - p_w
    names = [str(c + first_column) for c in range(len(counts[0]))]
    rows, columns = _grid(
        counts,
        [r + 1 - p_h for r in range(len(counts))],
        names,
        keys=[f"c{c + first_column}" for c in range(len(counts[0]))],
        label="row",
    )
    header = (
        f"{height}x{width} input, kernel {pair_text(usage.kernel)}, stride "
        f"{pair_text(usage.stride)}, padding {pair_text(usage.padding)}: output "
        f"{usage.output_hw[0]}x{usage.output_hw[1]}; each cell = how many output positions read it"
        + ("; (n) = a padded zero" if any(any(m) for m in usage.padded) else "")
    )
    return [
        Table([], [], notes=[header]),
        Table(rows, columns, title="uses per pixel", notes=[usage.conclusion]),
    ]
