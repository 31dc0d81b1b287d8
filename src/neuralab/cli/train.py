"""``neuralab train``, ``neuralab evaluate``, ``neuralab predict``: image classification runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._options import OutputFormat
from neuralab.cli._render import render_rows

_TRAIN_HELP = """Train an image classifier and report cross-entropy (CE) and accuracy every epoch.

Each epoch shows a live progress bar (batches, loss, images/s, time left), then one table row: train CE and accuracy (measured during the epoch, dropout and augmentation on), validation and test CE and accuracy (eval mode), the learning rate and the seconds taken. CE = -(1/n) sum_i log softmax(z_i)\\[y_i], accuracy = share of argmax(z_i) = y_i.

The validation set is carved from the training set (--val-fraction; grouped by GTSRB track) and alone picks best.pt and drives early stopping; the test set is only evaluated and reported.

Everything lands in a run directory (--run-dir, default runs/<data>-<model>-<time>): config.yaml, metrics.csv, metrics.jsonl, train.log (all that was printed), last.pt, best.pt, figures/ and report.md. An interrupted run continues with --resume RUN_DIR and, on the CPU with the same seed, ends with exactly the metrics of an uninterrupted one.

Settings come from the defaults, then --config FILE (YAML or TOML with TrainConfig's fields), then --set field=value, then the flags below.

Examples:

  neuralab train                                   (the course CNN on the bundled 8x8 digits)

  neuralab train --data npz:gtsrb-32.npz --epochs 10

  neuralab train --data mnist --download --model cnn --sam --rho 0.05

  neuralab train --model resnet18 --weights resnet18.pth --freeze-backbone --data gtsrb

  neuralab train --resume runs/digits-cnn-20260101-120000 --epochs 20
"""


def _flag(default: Any, *names: str, help: str, **kwargs: Any) -> Any:
    return typer.Option(default, *names, help=help, show_default=False, **kwargs)


@app.command("train", help=_TRAIN_HELP)
def train_command(
    data: str | None = _flag(
        None,
        "--data",
        help="Data set: digits (default, offline), mnist, fashion-mnist, cifar10, gtsrb, "
        "npz:PATH, folder:PATH.",
    ),
    model: str | None = _flag(
        None, "--model", help="Model: cnn (default), mlp, resnet18, plain, residual, spec:<spec>."
    ),
    epochs: int | None = _flag(None, "--epochs", help="Passes over the training set (10)."),
    config: Path | None = _flag(None, "--config", help="YAML/TOML file of TrainConfig fields."),
    set_: list[str] | None = _flag(
        None, "--set", help="Any TrainConfig field, e.g. --set label_smoothing=0.1 (repeatable)."
    ),
    run_dir: Path | None = _flag(None, "--run-dir", help="Where the run is written."),
    resume: Path | None = _flag(
        None, "--resume", help="Continue the run in RUN_DIR from its last.pt."
    ),
    device: str | None = _flag(
        None, "--device", help="auto (default: cuda, mps, cpu), cpu, cuda, mps."
    ),
    lr: float | None = _flag(None, "--lr", help="Peak learning rate eta (0.003)."),
    batch_size: int | None = _flag(None, "--batch-size", help="Images per step (32)."),
    optimizer: str | None = _flag(None, "--optimizer", help="sgd, adam or adamw (default)."),
    schedule: str | None = _flag(
        None,
        "--schedule",
        help="Learning-rate schedule: constant, step, cosine, onecycle (default).",
    ),
    sam: bool | None = _flag(
        None, "--sam/--no-sam", help="Sharpness-aware minimisation around the optimiser."
    ),
    rho: float | None = _flag(None, "--rho", help="SAM radius rho (0.05)."),
    weight_decay: float | None = _flag(
        None, "--weight-decay", help="Weight decay lambda (0.05 for adamw, 5e-4 for sgd and adam)."
    ),
    dropout: float | None = _flag(None, "--dropout", help="Dropout probability p of the model."),
    augment: str | None = _flag(
        None,
        "--augment",
        help="Augmentation: auto (default), none, light, standard, strong, cifar.",
    ),
    seed: int | None = _flag(None, "--seed", help="Random seed (0); CPU runs repeat exactly."),
    val_fraction: float | None = _flag(
        None, "--val-fraction", help="Share of the training set held out for validation (0.1)."
    ),
    data_dir: str | None = _flag(None, "--data-dir", help="Where data sets live (data)."),
    download: bool | None = _flag(
        None, "--download/--no-download", help="Download a missing torchvision data set."
    ),
    pretrained: bool | None = _flag(
        None, "--pretrained/--no-pretrained", help="resnet18: torchvision's ImageNet weights."
    ),
    weights: str | None = _flag(None, "--weights", help="resnet18: backbone weights from a file."),
    freeze_backbone: bool | None = _flag(
        None, "--freeze-backbone/--no-freeze-backbone", help="resnet18: train the head only."
    ),
    compile_: bool | None = _flag(
        None, "--compile/--no-compile", help="torch.compile the model (worth it on a GPU)."
    ),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show the live progress bar on stderr."
    ),
) -> None:
    from neuralab.config import load_config, parse_overrides
    from neuralab.console import stdout_console
    from neuralab.vision.config import TrainConfig
    from neuralab.vision.resolve import resolve_resume_config
    from neuralab.vision.train import train

    flags = {
        "data": data,
        "model": model,
        "epochs": epochs,
        "device": device,
        "lr": lr,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "schedule": schedule,
        "sam": sam,
        "rho": rho,
        "weight_decay": weight_decay,
        "dropout": dropout,
        "augment": augment,
        "seed": seed,
        "val_fraction": val_fraction,
        "data_dir": data_dir,
        "download": download,
        "pretrained": pretrained,
        "weights": weights,
        "freeze_backbone": freeze_backbone,
        "compile": compile_,
        "run_dir": str(run_dir) if run_dir is not None else None,
    }
    overrides: dict[str, Any] = dict(parse_overrides(set_ or []))
    overrides.update({k: v for k, v in flags.items() if v is not None})
    if resume is not None:
        resolved = resolve_resume_config(resume, config, overrides)
    else:
        resolved = load_config(TrainConfig, config, overrides)
    train(resolved, progress=progress, resume=resume is not None, console=stdout_console())


_EVALUATE_HELP = """Re-evaluate a run's checkpoint: mean cross-entropy and accuracy on a split.

CE = -(1/n) sum_i log softmax(z_i)\\[y_i] over the n images of the split, accuracy as a fraction 0..1. --split val and --split train are the run's own split of the training set, so val repeats the table's val column; --data evaluates on another data set of the same image shape and classes.

Examples:

  neuralab evaluate runs/digits-cnn-20260101-120000

  neuralab evaluate runs/digits-cnn-20260101-120000 --split val --format json
"""


@app.command("evaluate", help=_EVALUATE_HELP)
def evaluate_command(
    run_dir: Path = typer.Argument(..., help="A run directory written by neuralab train."),
    data: str | None = _flag(None, "--data", help="Another data set (default: the run's)."),
    split: str = typer.Option("test", "--split", help="test, val or train."),
    checkpoint: str = typer.Option(
        "best", "--checkpoint", help="best (best.pt) or last (last.pt)."
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or mps."),
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="table, json, csv or markdown."
    ),
) -> None:
    from neuralab.console import stdout_console
    from neuralab.report.tabular import Column, csv_table, markdown_table, rich_table, to_json
    from neuralab.vision.inference import evaluate_run

    result = evaluate_run(run_dir, data=data, split=split, which=checkpoint, device=device)
    if output_format is OutputFormat.json:
        print(to_json({"loss": result["loss"], "acc": result["acc"], "n": result["n"]}))
        return
    row = {"split": split, "n": result["n"], "loss": result["loss"], "acc": result["acc"]}
    columns = [
        Column("split", "split", justify="left"),
        Column("n", "images", ",d"),
        Column("loss", "CE", ".4f"),
        Column("acc", "accuracy", ".4f"),
    ]
    if output_format is OutputFormat.csv:
        print(csv_table([row], columns), end="")
    elif output_format is OutputFormat.markdown:
        print(markdown_table([row], columns), end="")
    else:
        stdout_console().print(rich_table([row], columns, title=f"{run_dir} ({checkpoint}.pt)"))


_PREDICT_HELP = """Classify image files with a trained run: the top-k classes and their probabilities.

Each image is converted to the model's channels (grey or RGB) and resized to its input size, normalised as in training, and p = softmax(z) of the model's logits z is printed.

Example:

  neuralab predict runs/gtsrb-32-cnn-20260101-120000 stop.png yield.jpg --top-k 3
"""


@app.command("predict", help=_PREDICT_HELP)
def predict_command(
    run_dir: Path = typer.Argument(..., help="A run directory written by neuralab train."),
    images: list[Path] = typer.Argument(..., help="Image files (PNG, JPEG, ...)."),
    top_k: int = typer.Option(3, "--top-k", help="How many classes to show per image."),
    checkpoint: str = typer.Option(
        "best", "--checkpoint", help="best (best.pt) or last (last.pt)."
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or mps."),
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="table, json, csv or markdown."
    ),
) -> None:
    from neuralab.report.tabular import Column
    from neuralab.vision.inference import predict_files

    rows = predict_files(
        run_dir, [str(p) for p in images], top_k=top_k, which=checkpoint, device=device
    )
    columns = [
        Column("image", "image", justify="left"),
        Column("rank", "rank", "d"),
        Column("class", "class", justify="left"),
        Column("p", "probability", ".4f"),
    ]
    render_rows(rows, columns, output_format)
