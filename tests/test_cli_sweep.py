"""The sweep command end to end: 4 worker processes, one storage, every trial exactly once."""

from __future__ import annotations

import csv
import json

import pytest

from neuralab.studies.sweep.spec import open_sweep
from neuralab.studies.sweep.storage import open_study


def test_four_workers_complete_every_trial_exactly_once(run_cli, tmp_path):
    directory = tmp_path / "sweep"
    lrs = ["0.001", "0.003", "0.01", "0.03", "0.1", "0.3"]
    result = run_cli(
        "sweep",
        "--data", "digits",
        "--model", "mlp",
        "--grid", "lr=" + ",".join(lrs),
        "--epochs", "1",
        "--workers", "4",
        "--sweep-dir", directory,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    spec = open_sweep(directory)
    trials = [t for t in open_study(spec, directory).get_trials() if "runs" in t.user_attrs]
    assert sorted(t.params["lr"] for t in trials) == sorted(float(v) for v in lrs)
    assert all(t.state.name == "COMPLETE" for t in trials)
    assert len(list((directory / "runs").iterdir())) == len(lrs)  # no point trained twice
    with open(directory / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(lrs)
    with open(directory / "summary.csv") as handle:
        summary = list(csv.DictReader(handle))
    chosen = [row for row in summary if row["status"] == "chosen"]
    best = max(float(row["mean"]) for row in summary if row["mean"])
    assert len(chosen) == 1 and float(chosen[0]["mean"]) == best  # the best validation mean
    assert "Chosen on validation only" in result.stdout
    # sweep runs never looked at the test set
    for trial in trials:
        for run in trial.user_attrs["runs"]:
            metrics = [json.loads(line) for line in open(f"{run['run_dir']}/metrics.jsonl")]
            assert all(m["test_acc"] is None for m in metrics)


def test_bad_grid_and_storage_are_one_line_errors(run_cli, tmp_path):
    result = run_cli("sweep", "--grid", "dropout=0:x:0.1", "--sweep-dir", tmp_path / "a")
    assert result.exit_code == 2
    assert "'x' is not a number" in result.stderr and "a:b:step" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_cli("sweep", "--grid", "dropuot=0,0.5", "--sweep-dir", tmp_path / "b")
    assert result.exit_code == 2 and "did you mean 'dropout'" in result.stderr
    result = run_cli(
        "sweep", "--grid", "lr=0.1,0.01", "--storage", "postgresql://x@127.0.0.1:1/none",
        "--sweep-dir", tmp_path / "c",
    )  # fmt: skip
    assert result.exit_code == 2 and "cannot be reached" in result.stderr
    assert not (tmp_path / "c" / "runs").exists()  # nothing trained


def test_two_sweeps_in_one_directory_are_refused(run_cli, tmp_path):
    directory = tmp_path / "sweep"
    from neuralab.studies.sweep.grid import parse_grid
    from neuralab.studies.sweep.spec import SweepSpec
    from neuralab.vision.config import TrainConfig

    open_sweep(
        directory,
        SweepSpec.from_axes({"data": "digits"}, [parse_grid("lr=0.1,0.2", TrainConfig)]),
    )
    result = run_cli("sweep", "--grid", "lr=0.1,0.5", "--sweep-dir", directory)
    assert result.exit_code == 2 and "already holds a different sweep" in result.stderr


@pytest.mark.slow
def test_four_workers_one_killed_mid_trial_every_trial_runs_exactly_once(tmp_path):
    """Four workers on one SQLite storage; one is SIGKILLed mid-trial: its heartbeat stops, the
    trial is failed and put back, and every grid point is trained to the end exactly once."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from neuralab.studies.sweep.grid import parse_grid
    from neuralab.studies.sweep.runner import finish_sweep, start_sweep
    from neuralab.studies.sweep.spec import SweepSpec
    from neuralab.vision.config import TrainConfig

    directory = tmp_path / "sweep"
    lrs = "0.0005,0.001,0.002,0.005,0.01,0.02,0.05,0.1"
    base = {"data": "digits", "model": "mlp", "epochs": 8, "batch_size": 16}
    spec = SweepSpec.from_axes(base, [parse_grid(f"lr={lrs}", TrainConfig)])
    start_sweep(spec, directory)
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": source, "NEURALAB_THREADS": "1", "NEURALAB_SWEEP_POLL": "1"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "neuralab", "sweep", "worker", str(directory)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    study = open_study(spec, directory)

    def running() -> int:
        return sum(t.state.name == "RUNNING" for t in study.get_trials(deepcopy=False))

    deadline = time.time() + 180
    while time.time() < deadline and running() < 4:
        time.sleep(0.2)
    assert running() == 4, "four trials should run at once"
    time.sleep(2)  # well inside the trials' 8 epochs
    victim = workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    for worker in workers[1:]:  # they wait for the silent trial to go stale, then rerun it
        assert worker.wait(timeout=600) == 0, worker.stderr.read() if worker.stderr else ""
    trials = open_study(spec, directory).get_trials()
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert sorted(t.params["lr"] for t in complete) == sorted(float(v) for v in lrs.split(","))
    points = [t.user_attrs["grid_point"] for t in complete]
    assert len(points) == len(set(points)) == 8  # none lost, none trained twice to the end
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(failed) == 1  # the killed worker's trial, given back to the queue
    assert failed[0].user_attrs["grid_point"] in points
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    assert finish_sweep(directory).chosen is not None
