"""The public API: ``import neuralab`` stays free of torch, and type checkers see real signatures.

``neuralab/__init__.py`` names each public object twice: in ``_PUBLIC`` (name -> module), which
its ``__getattr__`` imports on first use, and in ``if TYPE_CHECKING:`` imports that type
checkers read. These tests keep the two equal and check what each side promises.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import neuralab

ROOT = Path(__file__).resolve().parents[1]
INIT = ROOT / "src" / "neuralab" / "__init__.py"
HEAVY = ("torch", "torchvision", "matplotlib", "numpy", "scipy", "sympy", "sklearn", "optuna")


def type_checking_imports() -> dict[str, str]:
    """Return name -> module of the ``if TYPE_CHECKING:`` imports of ``neuralab/__init__.py``."""
    names: dict[str, str] = {}
    for node in ast.parse(INIT.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module
                for alias in statement.names:
                    # "name as name" re-exports explicitly (mypy --strict, pyright)
                    assert alias.asname == alias.name, f"write {alias.name} as {alias.name}"
                    names[alias.name] = statement.module
    return names


def imported_heavy_modules(code: str) -> list[str]:
    """Return the heavy top-level packages a fresh interpreter has loaded after ``code``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    script = code + "\nimport sys\nprint(sorted({m.split('.')[0] for m in sys.modules}))"
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    loaded = ast.literal_eval(completed.stdout.strip().splitlines()[-1])
    return [name for name in HEAVY if name in loaded]


def test_import_neuralab_and_the_command_line_load_no_torch():
    assert imported_heavy_modules("import neuralab") == []
    assert imported_heavy_modules("import neuralab.cli") == []
    # the pure formulas are importable without torch (README)
    assert imported_heavy_modules("import neuralab.arch.shapes, neuralab.arch.receptive") == []
    # the check itself can see torch: a public name resolved on use imports it
    assert "torch" in imported_heavy_modules("import neuralab\nneuralab.summary")


def test_type_checkers_see_the_same_names_as_the_lazy_loader():
    assert type_checking_imports() == neuralab._PUBLIC
    assert sorted(neuralab.__all__) == sorted(["__version__", *neuralab._PUBLIC])


def test_every_public_name_is_the_object_of_its_module():
    for name, module in sorted(neuralab._PUBLIC.items()):
        assert getattr(neuralab, name) is getattr(importlib.import_module(module), name), name
    with pytest.raises(AttributeError, match="has no attribute 'sumary'"):
        neuralab.sumary  # noqa: B018


def test_mypy_sees_real_signatures(tmp_path):
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        textwrap.dedent(
            """
            import neuralab

            reveal_type(neuralab.summary)
            reveal_type(neuralab.train)
            neuralab.summary("conv(10,5)", (3, 32, 32), depth="deep")
            """
        )
    )
    # Third-party packages are skipped (their types become Any): neuralab's own signatures are
    # what is checked, and the run takes seconds instead of a minute through torch.
    config = tmp_path / "mypy.ini"
    config.write_text(
        textwrap.dedent(
            f"""
            [mypy]
            python_version = 3.11
            ignore_missing_imports = True
            follow_imports = silent
            cache_dir = {tmp_path / "cache"}
            mypy_path = {ROOT / "src"}

            [mypy-{",".join(f"{name}.*" for name in (*HEAVY, "rich", "typer", "yaml"))}]
            follow_imports = skip
            """
        )
    )
    stdout, stderr, status = api.run([str(snippet), f"--config-file={config}"])
    assert status == 1, stdout + stderr  # the one wrong call below
    lines = stdout.splitlines()
    assert (
        'Revealed type is "def (model_or_source: Any | str, input_shape: typing.Sequence[int] | '
        "int | str | neuralab.arch.summary_inputs.InputSpec | typing.Sequence[typing.Sequence[int] "
        "| str | neuralab.arch.summary_inputs.InputSpec] | None =, *, input_data: Any =, depth: "
        "int | None =, batch_size: int =, dtype: str | None =, device: str | None =, mode: str =, "
        "columns: typing.Sequence[str] | str | None =, hide_recursive: bool =, **forward_kwargs: "
        'Any) -> neuralab.report.summary_render.RenderedSummary"'
    ) in lines[0]
    assert "def (config: neuralab.vision.config.TrainConfig | " in lines[1]
    assert "-> neuralab.vision.train.TrainResult" in lines[1]
    assert 'Argument "depth" to "summary" has incompatible type "str"' in lines[2]


def test_the_package_ships_py_typed():
    pyprojecttoml = pytest.importorskip("setuptools.config.pyprojecttoml")
    assert (ROOT / "src" / "neuralab" / "py.typed").is_file()
    # read as setuptools reads it when it builds the wheel
    setuptools = pyprojecttoml.read_configuration(ROOT / "pyproject.toml")["tool"]["setuptools"]
    assert "py.typed" in setuptools["package-data"]["neuralab"]
