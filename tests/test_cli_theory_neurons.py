"""The commands activations, perceptron fit|scale|sigmoid-limit and gradients, end to end."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    # rich wraps table cells to the terminal width (COLUMNS when piped); make it roomy and fixed
    monkeypatch.setenv("COLUMNS", "160")


def one_line_error(result, *fragments):
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neuralab: error:")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_activations_table(run_cli):
    result = run_cli("activations")
    assert result.exit_code == 0, result.stderr
    assert "relu: kink at 0 (left f' 0, right f' 1); autograd uses f'(0) = 0" in result.stdout
    markdown = run_cli("activations", "--format", "markdown").stdout
    assert "| relu | [0, inf) | no |" in markdown
    assert "| sigmoid | (0, 1) | no |" in markdown
    assert "| tanh | (-1, 1) | yes |" in markdown


def test_activations_json_and_csv(run_cli):
    [table] = run_cli("activations", "--format", "json").tables()
    rows = table["rows"]
    by_name = {row["name"]: row for row in rows}
    assert by_name["sigmoid"]["d0"] == pytest.approx(0.25)
    assert by_name["sigmoid"]["saturates"] == "both"
    assert by_name["sigmoid"]["mean_output"] == pytest.approx(0.5)  # in the rows, not the columns
    assert "relu: kink at 0 (left f' 0, right f' 1); autograd uses f'(0) = 0" in table["notes"]
    csv = run_cli("activations", "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("name,range,zero_centred")
    assert len(csv) == 1 + len(rows)


def test_activations_plot(run_cli, tmp_path):
    target = tmp_path / "figs" / "act.png"
    target.parent.mkdir()
    result = run_cli(
        "activations", "--plot", "relu,sigmoid,tanh", "--range", "-4", "4", "-o", str(target)
    )
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in target.parent.iterdir()] == ["act.png"]  # no temporary left


def test_activations_bad_input(run_cli, tmp_path):
    out = str(tmp_path / "a.png")
    one_line_error(run_cli("activations", "--plot", "relu,rleu", "-o", out), "'rleu'", "relu")
    one_line_error(
        run_cli("activations", "--plot", "relu", "--range", "4", "-4", "-o", out), "low < high"
    )
    one_line_error(run_cli("activations", "--format", "yaml"), "yaml")


def test_perceptron_fit_xor_never_converges(run_cli):
    result = run_cli("perceptron", "fit")
    assert result.exit_code == 0, result.stderr
    assert "not converged in 20 epochs" in result.stdout
    assert "no line w . x + b = 0 separates these classes" in result.stdout
    assert "the weights after epoch 3 equal those after epoch 2" in result.stdout


def test_perceptron_fit_and_converges(run_cli):
    result = run_cli("perceptron", "fit", "--data", "and")
    assert "converged after 6 epochs" in result.stdout
    [table] = run_cli("perceptron", "fit", "--data", "and", "--format", "json").tables()
    rows = table["rows"]
    assert rows[-1]["mistakes"] == 0 and rows[-1]["w"] == "(2, 1)" and rows[-1]["b"] == -2


def test_perceptron_fit_csv(run_cli, tmp_path):
    path = tmp_path / "or.csv"
    path.write_text("x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,1\n")
    result = run_cli("perceptron", "fit", "--data", str(path))
    assert result.exit_code == 0, result.stderr
    # OR by hand from w = 0, b = 0 (step(0) = 0): epochs 1-3 make 1, 2, 1 mistakes and end at
    # w = (1, 1), b = 0, which epoch 4 confirms without a mistake
    lines = result.stdout.splitlines()
    assert lines[-1] == "converged after 4 epochs: an epoch without mistakes, accuracy 100%"
    assert [line.split("│")[2:5] for line in lines if line.startswith("│     4")] == [
        [" (1, 1)            ", " 0 ", "        0 "]
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("0,0\n1\n")
    one_line_error(run_cli("perceptron", "fit", "--data", str(bad)), "columns")
    one_line_error(
        run_cli("perceptron", "fit", "--data", str(tmp_path / "no.csv")), "does not exist"
    )
    one_line_error(run_cli("perceptron", "fit", "--data", "xnor"), "'xnor'", "and, nand, or, xor")
    one_line_error(run_cli("perceptron", "fit", "--max-iter", "0"), "max_iter 0")


def test_perceptron_scale(run_cli):
    result = run_cli("perceptron", "scale")
    assert result.exit_code == 0, result.stderr
    assert (
        "c in {0.5, 1, 2, 10, 1000} changed no output; c in {-1, 0} changed some" in result.stdout
    )
    [table] = run_cli(
        "perceptron", "scale", "--c", "-2,0,3", "--n-inputs", "200", "--format", "json"
    ).tables()
    rows = table["rows"]
    assert [r["changed"] > 0 for r in rows] == [True, True, False]


def test_perceptron_scale_custom_network_and_errors(run_cli):
    result = run_cli("perceptron", "scale", "--w1", "[[1,-1]]", "--b1", "0.5", "--c", "0.1,-1")
    assert result.exit_code == 0, result.stderr
    one_line_error(run_cli("perceptron", "scale", "--w1", "[[1,2],[3"), "--w1", "not a matrix")
    one_line_error(
        run_cli("perceptron", "scale", "--w1", "[[1,1],[1,1]]", "--w2", "[[1,1,1]]"),
        "--w2",
        "expected outputs x hidden = 1x2",
    )
    one_line_error(
        run_cli("perceptron", "scale", "--w1", "[[1,1]]", "--b1", "1,2"), "--b1", "expected 1"
    )
    one_line_error(run_cli("perceptron", "scale", "--b1", "1"), "--w1 is needed")
    one_line_error(run_cli("perceptron", "scale", "--c", "1,a"), "--c")


def test_perceptron_sigmoid_limit(run_cli):
    result = run_cli("perceptron", "sigmoid-limit")
    assert result.exit_code == 0, result.stderr
    assert (
        "x = (0.25, 0.25) lies on the line of layer 1 unit 1: w . x + b = 0 exactly"
        in result.stdout
    )
    [table] = run_cli("perceptron", "sigmoid-limit", "--format", "json").tables()
    rows = table["rows"]
    assert [r["c"] for r in rows] == [1, 10, 100, 1000]
    assert all(r["boundary_unit_output"] == 0.5 for r in rows)
    assert rows[-1]["max_difference"] < 1e-100
    one_line_error(
        run_cli("perceptron", "sigmoid-limit", "--w1", "[[0,0]]", "--b1", "1"), "all-zero weights"
    )


def test_gradients_course_example(run_cli):
    result = run_cli(
        "gradients",
        "--w1",
        "[[-1,1],[1,-1]]",
        "--w2",
        "[[1,1]]",
        "--x",
        "1,0",
        "--y",
        "1",
        "--loss",
        "mse",
        "--activation",
        "relu",
    )
    assert result.exit_code == 0, result.stderr
    assert "all 6 formulas agree with autograd" in result.stdout
    # the rich table wraps cells to the terminal's width; markdown never does
    markdown = run_cli("gradients", "--x", "1,0", "--y", "1", "--format", "markdown").stdout
    assert "| W2_11 | dL/dout * dout/dW2_11 | 2(out - y) n1 | 0 | 0 | yes |" in markdown
    assert (
        "| W1_11 | dL/dout * dout/dn1 * dn1/dz1 * dz1/dW1_11 | 2(out - y) W2_11 sigma'(z1) x1 |"
        in markdown
    )


def test_gradients_json_values(run_cli):
    result = run_cli("gradients", "--y", "0", "--b1", "0,0", "--b2", "0", "--format", "json")
    forward, gradients = result.tables()
    values = {g["weight"]: (g["value"], g["autograd"], g["match"]) for g in gradients["rows"]}
    assert values["W2_12"] == (2.0, 2.0, True) and values["W1_21"] == (2.0, 2.0, True)
    assert values["b2_1"] == (2.0, 2.0, True)
    assert forward["notes"][2].endswith("L = 1 (autograd 1)")
    assert gradients["notes"] == ["all 9 formulas agree with autograd (largest difference 0)"]
    markdown = run_cli(
        "gradients", "--loss", "ce", "--w2", "[[1,1],[0,1]]", "--y", "1", "--format", "markdown"
    )
    assert markdown.exit_code == 0 and "(out1 - y1)" in markdown.stdout


def test_gradients_bad_input(run_cli):
    one_line_error(run_cli("gradients", "--w1", "[[1,2],[3,4]"), "--w1")
    one_line_error(
        run_cli("gradients", "--w2", "[[1,1,1]]"), "--w2", "expected outputs x hidden = 1x2"
    )
    one_line_error(run_cli("gradients", "--x", "1,0,1"), "--x", "expected 2")
    one_line_error(run_cli("gradients", "--loss", "hinge"), "unknown loss 'hinge'", "bce, ce, mse")
    one_line_error(run_cli("gradients", "--activation", "sigmod"), "did you mean 'sigmoid'")
    one_line_error(run_cli("gradients", "--y", "1,0"), "y has 2 entries; expected 1")


@pytest.mark.parametrize(
    "command",
    [
        ("activations",),
        ("perceptron", "fit"),
        ("perceptron", "scale"),
        ("perceptron", "sigmoid-limit"),
        ("gradients",),
    ],
)
def test_help_teaches(run_cli, command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    # help is wrapped to the terminal inside a box: compare without the frame and line breaks
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "Example: neuralab" in text
