"""The messages a page sends over its WebSocket, checked before anything acts on them.

Every message is one JSON object with a ``type``; :func:`parse_message` returns a
:class:`Command` (the type and its checked arguments) or raises :class:`ProtocolError` with one
line that the page shows. Nothing a message says reaches torch unchecked: sizes, indices and
numbers are checked here, settings by :class:`~neuralab.playground.config.PlaygroundConfig`
and :mod:`neuralab.web.limits`.

==========  =====================================================================================
type        arguments
==========  =====================================================================================
open        ``query``: the link's settings (see :mod:`neuralab.web.urlstate`)
set         ``net`` ("a" or "b"), ``values``: {field: value} of PlaygroundConfig fields
play        -- (train until paused or a stop condition)
pause       --
step        ``unit``: "epoch" or "batch" (one epoch, or one parameter update)
reset       -- (the same settings, a new network at epoch 0)
regenerate  -- (a new data seed, as TF Playground's button)
compare     ``on``: true (B starts as a copy of A) or false (back to A alone)
preset      ``experiment``, ``a``, ``b``: a course experiment and two of its cases
weight      ``net``, ``layer``, ``unit``, ``source``, ``value``: set W_layer[unit, source]
bias        ``net``, ``layer``, ``unit``, ``value``: set b_layer[unit]
upload      ``name``, ``text``: a CSV file of x1,x2,label rows
export      ``net``, ``what``: "config" (config.yaml), "model" (PyTorch code, weights as JSON)
            or "safetensors" (the code, weights as safetensors)
view        ``discretize``, ``hide_test``: the page's drawing switches (kept in the link)
drawn       ``frame``: the page has drawn this frame (frames are sent as the page keeps up)
==========  =====================================================================================
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from neuralab.errors import NeuralabError
from neuralab.web.limits import Limits


class ProtocolError(NeuralabError):
    """A message the server cannot act on, explained in one line for the page."""


NETS = ("a", "b")
STEP_UNITS = ("epoch", "batch")
EXPORTS = ("config", "model", "safetensors")
_NO_ARGUMENTS = ("play", "pause", "reset", "regenerate")
TYPES = (
    "open",
    "set",
    *_NO_ARGUMENTS,
    "step",
    "compare",
    "preset",
    "weight",
    "bias",
    "upload",
    "export",
    "view",
    "drawn",
)
MAX_VALUES = 40  # fields in one "set" (a PlaygroundConfig has fewer)
MAX_TEXT = 200  # characters of one setting's value (names, comma lists)
MAX_INDEX = 10_000


@dataclass(frozen=True)
class Command:
    """One checked message: its ``type`` and its arguments."""

    type: str
    args: dict[str, Any] = field(default_factory=dict)


def parse_message(raw: str | bytes, limits: Limits) -> Command:
    """Return the checked :class:`Command` of one raw WebSocket message; bad ones raise."""
    if len(raw) > limits.max_message_bytes:
        raise ProtocolError(
            f"message of {len(raw):,} bytes; the limit is {limits.max_message_bytes:,}"
        )
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("message is not JSON") from None
    except RecursionError:  # "[[[[..." a million deep: Python's parser gives up
        raise ProtocolError("message is nested too deeply to be a command") from None
    if not isinstance(message, dict):
        raise ProtocolError("message must be a JSON object with a 'type'")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise ProtocolError(f"unknown message type {kind!r} (valid: {', '.join(TYPES)})")
    if kind in _NO_ARGUMENTS:
        return Command(kind)
    return Command(kind, _ARGUMENTS[kind](message, limits))


def _open(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    return {"query": _text(message, "query", 4000, default="")}


def _set(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    values = message.get("values")
    if not isinstance(values, dict) or not values:
        raise ProtocolError("set needs 'values': an object of setting: value")
    if len(values) > MAX_VALUES:
        raise ProtocolError(f"set names {len(values)} settings; at most {MAX_VALUES}")
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(key, str) or len(key) > 40:
            raise ProtocolError(f"setting name {key!r} is not valid")
        checked[key] = _setting_value(key, value)
    return {"net": _net(message), "values": checked}


def _setting_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ProtocolError(f"{key}={value!r} is not a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ProtocolError(f"{key}: a value of {len(value)} characters (at most {MAX_TEXT})")
        return value
    if isinstance(value, list):
        if len(value) > 64 or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value
        ):
            raise ProtocolError(f"{key}: a list of at most 64 names or integers")
        if any(isinstance(v, str) and len(v) > MAX_TEXT for v in value):
            raise ProtocolError(f"{key}: an item longer than {MAX_TEXT} characters")
        return tuple(value)
    raise ProtocolError(f"{key}={value!r}: a setting is a number, a text, a boolean or a list")


def _step(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    unit = message.get("unit", "epoch")
    if unit not in STEP_UNITS:
        raise ProtocolError(f"step unit {unit!r} must be one of {', '.join(STEP_UNITS)}")
    return {"unit": unit}


def _compare(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    on = message.get("on")
    if not isinstance(on, bool):
        raise ProtocolError("compare needs 'on': true or false")
    return {"on": on}


def _preset(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    return {
        "experiment": _text(message, "experiment", 60),
        "a": _text(message, "a", MAX_TEXT, default=""),
        "b": _text(message, "b", MAX_TEXT, default=""),
    }


def _weight(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    return {
        "net": _net(message),
        "layer": _index(message, "layer"),
        "unit": _index(message, "unit"),
        "source": _index(message, "source"),
        "value": _number(message, "value"),
    }


def _bias(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    return {
        "net": _net(message),
        "layer": _index(message, "layer"),
        "unit": _index(message, "unit"),
        "value": _number(message, "value"),
    }


def _upload(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    name = _text(message, "name", 120)
    text = message.get("text")
    if not isinstance(text, str):
        raise ProtocolError("upload needs 'text': the CSV file's contents")
    size = len(text.encode("utf-8"))
    if size > limits.max_upload_bytes:
        raise ProtocolError(
            f"{name}: {size:,} bytes; an uploaded CSV may have at most {limits.max_upload_bytes:,}"
        )
    return {"name": name, "text": text}


def _export(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    what = message.get("what")
    if what not in EXPORTS:
        raise ProtocolError(f"export {what!r} must be one of {', '.join(EXPORTS)}")
    return {"net": _net(message), "what": what}


def _view(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    view = {}
    for key in ("discretize", "hide_test"):
        value = message.get(key, False)
        if not isinstance(value, bool):
            raise ProtocolError(f"view {key} must be true or false")
        view[key] = value
    return view


def _drawn(message: dict[str, Any], limits: Limits) -> dict[str, Any]:
    return {"frame": _index(message, "frame", maximum=2**53)}


_ARGUMENTS = {
    "open": _open,
    "set": _set,
    "step": _step,
    "compare": _compare,
    "preset": _preset,
    "weight": _weight,
    "bias": _bias,
    "upload": _upload,
    "export": _export,
    "view": _view,
    "drawn": _drawn,
}


def _text(message: dict[str, Any], key: str, longest: int, default: str | None = None) -> str:
    value = message.get(key, default)
    if not isinstance(value, str):
        raise ProtocolError(f"{message['type']} needs '{key}': a text")
    if len(value) > longest:
        raise ProtocolError(
            f"{message['type']} '{key}' is {len(value)} characters (at most {longest})"
        )
    return value


def _net(message: dict[str, Any]) -> str:
    net = message.get("net", "a")
    if net not in NETS:
        raise ProtocolError(f"net {net!r} must be 'a' or 'b'")
    return str(net)


def _index(message: dict[str, Any], key: str, maximum: int = MAX_INDEX) -> int:
    value = message.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ProtocolError(f"{message['type']} needs '{key}': an integer 0..{maximum}")
    return value


def _number(message: dict[str, Any], key: str) -> float:
    value = message.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError(f"{message['type']} needs '{key}': a finite number")
    if abs(value) > 1e6:
        raise ProtocolError(f"{message['type']} {key}={value} is outside -1e6..1e6")
    return float(value)


class RateLimit:
    """A token bucket: ``burst`` messages at once, then ``rate`` per second on average."""

    def __init__(self, rate: float, burst: int, clock: Any = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.last = clock()

    def allow(self) -> bool:
        """Return True (and spend a token) when one more message is within the rate."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
