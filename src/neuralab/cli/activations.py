"""``neuralab activations``: the measured properties of every activation, and their plots."""

from __future__ import annotations

from pathlib import Path

import typer

from neuralab.cli._app import app
from neuralab.cli._emit import emit, format_option
from neuralab.errors import NeuralabError


@app.command("activations")
def activations_command(
    output_format: str = format_option(),
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
    from neuralab.paths import output_file
    from neuralab.theory.activation_names import checked_activation

    if plot:
        names = [n.strip() for n in plot.split(",") if n.strip()]
        if not names:
            raise NeuralabError(f"--plot {plot!r} names no activation")
        for name in names:  # a mistyped name is refused before torch is imported
            checked_activation(name)
        output_file(output, "--output")
        from neuralab.report.activation_figures import plot_activations

        figure = plot_activations(names, x_range)
        save_figure(figure, output, dpi=110)
        print(f"saved {output} ({', '.join(names)} on [{x_range[0]:g}, {x_range[1]:g}])")
        return
    from neuralab.report.theory_tables import activation_table
    from neuralab.theory.activation_properties import properties_table

    emit(activation_table(properties_table()), output_format)
