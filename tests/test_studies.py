"""The course's studies in --quick form at tiny sizes: each runs, reports, and its numbers hold."""

from __future__ import annotations

import csv
import json
import math

import pytest
import yaml
from scipy.stats import spearmanr

from neuralab.errors import NeuralabError
from neuralab.studies.study import get_study, list_studies, run_study

STUDIES = ["augmentation", "degradation", "dropout", "initialization", "sam"]


def test_table():
    assert list_studies() == STUDIES
    with pytest.raises(NeuralabError, match="did you mean 'dropout'"):
        get_study("dropuot")


def test_cli_lists_the_studies(run_cli):
    result = run_cli("study", "--list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    [table] = result.tables()
    assert table["rows"] == [{"name": n, "summary": get_study(n).summary} for n in STUDIES]
    # every study is a command whose flags are its config's fields, with their defaults
    helped = run_cli("study", "dropout", "--help")
    assert (
        helped.exit_code == 0
        and "--dropouts" in helped.stdout
        and "--final-epochs" in helped.stdout
    )


def _last_metrics(run_dir):
    """Return the last epoch's row of a training run's metrics.jsonl (full precision)."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return json.loads(lines[-1])


def _check_report(result, directory, csv_names=("results.csv",)):
    """The run directory holds the config, one CSV per table and the reports with the
    conclusion and every figure."""
    assert yaml.safe_load((directory / "config.yaml").read_text()) is not None
    for name, table in zip(csv_names, result.tables, strict=True):
        with open(directory / name) as handle:
            assert len(list(csv.DictReader(handle))) == len(table.rows)
    markdown = (directory / "report.md").read_text()
    assert result.conclusion in markdown and "Run time:" in markdown
    for figure in result.figures:
        assert figure.is_file() and f"(figures/{figure.name})" in markdown
    assert "data:image/png;base64," in (directory / "report.html").read_text()


def test_dropout_study(tmp_path):
    result = run_study(
        "dropout",
        tmp_path,
        quick=True,
        overrides={"dropouts": "0.0,0.9", "seeds": 2, "final_epochs": 1},
    )
    rows = {row["dropout"]: row for row in result.tables[0].rows}
    # after one epoch, dropping 90 % of the units has learned nothing: both runs end within
    # 0.03 of chance (1/10) and are failed, shown and never chosen
    assert rows[0.0]["val_mean"] > 0.8 and rows[0.9]["val_mean"] is None
    assert rows[0.9]["failed"] == 2 and rows[0.9]["status"] == "failed (2 chance level)"
    assert sorted(rows[0.0]["per_seed_val"]) == [0, 1]
    (summary,) = result.measurements["variants"]
    assert summary["chosen"] == 0.0 and rows[0.0]["status"] == "chosen (val)"
    assert summary["single_choices"] == [0.0, 0.0]  # each seed alone picks the same p here
    assert summary["test_pick"] == 0.0 and summary["failed_runs"] == 2
    assert 0.8 < summary["final_test"] <= 1
    assert "Without batch norm: chosen on validation p = 0.0" in result.conclusion
    assert "2 run(s) failed (2 chance level), excluded" in result.conclusion
    _check_report(result, tmp_path, ("results-1.csv", "results-2.csv"))


def test_dropout_study_with_batch_norm_and_the_longer_ranking(tmp_path):
    result = run_study(
        "dropout",
        tmp_path,
        quick=True,
        overrides={
            "dropouts": "0.0,0.3,0.6",
            "seeds": 1,
            "final_epochs": 1,
            "batch_norms": "false,true",
            "ranking_epochs": 2,
        },
    )
    rows = result.tables[0].rows
    assert [(r["batch_norm"], r["dropout"]) for r in rows] == [
        (bn, p) for bn in (False, True) for p in (0.0, 0.3, 0.6)
    ]
    for bn in (False, True):
        mine = [r for r in rows if r["batch_norm"] == bn]
        # rank = 1 + how many rates did strictly better (ties share the better rank)
        for key, rank in (("val_mean", "rank_short"), ("val_long", "rank_long")):
            for row in mine:
                assert row[rank] == 1 + sum(other[key] > row[key] for other in mine)
        # two epochs learn more than one, on average over the rates (a rate already at 99 % of
        # the 144 validation images may lose one of them in its second epoch)
        assert sum(r["val_long"] for r in mine) > sum(r["val_mean"] for r in mine)
    summaries = {s["batch_norm"]: s for s in result.measurements["variants"]}
    for bn, summary in summaries.items():
        mine = [r for r in rows if r["batch_norm"] == bn]
        # Spearman's rho of the 1-epoch and the long ranking, and the long rank of the choice
        expected = spearmanr([r["val_mean"] for r in mine], [r["val_long"] for r in mine])
        assert summary["spearman"] == pytest.approx(expected.statistic)
        [chosen] = [r for r in mine if r["dropout"] == summary["chosen"]]
        assert chosen["rank_short"] == 1  # chosen by the 1-epoch validation mean
        assert summary["chosen_long_rank"] == chosen["rank_long"]
    assert "Batch norm + dropout: final test accuracy" in result.conclusion
    assert (tmp_path / "sweep-bn-on" / "report.md").is_file()
    assert (tmp_path / "ranking-bn-off" / "report.md").is_file()


def test_sam_study(tmp_path):
    result = run_study(
        "sam",
        tmp_path,
        quick=True,
        overrides={"epochs": 1, "power_iterations": 3, "ascent_steps": 2, "profile_points": 5},
    )
    rows = result.measurements["rows"]
    assert [r["optimizer"] for r in rows] == ["sgd", "sam", "asam"]
    assert [r["rho"] for r in rows] == [None, 0.05, 0.5]
    alphas, profiles = result.measurements["alphas"], result.measurements["profiles"]
    assert alphas == [-1.0, -0.5, 0.0, 0.5, 1.0]
    for row in rows:
        # the profile at alpha = 0 is L(w) itself, measured by the ball-sharpness code
        assert profiles[row["optimizer"]][2] == pytest.approx(row["train_loss"], rel=1e-9)
        assert row["ball_sharpness"] > 0 and 0 < row["lambda_max"] < math.inf
    _check_report(result, tmp_path)


def test_sam_sentence_states_both_measures_and_their_changes():
    """Flatter only when both measures are lower; each change relative to SGD is in the sentence."""
    from neuralab.studies.sam_study import SamStudyConfig, sam_conclusion

    def rows(lambda_max: float, ball: float) -> list[dict[str, float | str]]:
        sgd = {"optimizer": "sgd", "lambda_max": 12.87, "ball_sharpness": 0.05295, "test_acc": 0.99}
        sam = {
            "optimizer": "sam",
            "lambda_max": lambda_max,
            "ball_sharpness": ball,
            "test_acc": 0.9,
        }
        return [sgd, sam, {"optimizer": "asam", "test_acc": 0.95}]

    sentence, flatter = sam_conclusion(SamStudyConfig(), rows(9.652, 0.05184))
    assert flatter and "lambda_max -25%, ball sharpness -2%; one seed" in sentence
    assert "SAM's minimum is flatter by both measures" in sentence
    sentence, flatter = sam_conclusion(SamStudyConfig(), rows(9.652, 0.06))
    assert not flatter and "ball sharpness +13%" in sentence and "NOT flatter" in sentence


def test_degradation_study(tmp_path):
    result = run_study(
        "degradation", tmp_path, quick=True, overrides={"depths": "8,14", "epochs": 1}
    )
    rows = result.measurements["rows"]
    assert [(r["network"], r["depth"]) for r in rows] == [
        ("plain", 8),
        ("plain", 14),
        ("residual", 8),
        ("residual", 14),
    ]
    for row in rows:
        # each row is the last epoch of the network the study says it trained
        run_dir = tmp_path / "runs" / f"{row['network']}-{row['depth']}"
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
        assert (config["model"], config["depth"]) == (row["network"], row["depth"])
        last = _last_metrics(run_dir)
        assert row["train_error"] == pytest.approx(1 - last["train_acc"])
        assert row["val_error"] == pytest.approx(1 - last["val_acc"])
    _check_report(result, tmp_path)


def test_augmentation_study(tmp_path):
    result = run_study("augmentation", tmp_path, quick=True, overrides={"epochs": 2})
    rows = result.measurements["rows"]
    assert [row["epoch"] for row in rows] == [1, 2]
    for key, run in (("with", "with-augmentation"), ("without", "without-augmentation")):
        last = _last_metrics(tmp_path / "runs" / run)
        assert rows[-1][f"gap_{key}"] == pytest.approx(last["train_acc"] - last["val_acc"])
        assert rows[-1][f"val_{key}"] == pytest.approx(last["val_acc"])
    # the two runs really differ: augmentation changes what the network is trained on
    assert (rows[0]["gap_with"], rows[0]["val_with"]) != (
        rows[0]["gap_without"],
        rows[0]["val_without"],
    )
    _check_report(result, tmp_path)


def test_initialization_study_zero_gradients(tmp_path):
    result = run_study("initialization", tmp_path, quick=True, overrides={"epochs": 1})
    gradients = result.measurements["gradients"]
    # all-zero weights: every activation is 0, so every weight gradient is exactly 0
    assert all(row["zeros"] == 0.0 for row in gradients)
    # too small (N(0, 0.01 / fan_in)): every layer's gradient is orders of magnitude below He's
    assert max(row["small"] for row in gradients) < 1e-3 * min(
        row["he_normal"] for row in gradients
    )
    _check_report(result, tmp_path, ("results-1.csv", "results-2.csv"))


def test_a_study_writes_its_config_first_and_refuses_other_settings(tmp_path, monkeypatch):
    from neuralab.studies import study as study_module

    def interrupted(config, folder):
        assert (folder / "config.yaml").is_file()  # recorded before anything ran
        raise KeyboardInterrupt

    original = study_module.get_study("degradation")
    monkeypatch.setattr(
        study_module, "get_study", lambda name: study_module.Study(
            original.name, original.summary, original.config_class, original.quick, interrupted
        ),
    )  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        run_study("degradation", tmp_path / "d", quick=True, overrides={"depths": "8"})
    saved = yaml.safe_load((tmp_path / "d" / "config.yaml").read_text())
    assert saved["depths"] == [8]
    with pytest.raises(NeuralabError, match=r"other settings \(depths: \[8\] -> \[14\]\)"):
        run_study("degradation", tmp_path / "d", quick=True, overrides={"depths": "14"})


@pytest.mark.slow
def test_an_interrupted_study_continues_from_its_directory(tmp_path, monkeypatch):
    """Ctrl-C in the second network's second epoch; the same command again resumes it from its
    last.pt and keeps the first network: the numbers are those of an uninterrupted study."""
    from neuralab.vision import fit as fit_module

    settings = {"depths": "8", "epochs": 2}
    reference = run_study("degradation", tmp_path / "reference", quick=True, overrides=settings)
    real_epoch, calls = fit_module.train_one_epoch, []

    def interrupted(*args, **kwargs):
        calls.append(kwargs["epoch"])
        if len(calls) == 4:  # plain-8 epochs 1, 2; residual-8 epoch 1; then Ctrl-C in epoch 2
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(fit_module, "train_one_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_study("degradation", tmp_path / "study", quick=True, overrides=settings)
    monkeypatch.setattr(fit_module, "train_one_epoch", real_epoch)
    assert (tmp_path / "study" / "runs" / "residual-8" / "last.pt").is_file()
    result = run_study("degradation", tmp_path / "study", quick=True, overrides=settings)
    assert result.measurements["rows"] == reference.measurements["rows"]
    _check_report(result, tmp_path / "study")
