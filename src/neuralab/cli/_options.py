"""Argument parsing shared by the commands: shapes, formats, output paths."""

from __future__ import annotations

from enum import Enum

from neuralab.arch.shapes import parse_shape as parse_shape  # the one shape parser, torch-free


class OutputFormat(str, Enum):
    """How a command renders its result."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
