"""What a sweep found: one row per trial, mean +- std per setting, the choice, the final test.

The choice uses the validation metric alone (mean over the seeds that did not fail). Only the
chosen setting is retrained (``final_epochs``) and evaluated on the test set, once.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralab.atomic import write_text
from neuralab.config import make_config
from neuralab.errors import NeuralabError
from neuralab.studies.sweep.spec import SELECTS, SweepSpec, open_sweep
from neuralab.studies.sweep.storage import open_study
from neuralab.studies.sweep.trial import TrainFunction


@dataclass
class SettingSummary:
    """One setting of the swept fields, over its seeds."""

    setting: dict[str, Any]
    values: list[float]  # the selection metric of each seed that did not fail
    failed: list[str]  # why each failed seed failed
    trials: list[int]  # Optuna trial numbers that trained this setting

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values) if self.values else math.nan

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def usable(self) -> bool:
        """A setting with no successful seed is failed: never selected or averaged."""
        return bool(self.values)


@dataclass
class SweepOutcome:
    """Everything the sweep report shows."""

    spec: SweepSpec
    trials: list[dict[str, Any]]  # one row per trial (results.csv)
    settings: list[SettingSummary]  # one per setting, in grid order
    chosen: SettingSummary | None
    final: dict[str, Any] = field(default_factory=dict)  # the retrained run's metrics

    @property
    def maximize(self) -> bool:
        return SELECTS[self.spec.select] == "maximize"


def collect(directory: str | os.PathLike[str]) -> SweepOutcome:
    """Read every trial of the sweep in ``directory`` and choose by the validation metric."""
    from optuna.trial import TrialState

    spec = open_sweep(directory)
    study = open_study(spec, directory)
    rows: list[dict[str, Any]] = []
    by_setting: dict[str, SettingSummary] = {}
    for point in spec.settings() if spec.search == "grid" else []:
        by_setting[_key(point)] = SettingSummary(point, [], [], [])
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.PRUNED and "setting" not in trial.user_attrs:
            continue  # an empty pop of the queue: nothing was trained
        setting = trial.user_attrs.get("setting", dict(trial.params))
        runs = trial.user_attrs.get("runs", [])
        row: dict[str, Any] = {"trial": trial.number, "state": trial.state.name, **setting}
        ok = [r for r in runs if r["status"] == "ok"]
        row["seeds_ok"] = len(ok)
        row["seeds_failed"] = len(runs) - len(ok)
        row[spec.select] = trial.value if trial.state == TrialState.COMPLETE and ok else None
        row["status"] = (
            "ok" if ok else ("; ".join(r["status"] for r in runs) or trial.state.name.lower())
        )
        rows.append(row)
        if trial.state != TrialState.COMPLETE:
            continue
        summary = by_setting.setdefault(_key(setting), SettingSummary(setting, [], [], []))
        summary.trials.append(trial.number)
        summary.values.extend(float(r[spec.select]) for r in ok)
        summary.failed.extend(r["status"] for r in runs if r["status"] != "ok")
    settings = list(by_setting.values())
    usable = [s for s in settings if s.usable]
    maximize = SELECTS[spec.select] == "maximize"
    chosen = None
    if usable:
        chosen = (max if maximize else min)(usable, key=lambda s: s.mean)
    return SweepOutcome(spec, rows, settings, chosen)


def pending(outcome: SweepOutcome) -> list[SettingSummary]:
    """Return the grid settings that have no finished trial yet."""
    return [s for s in outcome.settings if not s.trials]


def final_run(
    outcome: SweepOutcome,
    directory: str | os.PathLike[str],
    train_function: TrainFunction | None = None,
) -> dict[str, Any]:
    """Retrain the chosen setting for ``final_epochs`` and evaluate it once on the test set.

    The result is kept in ``final/result.json``; a finished final run is not trained again.
    """
    from neuralab.vision.config import TrainConfig

    spec = outcome.spec
    if outcome.chosen is None:
        raise NeuralabError("every setting of the sweep failed: there is nothing to choose")
    if spec.final_epochs is None:
        return {}
    folder = Path(directory) / "final"
    result_file = folder / "result.json"
    if result_file.is_file():
        saved = json.loads(result_file.read_text(encoding="utf-8"))
        if saved.get("setting") == outcome.chosen.setting:
            return dict(saved)
    if train_function is None:
        train_function = _continue_or_replace
    values = {
        **spec.base,
        **outcome.chosen.setting,
        "epochs": spec.final_epochs,
        "monitor": spec.select,
        "evaluate_test": True,
        "run_dir": str(folder / "run"),
    }
    folder.mkdir(exist_ok=True)
    result = train_function(make_config(TrainConfig, values))
    final = {
        "setting": outcome.chosen.setting,
        "epochs": spec.final_epochs,
        "best_epoch": result.best_epoch,
        spec.select: result.best_value,
        "test_acc": result.test.get("acc"),
        "test_loss": result.test.get("loss"),
        "test_n": result.test.get("n"),
        "run_dir": str(result.run_dir),
    }
    write_text(result_file, json.dumps(final, indent=2))
    return final


def _continue_or_replace(config: Any) -> Any:
    """Train the final run: resume an interrupted one of this config, else start it afresh."""
    from neuralab.config import config_to_dict
    from neuralab.vision.checkpoint import load_checkpoint
    from neuralab.vision.resolve import config_differences
    from neuralab.vision.train import train

    last = Path(config.run_dir) / "last.pt"
    if last.is_file():
        try:
            saved = load_checkpoint(last)["config"]
        except NeuralabError:
            saved = None
        if saved is not None and not config_differences(saved, config_to_dict(config)):
            return train(config, resume=True, progress=False)
    # the chosen setting changed (or the old run is unreadable): the old final run is replaced
    return train(config, overwrite=True)


def conclusion(outcome: SweepOutcome) -> str:
    """Return one sentence computed from the numbers: what was chosen, on what, and its test."""
    spec = outcome.spec
    if outcome.chosen is None:
        return "Every setting failed (diverged or stayed at chance level): nothing was chosen."
    chosen = outcome.chosen
    setting = ", ".join(f"{k}={v}" for k, v in chosen.setting.items())
    usable = [s for s in outcome.settings if s.usable]
    failed = sum(1 for s in outcome.settings if s.trials and not s.usable)
    sentence = (
        f"Chosen on validation only: {setting} ({spec.select} {chosen.mean:.4f} +- {chosen.std:.4f} "
        f"over {len(chosen.values)} seed(s)), best of {len(usable)} usable setting(s)"
    )
    if failed:
        sentence += f"; {failed} setting(s) failed and were excluded"
    final = outcome.final
    if final.get("test_acc") is not None:
        sentence += (
            f"; retrained for {final['epochs']} epochs it scores test accuracy "
            f"{final['test_acc']:.4f} (test set evaluated once)"
        )
    return sentence + "."


def _key(setting: dict[str, Any]) -> str:
    return json.dumps(setting, sort_keys=True, default=str)
