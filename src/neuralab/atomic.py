"""Atomic file writes: a file is either its old self or complete, never half-written.

Everything neuralab saves (configs, metrics, figures, checkpoints, reports) goes through
:func:`atomic_path`: the data is written to a temporary file in the same folder, flushed to disk,
and renamed over the target in one step (``os.replace`` is atomic on POSIX and Windows), then
the folder itself is flushed so the rename survives a power cut. A crash, Ctrl-C, ``kill -9``
or a full disk leaves the old file (or none); a killed writer may leave its ``.NAME.*.tmp``
beside it, which :func:`remove_temporaries` clears when the folder is used again.

The folder must exist: a missing one is an error naming it, never created on the way (a
mistyped ``-o /nonexistent/dir/x.png`` must not make ``/nonexistent``). Whoever owns a folder
creates it (a run directory its ``figures/``). Any failure of the operating system becomes a
:class:`WriteError`: one line naming the file and the reason (permission denied, no space left
on the device, read-only file system).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neuralab.errors import NeuralabError

_TEMPORARY_SUFFIX = ".tmp"


class WriteError(NeuralabError):
    """A file could not be written: its path and the operating system's reason, in one line."""

    def __init__(self, path: str | os.PathLike[str], reason: str, *, errno_: int | None = None):
        self.path = Path(path)
        self.reason = reason
        self.errno = errno_
        super().__init__(f"cannot write {str(self.path)!r}: {reason}")

    @property
    def disk_full(self) -> bool:
        """Return whether the device ran out of space (or quota)."""
        return self.errno in (errno.ENOSPC, errno.EDQUOT)


def write_error(path: str | os.PathLike[str], error: OSError) -> WriteError:
    """Return the :class:`WriteError` for ``error`` raised while writing ``path``."""
    reason = error.strerror or type(error).__name__
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = "no space left on the device"
    return WriteError(path, reason, errno_=error.errno)


def check_writable_target(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` if a file can be written there: its folder exists and it is no folder.

    Raises :class:`WriteError` naming the missing folder, or the folder given as a file.
    """
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        raise WriteError(target, "it is a directory, expected a file name")
    if not parent.exists():
        raise WriteError(target, f"the folder {str(parent)!r} does not exist (create it first)")
    if not parent.is_dir():
        raise WriteError(target, f"{str(parent)!r} is a file, not a folder")
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds."""
    target = check_writable_target(path)
    try:
        handle, temporary_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=_TEMPORARY_SUFFIX, dir=target.parent
        )
    except OSError as error:
        raise write_error(target, error) from None
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        # mkstemp creates the file private (0600); give it the mode a plain open() would
        os.chmod(temporary, _file_mode(target))
        os.replace(temporary, target)
        _sync_folder(target.parent)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise write_error(target, error) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _sync_folder(folder: Path) -> None:
    # the rename is only durable once the folder's entry is on disk (POSIX; Windows has no
    # folder handles, and some file systems refuse fsync on them)
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the ``.NAME.*.tmp`` files a killed writer left in ``folder``; return them.

    Only call it where no other process is writing into ``folder`` at the same time.
    """
    removed: list[Path] = []
    directory = Path(folder)
    if not directory.is_dir():
        return removed
    for file in directory.glob(".*" + _TEMPORARY_SUFFIX):
        if file.is_file():
            file.unlink(missing_ok=True)
            removed.append(file)
    return removed


def _file_mode(target: Path) -> int:
    """Return the target's current mode, or 0666 less the umask for a new file."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


def save_figure(figure: Any, path: str | os.PathLike[str], **savefig_kwargs: Any) -> Path:
    """Save a matplotlib ``figure`` to ``path`` atomically (format from the suffix)."""
    target = Path(path)
    savefig_kwargs.setdefault("bbox_inches", "tight")
    savefig_kwargs.setdefault("format", target.suffix.lstrip(".") or "png")
    with atomic_path(target) as temporary:
        figure.savefig(temporary, **savefig_kwargs)
    return target


def torch_save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save`` ``obj`` to ``path`` atomically."""
    import torch

    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        try:
            torch.save(obj, handle)
        except RuntimeError as error:
            # torch's zip writer turns a failed write (a full disk) into a RuntimeError about
            # file positions; written through a Python file, the OSError is its context
            if isinstance(error.__context__, OSError):
                raise error.__context__ from None
            raise
    return Path(path)
