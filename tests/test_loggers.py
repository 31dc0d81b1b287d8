"""TensorBoard and MLflow writers of a run, read back through their own readers (not mocked)."""

from __future__ import annotations

import csv
import importlib.util
import os

import pytest

from neuralab.errors import NeuralabError
from neuralab.vision import loggers
from neuralab.vision.config import TrainConfig
from neuralab.vision.train import train


def needs(package: str) -> None:
    """Skip without ``package``, except under CI=true, where the test extra installs it."""
    if importlib.util.find_spec(package) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{package} is missing under CI: the dev extra must install it")
        pytest.skip(f"{package} is not installed (pip install 'neuralab[{package}]')")


def tiny(tmp_path, **changes):
    values = {
        "data": "digits",
        "data_dir": str(tmp_path / "data"),
        "widths": (8,),
        "epochs": 2,
        "batch_size": 256,
        "run_dir": str(tmp_path / "run"),
        "device": "cpu",
    }
    values.update(changes)
    return TrainConfig(**values)


def metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_tensorboard_events_hold_the_metrics_config_and_figures(tmp_path):
    needs("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = train(tiny(tmp_path, log_to=("tensorboard",)), progress=False)
    events = EventAccumulator(str(result.run_dir / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    rows = metrics(result.run_dir)
    val_acc = events.Scalars("acc/val")
    assert [e.step for e in val_acc] == [1, 2]
    assert [e.value for e in val_acc] == pytest.approx(
        [float(r["val_acc"]) for r in rows], abs=1e-6
    )
    assert {"loss/train", "loss/val", "loss/test", "acc/train", "acc/test", "lr"} <= set(
        tags["scalars"]
    )
    assert "config/text_summary" in tags["tensors"]
    text = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "batch_size: 256" in text
    figures = {f"figures/{p.stem}" for p in result.figures}
    assert figures and figures <= set(tags["images"])
    # the hyperparameters with the final metrics sit in their own folder, as add_hparams puts them
    hparams = EventAccumulator(str(result.run_dir / "tensorboard" / "hparams"))
    hparams.Reload()
    assert hparams.Scalars("hparam/test_acc")[0].value == pytest.approx(result.test["acc"])


def test_mlflow_run_in_a_sqlite_store_read_back_by_the_client(tmp_path, monkeypatch):
    needs("mlflow")
    monkeypatch.chdir(tmp_path)  # a SQLite store keeps its artifacts in ./mlruns
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = tiny(tmp_path, log_to=("mlflow",), mlflow_tracking_uri=uri, mlflow_experiment="t")
    result = train(config, progress=False)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("t")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert run.data.params["batch_size"] == "256" and run.data.params["widths"] == "8"
    history = client.get_metric_history(run.info.run_id, "val_acc")
    rows = metrics(result.run_dir)
    assert [m.step for m in history] == [1, 2]
    assert [m.value for m in history] == pytest.approx([float(r["val_acc"]) for r in rows])
    assert run.data.metrics["best_test_acc"] == pytest.approx(result.test["acc"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.md", "metrics.csv", "config.yaml", "figures"} <= artifacts
    pictures = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert {f"figures/{p.name}" for p in result.figures} == pictures

    # a resumed run continues the same MLflow run
    train({"epochs": 3}, resume=result.run_dir, progress=False, report=False)
    (again,) = client.search_runs([experiment.experiment_id])
    assert again.info.run_id == run.info.run_id
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_acc")] == [1, 2, 3]


def test_a_missing_package_is_one_line_before_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(loggers.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(NeuralabError, match="log_to mlflow needs the mlflow package: pip install"):
        train(tiny(tmp_path, log_to=("mlflow",)), progress=False)
    assert not (tmp_path / "run" / "last.pt").exists()


def test_log_to_on_the_command_line(run_cli, tmp_path):
    result = run_cli("train", "--log-to", "tensorbored", "--run-dir", tmp_path / "r")
    assert result.exit_code == 2 and "did you mean 'tensorboard'" in result.stderr
