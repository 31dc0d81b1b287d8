"""Time to accuracy: neuralab's training recipe against the PyTorch tutorial's loop, in one run.

For each data set (the GTSRB subset and MNIST of ``../shared/datasets``) the contestants train
on the same training split (the run's split: the validation share is held out for all):

- neuralab: ``neuralab train --recipe fast`` (``neuralab.vision.train.train``), whatever that
  recipe sets (model, batch size, schedule, autocast ...);
- the tutorial loop, a ``DataLoader(TensorDataset(...), batch_size=64, shuffle=True)`` over float
  images normalised once, Adam at 1e-3, ``loss.item()`` every batch, with two models:
  ``tutorial``, the CNN of PyTorch's "Training a classifier" tutorial (conv 6@5x5, pool,
  conv 16@5x5, pool, fc 120, fc 84, fc K: 0.3-0.7M multiply-accumulates per image), and
  ``tutorial-cnn``, neuralab's default course CNN in that loop (the baseline of issue 15's
  figures: 7.5 s per GTSRB epoch on 2 cores).

Epochs alternate (neuralab's epoch k, then each baseline's epoch k, through ``train``'s
``on_epoch`` hook), so a machine busy with other work slows all alike. Only training time counts
(the evaluation after each epoch is not timed, for anyone). Printed per data set and baseline:
its median seconds per epoch, the training seconds until neuralab's test accuracy first reaches
the target, that time in baseline epochs (the target: <= 4 on GTSRB, <= 2 on MNIST), and the
baseline's own time to the target if it gets there. Per-epoch curves of all go to
``benchmarks/results/time_to_accuracy.json`` and ``.csv``.

    python benchmarks/time_to_accuracy.py                       # both data sets, CPU
    python benchmarks/time_to_accuracy.py --data gtsrb --recipe default
    python benchmarks/time_to_accuracy.py --quick               # seconds: the slow test suite
    python benchmarks/time_to_accuracy.py --device cuda --full  # torchvision's full data sets
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from neuralab.atomic import write_text  # noqa: E402
from neuralab.device import resolve_device  # noqa: E402
from neuralab.vision.loader import DeviceLoader, Normalization  # noqa: E402
from neuralab.vision.models import get_model  # noqa: E402
from neuralab.vision.recipes import list_recipes, recipe_config  # noqa: E402
from neuralab.vision.run import load_run_data  # noqa: E402
from neuralab.vision.train import train  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"


@dataclass(frozen=True)
class Task:
    """One data set, its accuracy target and the tutorial epochs allowed to reach it."""

    name: str
    data: str  # the TrainConfig data string of the shared subset
    full_data: str  # the data set of --full (torchvision's loaders)
    target: float  # test accuracy to reach, 0..1
    budget_epochs: float  # neuralab must get there within this many tutorial epochs
    tutorial_epochs: int  # epochs the tutorial CNN trains (its curve)
    cnn_epochs: int  # epochs the course CNN trains in the tutorial loop (its time per epoch)


TASKS = {
    "gtsrb": Task("gtsrb", f"npz:{SHARED / 'gtsrb' / 'gtsrb-32.npz'}", "gtsrb", 0.95, 4, 6, 2),
    "mnist": Task("mnist", f"npz:{SHARED / 'mnist' / 'mnist-28.npz'}", "mnist", 0.99, 2, 2, 1),
}


class TutorialNet(nn.Module):
    """The CNN of PyTorch's "Training a classifier" tutorial, for C x H x W inputs and K classes."""

    def __init__(self, channels: int, size: int, num_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        side = ((size - 4) // 2 - 4) // 2  # 32 -> 5, 28 -> 4
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


@dataclass
class Tutorial:
    """A baseline: a model in the tutorial's loop; :meth:`epoch` trains one more epoch."""

    name: str  # tutorial or tutorial-cnn
    model: nn.Module
    optimizer: torch.optim.Optimizer
    train_loader: DataLoader
    test_loader: DeviceLoader
    device: torch.device
    max_batches: int | None = None  # time this many batches and scale to the epoch
    rows: list[dict[str, Any]] = field(default_factory=list)

    def epoch(self) -> dict[str, Any]:
        """Train one epoch the tutorial's way, evaluate on the test set; return its row.

        With ``max_batches`` only that many batches train, and the row's ``seconds`` is their
        time scaled to the whole epoch (seconds * batches per epoch / max_batches): the
        epoch's time, estimated, for a baseline too slow to run whole on a busy machine.
        """
        from neuralab.vision.engine import evaluate

        self.model.train()
        running_loss, seen, batches = 0.0, 0, 0
        start = time.perf_counter()
        for images, labels in self.train_loader:
            if self.max_batches is not None and batches >= self.max_batches:
                break
            batches += 1
            images, labels = images.to(self.device), labels.to(self.device)
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.model(images), labels)
            loss.backward()
            self.optimizer.step()
            running_loss += loss.item() * labels.shape[0]  # the tutorial's per-step sync
            seen += labels.shape[0]
        seconds = time.perf_counter() - start
        if batches < len(self.train_loader):
            seconds *= len(self.train_loader) / batches
        test = evaluate(self.model, self.test_loader, device=self.device)
        row = {
            "epoch": len(self.rows) + 1,
            "seconds": seconds,
            "batches_timed": batches,
            "train_loss": running_loss / seen,
            "test_acc": test["acc"],
        }
        self.rows.append(row)
        return row


BASELINES = ("tutorial", "tutorial-cnn")


def make_tutorial(name: str, data: str, args: argparse.Namespace, device: torch.device) -> Tutorial:
    """Return the baseline ``name`` on the same training split as neuralab's run."""
    config = recipe_config(args.recipe, overrides={"data": data, "data_dir": args.data_dir})
    run_data = load_run_data(config, download=args.download)
    x_train, y_train = run_data.split("train")
    normalization = Normalization.from_images(x_train, mode="per_channel")
    x_float = normalization(x_train.float() / 255.0)  # the tutorial normalises once, up front
    channels, size, _ = run_data.dataset.image_shape
    torch.manual_seed(args.seed)
    num_classes = run_data.dataset.num_classes
    model: nn.Module
    if name == "tutorial":
        model = TutorialNet(channels, size, num_classes)
    else:
        model = get_model("cnn", num_classes=num_classes, input_shape=(channels, size, size))
    model = model.to(device)
    x_test, y_test = run_data.split("test")
    return Tutorial(
        name=name,
        model=model,
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
        train_loader=DataLoader(TensorDataset(x_float, y_train), batch_size=64, shuffle=True),
        test_loader=DeviceLoader(
            x_test,
            y_test,
            batch_size=1024,
            device=device,
            shuffle=False,
            normalization=normalization,
        ),
        device=device,
        max_batches=args.cnn_batches if name == "tutorial-cnn" else None,
    )


def time_to_target(rows: list[dict[str, Any]], target: float) -> dict[str, Any] | None:
    """Return epoch, training seconds and accuracy of the first row with test_acc >= target."""
    elapsed = 0.0
    for row in rows:
        elapsed += row["seconds"]
        if row["test_acc"] is not None and row["test_acc"] >= target:
            return {"epoch": row["epoch"], "seconds": elapsed, "test_acc": row["test_acc"]}
    return None


def race(task: Task, args: argparse.Namespace) -> dict[str, Any]:
    """Train neuralab's recipe and the baselines, epochs alternating; return all curves."""
    device = resolve_device(args.device)
    data = task.full_data if args.full else task.data
    baselines = [make_tutorial(name, data, args, device) for name in args.baselines]
    epochs = {
        "tutorial": args.tutorial_epochs or task.tutorial_epochs,
        # its time per epoch is what the budget needs: issue 15 measured that this loop does
        # not reach 95 % on GTSRB in 10 epochs, and each of its epochs costs 6x neuralab's
        "tutorial-cnn": args.tutorial_epochs or task.cnn_epochs,
    }
    overrides: dict[str, Any] = {
        "data": data,
        "data_dir": args.data_dir,
        "download": args.download,
        "device": args.device,
        "seed": args.seed,
        "epochs": args.epochs,
    }
    mine: list[dict[str, Any]] = []

    def baseline_epoch(baseline: Tutorial) -> None:
        row = baseline.epoch()
        print(
            f"{task.name} {baseline.name} epoch {row['epoch']}: {row['seconds']:.1f} s, "
            f"test acc {100 * row['test_acc']:.2f} %",
            file=sys.stderr,
        )

    def on_epoch(row: dict[str, Any]) -> None:
        mine.append(row)
        print(
            f"{task.name} neuralab epoch {row['epoch']}: {row['seconds']:.1f} s, "
            f"test acc {100 * row['test_acc']:.2f} %",
            file=sys.stderr,
        )
        for baseline in baselines:
            if len(baseline.rows) < epochs[baseline.name]:
                baseline_epoch(baseline)

    with tempfile.TemporaryDirectory() as folder:
        config = recipe_config(
            args.recipe, overrides={**overrides, "run_dir": str(Path(folder) / "run")}
        )
        train(
            config,
            progress=False,
            report=False,
            console=Console(file=io.StringIO()),
            on_epoch=on_epoch,
        )
    for baseline in baselines:
        while len(baseline.rows) < epochs[baseline.name]:
            baseline_epoch(baseline)
    ours = time_to_target(mine, task.target)
    against = {}
    for baseline in baselines:
        epoch_s = statistics.median(row["seconds"] for row in baseline.rows)
        theirs = time_to_target(baseline.rows, task.target)
        against[baseline.name] = {
            "seconds_per_epoch": epoch_s,
            "to_target": theirs,
            "neuralab_in_epochs": None if ours is None else ours["seconds"] / epoch_s,
            "ratio_baseline_over_neuralab": (
                theirs["seconds"] / ours["seconds"] if ours and theirs else None
            ),
            "met": ours is not None and ours["seconds"] <= task.budget_epochs * epoch_s,
            "curve": [_curve_row(r) for r in baseline.rows],
        }
    return {
        "data": data,
        "device": str(device),
        "recipe": args.recipe,
        "config": {k: v for k, v in vars(config).items() if k != "run_dir"},
        "target": task.target,
        "budget_epochs": task.budget_epochs,
        "neuralab": ours,
        "neuralab_curve": [_curve_row(r) for r in mine],
        "neuralab_final_test_acc": mine[-1]["test_acc"] if mine else None,
        "baselines": against,
    }


def _curve_row(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("epoch", "seconds", "batches_timed", "train_loss", "val_acc", "test_acc")
    return {k: row[k] for k in keys if k in row}


def summary_lines(name: str, result: dict[str, Any]) -> list[str]:
    """Return one line per baseline: both times to the target and their ratio."""
    target = f"{100 * result['target']:g} %"
    ours = result["neuralab"]
    lines = []
    for baseline, against in result["baselines"].items():
        epoch_s = against["seconds_per_epoch"]
        mine = (
            f"neuralab {ours['seconds']:.1f} s (epoch {ours['epoch']}) = "
            f"{against['neuralab_in_epochs']:.2f} {baseline} epochs of {epoch_s:.1f} s "
            f"(budget {result['budget_epochs']:g}: {'met' if against['met'] else 'MISSED'})"
            if ours
            else f"neuralab did not reach {target} "
            f"(final {100 * result['neuralab_final_test_acc']:.2f} %)"
        )
        theirs = against["to_target"]
        tail = (
            f"{baseline} itself {theirs['seconds']:.1f} s (epoch {theirs['epoch']}), "
            f"ratio {against['ratio_baseline_over_neuralab']:.2f}"
            if theirs
            else f"{baseline} itself not in {len(against['curve'])} epochs "
            f"(best {100 * max(r['test_acc'] for r in against['curve']):.2f} %)"
        )
        lines.append(f"{name} to {target} test: {mine}; {tail}")
    return lines


def curves_csv(results: dict[str, dict[str, Any]]) -> str:
    """Return the per-epoch curves of every data set and contestant as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["data", "contestant", "epoch", "seconds", "cumulative_seconds", "test_acc"])
    for name, result in results.items():
        curves = {"neuralab": result["neuralab_curve"]}
        curves.update({k: v["curve"] for k, v in result["baselines"].items()})
        for contestant, curve in curves.items():
            elapsed = 0.0
            for row in curve:
                elapsed += row["seconds"]
                writer.writerow(
                    [
                        name,
                        contestant,
                        row["epoch"],
                        f"{row['seconds']:.3f}",
                        f"{elapsed:.3f}",
                        f"{row['test_acc']:.4f}",
                    ]
                )
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(TASKS), action="append", help="(default: both)")
    parser.add_argument("--recipe", choices=list_recipes(), default="fast")
    parser.add_argument("--epochs", type=int, default=None, help="neuralab epochs (the recipe's)")
    parser.add_argument("--tutorial-epochs", type=int, default=None, help="baseline epochs")
    parser.add_argument(
        "--cnn-batches",
        type=int,
        default=None,
        help="tutorial-cnn: time this many batches per epoch and scale to the epoch",
    )
    parser.add_argument(
        "--baseline",
        dest="baselines",
        choices=BASELINES,
        action="append",
        help="(default: both)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto ... (default: cpu)")
    parser.add_argument("--full", action="store_true", help="torchvision's full data sets")
    parser.add_argument("--data-dir", default="data", help="where --full finds its data")
    parser.add_argument("--download", action="store_true", help="--full: download if missing")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one epoch each: a smoke run for the slow test suite (keeps the script working)",
    )
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.data or list(TASKS)
    args.baselines = args.baselines or list(BASELINES)
    if args.quick:
        args.epochs, args.tutorial_epochs = 1, 1
    missing = [
        TASKS[n].data for n in names if not args.full and not Path(TASKS[n].data[4:]).is_file()
    ]
    if missing:
        print(f"the shared data sets are absent: {', '.join(missing)}", file=sys.stderr)
        return 2
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results = {name: race(TASKS[name], args) for name in names}
    for name, result in results.items():
        print("\n".join(summary_lines(name, result)))
    output = Path(args.output)
    stem = "time_to_accuracy_quick" if args.quick else "time_to_accuracy"
    run = {
        "date": started,
        "machine": f"{platform.machine()} {platform.processor() or platform.node()} "
        f"({torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "clock": "wall (training seconds only)",
        "command": " ".join(["python benchmarks/time_to_accuracy.py", *(argv or sys.argv[1:])]),
    }
    # one entry per data set: a run on one data set keeps the other's
    path = output / f"{stem}.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    for name, result in results.items():
        saved.setdefault("results", {})[name] = {**run, **result}
    write_text(output / f"{stem}.json", json.dumps(saved, indent=2) + "\n")
    write_text(output / f"{stem}.csv", curves_csv(saved["results"]))
    print(f"wrote {output / stem}.json and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
