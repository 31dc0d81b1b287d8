"""THE activation table: every activation function with its derivative, looked up by name.

The theory bench, the playground, the spec language and the image classifiers all take their
activations from here (``get_activation("relu")``), so one name means one function everywhere.

Each entry gives the function f, its derivative f' written out by hand (tests check it against
autograd), and a factory for the matching ``torch.nn`` module.

Formulas (x is the pre-activation, applied elementwise except softmax):

=============  ===========================================  ==========================================
name           f(x)                                         f'(x)
=============  ===========================================  ==========================================
identity       x                                            1
step           1 if x > 0 else 0 (Heaviside, course's        0 (undefined at 0)
               perceptron; 0 at x = 0)
sigmoid        sigma(x) = 1 / (1 + e^-x)                    sigma(x) (1 - sigma(x))
tanh           (e^x - e^-x) / (e^x + e^-x)                  1 - tanh(x)^2
relu           max(0, x)                                    1 if x > 0 else 0 (autograd's choice at 0)
leaky_relu     x if x > 0 else a x   (a = 0.01)             1 if x > 0 else a
elu            x if x > 0 else a (e^x - 1)   (a = 1)        1 if x > 0 else a e^x
gelu           x Phi(x), Phi the standard normal CDF        Phi(x) + x phi(x)
softplus       log(1 + e^x)                                 sigma(x)
softmax        e^x_i / sum_j e^x_j  (over the last axis)    diagonal of the Jacobian: s_i (1 - s_i)
=============  ===========================================  ==========================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.registry import Registry

TensorFunction = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Activation:
    """One activation function: f, its derivative f', and a ``torch.nn`` module factory."""

    name: str
    function: TensorFunction  # f(x), elementwise (softmax: over the last axis)
    derivative: TensorFunction  # f'(x); for softmax the Jacobian's diagonal ds_i/dx_i
    module: Callable[[], nn.Module]  # a fresh nn.Module computing f
    formula: str  # f written the course's way, for tables and plots
    parameters: dict[str, float] = field(default_factory=dict)  # e.g. {"a": 0.01}
    elementwise: bool = True  # False for softmax, which mixes the entries of the last axis

    def __call__(self, x: Tensor) -> Tensor:
        return self.function(x)


class _Step(nn.Module):
    """Heaviside step, 1 where x > 0, else 0 (the perceptron's activation; no useful gradient)."""

    def forward(self, x: Tensor) -> Tensor:
        return (x > 0).to(x.dtype)


def _identity() -> Activation:
    return Activation("identity", lambda x: x, torch.ones_like, nn.Identity, "f(x) = x")


def _step() -> Activation:
    return Activation(
        "step",
        lambda x: (x > 0).to(x.dtype),
        torch.zeros_like,
        _Step,
        "f(x) = 1 if x > 0 else 0",
    )


def _sigmoid() -> Activation:
    def derivative(x: Tensor) -> Tensor:
        s = torch.sigmoid(x)
        return s * (1 - s)

    return Activation("sigmoid", torch.sigmoid, derivative, nn.Sigmoid, "f(x) = 1 / (1 + e^-x)")


def _tanh() -> Activation:
    return Activation(
        "tanh", torch.tanh, lambda x: 1 - torch.tanh(x) ** 2, nn.Tanh, "f(x) = tanh(x)"
    )


def _relu() -> Activation:
    return Activation(
        "relu", torch.relu, lambda x: (x > 0).to(x.dtype), nn.ReLU, "f(x) = max(0, x)"
    )


def _leaky_relu(a: float = 0.01) -> Activation:
    def function(x: Tensor) -> Tensor:
        return torch.where(x > 0, x, a * x)

    def derivative(x: Tensor) -> Tensor:
        return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, a))

    return Activation(
        "leaky_relu",
        function,
        derivative,
        lambda: nn.LeakyReLU(a),
        f"f(x) = x if x > 0 else {a:g} x",
        {"a": a},
    )


def _elu(a: float = 1.0) -> Activation:
    def function(x: Tensor) -> Tensor:
        return torch.where(x > 0, x, a * torch.expm1(x))

    def derivative(x: Tensor) -> Tensor:
        return torch.where(x > 0, torch.ones_like(x), a * torch.exp(x))

    return Activation(
        "elu",
        function,
        derivative,
        lambda: nn.ELU(a),
        f"f(x) = x if x > 0 else {a:g} (e^x - 1)",
        {"a": a},
    )


def _gelu() -> Activation:
    def phi_cdf(x: Tensor) -> Tensor:
        return 0.5 * (1 + torch.erf(x / math.sqrt(2)))

    def derivative(x: Tensor) -> Tensor:
        density = torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
        return phi_cdf(x) + x * density

    return Activation("gelu", lambda x: x * phi_cdf(x), derivative, nn.GELU, "f(x) = x Phi(x)")


def _softplus() -> Activation:
    return Activation(
        "softplus",
        torch.nn.functional.softplus,
        torch.sigmoid,
        nn.Softplus,
        "f(x) = log(1 + e^x)",
    )


def _softmax() -> Activation:
    def function(x: Tensor) -> Tensor:
        # subtracting the maximum keeps e^x finite for logits of 1000 (softmax is shift-invariant)
        return torch.softmax(x, dim=-1)

    def derivative(x: Tensor) -> Tensor:
        s = torch.softmax(x, dim=-1)
        return s * (1 - s)

    return Activation(
        "softmax",
        function,
        derivative,
        lambda: nn.Softmax(dim=-1),
        "f(x)_i = e^x_i / sum_j e^x_j",
        elementwise=False,
    )


_TABLE: Registry[Callable[..., Activation]] = Registry("activation")
_TABLE.add("identity", _identity, aliases=("linear", "none"))
_TABLE.add("step", _step, aliases=("heaviside",))
_TABLE.add("sigmoid", _sigmoid, aliases=("logistic",))
_TABLE.add("tanh", _tanh)
_TABLE.add("relu", _relu)
_TABLE.add("leaky_relu", _leaky_relu, aliases=("leakyrelu", "lrelu"))
_TABLE.add("elu", _elu)
_TABLE.add("gelu", _gelu)
_TABLE.add("softplus", _softplus)
_TABLE.add("softmax", _softmax)


def get_activation(name: str, **parameters: float) -> Activation:
    """Return the activation called ``name`` (``relu``, ``leaky_relu`` with ``a=0.1``, ...).

    >>> get_activation("relu")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    build = _TABLE.get(name)
    try:
        return build(**parameters)
    except TypeError:
        raise NeuralabError(
            f"activation {name!r} takes no parameters {sorted(parameters)}"
        ) from None


def list_activations() -> list[str]:
    """Return the names in the activation table, sorted."""
    return _TABLE.names()


def activation_module(name: str, **parameters: float) -> nn.Module:
    """Return a fresh ``nn.Module`` computing the activation ``name``."""
    return get_activation(name, **parameters).module()
