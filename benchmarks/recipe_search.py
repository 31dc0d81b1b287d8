"""Recipe search on the validation split: candidate settings, their validation curves per CPU second.

Each candidate is a set of TrainConfig fields over a recipe (``--recipe fast``); every candidate
trains with ``evaluate_test`` off (the test set is never looked at while choosing) and prints,
per epoch, the cumulative CPU seconds of training (``time.process_time`` of this process, which
a machine shared with other jobs disturbs far less than the wall clock; use ``--threads 1``) and
the validation accuracy. The choices of docs/performance.md were made with it:

    python benchmarks/recipe_search.py --data npz:../shared/datasets/gtsrb/gtsrb-32.npz \\
        --threads 1 '{"epochs": 4}' '{"epochs": 4, "widths": [32, 64, 128]}' '{"amp_cpu": false}'
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from neuralab.vision import fit as fit_module  # noqa: E402
from neuralab.vision import train as train_module  # noqa: E402
from neuralab.vision.recipes import list_recipes, recipe_config  # noqa: E402


def search(data: str, recipe: str, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return, per candidate, its fields and its curve of (cumulative CPU s, val acc) per epoch."""
    cpu_seconds: list[float] = []
    one_epoch = fit_module.train_one_epoch

    def timed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        start = time.process_time()
        result = one_epoch(*args, **kwargs)
        cpu_seconds.append(time.process_time() - start)
        return result

    fit_module.train_one_epoch = timed  # type: ignore[assignment]
    found = []
    try:
        for fields in candidates:
            cpu_seconds.clear()
            with tempfile.TemporaryDirectory() as folder:
                config = recipe_config(
                    recipe,
                    overrides={
                        "data": data,
                        "device": "cpu",
                        "evaluate_test": False,
                        **fields,
                        "run_dir": str(Path(folder) / "run"),
                    },
                )
                result = train_module.train(
                    config, progress=False, report=False, console=Console(file=io.StringIO())
                )
            elapsed, curve = 0.0, []
            for row, seconds in zip(result.history, cpu_seconds, strict=True):
                elapsed += seconds
                curve.append({"cpu_s": round(elapsed, 1), "val_acc": row["val_acc"]})
            found.append({"fields": fields, "curve": curve})
            shown = " ".join(f"{p['cpu_s']:.0f}s:{100 * p['val_acc']:.2f}" for p in curve)
            print(f"{json.dumps(fields)} | {shown}", flush=True)
    finally:
        fit_module.train_one_epoch = one_epoch  # type: ignore[assignment]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", nargs="+", help="JSON objects of TrainConfig fields")
    parser.add_argument("--data", required=True)
    parser.add_argument("--recipe", choices=list_recipes(), default="fast")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    search(args.data, args.recipe, [json.loads(c) for c in args.candidates])
    return 0


if __name__ == "__main__":
    sys.exit(main())
