"""Benchmark: a 16-network comparison grid trained one after another vs at once (batched).

Both sides train the same 16 configs (4 initializations x 4 activations on the circle data,
hidden 8,8, mini-batches of 10) with every per-epoch diagnostic recorded, in this one process,
on one CPU thread (the playground's matrices are tiny; threads only add synchronisation). The
ratio sequential / batched is the speed-up; the final losses of both sides are compared too,
since a fast wrong answer would be worth nothing.

    python benchmarks/playground_grid.py [--epochs 100] [--repeats 3] [--device cpu]

Writes benchmarks/results/playground_grid.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import torch

from neuralab.atomic import write_text
from neuralab.playground.batched import train_batched
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.run import train_playground

INITS = ("zeros", "small", "xavier", "he")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
RESULT = Path(__file__).resolve().parent / "results" / "playground_grid.json"


def grid(epochs: int, device: str) -> list[PlaygroundConfig]:
    """Return the 16 configs: every initialization with every activation."""
    base = PlaygroundConfig(data="circle", n=200, hidden=(8, 8), epochs=epochs, device=device)
    return [replace(base, init=i, activation=a) for i in INITS for a in ACTIVATIONS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the best counts")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    configs = grid(args.epochs, args.device)
    train_batched(grid(2, args.device))  # warm-up: first calls pay one-off set-up costs
    train_playground(configs[0])

    load_before = os.getloadavg()[0]
    sequential_times, batched_times = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        sequential = [train_playground(config) for config in configs]
        sequential_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        batched = train_batched(configs)
        batched_times.append(time.perf_counter() - start)

    difference = max(
        abs(s.final["train_loss"] - b.final["train_loss"])
        for s, b in zip(sequential, batched, strict=True)
    )
    steps = sequential[0].final["steps"]
    report = {
        "configs": len(configs),
        "grid": {"init": list(INITS), "activation": list(ACTIVATIONS)},
        "data": "circle, n=200 (100 train), hidden 8,8, batch 10",
        "epochs": args.epochs,
        "updates_per_network": steps,
        "device": args.device,
        "threads": args.threads,
        "repeats": args.repeats,
        "sequential_s": min(sequential_times),
        "batched_s": min(batched_times),
        "speedup": min(sequential_times) / min(batched_times),
        "batched_models": len({r.extra["group"] for r in batched}),
        "max_final_train_loss_difference": difference,
        # other work on the machine slows both sides, not always alike: say how busy it was
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    write_text(args.output, json.dumps(report, indent=2) + "\n")
    print(
        f"16 networks x {args.epochs} epochs ({steps} updates each), {args.device}, "
        f"{args.threads} thread(s), best of {args.repeats}:"
    )
    print(f"  sequential  {report['sequential_s']:7.2f} s   (train_playground, one after another)")
    print(
        f"  batched     {report['batched_s']:7.2f} s   ({report['batched_models']} batched model)"
    )
    print(f"  speed-up    {report['speedup']:7.1f} x")
    print(f"  largest difference of a final training loss: {difference:.2e}")
    print(f"  machine load (1-min average, before / after): {report['load_average_1min']}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
