"""train(config): the run directory, exact resume, validation-only choices, stops that explain."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.rundir import METRIC_COLUMNS
from neuralab.vision import fit as fit_module
from neuralab.vision.checkpoint import load_checkpoint
from neuralab.vision.config import TrainConfig
from neuralab.vision.resolve import config_differences
from neuralab.vision.train import train
from train_configs import interrupted_at, rows_without_timing, tiny


def test_run_directory_holds_everything(tmp_path):
    result = train(tiny(tmp_path), progress=False)
    run = result.run_dir
    for name in ("config.yaml", "metrics.csv", "metrics.jsonl", "train.log", "last.pt", "best.pt"):
        assert (run / name).is_file(), name
    for name in ("curves", "confusion_matrix", "per_class_accuracy", "misclassified"):
        assert (run / "figures" / f"{name}.png").stat().st_size > 1000
    with open(run / "metrics.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == METRIC_COLUMNS
    assert [row["epoch"] for row in result.history] == [1, 2]
    for row in result.history:  # accuracies are correct counts over 1,293 / 144 / 360 images
        for split, n in (("train", 1293), ("val", 144), ("test", 360)):
            correct = row[f"{split}_acc"] * n
            assert correct == pytest.approx(round(correct), abs=1e-6), (split, row)
    log = (run / "train.log").read_text()
    assert "train CE" in log and "test acc" in log and "best epoch" in log
    assert "| epoch |" in (run / "report.md").read_text()
    assert result.test["n"] == 360  # the digits test split
    # the test metrics of best.pt are the test columns of the best epoch's row
    best_row = result.history[result.best_epoch - 1]
    assert result.test["acc"] == pytest.approx(best_row["test_acc"])
    assert load_checkpoint(run / "last.pt")["epoch"] == 2


def test_interrupted_run_resumes_to_identical_metrics_and_weights(tmp_path, monkeypatch):
    config = {"epochs": 3, "augment": "light", "dropout": 0.2}  # every RNG in play
    straight = train(tiny(tmp_path, "straight", **config), progress=False, report=False)

    with interrupted_at(monkeypatch, epoch=2), pytest.raises(KeyboardInterrupt):
        train(tiny(tmp_path, "resumed", **config), progress=False, report=False)
    log = (tmp_path / "resumed" / "train.log").read_text()
    assert f"neuralab train --resume {tmp_path / 'resumed'}" in log
    assert load_checkpoint(tmp_path / "resumed" / "last.pt")["epoch"] == 1

    resumed = train(tiny(tmp_path, "resumed", **config), progress=False, resume=True, report=False)
    assert rows_without_timing(resumed.run_dir) == rows_without_timing(straight.run_dir)
    assert len(rows_without_timing(resumed.run_dir)) == 3
    for name in ("last.pt", "best.pt"):
        mine = load_checkpoint(resumed.run_dir / name)["model"]
        theirs = load_checkpoint(straight.run_dir / name)["model"]
        for key in theirs:
            assert torch.equal(mine[key], theirs[key]), (name, key)
    assert resumed.best_epoch == straight.best_epoch


def test_resume_refuses_another_config_and_extends_a_finished_run(tmp_path):
    train(tiny(tmp_path, epochs=1, schedule="constant"), progress=False, report=False)
    with pytest.raises(NeuralabError, match=r"lr: 0.003 -> 0.01; .*seed: 0 -> 1"):
        train(tiny(tmp_path, lr=0.01, seed=1, schedule="constant"), progress=False, resume=True)
    with pytest.raises(NeuralabError, match="already holds a run"):
        train(tiny(tmp_path, schedule="constant"), progress=False)
    with pytest.raises(NeuralabError, match="elsewhere' does not exist"):
        train(tiny(tmp_path, "elsewhere"), progress=False, resume=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NeuralabError, match="has no last.pt"):
        train(tiny(tmp_path, "empty"), progress=False, resume=True)
    longer = train(
        tiny(tmp_path, epochs=2, schedule="constant"), progress=False, resume=True, report=False
    )
    assert [row["epoch"] for row in longer.history] == [1, 2]
    assert "resuming" in (tmp_path / "run" / "train.log").read_text()


def test_train_config_defaults_and_validation():
    from neuralab.config import load_config

    assert TrainConfig().weight_decay == 0.05  # adamw: decoupled decay
    assert TrainConfig(optimizer="sgd").weight_decay == 5e-4  # L2 penalty
    assert TrainConfig(optimizer="sgd", weight_decay=0.0).weight_decay == 0.0
    config = load_config(TrainConfig, overrides={"widths": "16,32", "grad_clip": "none"})
    assert config.widths == (16, 32) and config.grad_clip is None
    assert config.model_options() == {"widths": (16, 32)}
    with pytest.raises(NeuralabError, match="nesterov needs optimizer=sgd"):
        TrainConfig(nesterov=True)
    with pytest.raises(NeuralabError, match=r"val_fraction must be in \(0, 1\)"):
        TrainConfig(val_fraction=1.0)


def test_config_differences_ignore_epochs():
    old = {"epochs": 3, "lr": 0.1, "widths": [8, 16]}
    assert config_differences(old, {"epochs": 9, "lr": 0.1, "widths": (8, 16)}) == []
    assert config_differences(old, {"epochs": 3, "lr": 0.2, "widths": [8, 16]}) == [
        "lr: 0.1 -> 0.2"
    ]


def test_choices_use_validation_only(tmp_path, monkeypatch):
    """best.pt and early stopping follow val_acc; a better test accuracy changes nothing."""
    val_acc = [0.5, 0.7, 0.6, 0.6, 0.9]
    test_acc = [0.9, 0.1, 0.95, 0.99, 0.5]
    calls = {"count": 0}
    real_evaluate = fit_module.evaluate

    def scripted(model, loader, **kwargs):
        if kwargs.get("return_predictions"):
            return real_evaluate(model, loader, **kwargs)
        epoch, is_test = divmod(calls["count"], 2)
        calls["count"] += 1
        acc = (test_acc if is_test else val_acc)[epoch]
        return {"loss": 1 - acc, "acc": acc, "n": 10}

    monkeypatch.setattr(fit_module, "evaluate", scripted)
    result = train(tiny(tmp_path, epochs=5, patience=2), progress=False, report=False)
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]  # stopped before epoch 5
    assert result.best_epoch == 2 and result.best_value == 0.7
    assert result.stopped_early
    assert load_checkpoint(result.run_dir / "best.pt")["epoch"] == 2
    assert "early stopping" in (result.run_dir / "train.log").read_text()


def test_nan_loss_in_the_first_epoch_keeps_nothing(tmp_path):
    config = tiny(
        tmp_path, model="mlp", widths=None, optimizer="sgd", lr=1e30, schedule="constant", epochs=3
    )
    # the first batch is computed with the initial weights; a step of lr 1e30 makes the next nan
    with pytest.raises(NeuralabError, match=r"at epoch 1, batch 2: .*checkpoint: none \(first"):
        train(config, progress=False, report=False)
    assert (
        "error: the loss became nan at epoch 1, batch 2"
        in (tmp_path / "run" / "train.log").read_text()
    )
    assert not (tmp_path / "run" / "last.pt").exists()


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    real_epoch = fit_module.train_one_epoch

    def poisoned(model, *args, **kwargs):
        if kwargs["epoch"] == 2:  # the weights turn nan: the first batch's loss is nan
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.fill_(math.nan)
        return real_epoch(model, *args, **kwargs)

    monkeypatch.setattr(fit_module, "train_one_epoch", poisoned)
    run = tmp_path / "run"
    with pytest.raises(NeuralabError) as error:
        train(tiny(tmp_path, epochs=3), progress=False, report=False)
    assert str(error.value).startswith("the loss became nan at epoch 2, batch 1: training stopped")
    assert str(error.value).endswith(f"; last good checkpoint: {run / 'last.pt'} (epoch 1)")
    checkpoint = load_checkpoint(run / "last.pt")
    assert checkpoint["epoch"] == 1
    assert all(torch.isfinite(w).all() for w in checkpoint["model"].values())


def test_npz_rgb_data_with_sam(tmp_path):
    generator = np.random.default_rng(0)
    path = tmp_path / "signs.npz"
    labels = np.arange(60) % 3
    images = generator.integers(0, 60, (60, 12, 12, 3), dtype=np.uint8)
    images[np.arange(60), :, :, labels] += 150  # the class is the bright channel
    np.savez(
        path,
        x_train=images[:45],
        y_train=labels[:45].astype(np.int64),
        x_test=images[45:],
        y_test=labels[45:].astype(np.int64),
    )
    config = tiny(tmp_path, data=f"npz:{path}", sam=True, batch_size=16, normalization="none")
    result = train(config, progress=False)
    assert result.test["n"] == 15 and math.isfinite(result.history[-1]["train_loss"])
    assert load_checkpoint(result.run_dir / "last.pt")["extra"]["input_shape"] == [3, 12, 12]


def test_unknown_names_fail_before_any_work(tmp_path):
    with pytest.raises(NeuralabError, match="unknown data set 'digitz'; did you mean 'digits'"):
        train(tiny(tmp_path, data="digitz"), progress=False)
    with pytest.raises(NeuralabError, match=r"unknown model 'cnm'.*valid: cnn"):
        train(tiny(tmp_path, model="cnm"), progress=False)
    assert not (tmp_path / "run").exists()


def test_a_field_newer_than_the_saved_run_counts_as_its_default():
    """A run saved before a field existed trained with the field's default: no difference."""
    saved = {"epochs": 3, "lr": 0.1}  # no bn_recalibrate, no amp_cpu: an older neuralab
    assert config_differences(saved, {"epochs": 3, "lr": 0.1, "bn_recalibrate": 0}) == []
    assert config_differences(saved, {"epochs": 3, "lr": 0.1, "bn_recalibrate": 5}) == [
        "bn_recalibrate: 0 -> 5"
    ]
