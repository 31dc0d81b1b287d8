"""Small training configs the tests share: digits 8x8, a narrow CNN, a few batches per epoch."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neuralab.vision import fit as fit_module
from neuralab.vision.config import TrainConfig

TIMING = ("seconds", "images_per_s")


def tiny(tmp_path: Path, name: str = "run", **changes: Any) -> TrainConfig:
    """Return a config that trains in about a second: digits, cnn 8-16, batch 128, 2 epochs."""
    values: dict[str, Any] = {
        "data": "digits",
        "data_dir": str(tmp_path / "data"),
        "widths": (8, 16),
        "epochs": 2,
        "batch_size": 128,
        "run_dir": str(tmp_path / name),
        "device": "cpu",
    }
    values.update(changes)
    return TrainConfig(**values)


def rows_without_timing(run_dir: Path) -> list[dict[str, str]]:
    """Return metrics.csv's rows without the columns that are wall-clock times."""
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k not in TIMING} for row in csv.DictReader(handle)]


@contextlib.contextmanager
def interrupted_at(monkeypatch: Any, epoch: int = 2) -> Iterator[None]:
    """Within the block, training raises KeyboardInterrupt (Ctrl-C) as ``epoch`` starts."""
    real_epoch = fit_module.train_one_epoch

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        if kwargs["epoch"] == epoch:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(fit_module, "train_one_epoch", interrupted)
    try:
        yield
    finally:
        monkeypatch.setattr(fit_module, "train_one_epoch", real_epoch)
