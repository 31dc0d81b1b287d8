"""The playground's multi-layer perceptron and the diagnostics that show what it is doing.

``MLP(in_features, hidden, out_features, activation, output, dropout)``: hidden layers
``z_l = W_l a_{l-1} + b_l``, ``a_l = f_l(z_l)`` with f_l taken by name from the shared activation
table, then the output layer ``y = g(W_out a_L + b_out)`` with g = sigmoid, tanh, identity
(linear) or softmax. Dropout is inverted dropout drawn from ``model.generator`` so that a seed
makes a run exactly repeatable (and so the batched trainer can draw the very same masks).

Diagnostics (the course's symptoms of bad choices), computed from the pre-activations z:

- dead ReLU unit: z <= 0 on every input given, so its output and its gradient are always 0;
- saturated sigmoid/tanh unit: |z| > 4 on most (more than half) of the inputs, where
  f'(z) < 0.0013 (tanh) or < 0.018 (sigmoid) and learning crawls;
- symmetric layer: all units of a hidden layer have the same incoming weights and bias (to 1e-6),
  so they compute the same function and receive the same gradient: symmetry is never broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.playground.names import (
    parse_activations,
    parse_hidden,
    parse_output,
)
from neuralab.theory.activations import get_activation

DEAD_ACTIVATIONS = frozenset({"relu"})  # units that can stop for good: f'(z) = 0 for all z <= 0
SATURATING_ACTIVATIONS = frozenset({"sigmoid", "tanh"})
SATURATION_THRESHOLD = 4.0  # |z| above which a sigmoid/tanh unit counts as saturated
SYMMETRY_TOLERANCE = 1e-6  # units whose incoming weights differ by less are identical


def canonical_activation(name: str) -> str:
    """Return the table's name for ``name`` (``linear`` -> ``identity``); unknown names raise."""
    return get_activation(name.strip()).name


class MLP(nn.Module):
    """A fully connected network: hidden layers with activations, then an output activation."""

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (4, 2),
        out_features: int = 1,
        activation: str | Sequence[str] = "tanh",
        output: str = "identity",
        dropout: float | Sequence[float] = 0.0,
    ) -> None:
        super().__init__()
        sizes = parse_hidden(tuple(hidden))
        if in_features <= 0 or out_features <= 0:
            raise NeuralabError(
                f"in_features={in_features} and out_features={out_features} must be positive"
            )
        self.activation_names = parse_activations(activation, len(sizes))
        self.output_name = parse_output(output)
        rates = [float(dropout)] * len(sizes) if isinstance(dropout, int | float) else dropout
        if len(rates) != len(sizes) or any(not 0.0 <= p < 1.0 for p in rates):
            raise NeuralabError(
                f"dropout {dropout!r} must be one probability 0 <= p < 1, or one per hidden layer"
            )
        self.dropout_rates = tuple(float(p) for p in rates)
        widths = [in_features, *sizes]
        self.hidden_layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.output_layer = nn.Linear(widths[-1], out_features)
        self._functions = [get_activation(n).function for n in self.activation_names]
        self._output_function = get_activation(self.output_name).function
        # dropout masks come from this generator (None: torch's global one), see the module doc
        self.generator: torch.Generator | None = None

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return tuple(layer.out_features for layer in self.layers()[:-1])

    def layers(self) -> list[nn.Linear]:
        """Return the linear layers in order: the hidden layers, then the output layer."""
        return [cast(nn.Linear, layer) for layer in self.hidden_layers] + [self.output_layer]

    def trace(self, x: Tensor) -> MLPTrace:
        """Return every intermediate of the forward pass on ``x`` (N, in_features)."""
        pre_activations = []
        a = x
        for layer, function, p in zip(
            self.hidden_layers, self._functions, self.dropout_rates, strict=True
        ):
            z = layer(a)  # (N, H_l)
            pre_activations.append(z)
            a = function(z)
            if self.training and p > 0:
                # inverted dropout: keep with probability 1 - p and scale by 1 / (1 - p)
                # drawn on the CPU (where the generator lives) so CPU and GPU runs drop alike
                keep = torch.rand(a.shape, generator=self.generator) >= p
                a = a * keep.to(a.device, a.dtype) / (1.0 - p)
        logits = self.output_layer(a)  # (N, out_features)
        return MLPTrace(pre_activations, logits, self._output_function(logits))

    def forward(self, x: Tensor, return_hidden: bool = False) -> Any:
        """Return the output y (N, out); with ``return_hidden`` also the list of hidden z's."""
        trace = self.trace(x)
        if return_hidden:
            return trace.output, trace.pre_activations
        return trace.output

    def extra_repr(self) -> str:
        return (
            f"activations={list(self.activation_names)}, output={self.output_name}, "
            f"dropout={list(self.dropout_rates)}"
        )


@dataclass
class MLPTrace:
    """The forward pass of an MLP: hidden pre-activations, output logits and output."""

    pre_activations: list[Tensor]  # z_l, (N, H_l) per hidden layer
    logits: Tensor  # W_out a_L + b_out, (N, out)
    output: Tensor  # g(logits), (N, out)


# -- diagnostics on tensors (leading batch-of-models dimensions allowed) ---------------------
def dead_fraction_of(z: Tensor) -> Tensor:
    """Return the fraction of units that are dead: z <= 0 on every input. z is (..., N, H)."""
    dead = (z <= 0).all(dim=-2)  # (..., H)
    return dead.to(torch.float32).mean(dim=-1)


def saturated_fraction_of(z: Tensor, threshold: float = SATURATION_THRESHOLD) -> Tensor:
    """Return the fraction of units with |z| > threshold on more than half the inputs."""
    share = (z.abs() > threshold).to(torch.float32).mean(dim=-2)  # (..., H)
    return (share > 0.5).to(torch.float32).mean(dim=-1)


def symmetric_of(weight: Tensor, bias: Tensor, tolerance: float = SYMMETRY_TOLERANCE) -> Tensor:
    """Return True where all units of a layer have identical incoming weights and bias.

    ``weight`` is (..., H, in), ``bias`` (..., H); a layer of one unit is not called symmetric.
    """
    rows = torch.cat([weight, bias.unsqueeze(-1)], dim=-1)  # (..., H, in + 1)
    spread = (rows - rows[..., :1, :]).abs().amax(dim=(-2, -1))
    return (spread <= tolerance) & (weight.shape[-2] > 1)


def diagnostics(model: MLP, x: Tensor) -> dict[str, list[Any]]:
    """Return per-hidden-layer dead_fraction, saturated_fraction and symmetric on inputs ``x``."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        zs = model.trace(x).pre_activations
    model.train(was_training)
    return diagnostics_of(zs, model.activation_names, model.layers()[:-1])


def diagnostics_of(
    pre_activations: Sequence[Tensor], activations: Sequence[str], layers: Sequence[nn.Linear]
) -> dict[str, list[Any]]:
    """Return per-hidden-layer dead_fraction, saturated_fraction and symmetric.

    From the pre-activations z_l (N, H_l) of the hidden ``layers`` with these ``activations``:
    ``dead_fraction`` is counted for ReLU layers and ``saturated_fraction`` for sigmoid/tanh
    layers (0.0 for the others, which cannot die or saturate in that sense).
    """
    dead, saturated, symmetric = [], [], []
    for z, name, layer in zip(pre_activations, activations, layers, strict=True):
        z = z.detach()
        dead.append(float(dead_fraction_of(z)) if name in DEAD_ACTIVATIONS else 0.0)
        saturated.append(float(saturated_fraction_of(z)) if name in SATURATING_ACTIVATIONS else 0.0)
        symmetric.append(bool(symmetric_of(layer.weight.detach(), layer.bias.detach())))
    return {"dead_fraction": dead, "saturated_fraction": saturated, "symmetric": symmetric}


def layer_gradient_norms(model: MLP) -> list[float]:
    """Return ||dL/dW_l||_F for every layer (hidden layers, then output); 0.0 where no grad."""
    return [
        0.0 if layer.weight.grad is None else float(torch.linalg.vector_norm(layer.weight.grad))
        for layer in model.layers()
    ]


def layer_weight_norms(model: MLP) -> list[float]:
    """Return ||W_l||_F for every layer (hidden layers, then output)."""
    return [float(torch.linalg.vector_norm(layer.weight.detach())) for layer in model.layers()]


# -- the objective, shared by the sequential and the batched trainer -------------------------
def batch_loss(logits: Tensor, output: Tensor, target: Tensor, loss: str) -> Tensor:
    """Return the mean loss over the examples; leading model dimensions are kept.

    ``logits`` and ``output`` are (..., N, out). ``mse``: mean of (y - t)^2 over examples and
    outputs; ``bce``: -mean[t log sigma(z) + (1 - t) log(1 - sigma(z))], computed from the logits
    z (stable for large |z|); ``ce``: -mean log softmax(z)_t with ``target`` the class index (..., N).
    """
    if loss == "mse":
        return ((output - target) ** 2).mean(dim=(-2, -1))
    if loss == "bce":
        terms = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return terms.mean(dim=(-2, -1))
    if loss == "ce":
        classes = logits.shape[-1]
        terms = nn.functional.cross_entropy(
            logits.reshape(-1, classes), target.reshape(-1), reduction="none"
        )
        return terms.reshape(target.shape).mean(dim=-1)
    raise NeuralabError(f"unknown loss {loss!r} (valid: mse, bce, ce)")


def penalty_of(weights: Sequence[Tensor], l1: float | Tensor, l2: float | Tensor) -> Tensor:
    """Return lambda_1 sum |w| + lambda_2 / 2 sum w^2 over the weight matrices (not biases).

    Weights of shape (..., out, in) give one penalty per leading index (one per model when the
    batched trainer passes stacked weights and per-model lambdas of shape (K,)).
    """
    total = torch.zeros((), dtype=weights[0].dtype, device=weights[0].device)
    for weight in weights:
        total = total + l1 * weight.abs().sum(dim=(-2, -1))
        total = total + 0.5 * l2 * (weight**2).sum(dim=(-2, -1))
    return total


def predicted_class(output: Tensor, threshold: float | None) -> Tensor:
    """Return the class index: argmax of a softmax output, else 1 where y > threshold."""
    if threshold is None:
        return output.argmax(dim=-1)
    return (output[..., 0] > threshold).long()


def accuracy_of(output: Tensor, classes: Tensor, threshold: float | None) -> Tensor:
    """Return the fraction of examples whose predicted class is ``classes`` (..., N)."""
    correct = predicted_class(output, threshold) == classes
    return correct.to(torch.float32).mean(dim=-1)
