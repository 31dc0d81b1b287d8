"""Crash reports: an unexpected exception becomes one line and a file a user can attach to an issue.

The report holds the command line, the working directory, the versions of neuralab, Python,
the platform and the main libraries, and the full traceback. It is written to
``$NEURALAB_CRASH_DIR`` if set, else ``$XDG_CACHE_HOME/neuralab/crash-reports`` (by default
``~/.cache/neuralab/crash-reports``), else the temporary folder.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
import tempfile
import traceback
from importlib import metadata
from pathlib import Path

CRASH_DIR_VARIABLE = "NEURALAB_CRASH_DIR"
_LIBRARIES = ("torch", "torchvision", "numpy", "typer", "rich", "matplotlib", "optuna", "pyyaml")


def crash_folders() -> list[Path]:
    """Return the folders a crash report may go to, in order of preference."""
    given = os.environ.get(CRASH_DIR_VARIABLE)
    if given:
        return [Path(given)]
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [Path(cache) / "neuralab" / "crash-reports", Path(tempfile.gettempdir())]


def versions() -> list[str]:
    """Return ``name version`` lines of neuralab, Python, the platform and the libraries."""
    from neuralab import __version__

    lines = [
        f"neuralab {__version__}",
        f"python {platform.python_version()} ({sys.executable})",
        f"platform {platform.platform()}",
    ]
    for name in _LIBRARIES:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} not installed")
    return lines


def report_text(error: BaseException, argv: list[str]) -> str:
    """Return the crash report of ``error`` raised by ``neuralab ARGV``."""
    command = " ".join(["neuralab", *argv])
    stamp = _dt.datetime.now().isoformat(timespec="seconds")
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return "\n".join(
        [
            "neuralab crash report",
            f"time: {stamp}",
            f"command: {command}",
            f"working directory: {os.getcwd()}",
            "",
            *versions(),
            "",
            trace,
        ]
    )


def write_crash_report(error: BaseException, argv: list[str]) -> Path | None:
    """Write the crash report of ``error`` and return its path (None if no folder took it)."""
    text = report_text(error, argv)
    name = f"crash-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    for folder in crash_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)  # our own cache folder, not a user path
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def one_line(error: BaseException) -> str:
    """Return ``Type: first line of the message`` (at most 200 characters)."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
