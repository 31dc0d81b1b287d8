"""Atomic writes: the old file survives a failed write and no temporary file is left."""

from __future__ import annotations

import pytest

from neuralab.atomic import WriteError, atomic_path, write_text


def test_write_then_replace(tmp_path):
    target = tmp_path / "a" / "out.txt"
    with pytest.raises(WriteError, match="the folder .*a' does not exist"):
        write_text(target, "first")  # a mistyped folder is never created on the way
    assert not target.parent.exists()
    target.parent.mkdir()
    write_text(target, "first")
    write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "complete")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted mid-write")
    assert target.read_text() == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_new_files_get_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        target = write_text(tmp_path / "report.md", "x")
    finally:
        os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o644
