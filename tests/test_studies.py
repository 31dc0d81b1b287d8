"""The course's studies in --quick form at tiny sizes: each runs, reports, and its numbers hold."""

from __future__ import annotations

import math

import pytest

from neuralab.errors import NeuralabError
from neuralab.studies.study import get_study, list_studies, run_study

TINY = {"data": "digits"}


def test_registry():
    assert list_studies() == ["augmentation", "degradation", "dropout", "initialization", "sam"]
    with pytest.raises(NeuralabError, match="did you mean 'dropout'"):
        get_study("dropuot")


def _reports(directory):
    return (directory / "report.md").is_file() and (directory / "report.html").is_file()


def test_dropout_study(tmp_path):
    result = run_study(
        "dropout",
        tmp_path,
        quick=True,
        overrides={"dropouts": "0.0,0.9", "seeds": 2, "final_epochs": 1},
    )
    numbers = result.numbers
    assert numbers["chosen"] in (0.0, 0.9)
    assert 1 <= len(numbers["single_choices"]) <= 2  # one per seed that did not fail
    assert numbers["final_test_acc"] is not None and 0 < numbers["final_test_acc"] <= 1
    assert "Chosen on validation" in result.conclusion and _reports(tmp_path)


def test_sam_study(tmp_path):
    result = run_study(
        "sam",
        tmp_path,
        quick=True,
        overrides={"epochs": 1, "power_iterations": 3, "ascent_steps": 2, "profile_points": 5},
    )
    rows = result.numbers["rows"]
    assert [r["optimizer"] for r in rows] == ["sgd", "sam", "asam"]
    for row in rows:
        assert row["ball_sharpness"] >= 0 and math.isfinite(row["lambda_max"])
    assert _reports(tmp_path)


def test_degradation_study(tmp_path):
    result = run_study(
        "degradation", tmp_path, quick=True, overrides={"depths": "8,14", "epochs": 1}
    )
    rows = result.numbers["rows"]
    assert [(r["network"], r["depth"]) for r in rows] == [
        ("plain", 8),
        ("plain", 14),
        ("residual", 8),
        ("residual", 14),
    ]
    assert all(0 <= r["train_error"] <= 1 for r in rows) and _reports(tmp_path)


def test_augmentation_study(tmp_path):
    result = run_study("augmentation", tmp_path, quick=True, overrides={"epochs": 2})
    rows = result.numbers["rows"]
    assert len(rows) == 2 and _reports(tmp_path)
    # the two runs really differ: augmentation changes what the network is trained on
    assert (rows[0]["gap_with"], rows[0]["val_with"]) != (
        rows[0]["gap_without"],
        rows[0]["val_without"],
    )


def test_initialization_study_zero_gradients(tmp_path):
    result = run_study("initialization", tmp_path, quick=True, overrides={"epochs": 1})
    gradients = result.numbers["gradients"]
    # all-zero weights: every activation is 0, so every weight gradient is exactly 0
    assert all(row["zeros"] == 0.0 for row in gradients)
    # too small (N(0, 0.01 / fan_in)): every layer's gradient is orders of magnitude below He's
    assert max(row["small"] for row in gradients) < 1e-3 * min(
        row["he_normal"] for row in gradients
    )
    assert _reports(tmp_path)
