"""The run directory: where every training run, sweep or study keeps what it made.

Layout (see DESIGN.md)::

    runs/<name>/
      config.yaml      the resolved configuration
      metrics.csv      one row per epoch (accuracies as fractions 0..1)
      metrics.jsonl    the same rows, one JSON object per line
      train.log        everything the run printed
      last.pt best.pt  checkpoints (written by the trainer)
      figures/*.png    figures
      report.md        the report

Metrics files are rewritten atomically after every row, so an interrupted run leaves complete
files, and a resumed run drops rows past the epoch it resumes from.

Nothing is lost: a new run, study, experiment or sweep takes its directory through
:meth:`RunDirectory.create`, which refuses a directory that already holds something (naming the
way to continue it, or ``--overwrite`` to replace it) and writes the resolved config first, so
an interrupted run can be continued from its directory. ``--overwrite`` replaces only what
neuralab wrote (a directory holding a ``config.yaml`` or ``sweep.yaml``), never a folder of other
files. A default name that is taken (two runs in the same second) gets a suffix instead.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuralab.atomic import write_error, write_text
from neuralab.config import save_config
from neuralab.errors import NeuralabError
from neuralab.paths import input_dir

METRIC_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "test_loss",
    "test_acc",
    "lr",
    "seconds",
    "images_per_s",
)


# the files that mark a directory as neuralab's own (what --overwrite may replace)
RUN_MARKERS = ("config.yaml", "sweep.yaml")


def default_run_name(*parts: str) -> str:
    """Return ``"<part>-<part>-YYYYmmdd-HHMMSS"`` with unsafe characters replaced by ``_``."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    cleaned = [re.sub(r"[^A-Za-z0-9_.-]+", "_", p).strip("_")[:40] for p in parts if p]
    return "-".join([*cleaned, stamp])


def default_run_path(*parts: str, root: str | os.PathLike[str] = "runs") -> Path:
    """Return ``root/<default_run_name(parts)>``, with ``-2``, ``-3``, ... if that is taken."""
    base = Path(root) / default_run_name(*parts)
    path, number = base, 1
    while path.exists():
        number += 1
        path = base.with_name(f"{base.name}-{number}")
    return path


def check_new_run_directory(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    kind: str = "run",
    option: str = "--run-dir",
    continue_hint: str = "",
) -> Path:
    """Return ``path`` if a new ``kind`` may be written there; otherwise raise one line.

    Checks only (nothing is created or removed): the path must not be a file; an existing
    directory must be empty, or, with ``overwrite``, hold a neuralab run (``config.yaml`` or
    ``sweep.yaml``). ``continue_hint`` says how to continue what is there (``"resume it with
    --resume DIR"``); ``option`` is the flag that names another directory.
    """
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise NeuralabError(f"{kind} directory {str(folder)!r} is a file, expected a directory")
    if not folder.is_dir() or not any(folder.iterdir()):
        _check_creatable(folder, kind)
        return folder
    if overwrite:
        if not is_run_directory(folder):
            raise NeuralabError(
                f"{kind} directory {str(folder)!r} holds files that neuralab did not write "
                f"(no {' or '.join(RUN_MARKERS)}); --overwrite replaces only a run directory: "
                f"choose another {option}"
            )
        return folder
    held = ", ".join(sorted(p.name for p in folder.iterdir())[:4])
    alternatives = [continue_hint] if continue_hint else []
    alternatives += ["pass --overwrite to replace it", f"choose another {option}"]
    raise NeuralabError(
        f"{kind} directory {str(folder)!r} already holds a run ({held}); "
        + ", ".join(alternatives[:-1])
        + f" or {alternatives[-1]}"
    )


def is_run_directory(path: str | os.PathLike[str]) -> bool:
    """Return whether ``path`` is a directory neuralab wrote (it holds a run marker file)."""
    return any((Path(path) / marker).is_file() for marker in RUN_MARKERS)


def _check_creatable(folder: Path, kind: str) -> None:
    # the nearest existing ancestor must be a writable directory: refuse now, before any work
    ancestor = folder
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise NeuralabError(
            f"cannot create {kind} directory {str(folder)!r}: {str(ancestor)!r} is a file"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise NeuralabError(
            f"cannot create {kind} directory {str(folder)!r}: {str(ancestor)!r} is not "
            "writable (permission denied)"
        )


def make_directory(path: str | os.PathLike[str], kind: str = "run") -> Path:
    """Create ``path`` and its missing parents; a failure is one line with the OS's reason."""
    folder = Path(path).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NeuralabError(
            f"cannot create {kind} directory {str(folder)!r}: a file is in the way"
        ) from None
    except OSError as error:
        raise NeuralabError(
            f"cannot create {kind} directory {str(folder)!r}: {error.strerror or error}"
        ) from None
    return folder


class RunDirectory:
    """A run directory: config, metrics, log, figures and report of one run."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = make_directory(path)
        self.figures = self.path / "figures"
        self.rows: list[dict[str, Any]] = self._read_jsonl()

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        config: Any = None,
        *,
        overwrite: bool = False,
        kind: str = "run",
        option: str = "--run-dir",
        continue_hint: str = "",
    ) -> RunDirectory:
        """Return the directory of a new run at ``path``, its ``config`` written first.

        Refused as :func:`check_new_run_directory` says; with ``overwrite`` the old run's files
        are removed first, so no old figure or metric is left among the new ones.
        """
        folder = check_new_run_directory(
            path, overwrite=overwrite, kind=kind, option=option, continue_hint=continue_hint
        )
        if overwrite and folder.is_dir():
            clear_directory(folder)
        directory = cls(make_directory(folder, kind))
        if config is not None:
            directory.write_config(config)
        return directory

    @classmethod
    def create_or_continue(
        cls,
        path: str | os.PathLike[str],
        config: Any,
        *,
        overwrite: bool = False,
        kind: str = "run",
        option: str = "--run-dir",
    ) -> tuple[RunDirectory, bool]:
        """Return (the directory for ``config`` at ``path``, whether it continues one there).

        A directory whose config.yaml is ``config`` (the same settings) is continued, so an
        interrupted study picks up where it stopped; one holding anything else is refused
        (naming the settings that differ) unless ``overwrite``; otherwise as :meth:`create`.
        """
        folder = Path(path).expanduser()
        saved_file = folder / "config.yaml"
        if not overwrite and folder.is_dir() and saved_file.is_file():
            from neuralab.config import config_to_dict, read_config_file

            saved, wanted = read_config_file(saved_file), config_to_dict(config)
            differences = [
                f"{key}: {saved.get(key)!r} -> {wanted.get(key)!r}"
                for key in sorted(set(saved) | set(wanted))
                if saved.get(key) != wanted.get(key)
            ]
            if not differences:
                return cls(folder), True
            raise NeuralabError(
                f"{kind} directory {str(folder)!r} already holds a run with other settings "
                f"({'; '.join(differences[:3])}); continue it with its own settings, pass "
                f"--overwrite to replace it or choose another {option}"
            )
        return cls.create(folder, config, overwrite=overwrite, kind=kind, option=option), False

    # -- files -------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def log_path(self) -> Path:
        return self.path / "train.log"

    def file(self, name: str) -> Path:
        """Return the path of ``name`` inside the run directory."""
        return self.path / name

    def figure(self, name: str) -> Path:
        """Return the path of figure ``name`` (``figures/<name>``), creating the folder."""
        self.figures.mkdir(parents=True, exist_ok=True)
        return self.figures / name

    # -- config ------------------------------------------------------------------------------
    def write_config(self, config: Any) -> Path:
        """Save the resolved config dataclass as ``config.yaml``."""
        return save_config(config, self.config_path)

    # -- log ---------------------------------------------------------------------------------
    def log(self, line: str) -> None:
        """Append ``line`` to ``train.log`` (flushed at once, so a crash keeps it)."""
        try:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(line.rstrip("\n") + "\n")
                log.flush()
        except OSError as error:
            raise write_error(self.log_path, error) from None

    # -- metrics -----------------------------------------------------------------------------
    def append_metrics(self, row: Mapping[str, Any]) -> None:
        """Add one epoch's row and rewrite ``metrics.csv`` and ``metrics.jsonl`` atomically."""
        self.rows.append({k: _plain(v) for k, v in row.items()})
        self._write_metrics()

    def truncate_metrics(self, last_epoch: int) -> None:
        """Keep only rows with ``epoch <= last_epoch`` (used when a run resumes)."""
        self.rows = [r for r in self.rows if int(r.get("epoch", 0)) <= last_epoch]
        self._write_metrics()

    def _write_metrics(self) -> None:
        columns = [c for c in METRIC_COLUMNS if any(c in r for r in self.rows)]
        for row in self.rows:
            columns.extend(k for k in row if k not in columns)
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _csv_cell(row.get(k)) for k in columns})
        write_text(self.path / "metrics.csv", buffer.getvalue())
        write_text(
            self.path / "metrics.jsonl",
            "".join(json.dumps(r, allow_nan=True) + "\n" for r in self.rows),
        )

    def _read_jsonl(self) -> list[dict[str, Any]]:
        file = self.path / "metrics.jsonl"
        if not file.is_file():
            return []
        rows = []
        try:
            text = file.read_text(encoding="utf-8")
            for line in text.splitlines():
                if line.strip():
                    rows.append(json.loads(line))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise NeuralabError(f"{str(file)!r} is not readable metrics ({error})") from None
        return rows


def clear_directory(path: str | os.PathLike[str]) -> None:
    """Remove everything inside the run directory ``path`` (``--overwrite``), keeping the folder."""
    folder = Path(path)
    if not is_run_directory(folder):  # never empty a folder neuralab did not write
        raise NeuralabError(f"{str(folder)!r} is not a run directory; nothing was removed")
    # the marker files go last: a folder half cleared is still recognised as a run
    for child in sorted(folder.iterdir(), key=lambda p: p.name in RUN_MARKERS):
        try:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        except OSError as error:
            raise NeuralabError(
                f"cannot replace the run in {str(folder)!r}: {child.name}: "
                f"{error.strerror or error}"
            ) from None


__all__ = [
    "METRIC_COLUMNS",
    "RUN_MARKERS",
    "RunDirectory",
    "check_new_run_directory",
    "clear_directory",
    "default_run_name",
    "default_run_path",
    "is_run_directory",
    "make_directory",
]


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}"
    return value


def trained_checkpoint(run_dir: str | os.PathLike[str], which: str = "best") -> Path:
    """Return the path of ``best.pt`` or ``last.pt`` in a run directory of ``neuralab train``.

    Checked without torch, so that a mistyped run directory is answered at once: the folder
    must exist and be a folder, and hold the checkpoint.
    """
    if which not in ("best", "last"):
        raise NeuralabError(f"checkpoint must be best or last, got {which!r}")
    folder = input_dir(
        run_dir, "run directory", expected="a run directory written by neuralab train"
    )
    path = folder / f"{which}.pt"
    if not path.exists():
        raise NeuralabError(
            f"run directory {str(folder)!r} has no {which}.pt (expected a run of neuralab train)"
        )
    return path
