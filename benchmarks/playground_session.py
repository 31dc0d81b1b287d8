"""Benchmark: the stepping engine on the browser's default network, torch's threads vs one thread.

The browser playground steps a :class:`~neuralab.playground.session.PlaygroundSession` and shows,
many times a second, the output heat map and one heat map per hidden neuron. Its targets on a
2-core CPU: at least 30 epochs/s of the default network (circle, 500 points, hidden 4,4,
batch 10: 25 updates an epoch, with the history row each epoch) and 20 frames/s of heat maps.
Both are measured here with torch's default number of threads and with one thread; the ratio is
the speed-up of one thread (the matrices are tiny; a second thread only adds synchronisation,
and waiting for it costs milliseconds on a busy machine). The histories of both are compared
too, since a fast wrong answer would be worth nothing.

    python benchmarks/playground_session.py [--epochs 60] [--repeats 3] [--resolution 50]

Writes benchmarks/results/playground_session.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from neuralab.atomic import write_text
from neuralab.playground.config import MAX_EPOCHS, PlaygroundConfig
from neuralab.playground.session import PlaygroundSession

RESULT = Path(__file__).resolve().parent / "results" / "playground_session.json"
DEFAULT = PlaygroundConfig(data="circle", n=500, hidden=(4, 4), batch_size=10, epochs=MAX_EPOCHS)


def measure(threads: int, epochs: int, repeats: int, resolution: int) -> dict[str, Any]:
    """Return the best-of-``repeats`` costs of epochs, updates, rows and heat maps."""
    torch.set_num_threads(threads)
    session = PlaygroundSession(DEFAULT)
    session.run_epoch()  # warm-up: first calls pay one-off set-up costs
    epoch_s, step_s, row_s, frame_s = [], [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(epochs):
            session.run_epoch()
        epoch_s.append((time.perf_counter() - start) / epochs)
        start = time.perf_counter()
        for _ in range(100):
            session.step()
        step_s.append((time.perf_counter() - start) / 100)
        start = time.perf_counter()
        for _ in range(20):
            session.evaluate()
        row_s.append((time.perf_counter() - start) / 20)
        frames = 0.0
        for _ in range(20):
            session.step()  # a new state, so the grids are computed, not taken from the cache
            start = time.perf_counter()
            session.output_grid(resolution)
            session.neuron_grids(resolution)
            session.weights(), session.biases()
            frames += time.perf_counter() - start
        frame_s.append(frames / 20)
    pair = [PlaygroundSession(DEFAULT), PlaygroundSession(DEFAULT)]  # A | B in lockstep
    start = time.perf_counter()
    for _ in range(epochs):
        for session in pair:
            session.run_epoch()
    pair_s = (time.perf_counter() - start) / epochs
    return {
        "threads": threads,
        "epoch_ms": 1e3 * min(epoch_s),
        "epochs_per_s": 1 / min(epoch_s),
        "step_us": 1e6 * min(step_s),
        "history_row_us": 1e6 * min(row_s),
        "frame_ms": 1e3 * min(frame_s),
        "frames_per_s": 1 / min(frame_s),
        "a_b_epochs_per_s_each": 1 / pair_s,
    }


def history_of(threads: int, epochs: int) -> list[dict[str, Any]]:
    torch.set_num_threads(threads)
    session = PlaygroundSession(DEFAULT)
    for _ in range(epochs):
        session.run_epoch()
    return [{k: v for k, v in row.items() if k != "seconds"} for row in session.history]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="epochs per timed repeat")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the best counts")
    parser.add_argument("--resolution", type=int, default=50, help="heat maps of R x R points")
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    load_before = os.getloadavg()[0]
    many = measure(default_threads, args.epochs, args.repeats, args.resolution)
    one = measure(1, args.epochs, args.repeats, args.resolution)
    same = history_of(default_threads, 20) == history_of(1, 20)
    torch.set_num_threads(default_threads)
    report = {
        "network": "circle, n=500 (250 train), hidden 4,4, tanh, batch 10: 25 updates an epoch",
        "resolution": args.resolution,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "default_threads": many,
        "one_thread": one,
        "speedup_one_thread": many["epoch_ms"] / one["epoch_ms"],
        "same_history_20_epochs": same,
        # other work on the machine slows both sides, not always alike: say how busy it was
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    write_text(args.output, json.dumps(report, indent=2) + "\n")
    print(f"default network, best of {args.repeats} x {args.epochs} epochs:")
    print("  threads  epochs/s  ms/epoch  us/update  us/row  frames/s (grids + weights)  A|B each")
    for side in (many, one):
        print(
            f"  {side['threads']:7d}  {side['epochs_per_s']:8.1f}  {side['epoch_ms']:8.2f}"
            f"  {side['step_us']:9.0f}  {side['history_row_us']:6.0f}"
            f"  {side['frames_per_s']:8.0f} ({side['frame_ms']:.2f} ms at {args.resolution}x"
            f"{args.resolution})  {side['a_b_epochs_per_s_each']:8.1f}"
        )
    print(f"  one thread is {report['speedup_one_thread']:.1f}x faster per epoch")
    print(f"  same history with {default_threads} and 1 thread(s): {same}")
    print(f"  machine load (1-min average, before / after): {report['load_average_1min']}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
