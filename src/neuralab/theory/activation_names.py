"""The names (and aliases) of the activation table, readable without importing torch.

The spec language refuses a mistyped layer name before torch is loaded (``maxpol`` -> "did you
mean 'maxpool'?" in a fraction of a second). :mod:`neuralab.theory.activations` stays THE
table of functions; ``tests/test_activations.py`` checks that these names and aliases are
exactly its own.
"""

from __future__ import annotations

from neuralab.errors import unknown_name_error

# name -> aliases, as neuralab.theory.activations registers them
ACTIVATION_ALIASES: dict[str, tuple[str, ...]] = {
    "identity": ("linear", "none"),
    "step": ("heaviside",),
    "sigmoid": ("logistic",),
    "tanh": (),
    "relu": (),
    "leaky_relu": ("leakyrelu", "lrelu"),
    "elu": (),
    "gelu": (),
    "softplus": (),
    "softmax": (),
}


# the parameters (and their defaults) of the activations that have any
ACTIVATION_PARAMETERS: dict[str, dict[str, float]] = {"leaky_relu": {"a": 0.01}, "elu": {"a": 1.0}}


def canonical_activation(name: str) -> str | None:
    """Return the table name of activation ``name`` or alias (any case), or None if unknown."""
    key = name.lower()
    for canonical, aliases in ACTIVATION_ALIASES.items():
        if key == canonical or key in aliases:
            return canonical
    return None


def checked_activation(name: str) -> str:
    """Return the table name of activation ``name`` (any case, spaces around it ignored); an
    unknown name raises the table's own error, with close names and the valid ones."""
    canonical = canonical_activation(name.strip())
    if canonical is None:
        raise unknown_name_error("activation", name, activation_names())
    return canonical


def activation_names() -> list[str]:
    """Return the activation names, sorted (what ``list_activations()`` returns)."""
    return sorted(ACTIVATION_ALIASES)


def is_activation_name(name: str) -> bool:
    """Return whether ``name`` (any case) is an activation's name or one of its aliases."""
    return canonical_activation(name) is not None
