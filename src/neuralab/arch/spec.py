"""The layer spec language: a network written as text, parsed (never evaluated) into nn.Sequential.

    conv(10,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)

Grammar (a tokenizer and a recursive-descent parser; ``*`` binds tighter than ``->``)::

    spec   := chain EOF
    chain  := term ("->" term)*
    term   := atom ("*" INT)*              repeat: conv(8,3) * 3, (conv(64,3,p=1) -> relu) * 10
    atom   := layer | "(" chain ")"
    layer  := NAME ["(" [arg ("," arg)*] ")"]
    arg    := [NAME "="] value             positional or keyword (s=2 and stride=2 alike)
    value  := INT | FLOAT | INTxINT | NAME  e.g. 5, 0.5, 3x5, same, true

Input channels and the input size of the first dense layer are inferred from the input shape
(C, H, W) or (features,). A dense layer (``fc``) after a spatial C x H x W tensor inserts a
``flatten`` first, so ``gap -> fc(10)`` works. Modules are named by kind and number:
``conv1, relu1, pool1, flatten, fc1, ...`` (``flatten`` and ``gap`` carry a number only when
there are several).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neuralab.errors import NeuralabError, unknown_name_error

if TYPE_CHECKING:
    from torch import nn

MAX_LAYERS = 10_000  # a spec expanding to more layers is refused (``conv(8,3) * 1000000``)


class SpecError(NeuralabError):
    """A malformed spec: the message, then the spec with a caret under the bad token."""

    def __init__(self, message: str, text: str | None = None, pos: int = 0, length: int = 1):
        self.message, self.text, self.pos, self.length = message, text, pos, max(length, 1)
        if text is not None and "\n" not in text:
            message = f"{message}\n  {text}\n  {' ' * pos}{'^' * self.length}"
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# Tokens

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<arrow>->|→)
  | (?P<pair>\d+[xX×]\d+)
  | (?P<float>[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+)
  | (?P<int>[-+]?\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),=*])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is arrow, pair, float, int, name, ``(``, ``)``, ``,``, ``=``, ``*`` or eof."""

    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Return the tokens of ``text`` (ending with an ``eof`` token); a stray character raises."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SpecError(
                f"bad spec at column {pos + 1}: unexpected character {text[pos]!r}", text, pos
            )
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(match.group() if kind == "punct" else kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


# ---------------------------------------------------------------------------------------------
# The layer table: argument names, kinds and defaults

_REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One argument of a layer: its name, aliases, value kind and default."""

    name: str
    kind: str  # count, size, nonneg, padding, bool, prob, real
    default: Any = _REQUIRED
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
            p.name if p.default is _REQUIRED else f"{p.name}={_show(p.default, p.name)}"
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
    from neuralab.theory.activations import get_activation, list_activations

    if name.lower() not in list_activations():
        try:
            activation = get_activation(name)
        except NeuralabError:
            return None
    else:
        activation = get_activation(name.lower())
    params = tuple(Param(key, "real", value) for key, value in activation.parameters.items())
    return LayerKind(activation.name, params, activation=True)


def _layer_kind(name: str) -> LayerKind | None:
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key in _LAYERS:
        return _LAYERS[key]
    return _activation_kind(name)


def spec_layer_names() -> list[str]:
    """Return the layer names the spec language accepts (layers, then activations), for help."""
    from neuralab.theory.activations import list_activations

    return [kind.name for kind in _LAYERS.values()] + list_activations()


def spec_layer_signatures() -> list[str]:
    """Return one signature per layer, e.g. ``conv(out, k, s=1, p=0, d=1, groups=1, bias=true)``."""
    signatures = [kind.signature() for kind in _LAYERS.values()]
    for name in spec_layer_names()[len(_LAYERS) :]:
        kind = _activation_kind(name)
        if kind is not None:
            signatures.append(kind.signature())
    return signatures


# ---------------------------------------------------------------------------------------------
# The syntax tree


@dataclass(frozen=True)
class LayerNode:
    """One layer as written: its kind, resolved arguments and where it sits in the spec."""

    kind: str  # canonical layer name: conv, convT, maxpool, ..., or an activation name
    params: dict[str, Any]  # every argument, defaults filled in
    text: str  # the layer as written, e.g. "conv(10,5)"
    pos: int  # offset of its first character in the spec
    activation: bool = False


@dataclass(frozen=True)
class RepeatNode:
    """``body * count``: the body (one layer or a parenthesised chain) repeated."""

    body: tuple[Node, ...]
    count: int
    pos: int
    text: str = field(default="")


Node = LayerNode | RepeatNode


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message: str, token: Token | None = None) -> SpecError:
        token = token or self.tok
        where = "at the end" if token.kind == "eof" else f"at column {token.pos + 1}"
        return SpecError(f"bad spec {where}: {message}", self.text, token.pos, len(token.text))

    @staticmethod
    def describe(token: Token) -> str:
        return "the end of the spec" if token.kind == "eof" else repr(token.text)

    def spec(self) -> list[Node]:
        if self.tok.kind == "eof":
            raise SpecError("empty spec: expected layers such as 'conv(10,5) -> relu -> fc(10)'")
        nodes = self.chain()
        if self.tok.kind == ")":
            raise self.fail("unbalanced ')': no '(' to close")
        if self.tok.kind != "eof":
            raise self.fail(f"expected '->' between layers, got {self.describe(self.tok)}")
        return nodes

    def chain(self) -> list[Node]:
        nodes = [self.term()]
        while self.tok.kind == "arrow":
            self.advance()
            nodes.append(self.term())
        return nodes

    def term(self) -> Node:
        start = self.tok.pos
        body = self.atom()
        node: Node = body[0] if len(body) == 1 else RepeatNode(tuple(body), 1, start)
        while self.tok.kind == "*":
            self.advance()
            count = self.tok
            if count.kind != "int" or int(count.text) < 1:
                what = (
                    "a repeat count" if count.kind not in ("int", "float") else "a positive integer"
                )
                raise self.fail(f"expected {what} after '*', got {self.describe(count)}", count)
            self.advance()
            source = self.text[start : count.pos + len(count.text)]
            inner = node.body if isinstance(node, RepeatNode) and node.count == 1 else (node,)
            node = RepeatNode(inner, int(count.text), start, source)
        return node

    def atom(self) -> list[Node]:
        token = self.tok
        if token.kind == "(":
            self.advance()
            if self.tok.kind == ")":
                raise self.fail("empty group '()': expected a layer")
            nodes = self.chain()
            if self.tok.kind != ")":
                raise self.fail(
                    f"expected ')' to close the '(' at column {token.pos + 1}, "
                    f"got {self.describe(self.tok)}"
                )
            self.advance()
            return nodes
        if token.kind == "name":
            return [self.layer()]
        raise self.fail(f"expected a layer name or '(', got {self.describe(token)}")

    def layer(self) -> LayerNode:
        name = self.advance()
        kind = _layer_kind(name.text)
        if kind is None:
            error = unknown_name_error("layer", name.text, spec_layer_names())
            raise self.fail(str(error), name)
        args: list[tuple[Token | None, Token]] = []
        end = name.pos + len(name.text)
        if self.tok.kind == "(":
            open_paren = self.advance()
            while self.tok.kind != ")":
                if args:
                    if self.tok.kind != ",":
                        raise self.fail(
                            f"expected ',' or ')' in the arguments of {kind.name} "
                            f"(opened at column {open_paren.pos + 1}), got {self.describe(self.tok)}"
                        )
                    self.advance()
                key = None
                if self.tok.kind == "name" and self.tokens[self.i + 1].kind == "=":
                    key = self.advance()
                    self.advance()
                value = self.tok
                if value.kind not in ("int", "float", "pair", "name"):
                    raise self.fail(
                        f"expected an argument value for {kind.name}, got {self.describe(value)}"
                    )
                self.advance()
                args.append((key, value))
            end = self.advance().pos + 1
        source = self.text[name.pos : end]
        return LayerNode(
            kind.name, self.resolve(kind, args, name, source), source, name.pos, kind.activation
        )

    def resolve(
        self, kind: LayerKind, args: list[tuple[Token | None, Token]], name: Token, source: str
    ) -> dict[str, Any]:
        """Return every argument of ``kind`` by name: positional, keyword (or alias), default."""
        lookup = {alias: p for p in kind.params for alias in (p.name, *p.aliases)}
        values: dict[str, Any] = {}
        seen_keyword = False
        for index, (key, value) in enumerate(args):
            if key is None:
                if seen_keyword:
                    raise self.fail("a positional argument cannot follow a keyword argument", value)
                if index >= len(kind.params):
                    allowed = len(kind.params)
                    takes = (
                        "takes no arguments"
                        if allowed == 0
                        else f"takes at most {allowed} argument{'s' if allowed > 1 else ''}"
                    )
                    raise self.fail(f"{kind.name} {takes}: {kind.signature()}", value)
                param = kind.params[index]
            else:
                seen_keyword = True
                found = lookup.get(key.text.lower())
                if found is None:
                    names = ", ".join(p.name for p in kind.params) or "none"
                    raise self.fail(
                        f"{kind.name} has no argument {key.text!r} (arguments: {names})", key
                    )
                param = found
            if param.name in values:
                raise self.fail(
                    f"argument {param.name!r} of {kind.name} is given twice", key or value
                )
            values[param.name] = self.convert(kind, param, value)
        for param in kind.params:
            if param.name not in values:
                if param.default is _REQUIRED:
                    meaning = f" ({param.meaning})" if param.meaning else ""
                    raise SpecError(
                        f"bad spec at column {name.pos + 1}: {source} is missing argument {param.name!r}{meaning}: {kind.signature()}",
                        self.text,
                        name.pos,
                        len(source),
                    )
                values[param.name] = param.default
        return values

    def convert(self, kind: LayerKind, param: Param, token: Token) -> Any:
        """Return ``token`` as a value of ``param``'s kind; anything else raises with a caret."""
        text = token.text.lower()
        value: Any = None
        if param.kind in ("size", "nonneg", "padding", "count"):
            minimum = 1 if param.kind in ("size", "count") else 0
            if token.kind == "int":
                value = int(text)
                value = value if value >= minimum else None
            elif token.kind == "pair" and param.kind != "count":
                h, w = (int(v) for v in re.split("[x×]", text))
                value = (h, w) if min(h, w) >= minimum else None
            elif param.kind == "padding" and text in ("same", "valid"):
                value = text
        elif param.kind == "bool" and text in ("true", "false"):
            value = text == "true"
        elif param.kind in ("prob", "real") and token.kind in ("int", "float"):
            value = float(text)
            if param.kind == "prob" and not 0 <= value < 1:
                value = None
        if value is None:
            expected = {
                "count": "a positive integer",
                "size": "a positive integer or an HxW pair like 3x5",
                "nonneg": "an integer >= 0 or an HxW pair",
                "padding": "an integer >= 0, an HxW pair, 'same' or 'valid'",
                "bool": "true or false",
                "prob": "a probability in [0, 1)",
                "real": "a number",
            }[param.kind]
            meaning = f" ({param.meaning})" if param.meaning else ""
            raise self.fail(
                f"bad value {token.text!r} for {kind.name} argument {param.name!r}{meaning}: "
                f"expected {expected}",
                token,
            )
        return value


def parse_spec(text: str) -> list[Node]:
    """Return the syntax tree of a spec: layer and repeat nodes with their source positions.

    Unknown layers, missing or bad arguments, unbalanced parentheses and ``* 0`` raise
    :class:`SpecError`, whose message shows the spec with a caret under the bad token.

    >>> [node.kind for node in parse_spec("conv(10,5) -> relu")]
    ['conv', 'relu']
    """
    if not isinstance(text, str):
        raise SpecError(f"a spec must be a string, got {type(text).__name__}")
    nodes = _Parser(text).spec()
    count = _count(nodes)
    if count > MAX_LAYERS:
        raise SpecError(f"the spec expands to {count} layers; at most {MAX_LAYERS} are allowed")
    return nodes


def _count(nodes: tuple[Node, ...] | list[Node]) -> int:
    return sum(n.count * _count(n.body) if isinstance(n, RepeatNode) else 1 for n in nodes)


def expand(nodes: list[Node] | tuple[Node, ...]) -> list[LayerNode]:
    """Return the layers of a syntax tree in order, with every repetition written out."""
    layers: list[LayerNode] = []
    for node in nodes:
        if isinstance(node, RepeatNode):
            body = expand(node.body)
            layers.extend(body * node.count)
        else:
            layers.append(node)
    return layers


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
    if len(shape) not in (1, 3) or any(
        isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in shape
    ):
        raise NeuralabError(
            f"input shape {input_shape!r} must be (C, H, W) for images or (features,) for an MLP, "
            "with positive integers"
        )
    return shape


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in shape)


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
        where = f"{layer.text} (layer {index}) gets {_shape_text(n)} input"
        if layer.kind != "convT" and p["p"] not in ("same", "valid"):
            k = S._as_pair(p["k"], "size")
            d = S._as_pair(p.get("d", 1), "size")
            s = S._as_pair(p["s"] if p["s"] is not None else p["k"], "size", minimum=0)
            pad = S._as_pair(p["p"], "size", minimum=0)
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


def build_layers(layers: list[LayerNode], input_shape: Any) -> nn.Sequential:
    """Return the named ``nn.Sequential`` for expanded ``layers`` on ``input_shape`` (C, H, W)."""
    from torch import nn

    shape = _check_input_shape(input_shape)
    built: list[tuple[str, nn.Module]] = []
    for index, layer in enumerate(layers, start=1):
        if layer.kind == "fc" and len(shape) == 3:
            built.append(("flatten", nn.Flatten()))  # a dense layer sees the whole C x H x W map
            shape = (_numel(shape),)
        module, shape = _module(layer, index, shape)
        built.append((_PREFIX.get(layer.kind, layer.kind), module))
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
    "expand",
    "parse_spec",
    "spec_layer_names",
    "spec_layer_signatures",
    "tokenize",
]
