"""The one writer of experiment, study and sweep results: files, Markdown and HTML."""

from __future__ import annotations

import csv
from dataclasses import dataclass

import yaml

from neuralab.report.result import ExperimentResult
from neuralab.report.result_report import report_markdown, table_stems, write_result
from neuralab.report.tabular import Column, Table


@dataclass
class _Config:
    epochs: int = 3
    lr: float = 0.1


def _table(title=None, notes=()):
    rows = [{"p": 0.0, "acc": 0.91234, "status": "chosen"}, {"p": 0.5, "acc": 0.5, "status": ""}]
    columns = [Column("p", "p", ".1f"), Column("acc", "val acc", ".3f"), Column("status")]
    return Table(rows, columns, title=title, notes=list(notes))


def _figure(path):
    from matplotlib.figure import Figure

    from neuralab.atomic import save_figure

    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [1, 0])
    return save_figure(figure, path, dpi=50)


def test_one_table_writes_results_csv_and_a_report_with_claim_and_verdict(tmp_path):
    (tmp_path / "figures").mkdir()
    figure = _figure(tmp_path / "figures" / "curve.png")
    result = ExperimentResult(
        name="demo",
        title="A demo",
        tables=[_table()],
        conclusion="p = 0 is best (0.912 vs 0.500)",
        holds=False,
        claim="dropout 0.5 is best",
        figures=[figure],
        config=_Config(),
        seconds=1.25,
    )
    written = write_result(result, tmp_path)
    assert result.run_dir == tmp_path
    names = sorted(p.name for p in written)
    assert names == ["config.yaml", "report.html", "report.md", "results.csv", "results.md"]
    assert yaml.safe_load((tmp_path / "config.yaml").read_text()) == {"epochs": 3, "lr": 0.1}
    with open(tmp_path / "results.csv") as handle:
        assert list(csv.DictReader(handle)) == [
            {"p": "0.0", "acc": "0.91234", "status": "chosen"},  # raw values, not formatted
            {"p": "0.5", "acc": "0.5", "status": ""},
        ]
    assert (tmp_path / "report.md").read_text() == (
        "# A demo\n\n"
        "Course's claim: dropout 0.5 is best.\n\n"
        "| p | val acc | status |\n| ---: | ---: | ---: |\n"
        "| 0.0 | 0.912 | chosen |\n| 0.5 | 0.500 |  |\n\n"
        "**Conclusion** (does NOT hold): p = 0 is best (0.912 vs 0.500).\n\n"
        "![curve](figures/curve.png)\n\n"
        "Run time: 1.2 s.\n"
    )
    page = (tmp_path / "report.html").read_text()
    assert '<tr class="highlight"><td class="right">0.0</td>' in page  # the chosen row
    assert "Conclusion (does NOT hold): p = 0 is best" in page
    assert page.count("data:image/png;base64,") == 1


def test_several_tables_titles_notes_and_no_claim(tmp_path):
    result = ExperimentResult(
        name="study",
        title="A study",
        tables=[_table("First", ["Base: digits."]), _table("Second")],
        conclusion="Both tables agree.",
    )
    assert table_stems(result) == ["results-1", "results-2"]
    write_result(result, tmp_path)
    assert not (tmp_path / "config.yaml").exists()  # no config, none written
    assert (tmp_path / "results-1.csv").is_file() and (tmp_path / "results-2.md").is_file()
    markdown = report_markdown(result)
    assert "Course's claim" not in markdown and "Run time" not in markdown
    assert "**Conclusion**: Both tables agree.\n" in markdown  # no verdict, one full stop
    first, second = markdown.index("## First"), markdown.index("## Second")
    assert first < markdown.index("Base: digits.") < second < markdown.index("**Conclusion**")
