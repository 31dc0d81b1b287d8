"""docs/notebooks/train.ipynb runs: a live progress bar, the finished run's table and curves.

Executed by nbclient in a Jupyter kernel where nbclient and ipykernel are installed (the dev
extra), else its code cells run as one script. Set NEURALAB_UPDATE_NOTEBOOK=1 to write the
executed notebook, outputs included, back to docs/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "train.ipynb"
SRC = Path(__file__).resolve().parents[1] / "src"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_the_training_notebook_runs(tmp_path, monkeypatch):
    if (
        importlib.util.find_spec("nbclient") is None
        or importlib.util.find_spec("ipykernel") is None
    ):
        if importlib.util.find_spec("IPython") is None:
            pytest.skip("neither nbclient nor IPython is installed (pip install 'neuralab[dev]')")
        cells = json.loads(NOTEBOOK.read_text())["cells"]
        code = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        script = tmp_path / "notebook.py"
        script.write_text(code)
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=_environment(),
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert "asked to stop" in done.stdout
        return
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for name, value in _environment().items():
        monkeypatch.setenv(name, value)  # the kernel inherits them
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "batch/s" in text or "s/batch" in text  # the progress bar drew itself
    markdown = [o.data["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert markdown and "| epoch | train CE |" in markdown[0]
    assert len(markdown[0].strip().splitlines()) == 2 + 4  # header, rule, four epochs
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert "StopAtValAccuracy.on_epoch_end asked to stop" in text
    if os.environ.get("NEURALAB_UPDATE_NOTEBOOK") == "1":
        nbformat.write(notebook, NOTEBOOK)
