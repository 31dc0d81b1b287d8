"""``neuralab activations``: the measured properties of every activation, and their plots."""

from __future__ import annotations

from pathlib import Path

import typer

from neuralab.cli._app import app
from neuralab.cli._options import OutputFormat
from neuralab.errors import NeuralabError


@app.command("activations")
def activations_command(
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="table, json, csv or markdown."
    ),
    plot: str = typer.Option(
        "",
        "--plot",
        help="Comma-separated names to draw, e.g. relu,sigmoid,tanh: f(x) left, f'(x) right.",
    ),
    x_range: tuple[float, float] = typer.Option(
        (-4.0, 4.0), "--range", help="The x interval of the plot: LOW HIGH, e.g. --range -4 4."
    ),
    output: Path = typer.Option(
        Path("activations.png"), "-o", "--output", help="Where --plot saves the figure (PNG)."
    ),
) -> None:
    """Print every activation's properties, measured on the function (not typed in).

    Range from a fine grid on [-10, 10] and f(+-1e6) (an end is closed when attained);
    zero-centred: mean f(x) over a symmetric zero-mean sample; f'(0), f'(-5), f'(5) by autograd
    (|f'(+-5)| < 0.01: the unit saturates there and gradients vanish); non-linear:
    f(a + b) != f(a) + f(b); differentiable: left and right difference quotients agree on a grid
    through 0 (where they do not, the value autograd uses is shown: relu'(0) = 0).
    Softmax is seen as one output against two logits at 0.

    Example: neuralab activations --plot relu,sigmoid,tanh --range -4 4 -o act.png
    """
    from neuralab.atomic import save_figure
    from neuralab.console import stdout_console
    from neuralab.report.activation_figures import plot_activations
    from neuralab.report.tabular import Column, csv_table, markdown_table, rich_table, to_json
    from neuralab.theory.activation_properties import properties_rows, properties_table

    if plot:
        names = [n.strip() for n in plot.split(",") if n.strip()]
        if not names:
            raise NeuralabError(f"--plot {plot!r} names no activation")
        figure = plot_activations(names, x_range)
        save_figure(figure, output, dpi=110)
        print(f"saved {output} ({', '.join(names)} on [{x_range[0]:g}, {x_range[1]:g}])")
        return

    rows = properties_rows(properties_table())
    number = ".3g"
    columns = [
        Column("name", "f", justify="left"),
        Column("range", "range", justify="left"),
        Column("zero_centred", "centred", justify="center"),
        Column("mean_output", "mean f(x)", _mean),
        Column("d0", "f'(0)", number),
        Column("d_minus5", "f'(-5)", number),
        Column("d_plus5", "f'(5)", number),
        Column("saturates", "saturates", justify="center"),
        Column("nonlinear", "non-linear", justify="center"),
        Column("monotonic", "monotonic", justify="center"),
        Column("differentiable", "diff'able", justify="center"),
        Column("autograd_convention", "where not differentiable", justify="left"),
    ]
    if output_format is OutputFormat.json:
        print(to_json(rows))
    elif output_format is OutputFormat.csv:
        print(csv_table(rows, columns), end="")
    elif output_format is OutputFormat.markdown:
        print(markdown_table(rows, columns), end="")
    else:
        # the terminal table leaves the long text column out and lists it below, so it fits
        shown = [c for c in columns if c.key not in ("autograd_convention", "mean_output")]
        table = rich_table(rows, shown, title="Activation properties (measured)")
        for column in table.columns:
            column.no_wrap = True
        console = stdout_console()
        console.print(table)
        for row in rows:
            if row["autograd_convention"]:
                console.print(f"{row['name']}: {row['autograd_convention']}")
        console.print(
            "zero-centred: mean f(x) = 0 on a symmetric sample; saturates: |f'(+-5)| < 0.01 "
            "(vanishing gradients on that side); softmax: one output, two other logits at 0"
        )


def _mean(value: float) -> str:
    # a mean of -1e-17 is rounding, not a sign: show it as 0.000
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text
