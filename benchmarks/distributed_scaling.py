"""Multi-process training on the CPU: 2 DDP processes against 1 process, in the same run.

Three ways to train the same run (``neuralab train``, same config, same global batch) on this
machine's cores, C of them:

- ``1 process``: one process with C threads (torch's intra-op parallelism), the baseline;
- ``1 process, 1 thread``: what each DDP process gets of the machine;
- ``2 processes``: ``torchrun --nproc-per-node 2``, C / 2 threads each, gloo all-reduce.

Trials alternate (1, 2, 1-thread, 1, 2, ...) so a busy machine slows all alike. The figure is
the training loop's images/s of every epoch after the first (the table's ``images_per_s``,
all ranks' images over the epoch's seconds), median over epochs and trials. The gloo
all-reduce of one gradient (the model's parameters, float32) is timed on its own, because it
is the price DDP pays every step. Figures go to ``benchmarks/results/distributed_scaling.json``.

    python benchmarks/distributed_scaling.py                      # GTSRB 32x32 if present
    python benchmarks/distributed_scaling.py --data digits --trials 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from neuralab.atomic import write_text  # noqa: E402
from neuralab.config import save_config  # noqa: E402
from neuralab.vision.config import TrainConfig  # noqa: E402

GTSRB = ROOT.parent / "shared" / "datasets" / "gtsrb" / "gtsrb-32.npz"
RESULTS = ROOT / "benchmarks" / "results" / "distributed_scaling.json"


def environment(threads: int) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": str(threads)}


def train_once(config_file: Path, run_dir: Path, processes: int, threads: int) -> list[float]:
    """Train once and return images/s of every epoch after the first."""
    command = [sys.executable]
    if processes > 1:
        command += [
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            str(processes),
        ]
    command += ["-m", "neuralab", "train", "--config", str(config_file), "--run-dir", str(run_dir)]
    command.append("--no-progress")
    done = subprocess.run(command, env=environment(threads), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"training failed:\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [float(row["images_per_s"]) for row in rows[1:]]


def allreduce_worker(numel: int, repeats: int, out: Path) -> None:
    """Run under torchrun: time ``repeats`` gloo all-reduces of ``numel`` float32 values."""
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    gradient = torch.randn(numel)
    for _ in range(3):
        dist.all_reduce(gradient)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(repeats):
        dist.all_reduce(gradient)
    seconds = (time.perf_counter() - start) / repeats
    if dist.get_rank() == 0:
        out.write_text(json.dumps({"seconds": seconds}))
    dist.destroy_process_group()


def time_allreduce(numel: int, threads: int, folder: Path) -> float:
    out = folder / "allreduce.json"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(Path(__file__).resolve()),
        "--allreduce-worker",
        str(numel),
        str(out),
    ]
    done = subprocess.run(command, env=environment(threads), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"all-reduce timing failed:\n{done.stderr[-2000:]}")
    return float(json.loads(out.read_text())["seconds"])


def parameter_count(config: TrainConfig) -> int:
    from neuralab.vision.models import get_model
    from neuralab.vision.run import load_run_data

    data = load_run_data(config, image_size=config.image_size)
    model = get_model(
        config.model,
        num_classes=data.dataset.num_classes,
        input_shape=data.dataset.image_shape,
        **config.model_options(),
    )
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=f"npz:{GTSRB}" if GTSRB.is_file() else "digits")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--batch-size", type=int, default=128, help="global batch size")
    parser.add_argument("--epochs", type=int, default=3, help="per trial; the first is not timed")
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument(
        "--allreduce-worker", nargs=2, metavar=("NUMEL", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.allreduce_worker:
        allreduce_worker(int(args.allreduce_worker[0]), 50, Path(args.allreduce_worker[1]))
        return

    cores = os.cpu_count() or 1
    config = TrainConfig(
        data=args.data,
        model=args.model,
        batch_size=args.batch_size,
        epochs=args.epochs,
        device="cpu",
        evaluate_test=False,  # the figure is the training loop's: evaluation is not timed
    )
    ways = {
        "1 process": (1, cores),
        "2 processes": (2, max(1, cores // 2)),
        "1 process, 1 thread": (1, 1),
    }
    speeds: dict[str, list[float]] = {name: [] for name in ways}
    with tempfile.TemporaryDirectory(prefix="neuralab-bench-") as folder:
        config_file = save_config(config, Path(folder) / "config.yaml")
        for trial in range(args.trials):
            for name, (processes, threads) in ways.items():
                run_dir = Path(folder) / f"{name.replace(' ', '_').replace(',', '')}-{trial}"
                epochs = train_once(config_file, run_dir, processes, threads)
                speeds[name].extend(epochs)
                print(f"trial {trial + 1}: {name:20s} {statistics.median(epochs):8.0f} images/s")
        numel = parameter_count(config)
        allreduce = time_allreduce(numel, max(1, cores // 2), Path(folder))

    median = {name: statistics.median(values) for name, values in speeds.items()}
    steps_per_s = median["2 processes"] / args.batch_size
    result: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor()} ({cores} cores)",
        "load_average": os.getloadavg(),
        "data": args.data,
        "model": args.model,
        "global_batch_size": args.batch_size,
        "images_per_s": median,
        "ratio_2_processes_to_1_process": median["2 processes"] / median["1 process"],
        "ratio_2_processes_to_1_thread": median["2 processes"] / median["1 process, 1 thread"],
        "parameters": numel,
        "allreduce_seconds_per_step": allreduce,
        "allreduce_share_of_a_2_process_step": allreduce * steps_per_s,
        "all_epochs": speeds,
        "gpu": "no GPU machine was lent to this task: no 1 vs N GPU figures",
    }
    print(f"\n{args.data} {args.model}, global batch {args.batch_size}, {cores} cores:")
    for name, value in median.items():
        print(f"  {name:20s} {value:8.0f} images/s")
    print(
        f"  2 processes / 1 process = {result['ratio_2_processes_to_1_process']:.2f}; "
        f"/ 1 process on 1 thread = {result['ratio_2_processes_to_1_thread']:.2f}"
    )
    print(
        f"  gloo all-reduce of the {numel:,}-parameter gradient: {1000 * allreduce:.2f} ms, "
        f"{100 * result['allreduce_share_of_a_2_process_step']:.0f} % of a 2-process step"
    )
    saved = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"runs": {}}
    saved["runs"][f"{args.data} {args.model} batch={args.batch_size}"] = result
    write_text(RESULTS, json.dumps(saved, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
