"""THE initialization schemes, shared by the playground and the image classifiers.

Every scheme draws the weights of each ``nn.Linear`` / ``nn.Conv*`` layer; biases are set to a
constant (0 by default; 0.01 keeps ReLU units active at the start). ``fan_in`` is the number of
inputs into one output neuron: ``in_features`` for a linear layer, ``C_in / groups * k_h * k_w``
for a convolution; ``fan_out`` likewise ``out_features`` or ``C_out / groups * k_h * k_w``.

=======================  ========================================================
scheme                   weights
=======================  ========================================================
zeros                    0
constant (c)             c                      (every unit identical: symmetry)
normal (std)             N(0, std^2)            (std = 0.01 by default)
uniform (a)              U(-a, a)               (a = 0.05 by default)
xavier_uniform           U(-b, b), b = sqrt(6 / (fan_in + fan_out))      (Glorot)
xavier_normal            N(0, 2 / (fan_in + fan_out))
he_uniform               U(-b, b), b = sqrt(6 / fan_in)                  (Kaiming, ReLU)
he_normal                N(0, 2 / fan_in)
lecun                    N(0, 1 / fan_in)
orthogonal               a (semi-)orthogonal matrix, gain 1
scaled (s)               N(0, s / fan_in): the course's family
zero / small /           scaled with s = 0 / 0.01 / 1 / 100:
appropriate / large      "zero / too small / appropriate / too large"
=======================  ========================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.registry import Registry

WEIGHTED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)


def fan_in_fan_out(weight: Tensor) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a linear or convolution weight tensor.

    A weight of shape (out, in, k_h, k_w) has fan_in = in * k_h * k_w and
    fan_out = out * k_h * k_w (``in`` is already divided by ``groups`` in PyTorch's layout).
    """
    if weight.dim() < 2:
        raise NeuralabError(f"fan-in needs a weight of 2 or more dimensions, got {weight.dim()}")
    receptive = math.prod(weight.shape[2:]) if weight.dim() > 2 else 1
    return weight.shape[1] * receptive, weight.shape[0] * receptive


@dataclass(frozen=True)
class InitScheme:
    """A named weight initialization: ``draw(weight, generator)`` fills ``weight`` in place."""

    name: str
    draw: Callable[[Tensor, torch.Generator | None], None]
    description: str


def _normal(
    std_of: Callable[[int, int], float],
) -> Callable[[Tensor, torch.Generator | None], None]:
    def draw(weight: Tensor, generator: torch.Generator | None) -> None:
        fan_in, fan_out = fan_in_fan_out(weight)
        std = std_of(fan_in, fan_out)
        with torch.no_grad():
            if std == 0:
                weight.zero_()
            else:
                weight.normal_(0.0, std, generator=generator)

    return draw


def _uniform(
    bound_of: Callable[[int, int], float],
) -> Callable[[Tensor, torch.Generator | None], None]:
    def draw(weight: Tensor, generator: torch.Generator | None) -> None:
        fan_in, fan_out = fan_in_fan_out(weight)
        bound = bound_of(fan_in, fan_out)
        with torch.no_grad():
            weight.uniform_(-bound, bound, generator=generator)

    return draw


def _constant(value: float) -> Callable[[Tensor, torch.Generator | None], None]:
    def draw(weight: Tensor, generator: torch.Generator | None) -> None:
        with torch.no_grad():
            weight.fill_(value)

    return draw


def _orthogonal(weight: Tensor, generator: torch.Generator | None) -> None:
    rows = weight.shape[0]
    columns = weight.numel() // rows
    with torch.no_grad():
        flat = torch.randn(max(rows, columns), min(rows, columns), generator=generator)
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))  # make the decomposition unique
        if rows < columns:
            q = q.T
        weight.copy_(q.reshape(weight.shape))


_SCHEMES: Registry[Callable[..., InitScheme]] = Registry("initialization scheme")


def _register(name: str, build: Callable[..., InitScheme], *aliases: str) -> None:
    _SCHEMES.add(name, build, aliases=aliases)


_register("zeros", lambda: InitScheme("zeros", _constant(0.0), "W = 0"))
_register("constant", lambda c=0.5: InitScheme("constant", _constant(c), f"W = {c:g}"))
_register(
    "normal",
    lambda std=0.01: InitScheme("normal", _normal(lambda i, o: std), f"W ~ N(0, {std:g}^2)"),
)
_register(
    "uniform",
    lambda a=0.05: InitScheme("uniform", _uniform(lambda i, o: a), f"W ~ U(-{a:g}, {a:g})"),
)
_register(
    "xavier_uniform",
    lambda: InitScheme(
        "xavier_uniform",
        _uniform(lambda i, o: math.sqrt(6.0 / (i + o))),
        "W ~ U(-b, b), b = sqrt(6 / (fan_in + fan_out))",
    ),
    "xavier",
    "glorot",
    "glorot_uniform",
)
_register(
    "xavier_normal",
    lambda: InitScheme(
        "xavier_normal",
        _normal(lambda i, o: math.sqrt(2.0 / (i + o))),
        "W ~ N(0, 2 / (fan_in + fan_out))",
    ),
    "glorot_normal",
)
_register(
    "he_uniform",
    lambda: InitScheme(
        "he_uniform",
        _uniform(lambda i, o: math.sqrt(6.0 / i)),
        "W ~ U(-b, b), b = sqrt(6 / fan_in)",
    ),
    "kaiming_uniform",
)
_register(
    "he_normal",
    lambda: InitScheme(
        "he_normal", _normal(lambda i, o: math.sqrt(2.0 / i)), "W ~ N(0, 2 / fan_in)"
    ),
    "he",
    "kaiming",
    "kaiming_normal",
)
_register(
    "lecun",
    lambda: InitScheme("lecun", _normal(lambda i, o: math.sqrt(1.0 / i)), "W ~ N(0, 1 / fan_in)"),
    "lecun_normal",
)
_register(
    "orthogonal",
    lambda: InitScheme("orthogonal", _orthogonal, "W orthogonal (QR of a Gaussian matrix)"),
)


def _scaled(s: float = 1.0, name: str = "scaled") -> InitScheme:
    return InitScheme(name, _normal(lambda i, o: math.sqrt(s / i)), f"W ~ N(0, {s:g} / fan_in)")


_register("scaled", _scaled)
_register("zero", lambda: _scaled(0.0, "zero"))
_register("small", lambda: _scaled(0.01, "small"), "too_small")
_register("appropriate", lambda: _scaled(1.0, "appropriate"))
_register("large", lambda: _scaled(100.0, "large"), "too_large")


def get_init_scheme(name: str, **parameters: float) -> InitScheme:
    """Return the scheme ``name`` (``"he"``, ``"constant"`` with ``c=0.1``, ``"scaled"`` with ``s=2``)."""
    build = _SCHEMES.get(name)
    try:
        return build(**parameters)
    except TypeError:
        raise NeuralabError(
            f"initialization scheme {name!r} takes no parameters {sorted(parameters)}"
        ) from None


def list_init_schemes() -> list[str]:
    """Return the names of the initialization schemes, sorted."""
    return _SCHEMES.names()


def init_weights(
    model: nn.Module,
    scheme: str | InitScheme = "he_normal",
    *,
    bias: float = 0.0,
    generator: torch.Generator | None = None,
    **parameters: float,
) -> nn.Module:
    """Initialise every linear and convolution layer of ``model`` in place and return it.

    Weights follow ``scheme``; every bias is set to the constant ``bias``. Layers other than
    ``nn.Linear`` / ``nn.Conv*`` (batch norm, ...) keep PyTorch's defaults.
    """
    chosen = scheme if isinstance(scheme, InitScheme) else get_init_scheme(scheme, **parameters)
    for module in model.modules():
        if isinstance(module, WEIGHTED_LAYERS):
            chosen.draw(module.weight, generator)
            if module.bias is not None:
                with torch.no_grad():
                    module.bias.fill_(bias)
    return model
