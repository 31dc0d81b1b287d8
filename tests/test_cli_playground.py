"""``neuralab playground`` through the real entry point: run directory, grids, bad input."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

FAST = ["--n", "40", "--epochs", "4", "--hidden", "3"]


def _csv(path):
    with open(path, encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_run_writes_the_run_directory(run_cli, tmp_path):
    run = tmp_path / "run"
    result = run_cli("playground", "--data", "xor", *FAST, "--activation", "relu", "--run-dir", run)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("xor: 20 train / 20 test")
    assert "x1,x2 -> 3 relu -> 1 sigmoid; loss bce" in lines[0]
    epoch_lines = [line for line in lines if line.startswith("epoch")]
    assert (
        len(epoch_lines) == 5 and "train loss" in epoch_lines[-1] and "|dJ/dW|" in epoch_lines[-1]
    )
    rows = _csv(run / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3, 4]
    assert {"grad_norm_1", "grad_norm_2", "weight_norm_2", "dead_fraction_1", "symmetric_1"} <= set(
        rows[0]
    )
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["data"] == "xor" and config["hidden"] == [3] and config["epochs"] == 4
    for name in ("boundary.png", "loss.png", "grad_norm.png"):
        assert (run / "figures" / name).read_bytes()[:4] == b"\x89PNG"
    assert "epoch 4" in (run / "train.log").read_text()


def test_config_file_and_options_override_it(run_cli, tmp_path):
    file = tmp_path / "run.yaml"
    file.write_text("data: gauss\nepochs: 3\nlr: 0.1\nhidden: [2]\nn: 40\n")
    run = tmp_path / "run"
    result = run_cli("playground", "--config", file, "--epochs", "2", "--run-dir", run)
    assert result.exit_code == 0, result.stderr
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert (config["data"], config["epochs"], config["lr"], config["hidden"]) == (
        "gauss",
        2,
        0.1,
        [2],
    )


def test_divergence_exits_2_and_keeps_what_was_recorded(run_cli, tmp_path):
    run = tmp_path / "run"
    result = run_cli(
        "playground", "--data", "plane", "--n", "40", "--hidden", "8", "--activation", "relu",
        "--lr", "50", "--epochs", "40", "--run-dir", run,
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"neuralab: error: loss became infinite at epoch 1 (lower --lr, or check --init); "
        f"what was recorded is in {run}"
    )
    rows = _csv(run / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["0", "1"] and rows[-1]["train_loss"] == "inf"
    assert (run / "figures" / "loss.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "spirl"], "unknown toy data set 'spirl'; did you mean 'spiral'?"),
        (["--activation", "rlu"], "unknown activation 'rlu'"),
        (["--init", "xavir"], "unknown initialization scheme 'xavir' (valid: "),
        (["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop' (valid: adam, momentum, sgd)"),
        (["--hidden", "8,-1"], "-1 is not a positive integer"),
        (["--hidden", "8,abc"], "hidden='abc' is not an integer"),
        (["--lr", "-1"], "lr=-1.0 must be > 0"),
        (["--features", "x1,x3"], "unknown feature 'x3'"),
        (["--compare", "nothing=1,2"], "unknown field to compare 'nothing'"),
        (
            ["--compare", "lr=1,2,3,4,5,6,7,8,9", "--compare", "seed=1,2,3,4,5,6,7,8"],
            "9 x 8 = 72 cells; at most 64",
        ),
        (["--compare", "init=he,xavir"], "unknown initialization scheme 'xavir'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, tmp_path, args, message):
    result = run_cli("playground", *args, "--run-dir", tmp_path / "run")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuralab: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_compare_grid_table_and_files(run_cli, tmp_path):
    run = tmp_path / "grid"
    result = run_cli(
        "playground", *FAST, "--compare", "init=zeros,he", "--compare", "activation=relu,tanh",
        "--seeds", "2", "--run-dir", run,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "trained 8 networks as 1 batched model(s)" in result.stdout
    assert "zeros" in result.stdout and "test acc" in result.stdout
    summary = _csv(run / "compare.csv")
    assert [(r["init"], r["activation"]) for r in summary] == [
        ("zeros", "relu"),
        ("zeros", "tanh"),
        ("he", "relu"),
        ("he", "tanh"),
    ]
    assert float(summary[0]["dead_fraction"]) == 1.0
    metrics = _csv(run / "metrics.csv")
    assert len(metrics) == 8 * 5 and {"init", "activation", "seed", "grad_norm_1"} <= set(
        metrics[0]
    )
    assert (run / "figures" / "compare.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_formats(run_cli, tmp_path):
    args = ["playground", *FAST, "--compare", "lr=0.01,0.3"]
    result = run_cli(*args, "--format", "json", "--run-dir", tmp_path / "a")
    assert result.exit_code == 0, result.stderr
    [table] = json.loads(result.stdout)
    assert [r["lr"] for r in table["rows"]] == ["0.01", "0.3"]
    assert table["notes"][0].startswith("trained 2 networks as 1 batched model(s)")
    result = run_cli(*args, "--format", "markdown", "--run-dir", tmp_path / "b")
    assert result.stdout.startswith("| lr |")


def test_help_teaches(run_cli):
    result = run_cli("playground", "--help")
    assert result.exit_code == 0
    assert "--compare" in result.stdout and "dead" in result.stdout
    assert "neuralab playground --data spiral" in result.stdout
