"""A playground run and a comparison grid recorded in a run directory, as the CLI writes them."""

from __future__ import annotations

import csv

import pytest

from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.record import record_grid, record_run

SMALL = PlaygroundConfig(data="xor", n=40, hidden=(3,), epochs=20, log_every=5)


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_record_run_writes_every_epoch_and_logs_what_it_says(tmp_path):
    said: list[str] = []
    result, directory = record_run(SMALL, tmp_path / "run", say=said.append, progress=False)
    assert directory == tmp_path / "run"
    # the header, epochs 0, 5, 10, 15, 20, and the files line
    assert len(said) == 7 and said[1].startswith("epoch  0") and said[-2].startswith("epoch 20")
    assert (directory / "train.log").read_text().splitlines() == said
    rows = _rows(directory / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == list(range(21))  # every epoch, not only the logged
    assert float(rows[-1]["train_loss"]) == pytest.approx(
        result.history[-1]["train_loss"], rel=1e-5
    )
    assert {"grad_norm_1", "grad_norm_2"} <= set(rows[0])  # one column per layer
    assert (directory / "figures" / "boundary.png").read_bytes()[:4] == b"\x89PNG"


def test_record_grid_writes_cells_and_every_network(tmp_path):
    grid, line = record_grid(
        SMALL, ["lr=0.1,0.3"], seeds=2, run_dir=tmp_path / "grid", progress=False
    )
    assert line.startswith("trained 4 networks as 1 batched model(s)")
    cells = _rows(tmp_path / "grid" / "compare.csv")
    assert [c["lr"] for c in cells] == ["0.1", "0.3"]
    assert float(cells[0]["test_acc"]) == pytest.approx(grid.cells[0].mean["test_acc"], rel=1e-5)
    networks = _rows(tmp_path / "grid" / "metrics.csv")
    assert len(networks) == 2 * 2 * 21  # cells x seeds x (epochs + the start)
    assert {(r["lr"], r["seed"]) for r in networks} == {
        (lr, seed) for lr in ("0.1", "0.3") for seed in ("0", "1")
    }
