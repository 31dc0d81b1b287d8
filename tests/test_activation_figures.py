"""The activation figure: two panels, one curve per name, autograd's value at a kink."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from neuralab.errors import NeuralabError
from neuralab.report.activation_figures import plot_activations


def test_plot_two_panels_one_line_per_name():
    figure = plot_activations(["relu", "sigmoid", "step"], (-3.0, 3.0))
    left, right = figure.axes

    def labelled(axis):
        return [line for line in axis.get_lines() if not line.get_label().startswith("_")]

    assert [line.get_label() for line in labelled(left)] == ["relu", "sigmoid", "step"]
    assert [line.get_label() for line in labelled(right)] == ["relu'", "sigmoid'", "step'"]
    assert all(line.get_linestyle() == "--" for line in labelled(right))
    # a dot at (0, 0) shows the value autograd uses at relu's kink
    dots = [line for line in right.get_lines() if line.get_marker() == "o"]
    assert [(float(d.get_xdata()[0]), float(d.get_ydata()[0])) for d in dots][0] == (0.0, 0.0)
    with pytest.raises(NeuralabError, match="low < high"):
        plot_activations(["relu"], (2.0, 1.0))


def test_a_jump_is_a_gap_and_names_are_checked():
    figure = plot_activations(["step"], (-1.0, 1.0))
    assert isinstance(figure, Figure)
    (curve,) = [line for line in figure.axes[0].get_lines() if line.get_label() == "step"]
    xs = curve.get_xdata()
    assert len(xs) == 1602 and sum(x != x for x in xs) == 1  # one NaN: the jump at 0
    with pytest.raises(NeuralabError, match="unknown activation 'rleu'"):
        plot_activations(["rleu"])
    with pytest.raises(NeuralabError, match="--plot needs at least one name"):
        plot_activations([])
