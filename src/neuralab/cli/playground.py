"""``neuralab playground``: train a small network on toy 2-D data, or a grid of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._config_flags import config_file_option, config_flags, set_option
from neuralab.cli._emit import emit, format_option
from neuralab.playground.config import PlaygroundConfig

_HELP = """Train a small network on toy 2-D data and see what it learned (TF Playground, offline).

The network is an MLP: input features (x1, x2, x1^2, x2^2, x1x2, sin_x1, sin_x2) -> hidden
layers z = W a + b, a = f(z) -> output g (sigmoid, tanh, linear, softmax). Every epoch records
train/test loss and accuracy, the gradient norm ||dJ/dW|| and weight norm of every layer, the
fraction of dead ReLUs (z <= 0 on every training input), of saturated sigmoid/tanh units
(|z| > 4 on most inputs) and whether a layer's units are still identical (symmetry).

Writes a run directory: config.yaml, metrics.csv, train.log and figures/boundary.png (train points
filled, test points hollow, background = network output), loss.png, grad_norm.png.

--compare FIELD=V1,V2 (repeatable) trains every combination, --seeds times each, all networks of
one shape at once as one batched model, and prints mean ± std of the final metrics.

Settings come from the defaults, then --config FILE, then --set field=value, then the flags;
every flag below Options is a field of PlaygroundConfig.

Examples:

  neuralab playground --data spiral --hidden 8,8 --activation relu --init he --epochs 500

  neuralab playground --data circle --compare init=zeros,small,xavier,he --compare activation=relu,sigmoid --seeds 3
"""


@app.command("playground", help=_HELP)
@config_flags(PlaygroundConfig)
def playground(
    fields: dict[str, Any],
    config_path: Path | None = config_file_option(PlaygroundConfig),
    set_: list[str] | None = set_option(),
    compare: list[str] | None = typer.Option(
        None,
        "--compare",
        help="FIELD=V1,V2,... to compare (repeatable); '+' joins list items: hidden=4,8+8.",
        show_default=False,
    ),
    seeds: int = typer.Option(1, "--seeds", help="Seeds per grid cell (mean ± std over them)."),
    run_dir: Path | None = typer.Option(
        None,
        "--run-dir",
        help="Run directory (default runs/playground-<data>-<time>).",
        show_default=False,
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Replace the run in --run-dir if it holds one (its files are removed).",
    ),
    output_format: str = format_option("How to print the grid's table."),
) -> None:
    from neuralab.config import load_config, parse_overrides
    from neuralab.console import stdout_console
    from neuralab.errors import NeuralabError
    from neuralab.playground.grid_axes import grid_configs, parse_compare

    # the config checks every name and value without torch (a cuda or mps device last, with
    # torch), and so do the grid's parser and its cells: a typo is answered before the
    # training modules are imported
    axes = parse_compare(compare) if compare else []
    config = load_config(PlaygroundConfig, config_path, {**parse_overrides(set_ or []), **fields})
    if compare:
        grid_configs(config, axes, seeds)
    from neuralab.playground.record import record_grid, record_run
    from neuralab.report.playground_tables import grid_table

    _one_thread_on_cpu(config.device)
    if compare:
        grid, line = record_grid(config, compare, seeds=seeds, run_dir=run_dir, overwrite=overwrite)
        emit(grid_table(grid, notes=[line]), output_format)
        return
    console = stdout_console()
    result, directory = record_run(
        config,
        run_dir,
        say=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True),
        overwrite=overwrite,
    )
    if result.stopped:
        raise NeuralabError(
            f"{result.stopped} (lower --lr, or check --init); what was recorded is in {directory}"
        )


def _one_thread_on_cpu(device: str) -> None:
    # the playground's matrices are tiny: several threads only add synchronisation, and on a
    # shared machine they make a run many times slower
    import torch

    if device.strip().lower() == "cpu":
        torch.set_num_threads(1)
