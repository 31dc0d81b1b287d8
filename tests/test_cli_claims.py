"""The claim commands through the real entry point: sam-step, softmax, receptive-field,
translation, perceptron sigmoid-cases; their numbers and their one-line errors."""

from __future__ import annotations

import csv
import io
import json

import pytest


def test_sam_step_prints_every_quantity_and_the_check(run_cli):
    result = run_cli("sam-step", "--weight-decay", "0.1", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "| g = dL/dw | 2/n X^T (X w - y) | (-1.66667, -4.66667) |" in text
    assert "= 0.05 = rho" in text
    assert "| SAM on J |" in text and "| decoupled |" in text
    assert "largest difference to autograd and to the SAM optimiser" in text


def test_sam_step_json_has_the_values(run_cli):
    result = run_cli("sam-step", "--format", "json")
    assert result.exit_code == 0, result.stderr
    tables = json.loads(result.stdout)
    rows = {row["name"]: row for table in tables for row in table["rows"]}
    assert rows["||g||"]["value"] == "4.95536"  # sqrt(221) / 3


def test_softmax_shows_exact_zero_and_one(run_cli):
    result = run_cli("softmax", "0,200", "--dtype", "float32", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    (values,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert values["zeros"] == "1" and values["ones"] == "1"
    assert values["ce_log"] == "inf" and values["ce_log_softmax"] == "200.0"


def test_receptive_field_derivation(run_cli):
    result = run_cli("receptive-field", "--layers", "4", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert "| 5 | 1 | 1 | 5, 9, 13, 17 |" in result.stdout
    assert "recursion and closed form: equal for every layer and every depth" in result.stdout


def test_translation_and_inclusion(run_cli):
    result = run_cli("translation", "--format", "json")
    assert result.exit_code == 0, result.stderr
    translations, inclusion = json.loads(result.stdout)
    holds = {
        (r["operation"], r["statement"], r["region"]): r["holds"] for r in translations["rows"]
    }
    assert holds[("max pool 2x2/2", "pool(T x) = pool(x)", "whole map")] == "NO"
    assert holds[("global max pool", "gpool(T x) = gpool(x)", "the output")] == "yes"
    assert [r["conv"] for r in inclusion["rows"]] == ["yes", "NO", "NO"]


def test_sigmoid_cases(run_cli):
    result = run_cli("perceptron", "sigmoid-cases", "--b", "-0.5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (table,) = json.loads(result.stdout)
    assert [(r["sign"], r["limit"]) for r in table["rows"]] == [
        ("> 0", "1"),
        ("= 0", "1/2"),
        ("< 0", "0"),
        ("< 0", "0"),
    ]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ("sam-step", "--x", "[[1,2,3]]"),
            "--x '[[1,2,3]]' has shape 1x3; expected examples x inputs = 1x2",
        ),
        (("sam-step", "--y", "1,0"), "--y '1,0' has 2 entries; expected examples = 3"),
        (("sam-step", "--loss", "hinge"), "unknown loss 'hinge' (valid: bce, mse)"),
        (
            ("sam-step", "--w", "1,0", "--x", "[[1,0],[0,1]]", "--y", "1,0"),
            "the gradient at w is 0",
        ),
        (("softmax", "3"), "logits '3' need at least two entries"),
        (("softmax", "--dtype", "float16"), "unknown dtype 'float16' (valid: float32, float64)"),
        (("receptive-field", "--layers", "20"), "layers must be 1..12, got 20"),
        (("translation", "--size", "7"), "size 7 must be a multiple of pool 2"),
        (("perceptron", "sigmoid-cases", "--c", "1,-1"), "must be positive"),
    ],
)
def test_bad_input_is_one_line(run_cli, args, fragment):
    result = run_cli(*args)
    assert result.exit_code == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr
