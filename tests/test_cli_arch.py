"""``neuralab summary`` and ``neuralab diagram`` through the real entry point, good and bad input."""

from __future__ import annotations

import csv
import io
import json
import textwrap

import pytest

COURSE_CNN = "conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)"


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    (tmp_path / "clinets.py").write_text(
        textwrap.dedent(
            """
            from torch import nn

            def tiny():
                return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())

            def broken():
                return "not a network"

            def sequence():
                return nn.Sequential(nn.Linear(64, 30), nn.ReLU(), nn.Linear(30, 10))

            class Shared(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(10, 10)

                def forward(self, x):
                    return self.fc(self.fc(x))

            class TwoInputs(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(3, 8, 3)
                    self.features = nn.Linear(10, 8)

                def forward(self, image, features):
                    return self.conv(image).mean((2, 3)) + self.features(features)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_summary_table_of_the_course_cnn_in_hwc(run_cli):
    result = run_cli("summary", COURSE_CNN, "--input", "1x28x28", "--hwc")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for text in (
        "24x24x20",
        "12x12x20",
        "2880",
        "520",
        "288,100",
        "289,630",
        "577K",
        "HxWxC",
    ):
        assert text in out


def test_summary_json(run_cli):
    result = run_cli("summary", COURSE_CNN, "--input", "1x28x28", "--format", "json")
    assert result.exit_code == 0, result.stderr
    [table] = result.tables()
    assert table["footer"]["params"] == 289_630 and table["footer"]["param_bytes"] == 289_630 * 4
    assert [layer["fan_in"] for layer in table["rows"]] == [25, None, 4, None, 2880, None, 100]
    assert table["rows"][0]["receptive_field"] == [5, 5] and table["rows"][2]["start"] == [2.5, 2.5]


def test_summary_of_a_vector_input(run_cli):
    # any shape the API takes: 784 features into fc(10) = 784 * 10 + 10 parameters
    result = run_cli("summary", "fc(10)", "--input", "784", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.tables()[0]["footer"]["params"] == 7_850


def test_summary_csv_and_markdown_to_a_file(run_cli, tmp_path):
    target = tmp_path / "out" / "cnn.md"
    result = run_cli("summary", COURSE_CNN, "-i", "1x28x28", "-f", "markdown", "-o", target)
    assert result.exit_code == 2 and "the folder" in result.stderr  # a mistyped folder
    assert not target.parent.exists()  # is never created
    target.parent.mkdir()
    result = run_cli("summary", COURSE_CNN, "-i", "1x28x28", "-f", "markdown", "-o", target)
    assert result.exit_code == 0, result.stderr
    assert "| fc1 | Linear | 100 | 288,100 | 2,880 |" in target.read_text()
    result = run_cli("summary", COURSE_CNN, "-i", "1x28x28", "-f", "csv")
    assert result.stdout.splitlines()[0].startswith("name,type,output_shape,params")


def test_summary_depth_on_a_torchvision_model(run_cli):
    result = run_cli("summary", "resnet18", "--input", "3x32x32", "--depth", "1", "-f", "json")
    assert result.exit_code == 0, result.stderr
    names = [layer["name"] for layer in result.tables()[0]["rows"]]
    assert names[4:8] == ["layer1", "layer2", "layer3", "layer4"]


def test_summary_of_a_user_factory(run_cli, user_models):
    result = run_cli("summary", "clinets:tiny", "--input", "3x8x8", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.tables()[0]["footer"]["params"] == 4 * (27 + 1)


@pytest.mark.parametrize(
    ("model", "shape", "output", "params"),
    [
        ("fc(100) -> relu -> fc(10)", "784", [10], 784 * 100 + 100 + 100 * 10 + 10),
        ("clinets:sequence", "50x64", [50, 10], 64 * 30 + 30 + 30 * 10 + 10),
        ("conv(10,5)", "3x32x32", [10, 28, 28], 760),
    ],
)
def test_summary_takes_any_input_shape_as_the_api_does(
    run_cli, user_models, model, shape, output, params
):
    result = run_cli("summary", model, "--input", shape, "-f", "json")
    assert result.exit_code == 0, result.stderr
    table = result.tables()[0]
    assert table["rows"][-1]["output_shape"] == output
    assert table["footer"]["params"] == params


def test_diagram_writes_the_figure(run_cli, tmp_path):
    target = tmp_path / "cnn.png"
    result = run_cli("diagram", COURSE_CNN, "--input", "1x28x28", "-o", target)
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(b"\x89PNG")
    assert str(target) in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("summary", "resnt18", "--input", "3x32x32"),
            "unknown model 'resnt18'; did you mean 'resnet18'",
        ),
        (("summary", "conv(20,5 -> relu", "--input", "1x28x28"), "conv(20,5 -> relu"),
        (
            ("summary", COURSE_CNN, "--input", "28x28"),
            "a layer spec takes (C, H, W) for images or (features,) for an MLP, not (28, 28); "
            "a torchvision model or package.module:factory takes any shape",
        ),
        (("summary", COURSE_CNN, "--input", "1x28xW"), "--input '1x28xW' is not a shape like"),
        (("summary", COURSE_CNN, "--input", "0x28x28"), "zero size"),
        (("summary", COURSE_CNN, "--input", "1x-28x28"), "is not a shape like 3x32x32"),
        (("diagram", COURSE_CNN, "--input", "28x28", "-o", "c.png"), "has 2 sizes; expected 3"),
        (
            ("summary", "resnet18", "--input", "1x64x64"),
            "input has 1 channel but conv1 (Conv2d) expects 3",
        ),
        (("summary", "vgg11", "--input", "3x16x16"), "is larger than its padded input"),
        (("summary", "clinets:nope", "--input", "3x8x8"), "unknown factory in module 'clinets'"),
        (
            ("summary", "clinets:broken", "--input", "3x8x8"),
            "returned a str, not a torch.nn.Module",
        ),
        (("summary", "nowhere_xyz:net", "--input", "3x8x8"), "cannot import 'nowhere_xyz'"),
        (("summary", COURSE_CNN, "--input", "1x28x28", "--depth", "0"), "--depth"),
        (("summary", COURSE_CNN, "--input", "1x28x28", "--format", "yaml"), "--format"),
        (
            ("diagram", COURSE_CNN, "--input", "1x28x28", "-o", "cnn.jpg"),
            "use one of .svg, .png, .pdf",
        ),
        (("diagram", "resnet18", "--input", "1x28x28", "-o", "cnn.png"), "input has 1 channel"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, user_models, args, message):
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("neuralab: error:")
    assert message in result.stderr
    # A spec error quotes the spec with a caret under the bad token (3 lines); all else is 1 line.
    assert len(lines) <= (3 if "conv(20,5 ->" in args[1] else 1), result.stderr


def test_help_teaches(run_cli):
    result = run_cli("summary", "--help")
    assert result.exit_code == 0
    assert "fan-in" in result.stdout and "Example" in result.stdout
    assert "diagram" in run_cli("--help").stdout


def test_summary_of_a_shared_linear_counts_110_parameters(run_cli, user_models, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # the notes on one line each
    result = run_cli("summary", "clinets:Shared", "--input", "10", "-f", "json")
    assert result.exit_code == 0, result.stderr
    (table,) = json.loads(result.stdout)
    assert [(r["name"], r["params"], r["recursive"]) for r in table["rows"]] == [
        ("fc", 110, False),
        ("fc#2", 0, True),
    ]
    assert table["footer"]["params"] == 110 and table["footer"]["macs"] == 200
    shown = run_cli("summary", "clinets:Shared", "--input", "10")
    assert "(recursive)" in shown.stdout
    hidden = run_cli("summary", "clinets:Shared", "--input", "10", "--hide-recursive")
    assert "fc#2" not in hidden.stdout
    assert "1 repeated call of shared modules hidden; their MACs are in the total" in hidden.stdout


def test_summary_with_two_inputs_and_chosen_columns(run_cli, user_models):
    args = ["summary", "clinets:TwoInputs", "--input", "3x8x8", "--input", "10"]
    result = run_cli(
        *args, "--columns", "input_size,kernel_size,num_params,params_percent", "-f", "csv"
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["input_shape"] for r in rows] == ["3x8x8", "10"]
    assert [r["kernel_size"] for r in rows] == ["3x3", ""]
    assert [round(float(r["params_percent"]), 1) for r in rows] == [71.8, 28.2]  # 224 / 312
    one = run_cli("summary", "clinets:TwoInputs", "--input", "3x8x8")
    assert one.exit_code == 2
    assert one.stderr.startswith(
        "neuralab: error: TwoInputs.forward(image, features) cannot take 1 input: 3x8x8"
    )


def test_summary_batch_dtype_mode_options(run_cli):
    result = run_cli(
        "summary",
        COURSE_CNN,
        "--input",
        "1x28x28",
        "-b",
        "4",
        "--dtype",
        "float64",
        "--mode",
        "train",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    (table,) = json.loads(result.stdout)
    footer = table["footer"]
    assert footer["macs"] == 4 * 577_000
    assert footer["param_bytes"] == 289_630 * 8
    assert "training step (float64, train mode, batch 4)" in table["notes"][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--columns", "rf"], "unknown column 'rf'"),
        (["--dtype", "int64"], "dtype 'int64' is not a floating type"),
        (["--mode", "test"], "mode 'test' is not one of eval, train"),
        (["--input", "3x8x8:int7"], "unknown dtype 'int7'"),
    ],
)
def test_summary_bad_options_are_one_line(run_cli, args, message):
    result = run_cli("summary", COURSE_CNN, "--input", "1x28x28", *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
