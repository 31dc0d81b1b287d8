"""Figures of the activation table: f(x) and f'(x) side by side, for any names of the table.

The functions and derivatives are :mod:`neuralab.theory.activation_properties`' scalar views of
:mod:`neuralab.theory.activations` (f' from the table, checked against autograd in the tests).
The figure is a matplotlib ``Figure`` (no pyplot state); save it with
``neuralab.atomic.save_figure``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.theory.activation_properties import (
    autograd_derivative,
    kinked_at_zero,
    scalar_view,
)
from neuralab.theory.activations import get_activation, list_activations


def plot_activations(names: Sequence[str], x_range: tuple[float, float] = (-4.0, 4.0)) -> Figure:
    """Return a figure: f(x) on the left, f'(x) on the right, one colour per name.

    Where f jumps (step) the curves break instead of drawing a vertical line, and a dot marks the
    value autograd uses at a kink at 0 (relu'(0) = 0).
    """
    low, high = x_range
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise NeuralabError(f"--range {low:g} {high:g} must be two finite numbers, low < high")
    if not names:
        raise NeuralabError(
            f"--plot needs at least one name (valid: {', '.join(list_activations())})"
        )
    views = [(get_activation(n).name, *scalar_view(n)) for n in names]  # unknown names raise here

    x = torch.linspace(low, high, 1601, dtype=torch.float64)
    figure = Figure(figsize=(10, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    for index, (name, f, derivative) in enumerate(views):
        colour = f"C{index}"
        left.plot(*_broken(x, f(x)), color=colour, lw=2, label=name)
        right.plot(*_broken(x, derivative(x)), color=colour, lw=2, ls="--", label=f"{name}'")
        if low < 0 < high and kinked_at_zero(f):  # mark the value autograd uses at the kink
            zero = torch.zeros(1, dtype=torch.float64)
            right.plot([0.0], autograd_derivative(f, zero).tolist(), "o", color=colour, ms=6)
    for axis, title in ((left, "f(x)"), (right, "f'(x)")):
        axis.axhline(0, color="0.6", lw=0.8, zorder=0)
        axis.axvline(0, color="0.6", lw=0.8, zorder=0)
        axis.set_xlim(low, high)
        axis.set_xlabel("x (pre-activation)")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        axis.legend(frameon=False, fontsize=9)
    return figure


def _broken(x: Tensor, y: Tensor) -> tuple[Any, Any]:
    """Return x, y as arrays with a NaN inserted at each jump, so a jump is drawn as a gap."""
    xs, ys = x.numpy(), y.detach().numpy()
    span = float(np.ptp(ys)) or 1.0
    jumps = np.nonzero(np.abs(np.diff(ys)) > 0.1 * span)[0] + 1  # smooth curves move < 1% a step
    return np.insert(xs, jumps, np.nan), np.insert(ys, jumps, np.nan)


__all__ = ["plot_activations"]
