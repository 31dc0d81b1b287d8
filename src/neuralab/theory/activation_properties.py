"""Properties of each activation function, measured on the function itself, never typed in.

For an activation f (softmax seen as one output, see :func:`scalar_view`) this module measures:

- output range: min and max of f on a fine grid over [-10, 10], plus its limits at -inf and +inf
  read from f(+-1e6); an end is closed (``[``) when the grid attains it, open (``(``) when f only
  approaches it, infinite when f(1e6) still grows past f(1e3).
- zero-centred: the mean of f(x) over a symmetric, zero-mean sample of x (x and -x both in it).
- f'(0), f'(-5), f'(5) from autograd; |f'(+-5)| < 0.01 means the unit saturates on that side,
  where gradients vanish.
- non-linear: f(a + b) != f(a) + f(b) on random samples a, b.
- monotonic: f never goes down along the grid.
- differentiable everywhere: the left and right difference quotients (f(x) - f(x - h)) / h and
  (f(x + h) - f(x)) / h agree at every grid point (0 included); where they do not (a kink or a
  jump), the table says which value autograd uses there, e.g. relu'(0) = 0 in PyTorch.

The curves of f and f' are drawn by :mod:`neuralab.report.activation_figures`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from neuralab.theory.activations import get_activation, list_activations

SATURATION_THRESHOLD = 0.01  # |f'(+-5)| below this: prone to vanishing gradients
SOFTMAX_CLASSES = 3  # softmax's scalar view: output 1 of K = 3 classes, the others' logits at 0

_GRID_LIMIT = 10.0  # range and monotonicity on [-10, 10]; far enough to see every bend
_GRID_STEP = 1e-3
_FAR = (1e3, 1e6)  # inputs that stand for +-inf
_H = 1e-6  # step of the one-sided difference quotients
_KINK_TOLERANCE = 1e-4  # left vs right quotient; smooth functions differ by ~h |f''| < 1e-5
_LINEARITY_TOLERANCE = 1e-9
_ZERO_MEAN_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ActivationProperties:
    """The measured properties of one activation function (see the module docstring)."""

    name: str
    formula: str
    low: float  # infimum of f (may be -inf)
    high: float  # supremum of f (may be inf)
    low_attained: bool  # some finite x gives f(x) = low
    high_attained: bool
    mean_output: float  # mean of f over a symmetric zero-mean sample
    zero_centred: bool
    derivative_at_0: float  # autograd's f'(0)
    derivative_at_minus_5: float
    derivative_at_plus_5: float
    saturates: str  # "both", "negative", "positive" or "no": sides where |f'(+-5)| < 0.01
    nonlinear: bool
    max_additivity_gap: float  # max |f(a + b) - f(a) - f(b)| over the samples
    monotonic: bool
    differentiable: bool  # left and right derivatives agree on the whole grid
    kinks: tuple[float, ...]  # grid points where they do not
    kink_left: tuple[float, ...]  # left difference quotient at each kink
    kink_right: tuple[float, ...]  # right difference quotient at each kink
    kink_autograd: tuple[float, ...]  # the value autograd uses there

    @property
    def output_range(self) -> str:
        """Return the range as an interval, e.g. ``(0, 1)`` or ``[0, inf)``."""
        left = "[" if self.low_attained else "("
        right = "]" if self.high_attained else ")"
        return f"{left}{_bound(self.low)}, {_bound(self.high)}{right}"

    @property
    def autograd_convention(self) -> str:
        """Return what autograd does where f is not differentiable, e.g. ``f'(0) = 0``."""
        if self.differentiable:
            return ""
        described = []
        for x, g, lo, hi in zip(
            self.kinks, self.kink_autograd, self.kink_left, self.kink_right, strict=True
        ):
            # a one-sided quotient of order 1/h means f itself jumps there
            if max(abs(lo), abs(hi)) * _H > 0.5:
                described.append(
                    f"jumps at {_bound(x)} (not even continuous); autograd uses "
                    f"f'({_bound(x)}) = {_bound(g)}"
                )
            else:
                described.append(
                    f"kink at {_bound(x)} (left f' {_bound(lo)}, right f' {_bound(hi)}); "
                    f"autograd uses f'({_bound(x)}) = {_bound(g)}"
                )
        return "; ".join(described)


def scalar_view(name: str) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """Return (f, f') of activation ``name`` as elementwise functions of one input.

    Every activation but softmax is elementwise already. Softmax maps a vector of logits to a
    vector, so its scalar view is one output as its own logit x varies, the other K - 1 = 2
    logits held at 0: f(x) = e^x / (e^x + 2), f'(x) = f(x) (1 - f(x)) (the Jacobian's diagonal).
    """
    activation = get_activation(name)
    if activation.elementwise:
        return activation.function, activation.derivative

    def logits(x: Tensor) -> Tensor:
        others = torch.zeros(*x.shape, SOFTMAX_CLASSES - 1, dtype=x.dtype, device=x.device)
        return torch.cat([x.unsqueeze(-1), others], dim=-1)

    def function(x: Tensor) -> Tensor:
        return activation.function(logits(x))[..., 0]

    def derivative(x: Tensor) -> Tensor:
        return activation.derivative(logits(x))[..., 0]

    return function, derivative


def autograd_derivative(function: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Return d f(x) / dx elementwise as autograd computes it (float64).

    A piecewise-constant f such as the step has no autograd graph at all; its derivative is 0.
    """
    x = x.detach().to(torch.float64).requires_grad_(True)
    y = function(x)
    if not y.requires_grad:
        return torch.zeros_like(x.detach())
    (gradient,) = torch.autograd.grad(y.sum(), x)
    return gradient


def activation_properties(name: str) -> ActivationProperties:
    """Return the measured :class:`ActivationProperties` of activation ``name``."""
    activation = get_activation(name)
    f, _ = scalar_view(name)
    # an exact grid: integers / 1000, so 0 is a grid point
    n = round(_GRID_LIMIT / _GRID_STEP)
    grid = torch.arange(-n, n + 1, dtype=torch.float64) * _GRID_STEP
    values = f(grid)

    low, low_attained = _bound_of(f, values, lower=True)
    high, high_attained = _bound_of(f, values, lower=False)

    generator = torch.Generator().manual_seed(0)
    half = torch.randn(5000, generator=generator, dtype=torch.float64)
    mean_output = f(torch.cat([half, -half])).mean().item()

    derivatives = autograd_derivative(f, torch.tensor([0.0, -5.0, 5.0], dtype=torch.float64))
    d0, d_minus, d_plus = (float(v) for v in derivatives)
    sides = [abs(d_minus) < SATURATION_THRESHOLD, abs(d_plus) < SATURATION_THRESHOLD]
    saturates = {(True, True): "both", (True, False): "negative", (False, True): "positive"}.get(
        (sides[0], sides[1]), "no"
    )

    a = 3 * torch.randn(2000, generator=generator, dtype=torch.float64)
    b = 3 * torch.randn(2000, generator=generator, dtype=torch.float64)
    gap = (f(a + b) - f(a) - f(b)).abs().max().item()

    steps = values[1:] - values[:-1]
    monotonic = bool((steps >= 0).all() or (steps <= 0).all())

    kink_grid = torch.arange(-5000, 5001, dtype=torch.float64) * _GRID_STEP  # [-5, 5]
    f0 = f(kink_grid)
    left = (f0 - f(kink_grid - _H)) / _H
    right = (f(kink_grid + _H) - f0) / _H
    bad = (left - right).abs() > _KINK_TOLERANCE
    kinks = kink_grid[bad]
    kink_autograd = autograd_derivative(f, kinks) if len(kinks) else kinks

    return ActivationProperties(
        name=activation.name,
        formula=activation.formula,
        low=low,
        high=high,
        low_attained=low_attained,
        high_attained=high_attained,
        mean_output=mean_output,
        zero_centred=abs(mean_output) < _ZERO_MEAN_TOLERANCE,
        derivative_at_0=d0,
        derivative_at_minus_5=d_minus,
        derivative_at_plus_5=d_plus,
        saturates=saturates,
        nonlinear=gap > _LINEARITY_TOLERANCE,
        max_additivity_gap=gap,
        monotonic=monotonic,
        differentiable=not bool(bad.any()),
        kinks=tuple(kinks.tolist()),
        kink_left=tuple(left[bad].tolist()),
        kink_right=tuple(right[bad].tolist()),
        kink_autograd=tuple(kink_autograd.tolist()),
    )


def properties_table(names: Sequence[str] | None = None) -> list[ActivationProperties]:
    """Return the properties of every activation (or of ``names``), in table order."""
    return [activation_properties(name) for name in (names or list_activations())]


def properties_rows(table: Sequence[ActivationProperties]) -> list[dict[str, Any]]:
    """Return one flat dict per activation, the columns the command line prints."""
    return [
        {
            "name": p.name,
            "range": p.output_range,
            "zero_centred": _yes(p.zero_centred),
            "mean_output": p.mean_output,
            "d0": p.derivative_at_0,
            "d_minus5": p.derivative_at_minus_5,
            "d_plus5": p.derivative_at_plus_5,
            "saturates": p.saturates,
            "nonlinear": _yes(p.nonlinear),
            "monotonic": _yes(p.monotonic),
            "differentiable": _yes(p.differentiable),
            "autograd_convention": p.autograd_convention,
        }
        for p in table
    ]


def kinked_at_zero(f: Callable[[Tensor], Tensor]) -> bool:
    """Return whether f's left and right difference quotients at 0 differ (relu: 0 vs 1)."""
    x = torch.tensor([-_H, 0.0, _H], dtype=torch.float64)
    below, at, above = f(x).tolist()
    return abs((at - below) / _H - (above - at) / _H) > _KINK_TOLERANCE


def _bound_of(f: Callable[[Tensor], Tensor], values: Tensor, *, lower: bool) -> tuple[float, bool]:
    sign = -1.0 if lower else 1.0
    near, far = (f(torch.tensor([sign * t], dtype=torch.float64)).item() for t in _FAR)
    # still growing between 1e3 and 1e6: unbounded on this side
    if (far - near) * (-1 if lower else 1) > 1.0:
        return (-math.inf if lower else math.inf), False
    extreme = values.min().item() if lower else values.max().item()
    bound = min(extreme, far) if lower else max(extreme, far)
    attained = abs(extreme - bound) <= 1e-12 * max(1.0, abs(bound))
    return bound, attained


def _bound(value: float) -> str:
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return "0" if value == 0 else f"{value:.4g}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
