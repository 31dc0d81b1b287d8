"""The layer table of the spec language: each layer's name, aliases, arguments and defaults.

Layers (conv, convT, maxpool, avgpool, gap, flatten, fc, dropout, bn) are listed here; every
activation of the shared table (:mod:`neuralab.theory.activations`) is a layer too, its
parameters becoming keyword arguments. :mod:`neuralab.arch.spec_syntax` resolves the arguments
written in a spec against this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REQUIRED = object()  # the default of an argument that must be given


@dataclass(frozen=True)
class Param:
    """One argument of a layer: its name, aliases, value kind and default."""

    name: str
    kind: str  # count, size, nonneg, padding, bool, prob, real
    default: Any = REQUIRED
    aliases: tuple[str, ...] = ()
    meaning: str = ""


@dataclass(frozen=True)
class LayerKind:
    """One layer of the language: its name, aliases and arguments in positional order."""

    name: str
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    activation: bool = False

    def signature(self) -> str:
        """Return e.g. ``conv(out, k, s=1, p=0, d=1, groups=1, bias=true)`` for help and errors."""
        if not self.params:
            return self.name
        parts = [
            p.name if p.default is REQUIRED else f"{p.name}={_show(p.default, p.name)}"
            for p in self.params
        ]
        return f"{self.name}({', '.join(parts)})"


def _show(value: Any, name: str) -> str:
    if value is None:
        return "k" if name == "s" else "none"
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


_OUT = Param("out", "count", aliases=("out_channels", "channels"), meaning="output channels")
_K = Param("k", "size", aliases=("kernel", "kernel_size"), meaning="kernel size")
_BIAS = Param("bias", "bool", True)
_POOL = (
    _K,
    Param("s", "size", None, ("stride",), "stride (default: the kernel size)"),
    Param("p", "nonneg", 0, ("padding", "pad"), "padding"),
)

_LAYERS: dict[str, LayerKind] = {
    kind.name.lower(): kind
    for kind in (
        LayerKind(
            "conv",
            (
                _OUT,
                _K,
                Param("s", "size", 1, ("stride",), "stride"),
                Param("p", "padding", 0, ("padding", "pad"), "padding"),
                Param("d", "size", 1, ("dilation",), "dilation"),
                Param("groups", "count", 1, ("g",), "groups"),
                _BIAS,
            ),
            ("conv2d",),
        ),
        LayerKind(
            "convT",
            (
                _OUT,
                _K,
                Param("s", "size", 1, ("stride",), "stride"),
                Param("p", "nonneg", 0, ("padding", "pad"), "padding"),
                Param("op", "nonneg", 0, ("output_padding",), "output padding"),
                Param("d", "size", 1, ("dilation",), "dilation"),
                Param("groups", "count", 1, ("g",), "groups"),
                _BIAS,
            ),
            ("deconv", "conv_transpose", "convtranspose2d"),
        ),
        LayerKind(
            "maxpool",
            (
                *_POOL,
                Param("d", "size", 1, ("dilation",)),
                Param("ceil", "bool", False, ("ceil_mode",)),
            ),
            ("max_pool", "maxpool2d"),
        ),
        LayerKind(
            "avgpool",
            (*_POOL, Param("ceil", "bool", False, ("ceil_mode",))),
            ("avg_pool", "avgpool2d"),
        ),
        LayerKind("gap", (), ("global_avg_pool", "globalavgpool")),
        LayerKind("flatten"),
        LayerKind(
            "fc",
            (
                Param(
                    "out", "count", aliases=("out_features", "features"), meaning="output features"
                ),
                _BIAS,
            ),
            ("linear", "dense"),
        ),
        LayerKind("dropout", (Param("p", "prob", 0.5, ("rate",), "drop probability"),)),
        LayerKind("bn", (), ("batchnorm", "batch_norm")),
    )
}
_ALIASES = {alias.lower(): key for key, kind in _LAYERS.items() for alias in kind.aliases}


def _activation_kind(name: str) -> LayerKind | None:
    """Return the activation ``name`` (or an alias) from the shared table as a layer kind."""
    from neuralab.theory.activation_names import ACTIVATION_PARAMETERS, canonical_activation

    # the torch-free copy of the table's names: a spec is parsed without importing torch
    canonical = canonical_activation(name)
    if canonical is None:
        return None
    parameters = ACTIVATION_PARAMETERS.get(canonical, {})
    params = tuple(Param(key, "real", value) for key, value in parameters.items())
    return LayerKind(canonical, params, activation=True)


def layer_kind(name: str) -> LayerKind | None:
    """Return the layer ``name`` (or an alias, any case) of the table or an activation, else None."""
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key in _LAYERS:
        return _LAYERS[key]
    return _activation_kind(name)


def spec_layer_names() -> list[str]:
    """Return the layer names the spec language accepts (layers, then activations), for help."""
    from neuralab.theory.activation_names import activation_names

    return [kind.name for kind in _LAYERS.values()] + activation_names()


def spec_layer_signatures() -> list[str]:
    """Return one signature per layer, e.g. ``conv(out, k, s=1, p=0, d=1, groups=1, bias=true)``."""
    signatures = [kind.signature() for kind in _LAYERS.values()]
    for name in spec_layer_names()[len(_LAYERS) :]:
        kind = _activation_kind(name)
        if kind is not None:
            signatures.append(kind.signature())
    return signatures


__all__ = [
    "REQUIRED",
    "LayerKind",
    "Param",
    "layer_kind",
    "spec_layer_names",
    "spec_layer_signatures",
]
