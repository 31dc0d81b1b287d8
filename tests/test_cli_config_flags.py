"""Flags generated from the config dataclasses: every field on the CLI, written once."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
import typer
from typer.testing import CliRunner

from neuralab.cli import app
from neuralab.cli._config_flags import config_flags
from neuralab.config import field_options, option, show_value
from neuralab.playground.config import PlaygroundConfig
from neuralab.studies.study import get_study, list_studies
from neuralab.studies.sweep.spec import SWEEP_DEFAULTS, SweepSpec
from neuralab.vision.config import OPTIMIZERS, SCHEDULES, TrainConfig


def _options(path: str) -> dict[str, Any]:
    command = typer.main.get_command(app)
    for name in path.split():
        command = command.commands[name]  # type: ignore[attr-defined]
    return {name: p for p in command.params for name in p.opts}


@pytest.mark.parametrize(
    ("command", "config_class", "skipped"),
    [
        ("train", TrainConfig, ()),
        ("playground", PlaygroundConfig, ()),
        ("sweep", TrainConfig, ("run_dir",)),
        ("sweep", SweepSpec, ("base", "grid")),
        *((f"study {name}", get_study(name).config_class, ()) for name in list_studies()),
    ],
)
def test_every_field_is_a_flag_with_its_help_and_default(command, config_class, skipped):
    options = _options(command)
    for field in field_options(config_class):
        if field.name in skipped:
            continue
        assert field.help, f"{config_class.__name__}.{field.name} has no help"
        parameter = options[field.flag]
        assert parameter.help.rstrip(".") == field.help.rstrip(".")
        default = (
            SWEEP_DEFAULTS.get(field.name, field.default) if command == "sweep" else field.default
        )
        if field.is_bool:
            assert f"--no-{field.flag[2:]}" in parameter.secondary_opts
            assert parameter.default == default
        else:
            assert parameter.default == show_value(default)
        if field.choices:
            assert parameter.metavar == "[" + "|".join(field.choices) + "]"


def test_help_shows_defaults_and_choices_from_the_config():
    result = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--label-smoothing" in result.output and "[default: 0.1]" in result.output
    assert "[" + "|".join(OPTIMIZERS) + "]" in result.output  # the Literal's names
    assert "[default: adamw]" in result.output


def test_a_new_field_appears_on_the_cli_without_being_written_twice():
    @dataclass
    class Example:
        rate: float = option(0.5, help="how fast")
        kind: Literal["a", "b"] = option("a", help="which one")
        sizes: tuple[int, ...] = option((4, 2), help="layer sizes")
        verbose: bool = option(False, help="say more")

    seen: dict[str, Any] = {}
    example_app = typer.Typer()

    @example_app.command()
    @config_flags(Example)
    def run(fields: dict[str, Any], name: str = "x") -> None:
        seen.update(fields, name=name)

    runner = CliRunner()
    help_text = runner.invoke(example_app, ["--help"], env={"COLUMNS": "200"}).output
    assert "--rate" in help_text and "how fast" in help_text and "[default: 0.5]" in help_text
    assert "[a|b]" in help_text and "[default: 4,2]" in help_text and "--no-verbose" in help_text
    result = runner.invoke(example_app, ["--rate", "0.1", "--sizes", "8,8", "--verbose"])
    assert result.exit_code == 0, result.output
    # only what was typed: the rest stays with the config file and --set underneath
    assert seen == {"rate": "0.1", "sizes": "8,8", "verbose": True, "name": "x"}


@pytest.fixture
def trained_configs(monkeypatch):
    from neuralab.vision import train as train_module

    configs: list[TrainConfig] = []
    monkeypatch.setattr(train_module, "train", lambda config, **_: configs.append(config))
    return configs


def test_a_flag_and_set_convert_the_same(run_cli, trained_configs):
    assert run_cli("train", "--widths", "8,16", "--lr", "0.01", "--no-amp").exit_code == 0
    assert (
        run_cli("train", "--set", "widths=8,16", "--set", "lr=0.01", "--set", "amp=false").exit_code
        == 0
    )
    first, second = trained_configs
    assert first == second and first.widths == (8, 16) and first.lr == 0.01 and not first.amp


def test_flags_beat_set_beat_the_config_file(run_cli, trained_configs, tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("lr: 0.5\nepochs: 3\nseed: 7\n")
    result = run_cli(
        "train", "--config", path, "--set", "lr=0.2", "--set", "epochs=4", "--epochs", "5"
    )
    assert result.exit_code == 0, result.stderr
    [config] = trained_configs
    assert (config.lr, config.epochs, config.seed) == (0.2, 5, 7)


def test_playground_flag_equals_set(run_cli, tmp_path):
    from neuralab.config import read_config_file

    common = ("playground", "--epochs", "1", "--n", "20")
    assert run_cli(*common, "--hidden", "3,2", "--run-dir", tmp_path / "a").exit_code == 0
    assert run_cli(*common, "--set", "hidden=3,2", "--run-dir", tmp_path / "b").exit_code == 0
    a, b = (read_config_file(tmp_path / name / "config.yaml") for name in "ab")
    assert a == b and a["hidden"] == [3, 2]


def test_help_is_fast_and_imports_no_torch():
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": source}
    code = (
        "import sys\n"
        "from neuralab.cli import main\n"
        "for command in ('', 'train', 'playground', 'sweep', 'study', 'study sam'):\n"
        "    main([*command.split(), '--help'])\n"
        "heavy = sorted(m for m in ('torch', 'numpy', 'matplotlib', 'sympy') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_name_lists_have_one_source():
    from neuralab.vision import schedules

    # the schedule functions cover exactly the names TrainConfig (and so --schedule) offers
    assert tuple(schedules.SCHEDULES) == SCHEDULES
    assert _options("train")["--schedule"].metavar == "[" + "|".join(SCHEDULES) + "]"
