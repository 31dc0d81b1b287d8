"""The syntax of the layer spec language: tokens, the syntax tree and a recursive-descent parser.

    conv(10,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)

Grammar (a tokenizer and a recursive-descent parser; ``*`` binds tighter than ``->``)::

    spec   := chain EOF
    chain  := term ("->" term)*
    term   := atom ("*" INT)*              repeat: conv(8,3) * 3, (conv(64,3,p=1) -> relu) * 10
    atom   := layer | "(" chain ")"
    layer  := NAME ["(" [arg ("," arg)*] ")"]
    arg    := [NAME "="] value             positional or keyword (s=2 and stride=2 alike)
    value  := INT | FLOAT | INTxINT | NAME  e.g. 5, 0.5, 3x5, same, true

A spec is parsed, never evaluated. Every error is a :class:`SpecError` that shows the spec with
a caret under the bad token. Building modules from the tree is :mod:`neuralab.arch.spec`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from neuralab.arch.spec_layers import REQUIRED, LayerKind, Param, layer_kind, spec_layer_names
from neuralab.errors import NeuralabError, unknown_name_error

MAX_LAYERS = 10_000  # a spec expanding to more layers is refused (``conv(8,3) * 1000000``)


class SpecError(NeuralabError):
    """A malformed spec: the message, then the spec with a caret under the bad token."""

    def __init__(self, message: str, text: str | None = None, pos: int = 0, length: int = 1):
        self.message, self.text, self.pos, self.length = message, text, pos, max(length, 1)
        # the caret lines only for a spec that prints on one line (no tab, newline or other
        # control character: str.splitlines breaks at \x1c-\x1e and \x85 too)
        if text is not None and text.isprintable():
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
        kind = layer_kind(name.text)
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
                if param.default is REQUIRED:
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


__all__ = [
    "MAX_LAYERS",
    "LayerNode",
    "Node",
    "RepeatNode",
    "SpecError",
    "Token",
    "expand",
    "parse_spec",
    "tokenize",
]
