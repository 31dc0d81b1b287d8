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
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuralab.atomic import write_text
from neuralab.config import save_config

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


def default_run_name(*parts: str) -> str:
    """Return ``"<part>-<part>-YYYYmmdd-HHMMSS"`` with unsafe characters replaced by ``_``."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    cleaned = [re.sub(r"[^A-Za-z0-9_.-]+", "_", p).strip("_")[:40] for p in parts if p]
    return "-".join([*cleaned, stamp])


class RunDirectory:
    """A run directory: config, metrics, log, figures and report of one run."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.figures = self.path / "figures"
        self.rows: list[dict[str, Any]] = self._read_jsonl()

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
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(line.rstrip("\n") + "\n")
            log.flush()

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
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
        return rows


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
