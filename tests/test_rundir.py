"""Run directory: metrics rewritten per row, reloaded on reopen, truncated on resume."""

from __future__ import annotations

import csv
import json

from neuralab.rundir import RunDirectory, default_run_name


def test_metrics_csv_and_jsonl(tmp_path):
    run = RunDirectory(tmp_path / "run")
    run.append_metrics({"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "extra": 3})
    run.append_metrics({"epoch": 2, "train_loss": 0.25, "train_acc": 0.9, "extra": 4})
    with open(run.file("metrics.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert list(rows[0]) == ["epoch", "train_loss", "train_acc", "extra"]
    lines = run.file("metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["train_acc"] == 0.9


def test_reopen_and_truncate(tmp_path):
    run = RunDirectory(tmp_path / "run")
    for epoch in range(1, 4):
        run.append_metrics({"epoch": epoch, "train_loss": 1.0 / epoch})
    reopened = RunDirectory(tmp_path / "run")
    assert len(reopened.rows) == 3
    reopened.truncate_metrics(1)
    assert [r["epoch"] for r in RunDirectory(tmp_path / "run").rows] == [1]


def test_log_appends(tmp_path):
    run = RunDirectory(tmp_path / "run")
    run.log("one")
    run.log("two\n")
    assert run.log_path.read_text() == "one\ntwo\n"


def test_default_name_is_safe():
    name = default_run_name("npz:/data/x.npz", "spec:conv(3,3)")
    assert "/" not in name and ":" not in name and "(" not in name
