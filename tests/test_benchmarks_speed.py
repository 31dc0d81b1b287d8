"""The speed benchmarks of issue 15 run end to end on small settings (slow suite), so they cannot rot.

They measure nothing here (timed tests are not how speed is checked): they run, and write the
JSON and CSV files their docs/performance.md tables come from, with the fields those tables read.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import shared_dataset

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.slow


def load(name: str) -> ModuleType:
    """Return the benchmark script ``benchmarks/<name>.py`` imported as a module."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_time_to_accuracy_quick(tmp_path, capsys):
    shared_dataset("gtsrb/gtsrb-32.npz")
    benchmark = load("time_to_accuracy")
    code = benchmark.main(
        [
            "--quick",
            "--data",
            "gtsrb",
            "--baseline",
            "tutorial",
            "--threads",
            "1",
            "--output",
            str(tmp_path),
        ]
    )
    assert code == 0
    saved = json.loads((tmp_path / "time_to_accuracy_quick.json").read_text())
    result = saved["results"]["gtsrb"]
    assert result["config"]["model"] == "fast" and result["target"] == 0.95
    assert len(result["neuralab_curve"]) == 1
    tutorial = result["baselines"]["tutorial"]
    assert len(tutorial["curve"]) == 1 and tutorial["seconds_per_epoch"] > 0
    assert 0.02 < result["neuralab_curve"][0]["test_acc"] <= 1  # 43 classes: chance 0.023
    csv_lines = (tmp_path / "time_to_accuracy_quick.csv").read_text().splitlines()
    assert csv_lines[0].startswith("data,contestant,epoch")
    assert {line.split(",")[1] for line in csv_lines[1:]} == {"neuralab", "tutorial"}
    assert "gtsrb to 95 % test" in capsys.readouterr().out


def test_tutorial_net_is_the_pytorch_tutorials():
    benchmark = load("time_to_accuracy")
    net = benchmark.TutorialNet(3, 32, 10)  # the tutorial's CIFAR-10 network exactly
    assert sum(p.numel() for p in net.parameters()) == 62_006
    assert net.fc1.in_features == 16 * 5 * 5
    assert benchmark.TutorialNet(1, 28, 10).fc1.in_features == 16 * 4 * 4


def test_startup_one_repeat(tmp_path, capsys):
    benchmark = load("startup")
    output = tmp_path / "startup.json"
    assert benchmark.main(["--repeats", "1", "--output", str(output)]) == 0
    saved = json.loads(output.read_text())
    commands = saved["commands"]
    assert set(commands) == {command.label for command in benchmark.COMMANDS}
    assert commands["neuralab --help"]["limit_s"] == 0.5
    torch_s = commands["import torch"]["median_s"]
    assert commands["neuralab pool 2x2"]["limit_s"] == pytest.approx(torch_s + 0.5)
    assert "neuralab --help" in capsys.readouterr().out
