"""emit(): one writer for every command's tables, as table, json, csv or markdown."""

from __future__ import annotations

import json

import pytest

from neuralab.cli._emit import FORMATS, emit
from neuralab.report.tabular import Column, Table


def _tables() -> list[Table]:
    rows = [
        {"name": "relu", "loss": 0.5, "loss_std": 0.25, "dead": 0.125, "extra": 1},
        {"name": "tanh", "loss": 0.75, "loss_std": 0.0, "dead": None, "extra": 2},
    ]
    columns = [
        Column("name", justify="left"),
        Column("loss", "loss", ".2f", spread="loss_std"),
        Column("dead", "dead", ".1%", missing="-"),
        Column("extra", "extra", terminal=False),
    ]
    return [
        Table([], [], notes=["what follows"]),
        Table(rows, columns, title="grid", notes=["conclusion"], footer={"name": "total"}),
    ]


def test_table(capsys):
    emit(_tables(), "table")
    out = capsys.readouterr().out
    assert out.startswith("what follows\n")
    assert "│ relu  │ 0.50 ± 0.25 │ 12.5% │" in out and "│ tanh  │ 0.75 ± 0.00 │     - │" in out
    assert "grid" in out and "total" in out and out.endswith("conclusion\n")
    assert "extra" not in out  # terminal=False: only the other formats show the column


def test_json_holds_every_table_with_raw_values(capsys):
    emit(_tables(), "json")
    intro, grid = json.loads(capsys.readouterr().out)
    assert intro == {"title": None, "rows": [], "footer": None, "notes": ["what follows"]}
    assert grid["title"] == "grid" and grid["notes"] == ["conclusion"]
    assert grid["rows"][1] == {
        "name": "tanh",
        "loss": 0.75,
        "loss_std": 0.0,
        "dead": None,
        "extra": 2,
    }
    assert grid["footer"] == {"name": "total"}


def test_csv_is_the_first_table_with_columns_and_every_key(capsys):
    emit(_tables(), "csv")
    assert (
        capsys.readouterr().out.splitlines()
        == [
            "name,loss,loss_std,dead,extra",  # the columns' keys (spread beside its value), then the rest
            "relu,0.5,0.25,0.125,1",
            "tanh,0.75,0.0,,2",
        ]
    )


def test_markdown_blocks_are_paragraphs(capsys):
    emit(_tables(), "markdown")
    blocks = capsys.readouterr().out.strip().split("\n\n")
    assert blocks[0] == "what follows" and blocks[2] == "conclusion"
    assert blocks[1].splitlines()[0] == "| name | loss | dead | extra |"
    assert "| tanh | 0.75 ± 0.00 | - | 2 |" in blocks[1]
    assert blocks[1].endswith("| total |  |  |  |")


@pytest.mark.parametrize("output_format", FORMATS)
def test_output_file_holds_what_would_be_printed(output_format, tmp_path, capsys):
    emit(_tables(), output_format)
    printed = capsys.readouterr().out
    target = tmp_path / "out" / f"result.{output_format}"
    target.parent.mkdir()  # a missing folder is an error: never created on the way
    emit(_tables(), output_format, output=target)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"wrote {target}\n"
    assert target.read_text() == printed
