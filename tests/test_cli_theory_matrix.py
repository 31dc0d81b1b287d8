"""The conv-matrix, pool, padding and logic commands end to end, and every bad-input path."""

from __future__ import annotations

import json

import pytest


def _words(line: str) -> list[str]:
    return line.split()


def _error_line(result) -> str:
    assert result.exit_code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neuralab: error: ")
    return lines[0]


def test_conv_matrix_symbolic_course_example(run_cli) -> None:
    result = run_cli("conv-matrix", "--input", "3x3", "--kernel", "2x2", "--symbolic")
    assert result.exit_code == 0, result.stderr
    assert "│ y1 │ w1 │ w2 │  0 │ w3 │ w4 │  0 │  0 │  0 │  0 │" in result.stdout
    assert "│ y4 │  0 │  0 │  0 │  0 │ w1 │ w2 │  0 │ w3 │ w4 │" in result.stdout
    assert "y1 = w1*x1 + w2*x2 + w3*x4 + w4*x5" in result.stdout
    assert "check: max |A x - conv(x)| = " in result.stdout
    csv = run_cli("conv-matrix", "--input", "3x3", "--kernel", "2x2", "--symbolic", "-f", "csv")
    assert csv.stdout.splitlines()[:2] == [
        "y,x1,x2,x3,x4,x5,x6,x7,x8,x9",
        "y1,w1,w2,0,w3,w4,0,0,0,0",
    ]


def test_conv_matrix_numeric_with_given_weights(run_cli) -> None:
    result = run_cli(
        "conv-matrix", "--input", "3x3", "--kernel", "2", "--weights", "1,2;3,4", "--no-bias",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    grid, summary = result.tables()
    assert [grid["rows"][0][f"x{i}"] for i in range(1, 10)] == [1, 2, 0, 3, 4, 0, 0, 0, 0]
    values = {row["quantity"]: row["value"] for row in summary["rows"]}
    assert values["A rows x columns"] == "4 x 9" and values["non-zeros of A (connections)"] == "16"
    assert values["conv parameters (shared weights + bias)"] == "4 + 0 = 4"
    assert values["dense layer parameters (weights + bias)"] == "36 + 0 = 36"
    assert summary["notes"] == ["check: max |A x - conv(x)| = 0 on a random x (float64)"]
    table = run_cli("conv-matrix", "--input", "3x3", "--kernel", "2", "--weights", "1,2;3,4")
    assert table.exit_code == 0
    assert "check: max |A x + b - conv(x)| =" in table.stdout


def test_conv_matrix_large_layer_summary(run_cli) -> None:
    result = run_cli(
        "conv-matrix", "--input", "3x64x64", "--kernel", "3", "--padding", "1",
        "--out-channels", "64", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [summary] = result.tables()  # A itself is too large to show
    values = {row["quantity"]: row["value"] for row in summary["rows"]}
    assert values["A rows x columns"] == "262,144 x 12,288"
    assert values["non-zeros of A (connections)"] == f"{64 * 3 * 190**2:,}"
    assert values["conv parameters (shared weights + bias)"] == "1,728 + 64 = 1,792"
    difference = float(summary["notes"][0].split("= ")[1].split()[0])
    assert difference < 1e-10


def test_conv_matrix_groups_dilation_stride_markdown(run_cli) -> None:
    result = run_cli(
        "conv-matrix", "--input", "4x6x6", "--kernel", "3x2", "--stride", "2x1", "--dilation", "2",
        "--padding", "1", "--groups", "2", "--out-channels", "4", "--format", "markdown",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "| quantity | value |" in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("check: max |A x + b - conv(x)| = ")
    assert float(last.split("= ")[1].split()[0]) < 1e-12


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--input", "3"], "--input '3' must be HxW"),
        (["--input", "3x3", "--kernel", "0"], "--kernel '0' must be >= 1"),
        (["--input", "3x3", "--padding", "-1"], "--padding '-1' must be >= 0"),
        (
            ["--input", "3x3", "--kernel", "4"],
            "spans 4 input positions, more than the padded input",
        ),
        (["--input", "4x5x5", "--groups", "3"], "groups=3 must divide"),
        (["--input", "3x3", "--symbolic", "--out-channels", "2"], "symbolic takes one input"),
        (["--input", "3x3", "--weights", "[[1,2,3]]"], "expected k_h x k_w = 2x2"),
        (["--input", "3x3", "--weights", "[[1,2],[3]]"], "ragged rows"),
        (["--input", "2x5x5", "--in-channels", "3"], "has 2 channels but --in-channels is 3"),
        (["--input", "3x40x40", "--out-channels", "8", "--show-dense"], "show-dense: A is"),
        (["--input", "30x30", "--symbolic"], "at most 400"),
        (
            ["--input", "64x64x64", "--kernel", "3", "--padding", "1", "--out-channels", "64"]
            + ["--max-memory", "2GB"],
            "A with 147,865,600 non-zeros (conv_parameter_counts gives the counts alone) needs "
            "about 3.3 GiB of memory, more than the limit of 1.9 GiB",
        ),
    ],
)
def test_conv_matrix_bad_input(run_cli, args: list[str], fragment: str) -> None:
    assert fragment in _error_line(run_cli("conv-matrix", *args))


def test_pool_max_and_avg(run_cli) -> None:
    matrix = "[[1,0,2,3],[1,0,4,5],[-1,2,0,0],[3,3,0,1]]"
    result = run_cli("pool", "--op", "max", "--size", "2", "--stride", "2", matrix)
    assert result.exit_code == 0, result.stderr
    for text in ["max(1,0,1,0) = 1", "max(2,3,4,5) = 5", "max(-1,2,3,3) = 3", "max(0,0,0,1) = 1"]:
        assert text in result.stdout
    assert "pooled = [[1, 5], [3, 1]]" in result.stdout
    assert "check: max |pooled - F.max_pool2d| = 0" in result.stdout
    avg = run_cli("pool", "--op", "avg", "--size", "2", "1 1 0 2; 1 1 2 0; 3 1 -1 1; 0 0 1 1")
    assert "(1+1+1+1)/4 = 1" in avg.stdout
    assert "(-1+1+1+1)/4 = 0.5" in avg.stdout
    header, windows, pooled = run_cli("pool", "--op", "avg", "--format", "json", "1,2;3,4").tables()
    assert pooled["rows"] == [{"row": 1, "1": 2.5}]
    assert pooled["notes"] == ["pooled = [[2.5]]", "check: max |pooled - F.avg_pool2d| = 0"]
    assert windows["rows"][0]["computation"] == "(1+2+3+4)/4 = 2.5"
    csv = run_cli("pool", "--format", "csv", "1,2;3,4").stdout.splitlines()
    assert csv[0] == "output,rows,columns,computation,value"
    assert csv[1] == '"(1,1)",1..2,1..2,"max(1,2,3,4) = 4",4.0'


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--op", "min", "1,2;3,4"], "pooling op 'min' is unknown; valid: max, avg"),
        (["[[1,2],[3]]"], "MATRIX '[[1,2],[3]]' has ragged rows"),
        (["[[1,2],[3,4]"], "is not a matrix"),
        (["--size", "3", "1,2;3,4"], "does not fit"),
        (["--padding", "2", "1,2;3,4"], "more than half the window"),
        (["--stride", "0", "1,2;3,4"], "--stride '0' must be >= 1"),
    ],
)
def test_pool_bad_input(run_cli, args: list[str], fragment: str) -> None:
    assert fragment in _error_line(run_cli("pool", *args))


def test_padding_grid_and_conclusion(run_cli) -> None:
    result = run_cli("padding", "--input", "5x5", "--kernel", "3")
    assert result.exit_code == 0, result.stderr
    assert "the corner pixel is used by 1 of 9 output positions, the centre by 9" in result.stdout
    padded = run_cli("padding", "--input", "5x5", "--kernel", "3", "--padding", "1")
    assert "(n) = a padded zero" in padded.stdout
    assert "(the 24 padded zeros are read 56 times)" in padded.stdout
    rows = run_cli(
        "padding", "--input", "5x5", "--kernel", "3", "--padding", "1", "--format", "csv"
    )
    lines = rows.stdout.splitlines()
    assert lines[0] == "row,c0,c1,c2,c3,c4,c5,c6"
    assert lines[1] == "0,(1),(2),(3),(3),(3),(2),(1)"
    assert lines[3] == "2,(3),6,9,9,9,6,(3)"
    tables = run_cli("padding", "--input", "4x4", "--kernel", "2", "--format", "json").tables()
    assert tables[1]["rows"][0] == {"row": 1, "c1": "1", "c2": "2", "c3": "2", "c4": "1"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--input", "5"], "expected 2 (HxW)"),
        (["--input", "3x3", "--kernel", "5"], "does not fit"),
        (["--input", "3x3", "--kernel", "a"], "--kernel 'a' is not an integer"),
    ],
)
def test_padding_bad_input(run_cli, args: list[str], fragment: str) -> None:
    assert fragment in _error_line(run_cli("padding", *args))


def test_logic_eval_course_xor(run_cli) -> None:
    result = run_cli("logic", "eval", "--w1", "[[-1,1],[1,-1]]", "--w2", "[[1,1]]")
    assert result.exit_code == 0, result.stderr
    assert "out computes: XOR" in result.stdout
    rows = run_cli(
        "logic", "eval", "--w1", "[[-1,1],[1,-1]]", "--w2", "[[1,1]]", "--format", "csv"
    ).stdout.splitlines()
    assert rows == [
        "A,B,n1,n2,out",
        "0,0,0.0,0.0,0.0",
        "0,1,1.0,0.0,1.0",
        "1,0,0.0,1.0,1.0",
        "1,1,0.0,0.0,0.0",
    ]


def test_logic_eval_step_bias_and_sigmoid(run_cli) -> None:
    nand = run_cli(
        "logic", "eval", "--w1", "1,1", "--w2", "-1", "--b1", "-1.5", "--b2", "1",
        "--activation", "step",
    )  # fmt: skip
    assert "out computes: NAND" in nand.stdout
    sigmoid = run_cli(
        "logic", "eval", "--w1", "[[10,10]]", "--w2", "[[1]]", "--b1", "[-5]",
        "--activation", "identity", "--output-activation", "sigmoid", "--format", "json",
    )  # fmt: skip
    _, table = sigmoid.tables()
    assert table["notes"] == ["out computes: OR (outputs within 0.05 of 0 or 1 count as 0 or 1)"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["--w1", "[[-1,1],[1,-1]]", "--w2", "[[1,1,1]]"],
            "--w2 '[[1,1,1]]' has shape 1x3; expected outputs x hidden = 1x2",
        ),
        (["--w1", "[[-1,1],[1,-1]]", "--w2", "[[1,1]]", "--b1", "1,2,3"], "expected hidden = 2"),
        (["--w1", "[[-1,1],[1,-1]]", "--w2", "[[1,1]]", "--b2", "1,2"], "expected outputs = 1"),
        (["--w1", "[[-1,1],[1,-1]", "--w2", "[[1,1]]"], "--w1 '[[-1,1],[1,-1]' is not a matrix"),
        (["--w1", "1,2;3", "--w2", "1,1"], "--w1 '1,2;3' has ragged rows"),
        (["--w1", "1,1", "--w2", "1", "--activation", "relux"], "unknown activation 'relux'"),
        (["--w1", "1,1", "--w2", "1", "--tolerance", "0.7"], "tolerance 0.7 must be in [0, 0.5)"),
    ],
)
def test_logic_eval_bad_input(run_cli, args: list[str], fragment: str) -> None:
    assert fragment in _error_line(run_cli("logic", "eval", *args))


def test_logic_search_or(run_cli) -> None:
    result = run_cli("logic", "search", "OR", "--values", "-1,0,1", "--hidden", "2")
    assert result.exit_code == 0, result.stderr
    # 4 networks: the count is checked against a naive python loop in test_boolean.py
    assert "3^6 = 729 networks tried, 4 compute OR" in result.stdout
    assert "[[-1, 1], [1, 0]]" in result.stdout
    summary, listed = run_cli(
        "logic", "search", "0111", "--bias", "--limit", "2", "--format", "json"
    ).tables()
    assert summary["notes"][0].startswith("OR (0111) with 2 inputs")
    assert "3^9 = 19,683 networks tried" in summary["notes"][0]
    assert len(listed["rows"]) == 2 and listed["title"].startswith("the first 2 of ")


def test_logic_search_check_candidates(run_cli) -> None:
    result = run_cli(
        "logic", "search", "XOR",
        "--check", "[[[[-1,1],[1,-1]], [[1,1]]], {\"w1\": [[1,1]], \"w2\": [[1]], \"b1\": [-1]}]",
        "--candidate", "1,1;1,1 | 1,-1",
        "--format", "csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "#,W1,W2,b1,outputs,computes,is_target"
    assert lines[1].endswith("0 1 1 0,XOR,True")
    assert lines[2].endswith("0 0 0 1,AND,False")
    assert lines[3].endswith("0 0 0 0,FALSE,False")
    single = run_cli("logic", "search", "XOR", "--check", "[[[-1,1],[1,-1]], [[1,1]]]")
    assert "1 of 1 candidates compute XOR" in single.stdout


def test_logic_search_check_file(run_cli, tmp_path) -> None:
    path = tmp_path / "candidates.json"
    path.write_text(json.dumps([{"w1": [[-1, 1], [1, -1]], "w2": [[1, 1]]}]))
    result = run_cli("logic", "search", "XOR", "--check", str(path))
    assert "1 of 1 candidates compute XOR" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["XRO"], "unknown Boolean function of 2 inputs 'XRO'; did you mean 'XOR'?"),
        (["011"], "has 3 bits; expected a power of two"),
        (
            ["XOR", "--values", "-3,-2,-1,0,1,2,3", "--hidden", "4", "--bias"],
            "7^17 = 232,630,513,987,207 networks",
        ),
        (["XOR", "--values", "1,a"], "--values '1,a' has the entry 'a'"),
        (["XOR", "--hidden", "0"], "hidden 0 must be >= 1"),
        (["XOR", "--check", "[[1,2"], "is neither a JSON file nor a list"),
        (["XOR", "--candidate", "1,1;1,1"], "candidate 1 has 1 parts"),
        (
            ["XOR", "--candidate", "1,1,1 | 1"],
            "candidate 1: W1 has shape 1x3; expected hidden x inputs = 1x2",
        ),
        (
            ["XOR", "--candidate", "1,1 | 1,1"],
            "candidate 1: W2 has shape 1x2; expected outputs x hidden = 1x1",
        ),
        (["XOR", "--check", '[{"w1": [[1,1]]}]'], "candidate 1 has keys ['w1']"),
        (["XOR", "--activation", "nope"], "unknown activation 'nope'"),
    ],
)
def test_logic_search_bad_input(run_cli, args: list[str], fragment: str) -> None:
    assert fragment in _error_line(run_cli("logic", "search", *args))


def test_help_texts_teach(run_cli) -> None:
    for command in (["conv-matrix"], ["pool"], ["padding"], ["logic", "eval"], ["logic", "search"]):
        result = run_cli(*command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout
