"""The shared rich consoles: stdout for results, stderr for progress bars and one-line errors.

Used by the command line and by progress displays in the library, so it sits in the shared
kernel (no layer imports `neuralab.cli`)."""

from __future__ import annotations

import os
import shutil
import sys

from rich.console import Console


def stdout_console() -> Console:
    """Return a console on stdout, as wide as the terminal (120 columns when piped)."""
    width = None
    if not sys.stdout.isatty():
        width = int(os.environ.get("COLUMNS", "0")) or 120
    return Console(width=width or shutil.get_terminal_size((120, 24)).columns, highlight=False)


def stderr_console() -> Console:
    """Return a console on stderr for progress bars and status lines."""
    return Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    """Print ``message`` as the single error line of the command line."""
    print(f"neuralab: error: {message}", file=sys.stderr)
