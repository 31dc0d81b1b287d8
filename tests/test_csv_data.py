"""Points from a CSV file as a playground data set: the label decides the task; bad rows named."""

from __future__ import annotations

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.csv_data import clean_file_name, parse_points_csv
from neuralab.playground.run import train_playground


def rows(labels: list[float]) -> str:
    return "\n".join(f"{i / 10},{(i % 5) / 4},{label}" for i, label in enumerate(labels))


def test_a_header_is_optional_and_the_split_is_the_generated_sets_one():
    text = "x1,x2,label\n" + rows([0, 1] * 10)
    data = parse_points_csv(text, name="csv:p.csv", train_ratio=0.7, seed=3)
    assert (data.task, data.num_classes, data.input_dim) == ("classification", 2, 2)
    assert (len(data.x_train), len(data.x_test)) == (14, 6)  # floor(20 * 0.7) train
    again = parse_points_csv(rows([0, 1] * 10), name="csv:p.csv", train_ratio=0.7, seed=3)
    assert torch.equal(data.x_train, again.x_train)
    other = parse_points_csv(text, name="csv:p.csv", train_ratio=0.7, seed=4)
    assert not torch.equal(data.x_train, other.x_train)
    assert sorted(data.x_train[:, 0].tolist() + data.x_test[:, 0].tolist()) == pytest.approx(
        [i / 10 for i in range(20)]
    )


def test_labels_decide_the_task():
    assert parse_points_csv(rows([-1, 1] * 4)).y_train.unique().tolist() == [0, 1]
    blobs = parse_points_csv(rows([0, 1, 2, 3] * 3))
    assert (blobs.task, blobs.num_classes) == ("classification", 4)
    regression = parse_points_csv(rows([0.5, -1.25, 2.0, 3.5] * 2))
    assert (regression.task, regression.num_classes) == ("regression", 0)
    sorted_data = parse_points_csv(rows([1, 0] * 6), train_ratio=1.0, order="sorted")
    assert sorted_data.y_train.tolist() == [0] * 6 + [1] * 6


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1,2\n3,4\n", "line 1: 2 values; every row is x1,x2,label"),
        ("x1,x2,y\n1,2,0\n1,b,1\n", "line 3: 'b' is not a number"),
        ("1,2,0\n3,4,inf\n", "line 2: values must be finite"),
        ("1,2,1\n3,4,1\n5,6,1\n7,8,1\n", "every label is 1; a classification needs two classes"),
        ("x1,x2,label\n", "0 rows of x1,x2,label; at least 4"),
    ],
)
def test_bad_files_are_named_by_line(text, match):
    with pytest.raises(NeuralabError, match=match):
        parse_points_csv(text, name="points.csv")


def test_file_names_are_cleaned():
    assert clean_file_name("../../etc/my points.csv") == "my_points.csv"
    assert clean_file_name(r"C:\data\p.CSV") == "p.CSV"
    with pytest.raises(NeuralabError, match="not a .csv file"):
        clean_file_name("passwd")


def test_the_command_line_trains_on_csv_path(tmp_path, run_cli):
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(200, 2, generator=generator) * 4 - 2
    label = (x[:, 0] + x[:, 1] > 0).long()  # one line separates the classes
    path = tmp_path / "line.csv"
    lines = [f"{a:.4f},{b:.4f},{c}" for (a, b), c in zip(x.tolist(), label.tolist(), strict=True)]
    path.write_text("x1,x2,label\n" + "\n".join(lines))
    run_dir = tmp_path / "run"
    result = run_cli("playground", "--data", f"csv:{path}", "--epochs", "40", "--run-dir", run_dir)
    assert result.exit_code == 0, result.stderr
    last = (run_dir / "metrics.jsonl").read_text().splitlines()[-1]
    assert '"epoch": 40' in last
    assert train_playground(PlaygroundConfig(data=f"csv:{path}", epochs=40)).final["test_acc"] > 0.9
    missing = run_cli("playground", "--data", f"csv:{tmp_path / 'missing.csv'}")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
