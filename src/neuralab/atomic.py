"""Atomic file writes: a file is either its old self or complete, never half-written.

Everything neuralab saves (configs, metrics, figures, checkpoints, reports) goes through
:func:`atomic_path`: the data is written to a temporary file in the same folder, flushed to disk,
and renamed over the target in one step (``os.replace`` is atomic on POSIX and Windows). A crash,
Ctrl-C or a full disk leaves the old file (or none) and no ``.tmp`` litter.
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


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        # mkstemp creates the file private (0600); give it the mode a plain open() would
        os.chmod(temporary, _file_mode(target))
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if error.errno == errno.ENOSPC:
            raise NeuralabError(f"no space left on the disk while writing {target}") from None
        raise
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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

    with atomic_path(path) as temporary:
        torch.save(obj, temporary)
    return Path(path)
