"""neuralab train / evaluate / predict through the real entry point, bad input included."""

from __future__ import annotations

import csv
import errno
import json

import pytest
import torch

from neuralab.vision import fit as fit_module
from neuralab.vision.checkpoint import load_checkpoint
from train_configs import interrupted_at

SMALL = ("--set", "widths=8,16", "--batch-size", "128", "--device", "cpu", "--no-progress")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One short digits run shared by the evaluate and predict tests."""
    from neuralab.cli import main

    run_dir = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--epochs", "2", "--run-dir", str(run_dir), *SMALL]) == 0
    return run_dir


def metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_train_prints_the_epoch_table(finished_run, run_cli, tmp_path):
    log = (finished_run / "train.log").read_text()
    assert "epoch   train CE  train acc    val CE    val acc   test CE   test acc" in log
    assert len(metrics(finished_run)) == 2
    config = tmp_path / "run.yaml"
    config.write_text("epochs: 1\nlabel_smoothing: 0.1\nschedule: cosine\n")
    result = run_cli(
        "train", "--config", config, "--run-dir", tmp_path / "r", "--lr", "0.01", *SMALL
    )
    assert result.exit_code == 0, result.stderr
    assert "    1  " in result.stdout and "best epoch 1" in result.stdout
    saved = (tmp_path / "r" / "config.yaml").read_text()
    assert "label_smoothing: 0.1" in saved and "lr: 0.01" in saved and "schedule: cosine" in saved


def test_evaluate_repeats_the_table(finished_run, run_cli):
    best = max(metrics(finished_run), key=lambda row: float(row["val_acc"]))
    sizes = {}
    for split in ("val", "test", "train"):
        result = run_cli("evaluate", finished_run, "--split", split, "--format", "json")
        assert result.exit_code == 0, result.stderr
        [table] = json.loads(result.stdout)
        [data] = table["rows"]
        assert set(data) == {"split", "loss", "acc", "n"} and data["split"] == split
        sizes[split] = data["n"]
        if split != "train":  # the train columns are measured during the epoch, in train mode
            assert data["acc"] == pytest.approx(float(best[f"{split}_acc"]), abs=1e-5)
            assert data["loss"] == pytest.approx(float(best[f"{split}_loss"]), rel=1e-4)
    assert sizes["train"] + sizes["val"] == 1437 and sizes["test"] == 360  # digits: 80 / 20
    table = run_cli("evaluate", finished_run, "--split", "val", "--format", "markdown")
    assert table.exit_code == 0 and "| val |" in table.stdout and "accuracy" in table.stdout


def test_predict_top_k(finished_run, run_cli, tmp_path):
    from PIL import Image

    from neuralab.vision.datasets import get_dataset

    digits = get_dataset("digits")
    paths = []
    for index in range(2):
        path = tmp_path / f"digit{index}.png"
        Image.fromarray(digits.x_test[index, 0].numpy()).resize((32, 32)).convert("RGB").save(path)
        paths.append(path)
    result = run_cli("predict", finished_run, *paths, "--top-k", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)[0]["rows"]
    assert [r["rank"] for r in rows] == [1, 2, 1, 2]
    assert rows[0]["class"] == str(rows[0]["label"])
    # all ten classes of the first image: a softmax, sorted, whose first two are the top 2
    every = json.loads(
        run_cli("predict", finished_run, paths[0], "--top-k", "10", "--format", "json").stdout
    )[0]["rows"]
    assert sorted(r["label"] for r in every) == list(range(10))
    assert sum(r["p"] for r in every) == pytest.approx(1.0, abs=1e-6)
    assert [r["p"] for r in every] == sorted((r["p"] for r in every), reverse=True)
    assert [r["label"] for r in every[:2]] == [r["label"] for r in rows[:2]]
    # alone or in a batch of two, the image gets the same probabilities (to float rounding)
    assert [r["p"] for r in every[:2]] == pytest.approx([r["p"] for r in rows[:2]], rel=1e-5)
    missing = run_cli("predict", finished_run, tmp_path / "nothing.png")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--data", "digitz"), "unknown data set 'digitz'; did you mean 'digits'?"),
        (("--model", "resnet"), "unknown model 'resnet'"),
        (("--optimizer", "rmsprop"), "unknown optimizer 'rmsprop' (valid: adam, adamw, sgd)"),
        (("--set", "colour=red"), "unknown TrainConfig field 'colour'"),
        (("--lr", "-1"), "lr must be > 0"),
        (("--device", "tpu"), "unknown device 'tpu'"),
        (("--augment", "wild"), "unknown augmentation preset 'wild'"),
    ],
)
def test_bad_train_input_is_one_line(run_cli, tmp_path, arguments, message):
    result = run_cli("train", "--run-dir", tmp_path / "bad", *SMALL, *arguments)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_corrupt_checkpoint_and_resume_mismatch(finished_run, run_cli, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_text((finished_run / "config.yaml").read_text())
    (broken / "best.pt").write_bytes(b"\x00garbage")
    result = run_cli("evaluate", broken)
    assert result.exit_code == 2 and "corrupt or not a PyTorch file" in result.stderr
    result = run_cli("train", "--resume", finished_run, "--lr", "0.5", "--no-progress")
    assert result.exit_code == 2
    assert "different config: lr: 0.003 -> 0.5" in result.stderr
    result = run_cli("train", "--resume", tmp_path / "nowhere")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_resume_continues_through_the_cli(run_cli, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    with interrupted_at(monkeypatch, epoch=2):
        result = run_cli("train", "--epochs", "2", "--run-dir", run_dir, *SMALL)
    assert result.exit_code == 130
    assert f"Continue with: neuralab train --resume {run_dir}" in result.stdout
    result = run_cli("train", "--resume", run_dir, "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert "resuming" in result.stdout and [r["epoch"] for r in metrics(run_dir)] == ["1", "2"]


def test_nan_loss_exit_code_2(run_cli, tmp_path):
    result = run_cli(
        "train",
        *("--model", "mlp", "--optimizer", "sgd", "--lr", "1e30", "--schedule", "constant"),
        *("--epochs", "2", "--run-dir", tmp_path / "nan", "--device", "cpu", "--no-progress"),
    )
    assert result.exit_code == 2
    # the first batch is computed with the initial weights; a step of lr 1e30 makes the next nan
    assert result.stderr == (
        "neuralab: error: the loss became nan at epoch 1, batch 2: training stopped (lower the "
        "learning rate, turn on grad_clip, or check the data); last good checkpoint: none "
        "(first epoch)\n"
    )
    assert not (tmp_path / "nan" / "last.pt").exists()


def test_out_of_memory_suggests_a_batch_size(run_cli, tmp_path, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory (pretend)")

    monkeypatch.setattr(fit_module, "train_one_epoch", out_of_memory)
    result = run_cli("train", "--run-dir", tmp_path / "oom", *SMALL)
    assert result.exit_code == 2
    assert "batch size 128 does not fit in the memory of cpu; try --batch-size 64" in result.stderr


def test_full_disk_leaves_no_half_written_checkpoint(run_cli, tmp_path, monkeypatch):
    real_save, calls = torch.save, []

    def full_disk_after_epoch_1(obj, handle):
        calls.append(obj["epoch"])
        if obj["epoch"] == 1:  # best.pt and last.pt of epoch 1 are written
            return real_save(obj, handle)
        handle.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk_after_epoch_1)
    run_dir = tmp_path / "full"
    result = run_cli("train", "--epochs", "3", "--run-dir", run_dir, *SMALL)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"neuralab: error: cannot write '{run_dir}/")
    assert "no space left on the device; last good checkpoint: " in result.stderr
    assert result.stderr.endswith(f"{run_dir / 'last.pt'} (epoch 1)\n")
    assert calls[:2] == [1, 1] and calls[2] == 2
    monkeypatch.setattr(torch, "save", real_save)
    assert load_checkpoint(run_dir / "last.pt")["epoch"] == 1  # loadable, the epoch before
    assert not list(run_dir.glob(".*.tmp"))  # no half-written file left
    assert "no space left" in (run_dir / "train.log").read_text()


def test_help_teaches(run_cli):
    result = run_cli("train", "--help")
    assert result.exit_code == 0
    assert "--resume" in result.stdout and "neuralab train --data" in result.stdout
    assert "softmax" in run_cli("evaluate", "--help").stdout
    assert "top-k" in run_cli("predict", "--help").stdout
