"""The memory limit: sizes are estimated before anything is allocated, and refused above it.

A command that would allocate more than the limit (a 100000 x 100000 padding grid, a layer of a
billion filters, a playground of a billion points) stops at once with one line giving the
estimated memory and the limit, instead of running for minutes and dying of a MemoryError.

The limit is half of this machine's memory unless ``NEURALAB_MAX_MEMORY`` says otherwise (the
command line's ``--max-memory SIZE`` sets it for one command, and for the worker processes it
starts). Sizes are written ``512MB``, ``8GiB``, ``2.5e9`` (bytes) or ``16G``.

>>> parse_size("1.5GiB")
1610612736
>>> format_bytes(3 * 2**30)
'3.0 GiB'
"""

from __future__ import annotations

import os
import re

from neuralab.errors import NeuralabError

ENVIRONMENT_VARIABLE = "NEURALAB_MAX_MEMORY"
FALLBACK_LIMIT = 4 * 2**30  # where the machine's memory cannot be read

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "kib": 2**10,
    "m": 10**6,
    "mb": 10**6,
    "mib": 2**20,
    "g": 10**9,
    "gb": 10**9,
    "gib": 2**30,
    "t": 10**12,
    "tb": 10**12,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str, what: str = "--max-memory") -> int:
    """Return the number of bytes written as ``text``: ``512MB``, ``8GiB``, ``2.5e9``, ``16G``."""
    match = _SIZE.match(str(text))
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise NeuralabError(
            f"{what} {text!r} is not a size; write a number of bytes with a unit, e.g. 512MB, "
            "8GB or 16GiB"
        )
    size = float(match.group(1)) * _UNITS[unit]
    if not size >= 1 or size > 2**62:
        raise NeuralabError(f"{what} {text!r} must be between 1 byte and 4 EiB")
    return int(size)


def format_bytes(size: float) -> str:
    """Return ``size`` bytes in binary units: ``512 B``, ``3.0 GiB``, ``1.2 TiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def machine_memory() -> int | None:
    """Return this machine's physical memory in bytes, or None where it cannot be read."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit() -> int:
    """Return the limit in bytes: ``NEURALAB_MAX_MEMORY``, else half of the machine's memory."""
    given = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if given:
        return parse_size(given, ENVIRONMENT_VARIABLE)
    memory = machine_memory()
    return memory // 2 if memory else FALLBACK_LIMIT


def check_memory(estimate: float, what: str) -> None:
    """Refuse ``what`` if its ``estimate`` (bytes) is above :func:`memory_limit`, in one line.

    ``what`` says what would be allocated: ``"padding --input 100000x100000 (usage counts of
    10,000,000,000 pixels)"``.
    """
    limit = memory_limit()
    if estimate > limit:
        raise NeuralabError(
            f"{what} needs about {format_bytes(estimate)} of memory, more than the limit of "
            f"{format_bytes(limit)}; use smaller sizes, or raise the limit with --max-memory SIZE "
            f"(or {ENVIRONMENT_VARIABLE}=SIZE)"
        )


__all__ = [
    "ENVIRONMENT_VARIABLE",
    "check_memory",
    "format_bytes",
    "machine_memory",
    "memory_limit",
    "parse_size",
]
