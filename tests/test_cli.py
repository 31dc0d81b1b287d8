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
