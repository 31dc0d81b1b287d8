"""The dropout study: choose the dropout rate p the right way, and see why the wrong ways mislead.

Course setting: a CNN on MNIST, dropout p = 0.0, 0.1, ..., 0.9, one epoch per run, several
seeds, p chosen on a validation split carved from the training set, the chosen p retrained for
10 epochs and only then evaluated on the test set.

Two shortcuts are measured next to it, to show what they cost:

- *trusting a single one-epoch run*: each seed alone picks its own best p; how many different
  p do the seeds pick, and how does the seed-to-seed spread compare with the differences
  between rates?
- *choosing on the test set*: the 1-epoch runs are evaluated on the test set afterwards (for
  this demonstration only) and the p with the best test accuracy is what a test-set choice
  would pick; the test accuracy it reports was used to choose, so it is no longer an unbiased
  estimate of accuracy on new data.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuralab.config import option
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Column, Table

_STUDY = "Study settings"


@dataclass
class DropoutStudyConfig:
    """The dropout study's setting (defaults: the course's)."""

    data: str = option(
        "mnist",
        help="Data set (the course: MNIST; offline: npz:../shared/datasets/mnist/mnist-28.npz)",
        group=_STUDY,
    )
    data_dir: str = option("data", help="Where torchvision data sets live", group=_STUDY)
    model: str = option("cnn", help="The CNN whose dropout is swept", group=_STUDY)
    widths: tuple[int, ...] = option(
        (16, 32),
        help="Channel widths of the CNN per stage (small: 30 runs fit a CPU)",
        group=_STUDY,
    )
    dropouts: tuple[float, ...] = option(
        (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        help="Dropout rates p compared",
        group=_STUDY,
    )
    seeds: int = option(3, help="Runs per rate", group=_STUDY)
    epochs: int = option(1, help="Epochs of each sweep run", group=_STUDY)
    final_epochs: int = option(10, help="Epochs of the retrained chosen rate", group=_STUDY)
    batch_size: int = option(64, help="Images per step", group=_STUDY)
    val_fraction: float = option(0.1, help="Validation split of the training set", group=_STUDY)
    workers: int = option(1, help="Sweep worker processes", group=_STUDY)
    seed: int = option(0, help="First seed", group=_STUDY)


QUICK = {
    "data": "digits",
    "dropouts": (0.0, 0.3, 0.6, 0.9),
    "seeds": 2,
    "epochs": 1,
    "final_epochs": 2,
    "batch_size": 16,  # digits has 1,293 training images: small batches give enough steps
}


def run_dropout_study(config: DropoutStudyConfig, directory: Path) -> ExperimentResult:
    """Sweep p on validation, retrain the choice, test once; measure the two shortcuts."""
    from neuralab.studies.sweep.grid import GridAxis
    from neuralab.studies.sweep.report import draw_sweep_figure
    from neuralab.studies.sweep.runner import run_sweep
    from neuralab.studies.sweep.spec import SweepSpec
    from neuralab.studies.sweep.storage import open_study
    from neuralab.vision.inference import evaluate_run

    base = {
        "data": config.data,
        "data_dir": config.data_dir,
        "model": config.model,
        "widths": list(config.widths),
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "val_fraction": config.val_fraction,
        "seed": config.seed,
    }
    spec = SweepSpec.from_axes(
        base,
        [GridAxis("dropout", tuple(float(p) for p in config.dropouts))],
        seeds=config.seeds,
        select="val_acc",
        final_epochs=config.final_epochs,
    )
    outcome = run_sweep(spec, directory / "sweep", workers=config.workers)
    runs_by_p: dict[float, list[dict[str, Any]]] = {}
    for trial in outcome.trials:
        runs_by_p.setdefault(float(trial["dropout"]), [])
    study = open_study(spec, directory / "sweep")
    for trial in study.get_trials(deepcopy=False):
        if "runs" in trial.user_attrs:
            p = float(trial.user_attrs["setting"]["dropout"])
            runs_by_p.setdefault(p, []).extend(trial.user_attrs["runs"])

    rows: list[dict[str, Any]] = []
    for p in sorted(runs_by_p):
        runs = [r for r in runs_by_p[p] if r["status"] == "ok"]
        val = [float(r["val_acc"]) for r in runs]
        # the shortcut under study: the same 1-epoch runs scored on the test set afterwards
        test = [evaluate_run(r["run_dir"], split="test")["acc"] for r in runs]
        rows.append(
            {
                "dropout": p,
                "val_mean": statistics.fmean(val) if val else None,
                "val_std": statistics.stdev(val) if len(val) > 1 else 0.0,
                "test_mean": statistics.fmean(test) if test else None,
                "failed": len(runs_by_p[p]) - len(runs),
                "per_seed_val": val,
            }
        )
    usable = [r for r in rows if r["val_mean"] is not None]
    chosen = outcome.chosen.setting["dropout"] if outcome.chosen else None
    by_test = max(usable, key=lambda r: r["test_mean"]) if usable else None
    seeds = min(len(r["per_seed_val"]) for r in usable) if usable else 0
    single_choices = [_best_for_seed(usable, s) for s in range(seeds)]
    spread = statistics.fmean(r["val_std"] for r in usable) if usable else 0.0
    top = sorted(usable, key=lambda r: r["val_mean"], reverse=True)[:3]
    gap = top[0]["val_mean"] - top[-1]["val_mean"] if len(top) > 1 else 0.0
    for row in rows:
        row["status"] = "chosen (val)" if row["dropout"] == chosen else ""
        if (
            by_test is not None
            and row["dropout"] == by_test["dropout"]
            and row["dropout"] != chosen
        ):
            row["status"] = "test-set pick"

    final_test = outcome.final.get("test_acc")
    sentence = (
        f"Chosen on validation: p = {chosen} (val acc {outcome.chosen.mean:.4f} +- "
        f"{outcome.chosen.std:.4f} over {len(outcome.chosen.values)} seeds)"
        if outcome.chosen
        else "No rate could be chosen (every run failed)"
    )
    if final_test is not None:
        sentence += f", retrained {config.final_epochs} epochs: test accuracy {final_test:.4f}"
    sentence += (
        f". Single 1-epoch runs pick {len(set(single_choices))} different rate(s) across "
        f"{seeds} seeds ({', '.join(str(c) for c in single_choices)}); the mean seed-to-seed "
        f"spread ({spread:.4f}) is {'larger' if spread > gap else 'smaller'} than the gap "
        f"between the three best rates ({gap:.4f})"
    )
    if by_test is not None:
        same = by_test["dropout"] == chosen
        sentence += (
            f"; a test-set choice would pick {'the same p' if same else 'p = ' + str(by_test['dropout'])}"
            f" and report {by_test['test_mean']:.4f}, a number already used to choose and so no "
            "longer an unbiased estimate"
        )
    sentence += "."
    figure = draw_sweep_figure(outcome, directory / "figures" / "dropout.png")
    columns = [
        Column("dropout", "p", ".1f"),
        Column("val_mean", "val acc mean", ".4f"),
        Column("val_std", "val acc std", ".4f"),
        Column("test_mean", "test acc of 1-epoch runs (shown, not used)", ".4f"),
        Column("failed", "failed runs"),
        Column("status", justify="left"),
    ]
    return ExperimentResult(
        name="dropout",
        title="Dropout rate chosen on validation data",
        tables=[Table(rows, columns, title="Dropout rate, one epoch per run")],
        conclusion=sentence,
        figures=[figure],
        config=config,
        measurements={
            "chosen": chosen,
            "single_choices": single_choices,
            "spread": spread,
            "gap": gap,
            "test_pick": by_test["dropout"] if by_test else None,
            "final_test_acc": final_test,
        },
    )


def _best_for_seed(rows: list[dict[str, Any]], seed_index: int) -> float:
    """Return the rate a single run with seed ``seed_index`` would choose."""
    return float(max(rows, key=lambda row: row["per_seed_val"][seed_index])["dropout"])
