"""The names (and aliases) of the initialization table, readable without importing torch.

``neuralab playground --init hee`` is refused with the valid names before torch is loaded.
:mod:`neuralab.theory.initialization` stays THE table of schemes; ``tests/test_init_names.py``
checks that these names and aliases are exactly its own.
"""

from __future__ import annotations

from neuralab.registry import Registry

# name -> aliases, as neuralab.theory.initialization registers them
INIT_SCHEME_ALIASES: dict[str, tuple[str, ...]] = {
    "zeros": (),
    "constant": (),
    "normal": (),
    "uniform": (),
    "xavier_uniform": ("xavier", "glorot", "glorot_uniform"),
    "xavier_normal": ("glorot_normal",),
    "he_uniform": ("kaiming_uniform",),
    "he_normal": ("he", "kaiming", "kaiming_normal"),
    "lecun": ("lecun_normal",),
    "orthogonal": (),
    "scaled": (),
    "zero": (),
    "small": ("too_small",),
    "appropriate": (),
    "large": ("too_large",),
}

_NAMES: Registry[str] = Registry("initialization scheme")
for _name, _aliases in INIT_SCHEME_ALIASES.items():
    _NAMES.add(_name, _name, aliases=_aliases)


def checked_init_scheme(name: str) -> str:
    """Return the table name of scheme ``name`` or an alias (any case); unknown names raise the
    table's own error, with close names and the valid ones."""
    return _NAMES.canonical(name)


__all__ = ["INIT_SCHEME_ALIASES", "checked_init_scheme"]
