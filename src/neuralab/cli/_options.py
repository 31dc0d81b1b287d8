"""Argument parsing shared by the commands: shapes (``3x32x32``) and pairs (``2`` or ``2x1``)."""

from __future__ import annotations

import re

from neuralab.errors import NeuralabError

_PAIR = re.compile(r"^\s*(\d+)\s*(?:[xX,]\s*(\d+)\s*)?$")
_SHAPE = re.compile(r"^\s*\d+(\s*[xX,*]\s*\d+)*\s*$")


def parse_shape(text: str, *, what: str = "--input", expected: str = "CxHxW") -> tuple[int, ...]:
    """Parse ``"3x32x32"`` (also ``3,32,32``) into positive integers.

    >>> parse_shape("3x32x32")
    (3, 32, 32)
    """
    if not _SHAPE.match(text):
        raise NeuralabError(
            f"{what} {text!r} is not a shape like {expected or '3x32x32'} (positive integers "
            "joined by 'x')"
        )
    values = tuple(int(v) for v in re.split(r"\s*[xX,*]\s*", text.strip()))
    if any(v <= 0 for v in values):
        raise NeuralabError(f"{what} {text!r} has a zero size; every size must be >= 1")
    if expected and len(values) != len(expected.split("x")):
        raise NeuralabError(
            f"{what} {text!r} has {len(values)} sizes; expected {len(expected.split('x'))} "
            f"({expected})"
        )
    return values


def parse_pair(text: str, what: str, *, minimum: int) -> tuple[int, int]:
    """Parse ``"2"`` or ``"2x1"`` into (h, w), each >= ``minimum``.

    >>> parse_pair("2x1", "--stride", minimum=1)
    (2, 1)
    """
    match = _PAIR.match(text)
    if not match:
        raise NeuralabError(f"{what} {text!r} is not an integer or HxW pair like 2 or 2x1")
    first = int(match.group(1))
    pair = (first, int(match.group(2)) if match.group(2) else first)
    if min(pair) < minimum:
        raise NeuralabError(f"{what} {text!r} must be >= {minimum}")
    return pair
