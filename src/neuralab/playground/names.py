"""The playground's names and network shape, read and checked without importing torch.

A config is checked when it is made (:class:`neuralab.playground.config.PlaygroundConfig`), so a
mistyped data set, feature, activation or layer size is refused before torch is loaded. The
tables here are copies of the registries of :mod:`neuralab.playground.toy_data` and
:mod:`neuralab.playground.features`; ``tests/test_playground_names.py`` checks they are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.errors import NeuralabError
from neuralab.registry import Registry
from neuralab.theory.activation_names import activation_names, checked_activation

OUTPUT_ACTIVATIONS = ("sigmoid", "tanh", "identity", "softmax")

# toy data set -> aliases, as neuralab.playground.toy_data registers them
TOY_DATA_ALIASES: dict[str, tuple[str, ...]] = {
    "circle": (),
    "xor": (),
    "gauss": ("gaussian",),
    "spiral": (),
    "plane": ("reg-plane",),
    "multi-gauss": ("reg-gauss", "multigauss", "multi_gauss"),
    "moons": (),
    "curve": ("1d", "regress-1d"),
    "blobs": (),
}

# feature -> (the raw input columns it needs, aliases), in TF Playground's order
FEATURE_INPUTS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "x1": ((0,), ()),
    "x2": ((1,), ()),
    "x1^2": ((0,), ("x1**2", "x1sq", "x1_sq")),
    "x2^2": ((1,), ("x2**2", "x2sq", "x2_sq")),
    "x1x2": ((0, 1), ("x1*x2", "x1_x2")),
    "sin_x1": ((0,), ("sin(x1)", "sinx1")),
    "sin_x2": ((1,), ("sin(x2)", "sinx2")),
}
FEATURE_ORDER = tuple(FEATURE_INPUTS)

_TOY_DATA: Registry[str] = Registry("toy data set")
for _name, _aliases in TOY_DATA_ALIASES.items():
    _TOY_DATA.add(_name, _name, aliases=_aliases)
_FEATURES: Registry[tuple[int, ...]] = Registry("feature")
for _name, (_needs, _aliases) in FEATURE_INPUTS.items():
    _FEATURES.add(_name, _needs, aliases=_aliases)


def checked_toy_data(name: str) -> str:
    """Return the table name of toy data set ``name`` or an alias; unknown names raise."""
    return _TOY_DATA.canonical(name)


def resolve_features(names: Sequence[str], input_dim: int = 2) -> tuple[str, ...]:
    """Return the canonical feature names; unknown names, repeats or too few inputs raise.

    ``input_dim`` is the number of raw coordinates of the data (1 for the 1-D regression set),
    so ``x2`` is refused on 1-D data with a message saying why.
    """
    if not names:
        raise NeuralabError(f"features is empty; choose some of {', '.join(FEATURE_ORDER)}")
    canonical: list[str] = []
    for name in names:
        key = _FEATURES.canonical(str(name).replace(" ", ""))
        if key in canonical:
            raise NeuralabError(f"feature {name!r} is listed twice")
        needs = _FEATURES.get(key)
        if max(needs) >= input_dim:
            usable = [f for f in FEATURE_ORDER if max(_FEATURES.get(f)) < input_dim]
            raise NeuralabError(
                f"feature {name!r} needs input x{max(needs) + 1}, but the data has "
                f"{input_dim} input(s) (usable: {', '.join(usable)})"
            )
        canonical.append(key)
    return tuple(canonical)


def parse_activations(activation: str | Sequence[str], depth: int) -> tuple[str, ...]:
    """Return one canonical activation name per hidden layer.

    ``activation`` is one name for every layer (``"relu"``), or a comma list with one name per
    layer (``"relu,tanh"`` for two hidden layers).
    """
    names = activation.split(",") if isinstance(activation, str) else list(activation)
    names = [n.strip() for n in names if n.strip()]
    if depth == 0 and not names:
        return ()
    if not names:
        raise NeuralabError(f"activation is empty (valid: {', '.join(activation_names())})")
    canonical = tuple(checked_activation(n) for n in names)
    if "softmax" in canonical:
        raise NeuralabError("softmax is an output activation, not a hidden one")
    if len(canonical) == 1:
        return canonical * depth
    if len(canonical) != depth:
        raise NeuralabError(
            f"activation {','.join(names)!r} names {len(canonical)} activations for {depth} "
            "hidden layers; give one name for all layers or one per layer"
        )
    return canonical


def parse_output(name: str) -> str:
    """Return the canonical output activation (sigmoid, tanh, identity or softmax)."""
    canonical = checked_activation(name)
    if canonical not in OUTPUT_ACTIVATIONS:
        raise NeuralabError(
            f"output activation {name!r} is not one of sigmoid, tanh, linear, softmax"
        )
    return canonical


def parse_hidden(hidden: str | Sequence[int]) -> tuple[int, ...]:
    """Return the hidden layer sizes from ``"8,8"`` (also ``8x8``) or a sequence of integers.

    An empty string or sequence means no hidden layer (logistic / linear regression).
    """
    parts: list[Any]
    if isinstance(hidden, str):
        parts = [p.strip() for p in hidden.replace("x", ",").replace("+", ",").split(",")]
        parts = [p for p in parts if p]
    else:
        parts = list(hidden)
    sizes = []
    for part in parts:
        if isinstance(part, str):
            size = int(part) if part.isdigit() else 0
        elif isinstance(part, int | float) and not isinstance(part, bool) and part == int(part):
            size = int(part)
        else:
            size = 0
        if size <= 0:
            raise NeuralabError(
                f"hidden sizes {hidden!r}: {part!r} is not a positive integer "
                "(give sizes like 8,8; an empty value means no hidden layer)"
            )
        sizes.append(size)
    return tuple(sizes)


__all__ = [
    "FEATURE_INPUTS",
    "FEATURE_ORDER",
    "OUTPUT_ACTIVATIONS",
    "TOY_DATA_ALIASES",
    "checked_toy_data",
    "parse_activations",
    "parse_hidden",
    "parse_output",
    "resolve_features",
]
