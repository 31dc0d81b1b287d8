"""One playground setting, four spellings: a :class:`PlaygroundConfig`, the page's link, the command
line's flags and ``config.yaml``; each converts into the others without loss.

The link is a query string of the fields that differ from the defaults, in the config's field
order (``?data=spiral&hidden=8,8&activation=relu&seed=3``); a second network (the A | B view)
adds ``ab=1`` and the fields in which B differs from A, prefixed ``b.``
(``&ab=1&b.init=small``). Two view switches that change no number ride along: ``discretize``
and ``hide_test``. Values are written so that reading them back gives the same value: floats
as Python's shortest round-trip ``repr`` (``0.1``, ``1e-05``), tuples as comma lists (an empty
``hidden=`` is no hidden layer), booleans as ``true``/``false``.

Every conversion goes through :func:`neuralab.config.make_config`, so the link, the flags and
the YAML file are read by the same code and checked by the config itself.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from neuralab.config import config_yaml, make_config
from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.playground.config import PlaygroundConfig

B_PREFIX = "b."
VIEW_SWITCHES = ("discretize", "hide_test")  # page-only: how the output is drawn, no number
MAX_QUERY_CHARS = 4000


def field_names() -> list[str]:
    """Return the names of the :class:`PlaygroundConfig` fields, in declaration order."""
    return [f.name for f in dataclasses.fields(PlaygroundConfig)]


def format_value(value: Any) -> str:
    """Return the text of one field value that reads back to the same value.

    >>> [format_value(v) for v in (0.03, 10.0, (8, 8), (), True, None)]
    ['0.03', '10', '8,8', '', 'true', 'none']
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, tuple | list):
        return ",".join(format_value(v) for v in value)
    return str(value)


def changed_fields(config: PlaygroundConfig, base: PlaygroundConfig) -> dict[str, Any]:
    """Return the fields of ``config`` whose values differ from ``base``, in field order."""
    return {
        name: getattr(config, name)
        for name in field_names()
        if _normal(getattr(config, name)) != _normal(getattr(base, name))
    }


def _normal(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def config_from_values(
    values: Mapping[str, Any], base: PlaygroundConfig | None = None
) -> PlaygroundConfig:
    """Return ``base`` (default: the defaults) with ``values`` set (strings are converted)."""
    merged = dataclasses.asdict(base) if base is not None else {}
    merged.update(values)
    return make_config(PlaygroundConfig, merged)


@dataclass
class TabState:
    """What a link holds: network A, network B (or None) and the page's view switches."""

    a: PlaygroundConfig
    b: PlaygroundConfig | None = None
    view: dict[str, bool] = field(default_factory=dict)


def to_query(state: TabState) -> str:
    """Return the query string (without ``?``) of ``state``: only what differs from defaults."""
    pairs = [(k, format_value(v)) for k, v in changed_fields(state.a, PlaygroundConfig()).items()]
    if state.b is not None:
        pairs.append(("ab", "1"))
        pairs += [
            (B_PREFIX + k, format_value(v)) for k, v in changed_fields(state.b, state.a).items()
        ]
    pairs += [(k, "1") for k in VIEW_SWITCHES if state.view.get(k)]
    return urlencode(pairs, safe=",()^:")


def from_query(query: str) -> TabState:
    """Return the :class:`TabState` a query string describes; a bad key or value raises.

    The inverse of :func:`to_query`: ``from_query(to_query(s)) == s`` for every valid ``s``.
    """
    query = query.lstrip("?#")
    if len(query) > MAX_QUERY_CHARS:
        raise NeuralabError(
            f"the link's settings are {len(query)} characters long (at most {MAX_QUERY_CHARS})"
        )
    valid = field_names()
    a_values: dict[str, str] = {}
    b_values: dict[str, str] = {}
    view: dict[str, bool] = {}
    compare = False
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "ab":
            compare = _flag(key, value)
        elif key in VIEW_SWITCHES:
            view[key] = _flag(key, value)
        elif key.startswith(B_PREFIX) and key[len(B_PREFIX) :] in valid:
            b_values[key[len(B_PREFIX) :]] = value
        elif key in valid:
            a_values[key] = value
        else:
            raise unknown_name_error("setting in the link", key, [*valid, "ab", *VIEW_SWITCHES])
    a = config_from_values(a_values)
    if b_values and not compare:
        raise NeuralabError("the link sets b.* fields without ab=1 (the A | B view)")
    b = config_from_values(b_values, base=a) if compare else None
    return TabState(a, b, view)


def _flag(key: str, value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on", ""):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise NeuralabError(f"{key}={value!r} in the link must be 1 or 0")


def to_flags(config: PlaygroundConfig) -> list[str]:
    """Return the ``neuralab playground`` options that give ``config`` (only the changed fields).

    >>> to_flags(PlaygroundConfig(data="spiral", hidden=(8, 8), shuffle=False))
    ['--data', 'spiral', '--hidden', '8,8', '--no-shuffle']
    """
    flags: list[str] = []
    for name, value in changed_fields(config, PlaygroundConfig()).items():
        option = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(option if value else "--no-" + name.replace("_", "-"))
        else:
            flags += [option, format_value(value)]
    return flags


def from_flags(flags: Iterable[str]) -> PlaygroundConfig:
    """Return the config that ``neuralab playground FLAGS`` trains (the inverse of :func:`to_flags`)."""
    values: dict[str, Any] = {}
    names = field_names()
    items = list(flags)
    index = 0
    while index < len(items):
        option = items[index]
        if not option.startswith("--"):
            raise NeuralabError(f"{option!r} is not an option of neuralab playground")
        name = option[2:].replace("-", "_")
        if name.startswith("no_") and name[3:] in names:
            values[name[3:]] = False
            index += 1
            continue
        if name not in names:
            raise unknown_name_error("option", option, ["--" + n.replace("_", "-") for n in names])
        if isinstance(getattr(PlaygroundConfig(), name), bool):
            values[name] = True
            index += 1
            continue
        if index + 1 >= len(items):
            raise NeuralabError(f"option {option} needs a value")
        values[name] = items[index + 1]
        index += 2
    return config_from_values(values)


def to_command(config: PlaygroundConfig) -> str:
    """Return the shell command that trains ``config`` from the command line."""
    return shlex.join(["neuralab", "playground", *to_flags(config)])


def to_yaml(config: PlaygroundConfig) -> str:
    """Return ``config.yaml`` of ``config``: what ``neuralab playground --config`` reads."""
    return config_yaml(config)


def from_yaml(text: str) -> PlaygroundConfig:
    """Return the config a ``config.yaml`` text describes."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise NeuralabError(f"config.yaml cannot be parsed: {str(error).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise NeuralabError("config.yaml must hold a mapping of field: value")
    return config_from_values(data)
