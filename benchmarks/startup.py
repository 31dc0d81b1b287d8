"""Start-up: how long commands take from the shell, with the import of torch itself for scale.

Each command runs as a fresh ``python`` subprocess (``python -m neuralab ...`` with this
checkout's ``src`` first on the path), ``--repeats`` times, the commands taking turns so a busy
machine slows all alike; the median wall-clock seconds are reported. Targets (issue 15):

- ``--help`` and every error for a mistyped name or a malformed value: under 0.5 s (they are
  answered before torch is imported);
- commands that need torch: within 0.5 s of ``import torch``;
- ``summary resnet18 --input 3x224x224`` within 1.5x of torchinfo's ``summary`` of the same
  model, both timed in one process after the imports (torchinfo: ``pip install torchinfo``, the
  ``bench`` extra; left out when absent).

Results go to ``benchmarks/results/startup.json``.

    python benchmarks/startup.py               # 5 repeats
    python benchmarks/startup.py --repeats 1   # the slow test suite's smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))

from neuralab.atomic import write_text  # noqa: E402

ERROR_BUDGET_S = 0.5  # --help and every error for bad input
TORCH_MARGIN_S = 0.5  # commands that need torch: import torch + this
SUMMARY_RATIO = 1.5  # summary / torchinfo, same model, same process


@dataclass(frozen=True)
class Command:
    """One command line: what it is, its argv after ``python``, and which target applies."""

    label: str
    argv: tuple[str, ...]
    target: str  # "reference", "fast" (< 0.5 s), "torch" (import torch + 0.5 s)
    exit_code: int = 0


def bad_input(label: str, *arguments: str) -> Command:
    """Return ``neuralab ARGUMENTS``, a bad input answered with exit code 2 within the budget."""
    return Command(label, ("-m", "neuralab", *arguments), "fast", 2)


COMMANDS = (
    Command("python -c pass", ("-c", "pass"), "reference"),
    Command("import torch", ("-c", "import torch"), "reference"),
    Command("import torch, torchvision", ("-c", "import torch, torchvision"), "reference"),
    Command("neuralab --help", ("-m", "neuralab", "--help"), "fast"),
    Command("neuralab train --help", ("-m", "neuralab", "train", "--help"), "fast"),
    bad_input("neuralab summary resnt18 (typo)", "summary", "resnt18", "--input", "3x224x224"),
    bad_input(
        "neuralab summary --input 3x22a (malformed)", "summary", "resnet18", "--input", "3x22a"
    ),
    bad_input(
        "neuralab summary 'conv(10,5) -> maxpol(2)' (typo)",
        "summary",
        "conv(10,5) -> maxpol(2)",
        "--input",
        "3x32x32",
    ),
    bad_input("neuralab pool --op mx (typo)", "pool", "[[1,2],[3,4]]", "--op", "mx"),
    bad_input("neuralab train --model cnnn (typo)", "train", "--model", "cnnn"),
    bad_input("neuralab train --data mnst (typo)", "train", "--data", "mnst"),
    bad_input(
        "neuralab summary --input 50:int9 (typo)", "summary", "conv(10,5)", "--input", "50:int9"
    ),
    bad_input(
        "neuralab activations --plot sigmoidd (typo)", "activations", "--plot", "relu,sigmoidd"
    ),
    bad_input("neuralab playground --data spirl (typo)", "playground", "--data", "spirl"),
    bad_input("neuralab gradients --w1 '[[1,x]]' (malformed)", "gradients", "--w1", "[[1,x]]"),
    Command("neuralab pool 2x2", ("-m", "neuralab", "pool", "[[1,2],[3,4]]"), "torch"),
    Command(
        "neuralab conv-matrix --symbolic",
        ("-m", "neuralab", "conv-matrix", "--input", "3x3", "--kernel", "2x2", "--symbolic"),
        "torch",
    ),
    Command(
        "neuralab summary conv spec",
        ("-m", "neuralab", "summary", "conv(20,5) -> relu -> maxpool(2)", "--input", "1x28x28"),
        "torch",
    ),
    Command(
        "neuralab summary resnet18",
        ("-m", "neuralab", "summary", "resnet18", "--input", "3x224x224"),
        "torchvision",
    ),
)


def run_once(command: Command) -> float:
    """Return the wall-clock seconds of one run of ``command`` (checking its exit code)."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "100"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *command.argv], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != command.exit_code:
        raise SystemExit(
            f"{command.label}: exit code {done.returncode}, expected {command.exit_code}\n"
            f"{done.stderr[-2000:]}"
        )
    return seconds


def measure_commands(commands: tuple[Command, ...], repeats: int) -> dict[str, list[float]]:
    """Return every command's run times, the commands taking turns ``repeats`` times."""
    times: dict[str, list[float]] = {c.label: [] for c in commands}
    for _ in range(repeats):
        for command in commands:
            times[command.label].append(run_once(command))
    return times


def summary_against_torchinfo(repeats: int) -> dict[str, Any] | None:
    """Return median seconds of neuralab's and torchinfo's summary of resnet18 at 3x224x224."""
    try:
        import torchinfo
    except ImportError:
        return None
    import torchvision

    from neuralab.arch.summary import summary

    model = torchvision.models.resnet18(weights=None)
    ours, theirs = [], []
    summary(model, (3, 224, 224))  # first calls pay one-off costs (allocator, kernels)
    torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)
    for _ in range(repeats):
        start = time.perf_counter()
        summary(model, (3, 224, 224))
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)
        theirs.append(time.perf_counter() - start)
    neuralab_s, torchinfo_s = statistics.median(ours), statistics.median(theirs)
    return {
        "neuralab_s": neuralab_s,
        "torchinfo_s": torchinfo_s,
        "ratio": neuralab_s / torchinfo_s,
        "target_ratio": SUMMARY_RATIO,
        "met": neuralab_s <= SUMMARY_RATIO * torchinfo_s,
        "torchinfo": torchinfo.__version__,
    }


def verdicts(times: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Return per command its median, its limit (seconds) and whether it is met."""
    torch_s, vision_s = times["import torch"], times["import torch, torchvision"]
    limits = {"fast": ERROR_BUDGET_S, "torch": torch_s + TORCH_MARGIN_S}
    limits["torchvision"] = vision_s + TORCH_MARGIN_S
    rows = {}
    for command in COMMANDS:
        median = times[command.label]
        limit = limits.get(command.target)
        rows[command.label] = {
            "median_s": median,
            "target": command.target,
            "limit_s": limit,
            "met": None if limit is None else median <= limit,
        }
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "startup.json"))
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    all_times = measure_commands(COMMANDS, args.repeats)
    medians = {label: statistics.median(values) for label, values in all_times.items()}
    rows = verdicts(medians)
    width = max(len(label) for label in rows)
    print(f"{'command':<{width}}  median s  limit s  met")
    for label, row in rows.items():
        limit = "" if row["limit_s"] is None else f"{row['limit_s']:.2f}"
        met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
        print(f"{label:<{width}}  {row['median_s']:8.2f}  {limit:>7}  {met}")
    against = summary_against_torchinfo(max(args.repeats, 1))
    if against is None:
        print("torchinfo is not installed: pip install torchinfo (the bench extra) to compare")
    else:
        print(
            f"summary resnet18 3x224x224 in one process: neuralab {against['neuralab_s']:.3f} s, "
            f"torchinfo {against['torchinfo_s']:.3f} s, ratio {against['ratio']:.2f} "
            f"(target <= {SUMMARY_RATIO})"
        )
    saved = {
        "date": started,
        "machine": f"{platform.machine()} {platform.processor() or platform.node()}, "
        f"{os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "repeats": args.repeats,
        "commands": rows,
        "all_times_s": all_times,
        "summary_vs_torchinfo": against,
    }
    write_text(args.output, json.dumps(saved, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
