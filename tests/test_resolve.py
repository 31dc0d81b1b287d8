"""The config a run uses: overrides, the default run directory, the resume merge of CLI and Python."""

from __future__ import annotations

import csv

import pytest

from neuralab.config import read_config_file
from neuralab.errors import NeuralabError
from neuralab.vision.config import TrainConfig
from neuralab.vision.resolve import resolve_resume_config, resolve_run_dir, resolve_train_config
from neuralab.vision.train import train

SMALL = {"widths": (8, 16), "batch_size": 128, "device": "cpu", "schedule": "constant"}


def rows_without_timing(run_dir):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [
            {k: v for k, v in row.items() if k not in ("seconds", "images_per_s")}
            for row in csv.DictReader(handle)
        ]


def test_resume_merges_saved_config_then_file_then_overrides(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("epochs: 2\nlr: 0.01\nseed: 4\nrun_dir: elsewhere\n")
    extra = tmp_path / "more.yaml"
    extra.write_text("epochs: 5\nlr: 0.02\n")
    config = resolve_resume_config(run_dir, extra, {"epochs": "7", "device": None})
    assert (config.epochs, config.lr, config.seed) == (7, 0.02, 4)  # overrides beat the file
    assert config.run_dir == str(run_dir) and config.device == "auto"  # None is no override
    assert resolve_resume_config(run_dir).epochs == 2
    with pytest.raises(NeuralabError, match="not two different folders"):
        resolve_resume_config(run_dir, None, {"run_dir": str(tmp_path / "other")})
    with pytest.raises(NeuralabError, match="nowhere' does not exist"):
        resolve_resume_config(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NeuralabError, match="has no config.yaml"):
        resolve_resume_config(tmp_path / "empty")
    with pytest.raises(NeuralabError, match="unknown TrainConfig field 'colour'"):
        resolve_resume_config(run_dir, None, {"colour": "red"})


def test_train_config_from_overrides_and_default_run_dir(tmp_path):
    config, resuming = resolve_train_config({"lr": "0.01", "data": "npz:/x/gtsrb-32.npz"}, False)
    assert config.lr == 0.01 and not resuming
    assert config.run_dir is not None and config.run_dir.startswith("runs/gtsrb-32-cnn-")
    given = TrainConfig(run_dir=str(tmp_path / "r"))
    assert resolve_run_dir(given) == tmp_path / "r"
    assert resolve_train_config(given, True) == (given, True)
    with pytest.raises(NeuralabError, match="not two different folders"):
        resolve_train_config(given, tmp_path / "other")


def test_python_resume_does_what_the_cli_does(tmp_path, run_cli):
    for name in ("python", "cli"):
        train({**SMALL, "epochs": 1, "run_dir": str(tmp_path / name)}, progress=False, report=False)
    resumed = train({"epochs": 2}, resume=tmp_path / "python", progress=False, report=False)
    result = run_cli("train", "--resume", tmp_path / "cli", "--epochs", "2", "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert [row["epoch"] for row in resumed.history] == [1, 2]
    assert rows_without_timing(tmp_path / "python") == rows_without_timing(tmp_path / "cli")
    saved = {name: read_config_file(tmp_path / name / "config.yaml") for name in ("python", "cli")}
    assert saved["python"].pop("run_dir") == str(tmp_path / "python")
    assert saved["cli"].pop("run_dir") == str(tmp_path / "cli")
    assert saved["python"] == saved["cli"] and saved["cli"]["epochs"] == 2
    with pytest.raises(NeuralabError, match=r"different config: lr: 0.003 -> 0.1"):
        train({"lr": 0.1}, resume=tmp_path / "python", progress=False)
