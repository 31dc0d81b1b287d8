"""``neuralab train``, ``neuralab evaluate``, ``neuralab predict``: image classification runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._config_flags import config_file_option, config_flags, set_option
from neuralab.cli._emit import emit, format_option
from neuralab.vision.config import TrainConfig

_TRAIN_HELP = """Train an image classifier and report cross-entropy (CE) and accuracy every epoch.

Each epoch shows a live progress bar (batches, loss, images/s, time left), then one table row: train CE and accuracy (measured during the epoch, dropout and augmentation on), validation and test CE and accuracy (eval mode), the learning rate and the seconds taken. CE = -(1/n) sum_i log softmax(z_i)\\[y_i], accuracy = share of argmax(z_i) = y_i.

The validation set is carved from the training set (--val-fraction; grouped by GTSRB track) and alone picks best.pt and drives early stopping; the test set is only evaluated and reported.

Everything lands in a run directory (--run-dir, default runs/<data>-<model>-<time>): config.yaml, metrics.csv, metrics.jsonl, train.log (all that was printed), last.pt, best.pt, figures/ and report.md. An interrupted run continues with --resume RUN_DIR and, on the CPU with the same seed, ends with exactly the metrics of an uninterrupted one.

Settings come from the defaults, then --config FILE (YAML or TOML with the fields below), then --set field=value, then the flags; every flag is a field of TrainConfig.

Examples:

  neuralab train                                   (the course CNN on the bundled 8x8 digits)

  neuralab train --data npz:gtsrb-32.npz --epochs 10

  neuralab train --data npz:gtsrb-32.npz --recipe fast            (the fast CNN, bf16 on AMX CPUs: docs/performance.md)

  neuralab train --data mnist --download --model cnn --sam --rho 0.05

  neuralab train --model resnet18 --weights resnet18.pth --freeze-backbone --data gtsrb

  neuralab train --model resnet50 --weights ResNet50_Weights.IMAGENET1K_V2 --image-size 64

  neuralab train --model timm:convnext_atto    (or mypackage.nets:build, any torchvision name)

  neuralab train --resume runs/digits-cnn-20260101-120000 --epochs 20

  neuralab train --data npz:gtsrb-32.npz --nproc 2 --batch-size 128   (two processes, DDP)
"""


@app.command("train", help=_TRAIN_HELP)
@config_flags(TrainConfig)
def train_command(
    fields: dict[str, Any],
    config: Path | None = config_file_option(TrainConfig),
    set_: list[str] | None = set_option(),
    resume: Path | None = typer.Option(
        None, "--resume", help="Continue the run in RUN_DIR from its last.pt.", show_default=False
    ),
    recipe: str | None = typer.Option(
        None,
        "--recipe",
        help="Start from a recipe's settings (fast: the fast CNN, tuned for time to accuracy); "
        "the config file, --set and the flags override them.",
        show_default=False,
    ),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show the live progress bar on stderr."
    ),
    nproc: int | None = typer.Option(
        None,
        "--nproc",
        help="Train on N processes of this machine (torchrun, DDP; the batch size is the "
        "global batch).",
        show_default=False,
    ),
    max_restarts: int = typer.Option(
        0, "--max-restarts", help="With --nproc: restarts after a process dies (each resumes)."
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Replace the run in --run-dir if it holds one (its files are removed).",
    ),
) -> None:
    from neuralab.config import load_config, parse_overrides
    from neuralab.console import stdout_console
    from neuralab.errors import NeuralabError
    from neuralab.vision.config import check_names
    from neuralab.vision.recipes import recipe_config
    from neuralab.vision.resolve import resolve_resume_config

    overrides: dict[str, Any] = {**parse_overrides(set_ or []), **fields}
    if resume is not None:
        if recipe is not None:  # the saved config.yaml already holds the recipe's values
            raise NeuralabError("--recipe starts a new run; --resume continues with its own config")
        resolved = resolve_resume_config(resume, config, overrides)
    elif recipe is not None:
        resolved = recipe_config(recipe, config, overrides)
    else:
        resolved = load_config(TrainConfig, config, overrides)
    if resume is not None and overwrite:
        raise NeuralabError("give --resume RUN_DIR or --overwrite, not both")
    check_names(resolved)  # every mistyped name or value is refused before torch is imported
    if nproc is None:
        if max_restarts:
            raise NeuralabError("--max-restarts restarts the processes of --nproc N: give both")
        from neuralab.vision.train import train

        train(
            resolved,
            progress=progress,
            resume=resume is not None,
            console=stdout_console(),
            overwrite=overwrite,
        )
        return
    from neuralab.vision.launch import launch_training

    launch_training(
        resolved,
        nproc=nproc,
        resume=resume is not None,
        max_restarts=max_restarts,
        progress=progress,
        overwrite=overwrite,
    )


_EVALUATE_HELP = """Re-evaluate a run's checkpoint: mean cross-entropy and accuracy on a split.

CE = -(1/n) sum_i log softmax(z_i)\\[y_i] over the n images of the split, accuracy as a fraction 0..1. --split val and --split train are the run's own split of the training set, so val repeats the table's val column; --data evaluates on another data set of the same image shape and classes.

Examples:

  neuralab evaluate runs/digits-cnn-20260101-120000

  neuralab evaluate runs/digits-cnn-20260101-120000 --split val --format json
"""

_CHECKPOINT_HELP = "best (best.pt) or last (last.pt)."
_DEVICE_HELP = "auto, cpu, cuda or mps."


@app.command("evaluate", help=_EVALUATE_HELP)
def evaluate_command(
    run_dir: Path = typer.Argument(..., help="A run directory written by neuralab train."),
    data: str | None = typer.Option(
        None, "--data", help="Another data set (default: the run's).", show_default=False
    ),
    split: str = typer.Option("test", "--split", help="test, val or train."),
    checkpoint: str = typer.Option("best", "--checkpoint", help=_CHECKPOINT_HELP),
    device: str = typer.Option("auto", "--device", help=_DEVICE_HELP),
    output_format: str = format_option(),
) -> None:
    from neuralab.rundir import trained_checkpoint

    trained_checkpoint(run_dir, checkpoint)  # a mistyped run is answered before torch loads
    from neuralab.report.vision_tables import evaluation_table
    from neuralab.vision.inference import evaluate_run

    result = evaluate_run(run_dir, data=data, split=split, which=checkpoint, device=device)
    emit(evaluation_table(result, split=split, title=f"{run_dir} ({checkpoint}.pt)"), output_format)


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
    checkpoint: str = typer.Option("best", "--checkpoint", help=_CHECKPOINT_HELP),
    device: str = typer.Option("auto", "--device", help=_DEVICE_HELP),
    output_format: str = format_option(),
) -> None:
    from neuralab.rundir import trained_checkpoint

    trained_checkpoint(run_dir, checkpoint)  # a mistyped run is answered before torch loads
    from neuralab.report.vision_tables import prediction_table
    from neuralab.vision.inference import predict_files

    rows = predict_files(
        run_dir, [str(p) for p in images], top_k=top_k, which=checkpoint, device=device
    )
    emit(prediction_table(rows), output_format)
