"""The layer spec language: a network written as text, parsed (never evaluated) into nn.Sequential.

    conv(10,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)

The grammar and the parser live in :mod:`neuralab.arch.spec_syntax`, the layers and their
arguments in :mod:`neuralab.arch.spec_layers`; this module builds the model from the syntax tree.

Input channels and the input size of the first dense layer are inferred from the input shape
(C, H, W) or (features,). A dense layer (``fc``) after a spatial C x H x W tensor inserts a
``flatten`` first, so ``gap -> fc(10)`` works. Modules are named by kind and number:
``conv1, relu1, pool1, flatten, fc1, ...`` (``flatten`` and ``gap`` carry a number only when
there are several).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from neuralab.arch.spec_layers import spec_layer_names, spec_layer_signatures
from neuralab.arch.spec_syntax import (
    LayerNode,
    RepeatNode,
    SpecError,
    Token,
    expand,
    parse_spec,
    tokenize,
)
from neuralab.errors import NeuralabError

if TYPE_CHECKING:
    from torch import nn


def build_model(text: str, input_shape: tuple[int, ...] | list[int]) -> nn.Sequential:
    """Return the ``nn.Sequential`` that ``text`` describes, for inputs of ``input_shape``.

    ``input_shape`` is (C, H, W) for images or (features,) for an MLP; channel counts and the
    first dense layer's input size are inferred from it. A layer whose output would be empty is
    named with the sizes: "maxpool(2) (layer 5) gets 1x1 input: output would be 0x0; ...".

    >>> build_model("conv(10,5) -> relu", (3, 32, 32)).conv1
    Conv2d(3, 10, kernel_size=(5, 5), stride=(1, 1))
    """
    return build_layers(expand(parse_spec(text)), input_shape)


# ---------------------------------------------------------------------------------------------
# Building: shapes inferred layer by layer, then named modules

_PREFIX = {"conv": "conv", "convT": "convt", "maxpool": "pool", "avgpool": "pool", "fc": "fc"}
_NUMBER_ONLY_IF_SEVERAL = ("flatten", "gap")


def _check_input_shape(input_shape: Any) -> tuple[int, ...]:
    shape = tuple(input_shape) if isinstance(input_shape, tuple | list) else (input_shape,)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in shape):
        raise NeuralabError(
            f"input shape {input_shape!r} must be (C, H, W) for images or (features,) for an MLP, "
            "with positive integers"
        )
    if len(shape) not in (1, 3):
        # the spec infers channels and features from these two kinds; a module takes any shape
        raise NeuralabError(
            f"a layer spec takes (C, H, W) for images or (features,) for an MLP, not "
            f"{input_shape!r}; a torchvision model or package.module:factory takes any shape"
        )
    return shape


def _window_output(layer: LayerNode, index: int, shape: tuple[int, ...]) -> tuple[int, int]:
    """Return the (H, W) after a conv / convT / pool layer; an empty or invalid output raises."""
    from neuralab.arch import shapes as S

    p = layer.params
    n = (shape[1], shape[2])
    try:
        if layer.kind == "conv":
            out = S.conv_output_size(n, p["k"], p["s"], p["p"], p["d"])
        elif layer.kind == "convT":
            out = S.conv_transpose_output_size(n, p["k"], p["s"], p["p"], p["op"], p["d"])
        else:
            d = p.get("d", 1)
            out = S.pool_output_size(n, p["k"], p["s"], p["p"], d, p["ceil"])
    except NeuralabError as error:
        where = f"{layer.text} (layer {index}) gets {S.fmt_size(n)} input"
        if layer.kind != "convT" and p["p"] not in ("same", "valid"):
            k = S.as_pair(p["k"], "size")
            d = S.as_pair(p.get("d", 1), "size")
            s = S.as_pair(p["s"] if p["s"] is not None else p["k"], "size", minimum=0)
            pad = S.as_pair(p["p"], "size", minimum=0)
            raw = [
                S._raw_window_count(n[a], k[a], s[a], pad[a], d[a], ceil_mode=p.get("ceil", False))
                for a in range(2)
            ]
            if min(raw) < 1:
                shown = "x".join(str(max(v, 0)) for v in raw)  # a size below 0 is still empty
                raise SpecError(f"{where}: output would be {shown}; {error}") from None
        raise SpecError(f"{where}: {error}") from None
    assert isinstance(out, tuple)
    return out


def _module(
    layer: LayerNode, index: int, shape: tuple[int, ...]
) -> tuple[nn.Module, tuple[int, ...]]:
    """Return the module for ``layer`` on inputs of ``shape`` (no batch axis) and its output shape."""
    from torch import nn

    from neuralab.arch.shapes import conv_params
    from neuralab.theory.activations import activation_module

    p, spatial = layer.params, len(shape) == 3
    if layer.kind in ("conv", "convT", "maxpool", "avgpool", "gap") and not spatial:
        raise SpecError(
            f"{layer.text} (layer {index}) needs a CxHxW input but gets {shape[0]} features "
            "(after flatten or fc, or from a (features,) input shape)"
        )
    if layer.kind in ("conv", "convT"):
        try:
            conv_params(shape[0], p["out"], p["k"], groups=p["groups"])
        except NeuralabError as error:
            raise SpecError(
                f"{layer.text} (layer {index}) gets {shape[0]} channels: {error}"
            ) from None
        h, w = _window_output(layer, index, shape)
        if layer.kind == "conv":
            module: nn.Module = nn.Conv2d(
                shape[0], p["out"], p["k"], p["s"], p["p"], p["d"], p["groups"], p["bias"]
            )
        else:
            module = nn.ConvTranspose2d(
                shape[0], p["out"], p["k"], p["s"], p["p"], p["op"], p["groups"], p["bias"], p["d"]
            )
        return module, (p["out"], h, w)
    if layer.kind in ("maxpool", "avgpool"):
        h, w = _window_output(layer, index, shape)
        stride = p["s"] if p["s"] is not None else p["k"]
        if layer.kind == "maxpool":
            module = nn.MaxPool2d(p["k"], stride, p["p"], p["d"], ceil_mode=p["ceil"])
        else:
            module = nn.AvgPool2d(p["k"], stride, p["p"], ceil_mode=p["ceil"])
        return module, (shape[0], h, w)
    if layer.kind == "gap":
        return nn.AdaptiveAvgPool2d(1), (shape[0], 1, 1)
    if layer.kind == "flatten":
        return nn.Flatten(), (_numel(shape),)
    if layer.kind == "fc":
        return nn.Linear(shape[0], p["out"], p["bias"]), (p["out"],)
    if layer.kind == "dropout":
        return nn.Dropout(p["p"]), shape
    if layer.kind == "bn":
        return (nn.BatchNorm2d(shape[0]) if spatial else nn.BatchNorm1d(shape[0])), shape
    if layer.kind == "softmax":
        # over the channels: the classes of a dense output, or per pixel of a feature map
        return nn.Softmax(dim=1), shape
    return activation_module(layer.kind, **p), shape


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for v in shape:
        total *= v
    return total


def _built(
    layers: list[LayerNode], input_shape: Any
) -> list[tuple[str, nn.Module, tuple[int, ...]]]:
    """Return (name prefix, module, output shape) of every module for expanded ``layers``."""
    from torch import nn

    shape = _check_input_shape(input_shape)
    built: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    for index, layer in enumerate(layers, start=1):
        if layer.kind == "fc" and len(shape) == 3:
            shape = (_numel(shape),)  # a dense layer sees the whole C x H x W map
            built.append(("flatten", nn.Flatten(), shape))
        module, shape = _module(layer, index, shape)
        built.append((_PREFIX.get(layer.kind, layer.kind), module, shape))
    return built


def call_output_shapes(
    text: str, input_shape: tuple[int, ...] | list[int]
) -> list[tuple[int, ...]]:
    """Return the output shape (no batch axis) of every module call of one forward pass of
    ``build_model(text, input_shape)``: each layer's, then the ``nn.Sequential``'s own.

    From the spec's shape arithmetic (the modules are made on the meta device, nothing is
    allocated and nothing runs), so a memory estimate needs no forward pass.

    >>> call_output_shapes("conv(10,5) -> maxpool(2)", (3, 32, 32))
    [(10, 28, 28), (10, 14, 14), (10, 14, 14)]
    """
    import warnings

    import torch

    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        shapes = [shape for _, _, shape in _built(expand(parse_spec(text)), input_shape)]
    return [*shapes, *shapes[-1:]]


def build_layers(layers: list[LayerNode], input_shape: Any) -> nn.Sequential:
    """Return the named ``nn.Sequential`` for expanded ``layers`` on ``input_shape`` (C, H, W)."""
    from torch import nn

    built = [(prefix, module) for prefix, module, _ in _built(layers, input_shape)]
    totals: dict[str, int] = {}
    for prefix, _ in built:
        totals[prefix] = totals.get(prefix, 0) + 1
    counters: dict[str, int] = {}
    named: OrderedDict[str, nn.Module] = OrderedDict()
    for prefix, module in built:
        counters[prefix] = counters.get(prefix, 0) + 1
        single = prefix in _NUMBER_ONLY_IF_SEVERAL and totals[prefix] == 1
        named[prefix if single else f"{prefix}{counters[prefix]}"] = module
    return nn.Sequential(named)


__all__ = [
    "LayerNode",
    "RepeatNode",
    "SpecError",
    "Token",
    "build_model",
    "call_output_shapes",
    "expand",
    "parse_spec",
    "spec_layer_names",
    "spec_layer_signatures",
    "tokenize",
]
