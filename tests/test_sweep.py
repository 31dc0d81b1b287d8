"""Sweeps: grid syntax, exactly-once trials, resume, failed runs excluded, test used once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from neuralab.errors import NeuralabError
from neuralab.studies.sweep.grid import grid_points, parse_grid
from neuralab.studies.sweep.results import collect
from neuralab.studies.sweep.runner import finish_sweep, run_sweep, start_sweep
from neuralab.studies.sweep.spec import SweepSpec, open_sweep
from neuralab.studies.sweep.storage import open_storage
from neuralab.studies.sweep.worker import run_worker
from neuralab.vision.config import TrainConfig

# -- grid syntax ------------------------------------------------------------------------------


def test_range_and_list_forms():
    axis = parse_grid("dropout=0:0.9:0.1", TrainConfig)
    assert axis.field == "dropout"
    assert axis.values == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    assert parse_grid("epochs=1,2,3", TrainConfig).values == (1, 2, 3)
    assert parse_grid("optimizer=sgd,adam", TrainConfig).values == ("sgd", "adam")
    points = grid_points(
        [parse_grid("lr=0.1,0.01", TrainConfig), parse_grid("sam=true,false", TrainConfig)]
    )
    assert points == [
        {"lr": 0.1, "sam": True},
        {"lr": 0.1, "sam": False},
        {"lr": 0.01, "sam": True},
        {"lr": 0.01, "sam": False},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dropout", "is not of the form field=a:b:step"),
        ("dropout=0:x:0.1", "'x' is not a number"),
        ("dropout=0:0.9", "needs three numbers"),
        ("dropout=0.9:0:0.1", "step > 0 and b >= a"),
        ("dropot=0,1", "did you mean 'dropout'"),
        ("optimizer=sgd,rmsprop", "valid: adam, adamw, sgd"),
        ("epochs=1,,2", "empty value"),
        ("lr=0.1,0.1", "repeats a value"),
    ],
)
def test_grid_errors_quote_the_token(text, message):
    with pytest.raises(NeuralabError, match=message):
        parse_grid(text, TrainConfig)


# -- the sweep with a stand-in trainer (fast) ---------------------------------------------------


@dataclass
class FakeResult:
    run_dir: Path
    history: list[dict[str, Any]]
    best_epoch: int
    best_value: float
    test: dict[str, Any] = field(default_factory=dict)
    num_classes: int = 10


class FakeTrainer:
    """val_acc peaks at lr = 0.03; lr = 0.5 stays at chance level; records every call."""

    def __init__(self) -> None:
        self.calls: list[TrainConfig] = []

    def __call__(self, config: TrainConfig) -> FakeResult:
        self.calls.append(config)
        if config.lr == 0.5:
            val_acc = 0.1  # chance for 10 classes: must be flagged failed
        else:
            val_acc = 0.9 - abs(config.lr - 0.03) + 0.001 * config.seed
        row = {"epoch": 1, "val_acc": val_acc, "val_loss": 1 - val_acc, "train_acc": val_acc}
        test = {"acc": 0.95, "loss": 0.2, "n": 100} if config.evaluate_test else {}
        return FakeResult(Path(config.run_dir or "."), [row], 1, val_acc, test)


def _spec(**kwargs: Any) -> SweepSpec:
    base = {"data": "digits", "model": "mlp", "epochs": 1, "seed": 0}
    axes = [parse_grid("lr=0.01,0.03,0.1,0.5", TrainConfig)]
    return SweepSpec.from_axes(base, axes, **{"seeds": 2, "final_epochs": 3, **kwargs})


def test_every_trial_once_choice_on_validation_and_one_test(tmp_path):
    trainer = FakeTrainer()
    outcome = run_sweep(_spec(), tmp_path / "sweep", train_function=trainer)
    sweep_calls = [c for c in trainer.calls if not c.evaluate_test]
    assert sorted((c.lr, c.seed) for c in sweep_calls) == sorted(
        (lr, seed) for lr in (0.01, 0.03, 0.1, 0.5) for seed in (0, 1)
    )
    final_calls = [c for c in trainer.calls if c.evaluate_test]
    assert len(final_calls) == 1 and final_calls[0].lr == 0.03 and final_calls[0].epochs == 3
    assert outcome.chosen is not None and outcome.chosen.setting == {"lr": 0.03}
    assert outcome.chosen.mean == pytest.approx(0.9005)
    failed = [s for s in outcome.settings if not s.usable]
    assert [s.setting for s in failed] == [{"lr": 0.5}]
    assert all("chance level" in why for why in failed[0].failed)
    for name in ("results.csv", "summary.csv", "report.md", "report.html", "figures/sweep.png"):
        assert (tmp_path / "sweep" / name).is_file(), name
    report = (tmp_path / "sweep" / "report.md").read_text()
    assert "lr=0.03" in report and "test accuracy 0.9500" in report
    assert "data:image/png;base64," in (tmp_path / "sweep" / "report.html").read_text()


def test_interrupted_sweep_resumes_without_rerunning(tmp_path):
    directory = tmp_path / "sweep"
    first = FakeTrainer()
    start_sweep(_spec(), directory)
    assert run_worker(directory, train_function=first, max_trials=2) == 2
    with pytest.raises(NeuralabError, match="2 setting\\(s\\) of the sweep .* have not run yet"):
        finish_sweep(directory, train_function=first)
    second = FakeTrainer()
    run_sweep(_spec(), directory, train_function=second)  # same spec: resume
    done_first = {c.lr for c in first.calls}
    done_second = {c.lr for c in second.calls if not c.evaluate_test}
    assert len(done_first) == 2 and len(done_second) == 2
    assert done_first.isdisjoint(done_second)
    rows = collect(directory).trials
    assert sorted(r["lr"] for r in rows) == [0.01, 0.03, 0.1, 0.5]


def test_interrupt_gives_the_trial_back(tmp_path):
    directory = tmp_path / "sweep"
    start_sweep(_spec(seeds=1, final_epochs=None), directory)

    def interrupted(config: TrainConfig) -> FakeResult:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_worker(directory, train_function=interrupted)
    trainer = FakeTrainer()
    run_worker(directory, train_function=trainer)
    assert sorted(c.lr for c in trainer.calls) == [0.01, 0.03, 0.1, 0.5]


def test_different_sweep_in_same_directory_is_refused(tmp_path):
    directory = tmp_path / "sweep"
    open_sweep(directory, _spec())
    with pytest.raises(NeuralabError, match="already holds a different sweep .*seeds: 2 vs 3"):
        open_sweep(directory, _spec(seeds=3))


def test_unreachable_storage_fails_before_training(tmp_path):
    with pytest.raises(NeuralabError, match="cannot be reached"):
        open_storage(f"sqlite:///{tmp_path}/missing-folder/deeper/x.db")
    trainer = FakeTrainer()
    spec = _spec(storage="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(NeuralabError, match="storage .* cannot be reached"):
        run_sweep(spec, tmp_path / "sweep", train_function=trainer)
    assert trainer.calls == []


def test_spec_errors():
    with pytest.raises(NeuralabError, match="--trials"):
        _spec(search="tpe")
    with pytest.raises(NeuralabError, match="search 'bayes'"):
        _spec(search="bayes")
    with pytest.raises(NeuralabError, match="select"):
        _spec(select="test_acc")


def test_tpe_search_runs_the_trial_budget(tmp_path):
    trainer = FakeTrainer()
    outcome = run_sweep(
        _spec(search="tpe", trials=5, seeds=1, final_epochs=None),
        tmp_path / "s",
        train_function=trainer,
    )
    assert len(trainer.calls) == 5
    # the stand-in's val_acc is 0.9 - |lr - 0.03| (lr = 0.5 fails): the best lr TPE tried wins
    tried = {c.lr for c in trainer.calls} - {0.5}
    best = min(tried, key=lambda lr: abs(lr - 0.03))
    assert outcome.chosen is not None and outcome.chosen.setting == {"lr": best}
    assert outcome.chosen.mean == pytest.approx(0.9 - abs(best - 0.03))


def test_journal_storage_and_requeue_of_a_killed_workers_trial(tmp_path):
    from neuralab.studies.sweep.storage import open_study
    from neuralab.studies.sweep.worker import requeue_running

    directory = tmp_path / "sweep"
    spec = _spec(seeds=1, final_epochs=None, storage=f"journal:{tmp_path / 'journal.log'}")
    start_sweep(spec, directory)
    study = open_study(spec, directory)
    killed = study.ask()  # a worker took this trial and died: it stays RUNNING, no heartbeat
    assert killed.user_attrs["grid_point"] == 0
    trainer = FakeTrainer()
    run_worker(directory, train_function=trainer)  # does not wait for the dead worker's trial
    assert sorted(c.lr for c in trainer.calls) == [0.03, 0.1, 0.5]
    assert requeue_running(directory) == 1
    run_worker(directory, train_function=trainer)
    assert sorted(c.lr for c in trainer.calls) == [0.01, 0.03, 0.1, 0.5]


def test_queue_lock_excludes_another_process(tmp_path):
    """The queue lock (filelock) is held across processes: another one times out, then gets it."""
    import subprocess
    import sys

    from neuralab.studies.sweep.worker import _queue_lock

    lock_file = tmp_path / ".queue.lock"
    probe = (
        "import sys\nfrom filelock import FileLock, Timeout\n"
        "try:\n    FileLock(sys.argv[1], timeout=0.2).acquire()\n    print('acquired')\n"
        "except Timeout:\n    print('timeout')\n"
    )

    def other_process() -> str:
        command = [sys.executable, "-c", probe, str(lock_file)]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()

    with _queue_lock(lock_file):
        assert other_process() == "timeout"
    assert other_process() == "acquired"


# -- failed runs: diverged and chance level ------------------------------------------------------


def test_a_diverged_run_is_recorded_as_failed_and_the_sweep_goes_on(tmp_path):
    """The real trainer: lr = 1e6 makes the loss NaN in the first epoch (it raised out of the
    sweep before); the trial is recorded as failed with its reason, never chosen, and shown."""
    base = {
        "data": "digits",
        "model": "mlp",
        "epochs": 1,
        "seed": 0,
        "optimizer": "sgd",
        "schedule": "constant",
    }
    spec = SweepSpec.from_axes(
        base, [parse_grid("lr=0.05,1e6", TrainConfig)], seeds=1, final_epochs=1
    )
    directory = tmp_path / "sweep"
    outcome = run_sweep(spec, directory)
    by_lr = {s.setting["lr"]: s for s in outcome.settings}
    assert by_lr[1e6].values == [] and not by_lr[1e6].usable
    assert by_lr[1e6].failed == ["failed: diverged (loss nan at epoch 1, batch 3)"]
    assert outcome.chosen is not None and outcome.chosen.setting == {"lr": 0.05}
    report = (directory / "report.md").read_text()
    assert "diverged (loss nan at epoch 1, batch 3)" in report
    assert "1 setting(s) failed and were excluded" in report
    assert "chance level: 0.13 for K = 10 classes" in report
    # a worker started again has nothing left to run and does not fail
    assert run_worker(directory) == 0


def test_a_run_at_chance_level_is_failed_with_the_stated_threshold(tmp_path):
    """The course's dropout p = 0.2 run ended at 0.1009 on 10 classes: it guessed."""

    def trainer(config: TrainConfig) -> FakeResult:
        val_acc = 0.1009 if config.lr == 0.5 else 0.9
        row = {"epoch": 1, "val_acc": val_acc, "val_loss": 2.3, "train_acc": val_acc}
        return FakeResult(Path(str(config.run_dir)), [row], 1, val_acc)

    outcome = run_sweep(_spec(seeds=1, final_epochs=None), tmp_path / "s", train_function=trainer)
    failed = next(s for s in outcome.settings if s.setting == {"lr": 0.5})
    assert failed.failed == ["failed: chance level (val acc 0.1009 <= 1/10 + 0.03 = 0.1300)"]
    assert outcome.chosen is not None and outcome.chosen.setting != {"lr": 0.5}


def test_an_interrupted_trial_keeps_its_finished_seeds_and_resumes_the_other(tmp_path):
    """Ctrl-C during seed 1: the retried trial takes over the folders, seed 0 (finished) is not
    trained again and seed 1 continues from its last.pt (epoch 1 of 2 kept)."""
    from neuralab.vision.train import train

    base = {"data": "digits", "model": "mlp", "epochs": 2, "seed": 0}
    spec = SweepSpec.from_axes(base, [parse_grid("lr=0.003", TrainConfig)], seeds=2)
    directory = tmp_path / "sweep"
    start_sweep(spec, directory)
    epochs_trained: list[tuple[int, int]] = []

    def interrupted(config: TrainConfig, resume: bool = False):
        if config.seed == 1:  # one epoch of seed 1, then Ctrl-C
            train(dataclasses.replace(config, epochs=1), progress=False)
            raise KeyboardInterrupt
        return train(config, resume=resume, progress=False)

    with pytest.raises(KeyboardInterrupt):
        run_worker(directory, train_function=interrupted)
    assert (directory / "runs" / "trial-0000" / "seed1" / "last.pt").is_file()

    def counting(config: TrainConfig, resume: bool = False):
        result = train(config, resume=resume, progress=False)
        log = (Path(str(config.run_dir)) / "train.log").read_text()
        epochs_trained.append((config.seed, log.count("resuming")))
        return result

    assert run_worker(directory, train_function=counting) == 1
    assert not (directory / "runs" / "trial-0000").exists()  # taken over by the retry
    retried = directory / "runs" / "trial-0001"
    assert epochs_trained == [(0, 1), (1, 1)]  # both continued from their last.pt
    for seed in (0, 1):
        rows = (retried / f"seed{seed}" / "metrics.csv").read_text().splitlines()
        assert len(rows) == 3  # header + epochs 1 and 2, each once
    outcome = collect(directory)
    assert outcome.chosen is not None and len(outcome.chosen.values) == 2
