"""Argument parsing shared by the commands: shapes, formats, output paths."""

from __future__ import annotations

import re
from enum import Enum

from neuralab.errors import NeuralabError


class OutputFormat(str, Enum):
    """How a command renders its result."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


_SHAPE = re.compile(r"^\s*\d+(\s*[xX,*]\s*\d+)*\s*$")


def parse_shape(text: str, *, what: str = "--input", expected: str = "CxHxW") -> tuple[int, ...]:
    """Parse ``"3x32x32"`` (also ``3,32,32``) into positive integers.

    >>> parse_shape("3x32x32")
    (3, 32, 32)
    """
    if not _SHAPE.match(text):
        raise NeuralabError(
            f"{what} {text!r} is not a shape like {expected} (positive integers joined by 'x')"
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
