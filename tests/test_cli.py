"""The command line's frame: --version, --help, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from neuralab import __version__


def test_version(run_cli):
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"neuralab {__version__}"


def test_help_lists_commands(run_cli):
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_unknown_command_is_one_line_exit_2(run_cli):
    result = run_cli("no-such-command")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("neuralab: error:")
    assert "no-such-command" in lines[0]


def test_python_dash_m_entry_point():
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": source + os.pathsep + os.environ.get("PYTHONPATH", "")}
    completed = subprocess.run(
        [sys.executable, "-m", "neuralab", "--version"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"neuralab {__version__}"


def _explode(*args, **kwargs):
    raise RuntimeError("a bug deep inside\nwith a second line")


def test_an_unexpected_exception_is_one_line_and_a_crash_report(run_cli, tmp_path, monkeypatch):
    import neuralab.theory.pooling as pooling

    monkeypatch.setenv("NEURALAB_CRASH_DIR", str(tmp_path / "crashes"))
    monkeypatch.setattr(pooling, "padding_usage", _explode)
    result = run_cli("padding", "--input", "5x5")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(
        "neuralab: error: internal error (RuntimeError: a bug deep inside); the crash report is "
    )
    reports = list((tmp_path / "crashes").iterdir())
    assert len(reports) == 1 and str(reports[0]) in lines[0]
    report = reports[0].read_text()
    assert "command: neuralab padding --input 5x5" in report
    assert f"neuralab {__version__}" in report and "\ntorch " in report and "python " in report
    assert "Traceback (most recent call last)" in report and "_explode" in report


def test_debug_shows_the_traceback_anywhere_on_the_line(run_cli, tmp_path, monkeypatch):
    import neuralab.theory.pooling as pooling

    monkeypatch.setenv("NEURALAB_CRASH_DIR", str(tmp_path / "crashes"))
    monkeypatch.setattr(pooling, "padding_usage", _explode)
    for args in (("--debug", "padding"), ("padding", "--debug")):
        result = run_cli(*args)
        assert result.exit_code == 1
        assert "Traceback (most recent call last)" in result.stderr and "_explode" in result.stderr
        assert result.stderr.splitlines()[-1].startswith("neuralab: error: internal error")
    # --debug also shows where a bad-input error was raised; the exit code stays 2
    result = run_cli("padding", "--padding", "-1", "--debug")
    assert result.exit_code == 2 and "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1] == "neuralab: error: --padding '-1' must be >= 0"


def test_crash_reports_fall_back_to_the_temporary_folder(tmp_path, monkeypatch):
    from neuralab.cli._crash import crash_folders, write_crash_report

    monkeypatch.delenv("NEURALAB_CRASH_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert crash_folders()[0] == tmp_path / "cache" / "neuralab" / "crash-reports"
    monkeypatch.setenv("NEURALAB_CRASH_DIR", "/sys/no-crash-reports-here")
    assert write_crash_report(RuntimeError("x"), ["padding"]) is None  # and no exception


def test_an_os_error_naming_a_file_is_exit_code_2(run_cli, monkeypatch):
    import neuralab.theory.pooling as pooling

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/somewhere/file")

    monkeypatch.setattr(pooling, "padding_usage", denied)
    result = run_cli("padding")
    assert result.exit_code == 2
    assert result.stderr == "neuralab: error: '/somewhere/file': Permission denied\n"


def test_max_memory_raises_or_lowers_the_limit_for_one_command(run_cli, monkeypatch):
    monkeypatch.delenv("NEURALAB_MAX_MEMORY", raising=False)
    small = run_cli("padding", "--input", "200x200", "--max-memory", "1MB", "-f", "json")
    assert small.exit_code == 2 and "more than the limit of 976.6 KiB" in small.stderr
    assert "NEURALAB_MAX_MEMORY" not in os.environ  # restored after the command
    monkeypatch.setenv("NEURALAB_MAX_MEMORY", "1MB")
    assert run_cli("padding", "--input", "200x200", "-f", "json").exit_code == 2
    raised = run_cli("--max-memory=1GB", "padding", "--input", "200x200", "-f", "json")
    assert raised.exit_code == 0, raised.stderr
    assert os.environ["NEURALAB_MAX_MEMORY"] == "1MB"
