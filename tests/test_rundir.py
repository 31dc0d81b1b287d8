"""Run directory: metrics rewritten per row, reloaded on reopen, truncated on resume."""

from __future__ import annotations

import csv
import json

from neuralab.rundir import RunDirectory, default_run_name


def test_metrics_csv_and_jsonl(tmp_path):
    run = RunDirectory(tmp_path / "run")
    run.append_metrics({"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "extra": 3})
    run.append_metrics({"epoch": 2, "train_loss": 0.25, "train_acc": 0.9, "extra": 4})
    with open(run.file("metrics.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert list(rows[0]) == ["epoch", "train_loss", "train_acc", "extra"]
    lines = run.file("metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["train_acc"] == 0.9


def test_reopen_and_truncate(tmp_path):
    run = RunDirectory(tmp_path / "run")
    for epoch in range(1, 4):
        run.append_metrics({"epoch": epoch, "train_loss": 1.0 / epoch})
    reopened = RunDirectory(tmp_path / "run")
    assert len(reopened.rows) == 3
    reopened.truncate_metrics(1)
    assert [r["epoch"] for r in RunDirectory(tmp_path / "run").rows] == [1]


def test_log_appends(tmp_path):
    run = RunDirectory(tmp_path / "run")
    run.log("one")
    run.log("two\n")
    assert run.log_path.read_text() == "one\ntwo\n"


def test_default_name_is_safe():
    name = default_run_name("npz:/data/x.npz", "spec:conv(3,3)")
    assert "/" not in name and ":" not in name and "(" not in name


def test_a_directory_that_holds_a_run_is_refused_and_overwrite_replaces_it(tmp_path):
    import pytest

    from neuralab.errors import NeuralabError
    from neuralab.playground.config import PlaygroundConfig
    from neuralab.rundir import check_new_run_directory

    folder = tmp_path / "run"
    old = RunDirectory.create(folder, PlaygroundConfig(data="xor"))
    old.figure("old.png").write_bytes(b"old figure")
    with pytest.raises(NeuralabError, match="already holds a run .*pass --overwrite"):
        RunDirectory.create(folder, PlaygroundConfig(data="circle"))
    assert "xor" in old.config_path.read_text()  # nothing lost
    new = RunDirectory.create(folder, PlaygroundConfig(data="circle"), overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml"]  # no old figure left
    assert "circle" in new.config_path.read_text()
    # a folder of other files is never emptied, not even with --overwrite
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "thesis.tex").write_text("mine")
    with pytest.raises(NeuralabError, match="holds files that neuralab did not write"):
        RunDirectory.create(tmp_path / "thesis", PlaygroundConfig(), overwrite=True)
    assert (tmp_path / "thesis" / "thesis.tex").read_text() == "mine"
    # an empty directory, or a new one with missing parents, is taken
    (tmp_path / "empty").mkdir()
    assert check_new_run_directory(tmp_path / "empty") == tmp_path / "empty"
    RunDirectory.create(tmp_path / "a" / "b" / "c", PlaygroundConfig())
    assert (tmp_path / "a" / "b" / "c" / "config.yaml").is_file()


def test_continue_the_same_settings_refuse_others(tmp_path):
    import pytest

    from neuralab.errors import NeuralabError
    from neuralab.playground.config import PlaygroundConfig

    folder = tmp_path / "study"
    _, continued = RunDirectory.create_or_continue(folder, PlaygroundConfig(lr=0.1))
    assert not continued
    (folder / "runs").mkdir()
    _, continued = RunDirectory.create_or_continue(folder, PlaygroundConfig(lr=0.1))
    assert continued and (folder / "runs").is_dir()
    with pytest.raises(NeuralabError, match=r"other settings \(lr: 0.1 -> 0.2\)"):
        RunDirectory.create_or_continue(folder, PlaygroundConfig(lr=0.2))
    RunDirectory.create_or_continue(folder, PlaygroundConfig(lr=0.2), overwrite=True)
    assert not (folder / "runs").exists()


def test_default_paths_take_a_suffix_when_taken(tmp_path, monkeypatch):
    from neuralab import rundir

    # the clock stopped at one second: the name is taken, so the path takes -2, then -3
    monkeypatch.setattr(rundir, "default_run_name", lambda *parts: "-".join([*parts, "stamp"]))
    first = rundir.default_run_path("digits", "cnn", root=tmp_path)
    assert first == tmp_path / "digits-cnn-stamp"
    first.mkdir()
    second = rundir.default_run_path("digits", "cnn", root=tmp_path)
    assert second == tmp_path / "digits-cnn-stamp-2" and not second.exists()
    second.mkdir()
    assert rundir.default_run_path("digits", "cnn", root=tmp_path).name == "digits-cnn-stamp-3"


def test_stale_temporaries_are_removed(tmp_path):
    from neuralab.atomic import remove_temporaries

    (tmp_path / ".last.pt.abc123.tmp").write_bytes(b"half")
    (tmp_path / "last.pt").write_bytes(b"whole")
    assert [p.name for p in remove_temporaries(tmp_path)] == [".last.pt.abc123.tmp"]
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
