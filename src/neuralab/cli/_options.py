"""Argument parsing shared by the commands: shapes, formats, output paths."""

from __future__ import annotations

from enum import Enum


class OutputFormat(str, Enum):
    """How a command renders its result."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def parse_shape(text: str, *, what: str = "--input", expected: str = "CxHxW") -> tuple[int, ...]:
    """Return the sizes of a shape option, by :func:`neuralab.arch.shapes.parse_shape`.

    ``expected=""`` takes any number of sizes (``784``, ``50x64``, ``3x32x32``).
    """
    from neuralab.arch.shapes import parse_shape as parse  # here: --help imports no library

    return parse(text, what=what, expected=expected)
