"""TensorBoard and MLflow writers of a run (``log_to``), callbacks beside the run directory's files.

Both log what the run directory holds, from the same rows: the config as hyperparameters, each
epoch's ``metrics.csv`` row (step = epoch), and at the end the figures (and, for MLflow,
``report.md``, ``metrics.csv`` and ``config.yaml`` as artifacts). ``metrics.csv``,
``metrics.jsonl`` and ``train.log`` are written as always.

* TensorBoard: event files in ``RUN_DIR/tensorboard`` (``tensorboard --logdir runs``); tags
  ``loss/train``, ``acc/val``, ... so train, validation and test sit side by side.
* MLflow: a run in experiment ``mlflow_experiment`` of the tracking store ``mlflow_tracking_uri``
  (a local ``sqlite:///mlflow.db`` or ``file:./mlruns`` works offline), tagged with the run
  directory; a resumed run continues the same MLflow run.

Each needs its package (``pip install neuralab[tensorboard]`` / ``neuralab[mlflow]``); asking for
one that is not installed is a one-line error before the run starts.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neuralab.config import config_to_dict, show_value
from neuralab.errors import NeuralabError
from neuralab.vision.callbacks import TrainState
from neuralab.vision.config import TrainConfig

# metrics.csv column -> TensorBoard tag
TENSORBOARD_TAGS = {
    "train_loss": "loss/train",
    "val_loss": "loss/val",
    "test_loss": "loss/test",
    "train_acc": "acc/train",
    "val_acc": "acc/val",
    "test_acc": "acc/test",
    "lr": "lr",
    "seconds": "time/seconds",
    "images_per_s": "time/images_per_s",
}
RUN_DIR_TAG = "neuralab.run_dir"
_PACKAGES = {"tensorboard": "tensorboard", "mlflow": "mlflow"}


def loggers_for(config: TrainConfig) -> list[Any]:
    """Return the writers named by ``config.log_to`` (an uninstalled package: one error line)."""
    for name in config.log_to:
        if importlib.util.find_spec(_PACKAGES[name]) is None:
            raise NeuralabError(
                f"log_to {name} needs the {name} package: pip install {name} "
                f"(or pip install 'neuralab[{name}]')"
            )
    writers: list[Any] = []
    if "tensorboard" in config.log_to:
        writers.append(TensorBoardLogger())
    if "mlflow" in config.log_to:
        writers.append(MLflowLogger(config.mlflow_tracking_uri, config.mlflow_experiment))
    return writers


def hyperparameters(config: TrainConfig) -> dict[str, str | int | float | bool]:
    """Return the config as flat hyperparameters: numbers and switches as they are, else text."""
    values: dict[str, str | int | float | bool] = {}
    for key, value in config_to_dict(config).items():
        if isinstance(value, bool | int | float) and not isinstance(value, list):
            values[key] = value
        else:
            values[key] = show_value(value)
    return values


def _finite_metrics(row: dict[str, Any]) -> dict[str, float]:
    metrics = {}
    for key, value in row.items():
        if key != "epoch" and isinstance(value, int | float) and math.isfinite(float(value)):
            metrics[key] = float(value)
    return metrics


class TensorBoardLogger:
    """Writes a run's epochs, config and figures as TensorBoard events in ``RUN_DIR/tensorboard``."""

    def __init__(self) -> None:
        self.writer: Any = None

    def on_train_begin(self, state: TrainState) -> None:
        import yaml
        from torch.utils.tensorboard import SummaryWriter

        # a resumed run drops the events of epochs it is about to redo
        purge = state.epoch if state.epoch > 1 else None
        self.writer = SummaryWriter(str(state.run_dir / "tensorboard"), purge_step=purge)
        text = yaml.safe_dump(config_to_dict(state.config), sort_keys=False)
        self.writer.add_text("config", "```\n" + text + "```", global_step=0)

    def on_epoch_end(self, state: TrainState) -> None:
        if self.writer is None or state.row is None:
            return
        for key, value in _finite_metrics(state.row).items():
            self.writer.add_scalar(TENSORBOARD_TAGS.get(key, key), value, global_step=state.epoch)
        self.writer.flush()

    def on_train_end(self, state: TrainState) -> None:
        if self.writer is None:
            return
        result = state.result
        final = {"hparam/best_" + result.monitor: result.best_value} if result else {}
        if result is not None and result.test:
            final["hparam/test_acc"] = float(result.test["acc"])
            final["hparam/test_loss"] = float(result.test["loss"])
        final = {k: v for k, v in final.items() if math.isfinite(v)}
        self.writer.add_hparams(hyperparameters(state.config), final, run_name="hparams")
        for figure in getattr(result, "figures", None) or []:
            self.writer.add_image(
                f"figures/{Path(figure).stem}", _read_png(figure), dataformats="HWC"
            )
        self.writer.close()
        state.say(f"logged to TensorBoard: tensorboard --logdir {state.run_dir / 'tensorboard'}")


def _read_png(path: Path) -> Any:
    from matplotlib.image import imread

    image = imread(str(path))  # float32 (H, W, 3 or 4) in 0..1
    return image[..., :3]


class MLflowLogger:
    """Logs a run to MLflow through its client API: params, per-epoch metrics, artifacts."""

    def __init__(self, tracking_uri: str | None, experiment: str) -> None:
        self.tracking_uri, self.experiment = tracking_uri, experiment
        self.client: Any = None
        self.run_id: str | None = None

    def on_train_begin(self, state: TrainState) -> None:
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        with _quiet("mlflow", "alembic"):  # a new SQLite store logs its migrations at INFO
            self.client = MlflowClient(self.tracking_uri)
            found = self.client.get_experiment_by_name(self.experiment)
        experiment_id = (
            found.experiment_id if found else self.client.create_experiment(self.experiment)
        )
        run_dir = str(state.run_dir.resolve())
        previous = self.client.search_runs(
            [experiment_id], filter_string=f"tags.`{RUN_DIR_TAG}` = '{_quoted(run_dir)}'"
        )
        if previous and state.epoch > 1:  # a resumed run continues its MLflow run
            self.run_id = previous[0].info.run_id
            self.client.update_run(self.run_id, status="RUNNING")
            return
        run = self.client.create_run(
            experiment_id, run_name=state.run_dir.name, tags={RUN_DIR_TAG: run_dir}
        )
        self.run_id = run.info.run_id
        params = [Param(k, str(v)[:6000]) for k, v in hyperparameters(state.config).items()]
        self.client.log_batch(self.run_id, params=params)

    def on_epoch_end(self, state: TrainState) -> None:
        if self.client is None or state.row is None:
            return
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [
            Metric(key, value, now, state.epoch)
            for key, value in _finite_metrics(state.row).items()
        ]
        self.client.log_batch(self.run_id, metrics=metrics)

    def on_train_end(self, state: TrainState) -> None:
        if self.client is None:
            return
        result = state.result
        if result is not None and result.test:
            self.client.log_metric(self.run_id, "best_test_acc", float(result.test["acc"]))
            self.client.log_metric(self.run_id, "best_test_loss", float(result.test["loss"]))
        for figure in getattr(result, "figures", None) or []:
            self.client.log_artifact(self.run_id, str(figure), artifact_path="figures")
        for name in ("report.md", "metrics.csv", "config.yaml"):
            if (state.run_dir / name).is_file():
                self.client.log_artifact(self.run_id, str(state.run_dir / name))
        self.client.set_terminated(self.run_id, status="FINISHED")
        state.say(
            f"logged to MLflow: run {self.run_id} of experiment {self.experiment!r} in "
            f"{self.client.tracking_uri}"
        )


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """Raise the level of the loggers ``names`` to WARNING for the block, then restore it."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
