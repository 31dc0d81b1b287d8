"""Networks of step units: scaling invariance and the sigmoid limit.

- :class:`StepNetwork` is a feed-forward network of step units, layers (W, b), W of shape
  outputs x inputs (the course's convention: W1 is hidden x inputs).
- :func:`scale_demo`: step(c a) = step(a) for every c > 0, so multiplying every weight and bias
  by c > 0 changes no output; c = 0 and c < 0 do.
- :func:`sigmoid_limit`: sigma(c a) -> step(a) as c -> inf for every a != 0, so the same network
  with sigmoid units and weights times c tends to the step network; where some unit has
  w . x + b = 0 exactly, that unit outputs sigma(c 0) = 1/2 for every c and the limit fails.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.limits import check_memory


class StepNetwork:
    """A feed-forward network of step units: layers (W, b), a = W h + b, h' = step(a).

    W has shape outputs x inputs (the course: W1 is hidden x inputs, W2 outputs x hidden).
    ``forward(x, activation="sigmoid", c=10)`` runs the same network with sigmoid units and
    every weight and bias multiplied by c.
    """

    def __init__(self, weights: Sequence[tuple[Any, Any]]) -> None:
        if not weights:
            raise NeuralabError("a step network needs at least one layer (W, b)")
        layers: list[tuple[Tensor, Tensor]] = []
        for index, (w, b) in enumerate(weights, start=1):
            W = torch.as_tensor(w, dtype=torch.float64)
            if W.dim() != 2:
                raise NeuralabError(
                    f"W{index} has shape {tuple(W.shape)}; expected a matrix outputs x inputs"
                )
            bias = torch.zeros(W.shape[0], dtype=torch.float64) if b is None else b
            bias = torch.as_tensor(bias, dtype=torch.float64).reshape(-1)
            if bias.numel() != W.shape[0]:
                raise NeuralabError(
                    f"b{index} has {bias.numel()} entries; W{index} has {W.shape[0]} rows, "
                    "so b needs as many"
                )
            if layers and W.shape[1] != layers[-1][0].shape[0]:
                raise NeuralabError(
                    f"W{index} has shape {W.shape[0]}x{W.shape[1]}; expected "
                    f"{W.shape[0]}x{layers[-1][0].shape[0]} (its columns = rows of W{index - 1})"
                )
            layers.append((W, bias))
        self.layers = layers

    @property
    def n_inputs(self) -> int:
        """Return the number of inputs (columns of W1)."""
        return int(self.layers[0][0].shape[1])

    def pre_activations(self, x: Tensor, activation: str = "step", c: float = 1.0) -> list[Tensor]:
        """Return a = c (W h + b) of every layer for inputs ``x`` (n, inputs)."""
        h = torch.as_tensor(x, dtype=torch.float64)
        if h.dim() != 2 or h.shape[1] != self.n_inputs:
            raise NeuralabError(f"inputs have shape {tuple(h.shape)}; expected n x {self.n_inputs}")
        if activation not in ("step", "sigmoid"):
            raise NeuralabError(f"activation {activation!r}: expected step or sigmoid")
        values = []
        for W, b in self.layers:
            # c (W h + b) equals (c W) h + c b; scaling after the sum keeps an exact 0 exact,
            # so a point on a unit's line stays on it for every c despite rounding of c W
            a = c * (h @ W.T + b)  # (n, outputs)
            values.append(a)
            h = (a > 0).to(a.dtype) if activation == "step" else torch.sigmoid(a)
        return values

    def layer_outputs(self, x: Tensor, activation: str = "step", c: float = 1.0) -> list[Tensor]:
        """Return the outputs h of every layer (step(a) or sigma(a), a from c-scaled weights)."""
        pre = self.pre_activations(x, activation, c)
        if activation == "step":
            return [(a > 0).to(a.dtype) for a in pre]
        return [torch.sigmoid(a) for a in pre]

    def forward(self, x: Tensor, activation: str = "step", c: float = 1.0) -> Tensor:
        """Return the network's output for inputs ``x`` (n, inputs): shape (n, outputs)."""
        return self.layer_outputs(x, activation, c)[-1]

    def scaled(self, c: float) -> StepNetwork:
        """Return the network with every weight and bias multiplied by ``c``."""
        return StepNetwork([(c * W, c * b) for W, b in self.layers])


def xor_step_network() -> StepNetwork:
    """Return the course's XOR of step units: h1 = OR, h2 = AND, out = h1 AND NOT h2.

    W1 = [[1, 1], [1, 1]], b1 = [-0.5, -1.5], W2 = [[1, -1]], b2 = [-0.5]: all exact in binary,
    so the input (0.25, 0.25) lies exactly on h1's line x1 + x2 - 0.5 = 0.
    """
    return StepNetwork(
        [
            ([[1.0, 1.0], [1.0, 1.0]], [-0.5, -1.5]),
            ([[1.0, -1.0]], [-0.5]),
        ]
    )


@dataclass(frozen=True)
class ScaleRow:
    """How many outputs change when every weight and bias is multiplied by c."""

    c: float
    inputs: int
    outputs: int  # inputs x output units compared
    changed: int
    changed_fraction: float


@dataclass(frozen=True)
class ScaleDemo:
    """:func:`scale_demo`'s table and its computed conclusion."""

    rows: tuple[ScaleRow, ...]
    seed: int

    @property
    def conclusion(self) -> str:
        """Return one sentence saying which c left every output unchanged."""
        kept = [r.c for r in self.rows if r.changed == 0]
        moved = [r.c for r in self.rows if r.changed > 0]
        return (
            f"c in {{{', '.join(f'{c:g}' for c in kept)}}} changed no output; "
            f"c in {{{', '.join(f'{c:g}' for c in moved)}}} changed some"
        )


def scale_demo(
    network: StepNetwork,
    c_values: Sequence[float] = (-1.0, 0.0, 0.5, 1.0, 2.0, 10.0, 1000.0),
    n_inputs: int = 1000,
    seed: int = 0,
) -> ScaleDemo:
    """Return, for each c, how many outputs of ``network`` change when W, b become c W, c b.

    Inputs are ``n_inputs`` standard-normal points (seeded). step(c a) = step(a) for c > 0, so
    no output changes; c = 0 makes every a = 0 and every output step(0) = 0; c < 0 flips the
    sign of every a != 0.
    """
    if n_inputs < 1:
        raise NeuralabError(f"n_inputs {n_inputs} must be at least 1")
    units = network.n_inputs + sum(W.shape[0] for W, _ in network.layers)
    check_memory(  # float64 inputs and every unit's value, for the reference and one scaling
        8 * 3 * n_inputs * units, f"{n_inputs:,} random inputs (--n-inputs)"
    )
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n_inputs, network.n_inputs, generator=generator, dtype=torch.float64)
    reference = network.forward(x)
    rows = []
    for c in c_values:
        output = network.scaled(float(c)).forward(x)
        changed = int((output != reference).sum())
        rows.append(
            ScaleRow(float(c), n_inputs, reference.numel(), changed, changed / reference.numel())
        )
    return ScaleDemo(tuple(rows), seed)


def hyperplane_input(network: StepNetwork, unit: int = 0) -> Tensor:
    """Return an input x with w . x + b = 0 exactly (in float64) for first-layer unit ``unit``.

    First the point of the line closest to 0, x = -b w / (w . w) (exact when w and b are short
    binary fractions: integers, halves, quarters, as in :func:`xor_step_network`); otherwise a
    point on an axis, x_k = -b / w_k, moved by a few units in the last place until the network's
    own sum w . x + b rounds to exactly 0.
    """
    W, b = network.layers[0]
    if not 0 <= unit < W.shape[0]:
        raise NeuralabError(f"unit {unit} does not exist; layer 1 has units 0..{W.shape[0] - 1}")
    w = W[unit]
    if float(w @ w) == 0:
        raise NeuralabError(
            f"unit {unit + 1} of layer 1 has all-zero weights: no line w . x + b = 0"
        )

    def on_line(x: Tensor) -> bool:
        return float(network.pre_activations(x.unsqueeze(0))[0][0, unit]) == 0.0

    candidate = -b[unit] * w / (w @ w)
    if on_line(candidate):
        return candidate
    for k in torch.nonzero(w).flatten().tolist():
        x = torch.zeros_like(w)
        x[k] = -b[unit] / w[k]
        for direction in (math.inf, -math.inf):
            trial = x.clone()
            for _ in range(64):
                if on_line(trial):
                    return trial
                trial[k] = math.nextafter(float(trial[k]), direction)
    raise NeuralabError(
        f"no float64 input lies exactly on the line of layer 1 unit {unit + 1} "
        "(w . x + b never rounds to 0); use weights and biases with short binary fractions "
        "such as integers, halves or quarters"
    )


@dataclass(frozen=True)
class SigmoidLimitRow:
    """Sigmoid network with weights times c against the step network, for one c."""

    c: float
    max_difference: float  # over inputs where every unit has w . x + b != 0
    boundary_difference: float  # at the boundary input
    boundary_unit_output: float  # sigma(c (w . x + b)) of the unit on its hyperplane


@dataclass(frozen=True)
class SigmoidLimit:
    """:func:`sigmoid_limit`'s table, the input on a hyperplane, and the margin."""

    rows: tuple[SigmoidLimitRow, ...]
    inputs: int  # inputs off every hyperplane
    boundary_input: tuple[float, ...]  # an input with w . x + b = 0 for some unit
    boundary_unit: tuple[int, int]  # (layer, unit), 1-based, of that unit
    boundary_pre_activation: float  # its w . x + b, exactly 0
    margin: float  # smallest |w . x + b| over the other inputs: the difference ~ sigma(-c margin)


def sigmoid_limit(
    network: StepNetwork,
    c_values: Sequence[float] = (1.0, 10.0, 100.0, 1000.0),
    inputs: Tensor | None = None,
) -> SigmoidLimit:
    """Return how far the sigmoid network with weights times c is from the step network.

    ``inputs`` default to the corners {0, 1}^n plus :func:`hyperplane_input` (on the first unit's
    line). Inputs where some unit of the step network has w . x + b = 0 exactly are the boundary
    inputs: there sigma(c 0) = 1/2 whatever c, while step(0) = 0, so the difference stays.
    Elsewhere max |sigmoid - step| -> 0 as c grows.
    """
    if inputs is None:
        corners = torch.tensor(
            list(itertools.product((0.0, 1.0), repeat=network.n_inputs)), dtype=torch.float64
        )
        inputs = torch.cat([corners, hyperplane_input(network).unsqueeze(0)])
    x = torch.as_tensor(inputs, dtype=torch.float64)
    pre = network.pre_activations(x)
    on_boundary = torch.zeros(len(x), dtype=torch.bool)
    for a in pre:
        on_boundary |= (a == 0).any(dim=1)
    if not bool(on_boundary.any()):
        raise NeuralabError(
            "no input lies on a hyperplane w . x + b = 0; add one (e.g. x = -b w / |w|^2)"
        )
    first = int(torch.nonzero(on_boundary)[0])
    layer, unit = next(
        (index, int(torch.nonzero(a[first] == 0)[0]))
        for index, a in enumerate(pre)
        if bool((a[first] == 0).any())
    )
    off = ~on_boundary
    margin = min((a[off].abs().min().item() for a in pre), default=float("nan"))
    step_output = network.forward(x)
    rows = []
    for c in c_values:
        outputs = network.layer_outputs(x, "sigmoid", float(c))
        difference = (outputs[-1] - step_output).abs().amax(dim=1)
        rows.append(
            SigmoidLimitRow(
                c=float(c),
                max_difference=difference[off].max().item() if bool(off.any()) else float("nan"),
                boundary_difference=difference[first].item(),
                boundary_unit_output=outputs[layer][first, unit].item(),
            )
        )
    return SigmoidLimit(
        rows=tuple(rows),
        inputs=int(off.sum()),
        boundary_input=tuple(x[first].tolist()),
        boundary_unit=(layer + 1, unit + 1),
        boundary_pre_activation=pre[layer][first, unit].item(),
        margin=margin,
    )
