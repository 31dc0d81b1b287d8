"""Argument parsing shared by the commands: shapes (``3x32x32``) and pairs (``2`` or ``2x1``)."""

from __future__ import annotations

import re

from neuralab.errors import NeuralabError

_PAIR = re.compile(r"^\s*([-+]?\d+)\s*(?:[xX,]\s*([-+]?\d+)\s*)?$")


def parse_shape(
    text: str, *, what: str = "--input", expected: str = "CxHxW", example: str = ""
) -> tuple[int, ...]:
    """Return the sizes of a shape option, by :func:`neuralab.arch.shapes.parse_shape`.

    ``expected=""`` takes any number of sizes (``784``, ``50x64``, ``3x32x32``); ``example``
    is the valid shape the error shows.
    """
    from neuralab.arch.shapes import parse_shape as parse  # here: --help imports no library

    return parse(text, what=what, expected=expected, example=example)


def parse_pair(text: str, what: str, *, minimum: int) -> tuple[int, int]:
    """Parse ``"2"`` or ``"2x1"`` into (h, w), each >= ``minimum``.

    >>> parse_pair("2x1", "--stride", minimum=1)
    (2, 1)
    """
    match = _PAIR.match(text)
    if not match:
        raise NeuralabError(
            f"{what} {text!r} is not an integer or HxW pair like 2 or 2x1 (each >= {minimum})"
        )
    first = int(match.group(1))
    pair = (first, int(match.group(2)) if match.group(2) else first)
    if min(pair) < minimum:
        raise NeuralabError(f"{what} {text!r} must be >= {minimum}")
    return pair
