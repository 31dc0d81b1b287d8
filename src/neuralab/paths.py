"""Paths a person names, checked before anything is read or computed: one line saying what is wrong.

A path that does not exist, exists but is the wrong kind ("is a directory, expected a .npz
file"), cannot be read, or names a file in a folder that does not exist, is refused with a
:class:`~neuralab.errors.NeuralabError` naming the path and what would be valid, never with a
traceback from deep inside numpy or torch.

>>> input_file("/", "npz file", expected="a .npz file")
Traceback (most recent call last):
...
neuralab.errors.NeuralabError: npz file '/' is a directory, expected a .npz file
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from neuralab.atomic import WriteError, check_writable_target
from neuralab.errors import NeuralabError


def kind_of(path: Path) -> str:
    """Return what ``path`` is: ``"a directory"``, ``"a file"``, ``"a special file"``, ``"missing"``."""
    if path.is_dir():
        return "a directory"
    if path.is_file():
        return "a file"
    if path.exists():
        return "a special file"
    return "missing"


def input_file(
    path: str | os.PathLike[str], what: str, *, expected: str = "a file", hint: str = ""
) -> Path:
    """Return ``path`` if it is a readable file; otherwise raise one line saying what it is.

    ``what`` names the input (``"npz file"``, ``"checkpoint"``, ``"--config"``), ``expected``
    what it should be (``"a .npz file"``); ``hint`` is added to "does not exist" (another way
    to give the input).
    """
    file = Path(path).expanduser()
    kind = kind_of(file)
    if kind == "missing":
        raise NeuralabError(f"{what} {str(file)!r} does not exist{hint}")
    if kind != "a file":
        raise NeuralabError(f"{what} {str(file)!r} is {kind}, expected {expected}")
    if not os.access(file, os.R_OK):
        raise NeuralabError(f"{what} {str(file)!r} cannot be read: permission denied")
    return file


def input_dir(
    path: str | os.PathLike[str], what: str, *, expected: str = "a directory", hint: str = ""
) -> Path:
    """Return ``path`` if it is a directory; otherwise raise one line saying what it is."""
    folder = Path(path).expanduser()
    kind = kind_of(folder)
    if kind == "missing":
        raise NeuralabError(f"{what} {str(folder)!r} does not exist{hint}")
    if kind != "a directory":
        raise NeuralabError(f"{what} {str(folder)!r} is {kind}, expected {expected}")
    return folder


def output_file(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` if a file can be written there, checked before any work is done.

    Its folder must exist (it is never created: a mistyped path is an error naming it) and be
    writable, and the path must not be a directory.
    """
    target = Path(path).expanduser()
    try:
        check_writable_target(target)
    except WriteError as error:
        raise NeuralabError(f"{what} {str(target)!r}: {error.reason}") from None
    # permissions do not tell (root, read-only mounts, /sys): try a temporary file there
    try:
        handle, probe = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as error:
        raise NeuralabError(
            f"{what} {str(target)!r}: cannot write in {str(target.parent)!r}: "
            f"{error.strerror or error}"
        ) from None
    os.close(handle)
    os.unlink(probe)
    return target


__all__ = ["input_dir", "input_file", "kind_of", "output_file"]
