"""Training throughput: neuralab's loop against a tutorial-style loop, in the same run.

Both loops train the same model (same initial weights), with the same batch size and the same
optimiser (AdamW), on the same training tensors:

- tutorial: ``DataLoader(TensorDataset(x_float, y), shuffle=True)``, then per batch
  zero_grad, forward, loss, backward, step, and ``loss.item()`` plus an accuracy ``.item()``;
- neuralab: ``DeviceLoader`` (uint8 images resident on the device, index-sliced batches,
  per-batch normalisation) and ``train_one_epoch`` (sums kept on the device).

Trials alternate (tutorial, neuralab, tutorial, ...) so a busy machine slows both alike; the
median images/s of each is reported and the ratio neuralab / tutorial printed and written to
``benchmarks/results/train_throughput.json``. ``--clock cpu`` divides by the CPU time of the
process instead of the wall-clock time: on a machine shared with other jobs, wall-clock trials
scatter by a factor of two, CPU time does not (use it with ``--threads 1``).

``--full`` also measures the time to 95 % test accuracy on the GTSRB subset for both loops
(neuralab: ``neuralab train`` defaults; tutorial: the same model and optimiser, constant
learning rate, no augmentation, per-channel normalisation): many minutes on a CPU.

    python benchmarks/train_throughput.py                       # digits, the default cnn
    python benchmarks/train_throughput.py --data npz:../shared/datasets/gtsrb/gtsrb-32.npz
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from neuralab.atomic import write_text  # noqa: E402
from neuralab.device import resolve_device  # noqa: E402
from neuralab.vision.config import TrainConfig  # noqa: E402
from neuralab.vision.datasets import get_dataset  # noqa: E402
from neuralab.vision.engine import evaluate, train_one_epoch  # noqa: E402
from neuralab.vision.loader import DeviceLoader, Normalization  # noqa: E402
from neuralab.vision.models import get_model  # noqa: E402
from neuralab.vision.run import uses_channels_last  # noqa: E402

GTSRB = ROOT.parent / "shared" / "datasets" / "gtsrb" / "gtsrb-32.npz"


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def tutorial_epoch(
    model, optimizer, loader, device, max_batches=None, clock=time.perf_counter
) -> dict[str, float]:
    """The loop of a typical tutorial: host tensors to the device, .item() every batch."""
    model.train()
    seen, running_loss, correct = 0, 0.0, 0
    start = clock()
    for index, (images, labels) in enumerate(loader):
        if max_batches is not None and index >= max_batches:
            break
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(images)
        loss = F.cross_entropy(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * labels.shape[0]
        correct += (outputs.argmax(1) == labels).sum().item()
        seen += labels.shape[0]
    seconds = clock() - start
    return {"images_per_s": seen / seconds, "seconds": seconds, "n": seen}


def limited(loader, max_batches):
    for index, batch in enumerate(loader):
        if max_batches is not None and index >= max_batches:
            return
        yield batch


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    device = resolve_device(args.device)
    dataset = get_dataset(args.data, data_dir=args.data_dir)
    x, y = dataset.x_train, dataset.y_train
    normalization = Normalization.from_images(x, mode="per_channel")
    x_float = normalization(x.float() / 255.0)  # the tutorial normalises once, up front
    torch.manual_seed(0)
    model = get_model(
        args.model, num_classes=dataset.num_classes, input_shape=dataset.image_shape
    ).to(device)
    models = {"tutorial": copy.deepcopy(model), "neuralab": copy.deepcopy(model)}
    # the neuralab side runs as `neuralab train` sets it up (build_model / load_run_data)
    channels_last = uses_channels_last(TrainConfig(), device)
    if channels_last:
        models["neuralab"] = models["neuralab"].to(memory_format=torch.channels_last)
    optimizers = {k: torch.optim.AdamW(m.parameters(), lr=1e-3) for k, m in models.items()}
    tutorial_loader = DataLoader(
        TensorDataset(x_float, y), batch_size=args.batch_size, shuffle=True
    )
    neuralab_loader = DeviceLoader(
        x,
        y,
        batch_size=args.batch_size,
        device=device,
        shuffle=True,
        normalization=normalization,
        generator=torch.Generator().manual_seed(0),
        channels_last=channels_last,
    )
    speeds: dict[str, list[float]] = {"tutorial": [], "neuralab": []}
    # one warm-up batch each: first-call costs (allocations, kernel selection) are not speed
    tutorial_epoch(models["tutorial"], optimizers["tutorial"], tutorial_loader, device, 2)
    train_one_epoch(
        models["neuralab"], optimizers["neuralab"], limited(neuralab_loader, 2), device=device
    )
    clock = CLOCKS[args.clock]
    for trial in range(args.repeats):
        result = tutorial_epoch(
            models["tutorial"],
            optimizers["tutorial"],
            tutorial_loader,
            device,
            args.batches,
            clock=clock,
        )
        speeds["tutorial"].append(result["images_per_s"])
        start = clock()
        mine = train_one_epoch(
            models["neuralab"],
            optimizers["neuralab"],
            limited(neuralab_loader, args.batches),
            device=device,
        )
        mine["images_per_s"] = mine["n"] / (clock() - start)
        speeds["neuralab"].append(mine["images_per_s"])
        print(
            f"trial {trial + 1}: tutorial {result['images_per_s']:,.0f} img/s, "
            f"neuralab {mine['images_per_s']:,.0f} img/s",
            file=sys.stderr,
        )
    tutorial, neuralab = (statistics.median(speeds[k]) for k in ("tutorial", "neuralab"))
    return {
        "data": args.data,
        "model": args.model,
        "batch_size": args.batch_size,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "neuralab_channels_last": channels_last,
        "trials": args.repeats,
        "clock": args.clock,
        "batches_per_trial": args.batches,
        "tutorial_images_per_s": tutorial,
        "neuralab_images_per_s": neuralab,
        "ratio": neuralab / tutorial,
        "all_trials": speeds,
    }


def time_to_95(args: argparse.Namespace) -> dict[str, Any]:
    """Training seconds until the test accuracy first reaches 95 %, for both loops."""
    from neuralab.vision.train import train

    data = f"npz:{GTSRB}"
    config = TrainConfig(
        data=data, epochs=args.max_epochs, device=args.device, run_dir=args.run_dir
    )
    result = train(config, progress=False, report=False)
    elapsed, ours = 0.0, None
    for row in result.history:
        elapsed += row["seconds"]
        if row["test_acc"] >= 0.95 and ours is None:
            ours = {"epoch": row["epoch"], "seconds": elapsed, "test_acc": row["test_acc"]}

    device = resolve_device(args.device)
    dataset = get_dataset(data)
    normalization = Normalization.from_images(dataset.x_train, mode="per_channel")
    x_train = normalization(dataset.x_train.float() / 255.0)
    torch.manual_seed(0)
    model = get_model("cnn", num_classes=dataset.num_classes, input_shape=dataset.image_shape)
    model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    loader = DataLoader(TensorDataset(x_train, dataset.y_train), batch_size=64, shuffle=True)
    test = DeviceLoader(
        dataset.x_test,
        dataset.y_test,
        batch_size=256,
        device=device,
        shuffle=False,
        normalization=normalization,
    )
    elapsed, theirs, accuracies = 0.0, None, []
    for epoch in range(1, args.max_epochs + 1):
        elapsed += tutorial_epoch(model, optimizer, loader, device)["seconds"]
        accuracy = evaluate(model, test, device=device)["acc"]
        accuracies.append(accuracy)
        print(f"tutorial epoch {epoch}: test acc {100 * accuracy:.2f} %", file=sys.stderr)
        if accuracy >= 0.95:
            theirs = {"epoch": epoch, "seconds": elapsed, "test_acc": accuracy}
            break
    return {
        "neuralab": ours,
        "tutorial": theirs,
        "neuralab_test_acc": [row["test_acc"] for row in result.history],
        "tutorial_test_acc": accuracies,
        "max_epochs": args.max_epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits", help="data set (default: digits)")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=None, help="batches per trial (all)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating trials per loop")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="wall (default) or cpu time"
    )
    parser.add_argument("--full", action="store_true", help="also time-to-95 %% on GTSRB")
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--run-dir", default=None, help="run directory of the --full run")
    parser.add_argument(
        "--output", default=str(ROOT / "benchmarks" / "results" / "train_throughput.json")
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor()} ({torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "throughput": throughput(args),
    }
    speed = results["throughput"]
    print(
        f"{args.model} on {args.data}, batch {args.batch_size}, {speed['device']}, "
        f"{speed['threads']} threads, {args.clock} clock: "
        f"tutorial {speed['tutorial_images_per_s']:,.0f} img/s, "
        f"neuralab {speed['neuralab_images_per_s']:,.0f} img/s, "
        f"ratio {speed['ratio']:.2f}"
    )
    if args.full:
        if not GTSRB.is_file():
            print(f"--full needs {GTSRB}", file=sys.stderr)
        else:
            results["time_to_95"] = found = time_to_95(args)
            for loop in ("neuralab", "tutorial"):
                hit = found[loop]
                print(
                    f"{loop}: 95 % test accuracy after {hit['epoch']} epochs, "
                    f"{hit['seconds']:.0f} s of training"
                    if hit
                    else f"{loop}: 95 % not reached in {args.max_epochs} epochs"
                )
    # one entry per (data, model, batch size, device, clock): runs on other data are kept
    output = Path(args.output)
    saved = json.loads(output.read_text()) if output.is_file() else {}
    key = f"{args.data} {args.model} batch={args.batch_size} {speed['device']} {args.clock}"
    saved.setdefault("runs", {})[key] = results
    write_text(output, json.dumps(saved, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
