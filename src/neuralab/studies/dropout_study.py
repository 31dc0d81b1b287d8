"""The dropout study: choose the dropout rate p the right way, and see why the wrong ways mislead.

Course setting: a CNN on MNIST, dropout p = 0.0, 0.1, ..., 0.9, one epoch per run, three
seeds, p chosen on a validation split carved from the training set, the chosen p retrained for
10 epochs and only then evaluated on the test set; then the same with batch normalisation
added, as the course suggests (``batch_norms``). Each is a sweep of its own
(``sweep-bn-off/``, ``sweep-bn-on/``): resumable, and runs that diverge or end at chance level
are failed, shown and never chosen.

Three shortcuts are measured next to it, to show what they cost:

- *trusting a single one-epoch run*: each seed alone picks its own best p; how many different
  p do the seeds pick, and how does the seed-to-seed spread compare with the differences
  between rates?
- *choosing on the test set*: the 1-epoch runs are evaluated on the test set afterwards (for
  this demonstration only) and the p with the best test accuracy is what a test-set choice
  would pick; the test accuracy it reports was used to choose, so it is no longer an unbiased
  estimate of accuracy on new data.
- *ranking rates after one epoch*: every p is also trained for ``ranking_epochs`` epochs
  (``ranking-bn-off/``, ...); the 1-epoch ranking is compared with that one (Spearman's rank
  correlation, and where the 1-epoch choice ranks after the longer training).
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
        help="Channel widths of the CNN per stage (small: the runs fit a CPU)",
        group=_STUDY,
    )
    dropouts: tuple[float, ...] = option(
        (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
        help="Dropout rates p compared",
        group=_STUDY,
    )
    batch_norms: tuple[bool, ...] = option(
        (False, True),
        help="Batch normalisation off and/or on: one sweep each (the course suggests adding it)",
        group=_STUDY,
    )
    seeds: int = option(3, help="Runs per rate", group=_STUDY)
    epochs: int = option(1, help="Epochs of each sweep run", group=_STUDY)
    final_epochs: int = option(10, help="Epochs of the retrained chosen rate", group=_STUDY)
    ranking_epochs: int = option(
        10,
        help="Every rate also trained this long, to compare its ranking with the short runs' "
        "(0: skip)",
        group=_STUDY,
    )
    ranking_seeds: int = option(1, help="Seeds of those longer runs", group=_STUDY)
    batch_size: int = option(64, help="Images per step", group=_STUDY)
    val_fraction: float = option(0.1, help="Validation split of the training set", group=_STUDY)
    workers: int = option(1, help="Sweep worker processes", group=_STUDY)
    seed: int = option(0, help="First seed", group=_STUDY)


QUICK = {
    "data": "digits",
    "dropouts": (0.0, 0.3, 0.6, 0.9),
    "batch_norms": (False,),
    "seeds": 2,
    "epochs": 1,
    "final_epochs": 2,
    "ranking_epochs": 0,
    "batch_size": 16,  # digits has 1,293 training images: small batches give enough steps
}


def run_dropout_study(config: DropoutStudyConfig, directory: Path) -> ExperimentResult:
    """Sweep p on validation (per batch-norm setting), retrain each choice and test it once;
    measure the three shortcuts; return the tables, figure and computed conclusion."""
    from neuralab.atomic import save_figure
    from neuralab.report.study_figures import FIGURE_DPI, dropout_figure

    # the course's procedure first, for every batch-norm setting; the longer ranking runs after
    variants = [_choose(config, directory, bn) for bn in config.batch_norms]
    if config.ranking_epochs:
        for variant in variants:
            _rank_long(config, directory, variant)
    rows = [row for variant in variants for row in variant["rows"]]
    columns = [
        Column("batch_norm", "BN", lambda v: "on" if v else "off", justify="left"),
        Column("dropout", "p", ".1f"),
        Column("val_mean", f"val acc ({config.epochs} ep) mean", ".4f"),
        Column("val_std", "std", ".4f"),
        Column("test_mean", f"test acc of {config.epochs}-ep runs (shown, not used)", ".4f"),
        Column("failed", "failed runs"),
        Column("rank_short", f"rank ({config.epochs} ep)"),
    ]
    if config.ranking_epochs:
        columns += [
            Column("val_long", f"val acc ({config.ranking_epochs} ep)", ".4f"),
            Column("rank_long", f"rank ({config.ranking_epochs} ep)"),
        ]
    columns.append(Column("status", justify="left"))
    summary_columns = [
        Column("batch_norm", "BN", lambda v: "on" if v else "off", justify="left"),
        Column("chosen", "p chosen (val)", ".1f"),
        Column("chosen_val", "its val acc", ".4f"),
        Column("final_test", f"test acc, retrained {config.final_epochs} ep", ".4f"),
        Column("distinct_single", "p picked by single seeds", justify="left"),
        Column("spread", "seed spread", ".4f"),
        Column("gap", "top-3 gap", ".4f"),
        Column("test_pick", "test-set pick", ".1f"),
        Column("failed_runs", "failed runs"),
    ]
    if config.ranking_epochs:
        summary_columns += [
            Column("spearman", "Spearman rho (1 ep vs long)", ".3f"),
            Column("long_best", f"best p at {config.ranking_epochs} ep", ".1f"),
            Column("chosen_long_rank", f"1-ep choice's rank at {config.ranking_epochs} ep"),
        ]
    figure = save_figure(
        dropout_figure(rows, short_epochs=config.epochs, long_epochs=config.ranking_epochs),
        directory / "figures" / "dropout.png",
        dpi=FIGURE_DPI,
    )
    summaries = [variant["summary"] for variant in variants]
    return ExperimentResult(
        name="dropout",
        title="Dropout rate chosen on validation data",
        tables=[
            Table(rows, columns, title="Dropout rate per run length and batch norm"),
            Table(summaries, summary_columns, title="The choice and the three shortcuts"),
        ],
        conclusion=dropout_conclusion(config, summaries),
        figures=[figure],
        config=config,
        measurements={"variants": summaries},
    )


def _choose(config: DropoutStudyConfig, directory: Path, batch_norm: bool) -> dict[str, Any]:
    """Run the 1-epoch sweep and the final run for one batch-norm setting; return its rows."""
    from neuralab.studies.sweep.runner import run_sweep
    from neuralab.vision.inference import evaluate_run

    spec = _spec(config, batch_norm, epochs=config.epochs, seeds=config.seeds, final=True)
    outcome = run_sweep(spec, directory / f"sweep-bn-{_on(batch_norm)}", workers=config.workers)
    rows: list[dict[str, Any]] = []
    for setting in outcome.settings:
        runs = _runs(directory / f"sweep-bn-{_on(batch_norm)}", spec, setting.trials)
        ok = [r for r in runs if r["status"] == "ok"]
        # the shortcut under study: the same 1-epoch runs scored on the test set afterwards
        test = [evaluate_run(r["run_dir"], split="test")["acc"] for r in ok]
        rows.append(
            {
                "batch_norm": batch_norm,
                "dropout": float(setting.setting["dropout"]),
                "val_mean": setting.mean if setting.usable else None,
                "val_std": setting.std if setting.usable else None,
                "test_mean": statistics.fmean(test) if test else None,
                "failed": len(runs) - len(ok),
                "why": [r["status"] for r in runs if r["status"] != "ok"],
                "per_seed_val": {int(r["seed"]): float(r["val_acc"]) for r in ok},
                "status": "",
            }
        )
    usable = [r for r in rows if r["val_mean"] is not None]
    _set_ranks(usable, "val_mean", "rank_short")
    chosen = float(outcome.chosen.setting["dropout"]) if outcome.chosen else None
    by_test = max(usable, key=lambda r: r["test_mean"]) if usable else None
    seeds = sorted({seed for r in usable for seed in r["per_seed_val"]})
    single = [_best_for_seed(usable, seed) for seed in seeds]
    top = sorted(usable, key=lambda r: r["val_mean"], reverse=True)[:3]
    for row in rows:
        if row["dropout"] == chosen:
            row["status"] = "chosen (val)"
        elif by_test is not None and row["dropout"] == by_test["dropout"]:
            row["status"] = "test-set pick"
        elif row["val_mean"] is None:
            row["status"] = f"failed ({_failure_kinds(row['why'])})"
    summary = {
        "batch_norm": batch_norm,
        "chosen": chosen,
        "chosen_val": outcome.chosen.mean if outcome.chosen else None,
        "chosen_std": outcome.chosen.std if outcome.chosen else None,
        "chosen_seeds": len(outcome.chosen.values) if outcome.chosen else 0,
        "final_test": outcome.final.get("test_acc"),
        "single_choices": single,
        "distinct_single": ", ".join(f"{p:.1f}" for p in single),
        "spread": statistics.fmean(r["val_std"] for r in usable) if usable else 0.0,
        "gap": top[0]["val_mean"] - top[-1]["val_mean"] if len(top) > 1 else 0.0,
        "test_pick": by_test["dropout"] if by_test else None,
        "test_pick_acc": by_test["test_mean"] if by_test else None,
        "failed_runs": sum(r["failed"] for r in rows),
        "failures": [why for r in rows for why in r["why"]],
    }
    return {"batch_norm": batch_norm, "rows": rows, "summary": summary}


def _rank_long(config: DropoutStudyConfig, directory: Path, variant: dict[str, Any]) -> None:
    """Train every p for ``ranking_epochs`` and add its validation accuracy and rank."""
    from scipy.stats import spearmanr

    from neuralab.studies.sweep.runner import run_sweep

    bn = variant["batch_norm"]
    spec = _spec(config, bn, epochs=config.ranking_epochs, seeds=config.ranking_seeds, final=False)
    outcome = run_sweep(spec, directory / f"ranking-bn-{_on(bn)}", workers=config.workers)
    long_by_p = {float(s.setting["dropout"]): s.mean for s in outcome.settings if s.usable}
    rows = variant["rows"]
    for row in rows:
        row["val_long"] = long_by_p.get(row["dropout"])
    both = [r for r in rows if r["val_mean"] is not None and r["val_long"] is not None]
    _set_ranks([r for r in rows if r["val_long"] is not None], "val_long", "rank_long")
    summary = variant["summary"]
    rho = spearmanr([r["val_mean"] for r in both], [r["val_long"] for r in both]).statistic
    summary["spearman"] = float(rho) if len(both) > 2 else None
    best_long = max(both, key=lambda r: r["val_long"]) if both else None
    summary["long_best"] = best_long["dropout"] if best_long else None
    chosen_row = next((r for r in rows if r["dropout"] == summary["chosen"]), None)
    summary["chosen_long_rank"] = chosen_row.get("rank_long") if chosen_row else None
    summary["chosen_long_loss"] = (
        best_long["val_long"] - chosen_row["val_long"]
        if best_long and chosen_row and chosen_row.get("val_long") is not None
        else None
    )


def dropout_conclusion(config: DropoutStudyConfig, summaries: list[dict[str, Any]]) -> str:
    """Return the study's sentence, computed from every batch-norm setting's summary."""
    parts = []
    for s in summaries:
        name = "with batch norm" if s["batch_norm"] else "without batch norm"
        if s["chosen"] is None:
            parts.append(f"{name}: no rate could be chosen (every run failed)")
            continue
        text = (
            f"{name}: chosen on validation p = {s['chosen']:.1f} (val acc {s['chosen_val']:.4f} "
            f"+- {s['chosen_std']:.4f} over {s['chosen_seeds']} seeds)"
        )
        if s["final_test"] is not None:
            text += (
                f", retrained {config.final_epochs} epoch(s): test accuracy {s['final_test']:.4f}"
            )
        distinct = len(set(s["single_choices"]))
        text += (
            f"; single {config.epochs}-epoch runs pick {distinct} different rate(s) across "
            f"{len(s['single_choices'])} seeds ({s['distinct_single']}), the mean seed-to-seed "
            f"spread ({s['spread']:.4f}) is {'larger' if s['spread'] > s['gap'] else 'smaller'} "
            f"than the gap between the three best rates ({s['gap']:.4f})"
        )
        if s["test_pick"] is not None:
            pick = "the same p" if s["test_pick"] == s["chosen"] else f"p = {s['test_pick']:.1f}"
            text += (
                f"; a test-set choice would pick {pick} and report {s['test_pick_acc']:.4f}, "
                "a number already used to choose"
            )
        if s.get("long_best") is not None:
            agree = "the same p" if s["long_best"] == s["chosen"] else f"p = {s['long_best']:.1f}"
            text += (
                f"; after {config.ranking_epochs} epochs the best rate is {agree} (the "
                f"{config.epochs}-epoch choice ranks {s['chosen_long_rank']}, "
                f"{s['chosen_long_loss']:.4f} behind), Spearman rho of the two rankings "
                + (f"{s['spearman']:.2f}" if s["spearman"] is not None else "undefined")
            )
        if s["failed_runs"]:
            text += (
                f"; {s['failed_runs']} run(s) failed ({_failure_kinds(s['failures'])}), excluded"
            )
        parts.append(text)
    sentence = ". ".join(part[0].upper() + part[1:] for part in parts)
    finals = {s["batch_norm"]: s["final_test"] for s in summaries if s["final_test"] is not None}
    if len(finals) == 2:
        better = "higher" if finals[True] > finals[False] else "NOT higher"
        sentence += (
            f". Batch norm + dropout: final test accuracy {finals[True]:.4f} vs "
            f"{finals[False]:.4f} without batch norm ({better} with it)"
        )
    return sentence + "."


def _spec(
    config: DropoutStudyConfig, batch_norm: bool, *, epochs: int, seeds: int, final: bool
) -> Any:
    from neuralab.studies.sweep.grid import GridAxis
    from neuralab.studies.sweep.spec import SweepSpec

    base = {
        "data": config.data,
        "data_dir": config.data_dir,
        "model": config.model,
        "widths": list(config.widths),
        "batch_norm": batch_norm,
        "epochs": epochs,
        "batch_size": config.batch_size,
        "val_fraction": config.val_fraction,
        "seed": config.seed,
    }
    return SweepSpec.from_axes(
        base,
        [GridAxis("dropout", tuple(float(p) for p in config.dropouts))],
        seeds=seeds,
        select="val_acc",
        final_epochs=config.final_epochs if final else None,
    )


def _runs(sweep_dir: Path, spec: Any, trials: list[int]) -> list[dict[str, Any]]:
    """Return the seed runs recorded by the sweep's trials ``trials``."""
    from neuralab.studies.sweep.storage import open_study

    study = open_study(spec, sweep_dir)
    found = study.get_trials(deepcopy=False)
    return [run for number in trials for run in found[number].user_attrs.get("runs", [])]


def _set_ranks(rows: list[dict[str, Any]], key: str, rank_key: str) -> None:
    """Write 1-based ranks (best first, ties share the better rank) of ``row[key]``."""
    values = sorted((r[key] for r in rows), reverse=True)
    for row in rows:
        row[rank_key] = values.index(row[key]) + 1


def _best_for_seed(rows: list[dict[str, Any]], seed: int) -> float:
    """Return the rate a single run with ``seed`` would choose (rates where it failed skipped)."""
    candidates = [row for row in rows if seed in row["per_seed_val"]]
    return float(max(candidates, key=lambda row: row["per_seed_val"][seed])["dropout"])


def _failure_kinds(failures: list[str]) -> str:
    kinds = ["diverged" if "diverged" in f else "chance level" for f in failures]
    return ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))


def _on(flag: bool) -> str:
    return "on" if flag else "off"
