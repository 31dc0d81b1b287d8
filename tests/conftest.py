"""Shared fixtures: the command line run in-process, the shared real data sets, small threads."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# Two pytest workers share two cores: one torch thread each avoids oversubscription.
if os.environ.get("PYTEST_XDIST_WORKER"):
    import torch

    torch.set_num_threads(1)

os.environ.setdefault("MPLBACKEND", "Agg")
# crash reports of the tests' own commands (and their subprocesses) stay out of ~/.cache
os.environ.setdefault(
    "NEURALAB_CRASH_DIR", str(Path(tempfile.gettempdir()) / "neuralab-test-crash-reports")
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATASETS = SHARED / "datasets"


@dataclass
class CliResult:
    """What one command line run printed and returned."""

    exit_code: int
    stdout: str
    stderr: str

    def tables(self) -> list[dict]:
        """Return what ``--format json`` printed: one {title, rows, footer, notes} per table."""
        return json.loads(self.stdout)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run ``neuralab ARGS...`` in this process and return its exit code and output."""
    from neuralab.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def shared_dataset(relative: str) -> Path:
    """Return the path of a file under ``../shared/datasets``, or skip the test saying why."""
    path = SHARED_DATASETS / relative
    if not path.is_file():
        pytest.skip(f"{path} is absent: the shared real data sets sit beside the checkout only")
    return path


@pytest.fixture
def gtsrb_npz() -> Path:
    return shared_dataset("gtsrb/gtsrb-32.npz")


@pytest.fixture
def mnist_npz() -> Path:
    return shared_dataset("mnist/mnist-28.npz")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("neuralab", "refreshing what the tests compare against")
    group.addoption(
        "--update-docs",
        action="store_true",
        help="write what the console examples of README.md and docs/ print back into the pages",
    )
    group.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/* from what the commands print now",
    )


# the browser tests' fixtures (system Chromium driven by Playwright): tests/browser_fixtures.py
pytest_plugins = ["browser_fixtures"]
