"""``neuralab playground``: train a small network on toy 2-D data, or a grid of them."""

from __future__ import annotations

import math
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
    output_format: str = format_option("How to print the grid's table."),
) -> None:
    from neuralab.config import load_config, parse_overrides

    config = load_config(PlaygroundConfig, config_path, {**parse_overrides(set_ or []), **fields})
    _one_thread_on_cpu(config.device)
    if compare:
        _run_grid(config, compare, seeds, run_dir, output_format)
    else:
        _run_single(config, run_dir)


def _one_thread_on_cpu(device: str) -> None:
    # the playground's matrices are tiny: several threads only add synchronisation, and on a
    # shared machine they make a run many times slower
    import torch

    if device.strip().lower() == "cpu":
        torch.set_num_threads(1)


def _run_dir(path: Path | None, *parts: str) -> Any:
    from neuralab.rundir import RunDirectory, default_run_name

    return RunDirectory(path if path is not None else Path("runs") / default_run_name(*parts))


def _run_single(config: PlaygroundConfig, run_dir_path: Path | None) -> None:
    from neuralab.console import stdout_console
    from neuralab.errors import NeuralabError
    from neuralab.playground.plan import load_data, make_plan
    from neuralab.playground.run import resolve_log_every, train_playground
    from neuralab.report.playground_figures import save_run_figures
    from neuralab.report.playground_tables import epoch_line, flatten_row, run_header

    data = load_data(config)
    plan = make_plan(config, data)
    console = stdout_console()
    run_dir = _run_dir(run_dir_path, "playground", config.data)
    run_dir.write_config(config)
    every = resolve_log_every(config, plan.epochs)
    pending: list[dict[str, Any]] = []

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
        run_dir.log(line)

    def flush() -> None:
        # metrics.csv is appended once per printed line: the rows in between go in with it
        if pending:
            run_dir.rows.extend(flatten_row(r) for r in pending[:-1])
            run_dir.append_metrics(flatten_row(pending[-1]))
            pending.clear()

    def on_epoch(row: dict[str, Any]) -> None:
        pending.append(row)
        last = row["epoch"] == plan.epochs or not math.isfinite(row["train_loss"])
        if row["epoch"] % every == 0 or last:
            say(epoch_line(row, plan.epochs))
            flush()

    say(run_header(config, plan))
    result = train_playground(config, data=data, progress=True, on_epoch=on_epoch)
    flush()
    figures = save_run_figures(result, run_dir.figures)
    names = ", ".join(f"figures/{p.name}" for p in figures.values())
    say(f"wrote {run_dir.path}: config.yaml, metrics.csv, train.log, {names}")
    if result.stopped:
        raise NeuralabError(
            f"{result.stopped} (lower --lr, or check --init); "
            f"what was recorded is in {run_dir.path}"
        )


def _run_grid(
    config: PlaygroundConfig,
    specs: list[str],
    seeds: int,
    run_dir_path: Path | None,
    output_format: str,
) -> None:
    from neuralab.atomic import save_figure, write_text
    from neuralab.playground.compare import compare_grid, grid_configs, parse_compare
    from neuralab.report.playground_figures import compare_figure
    from neuralab.report.playground_tables import grid_metrics_csv, grid_table
    from neuralab.report.tabular import Column, csv_table, row_keys

    axes = parse_compare(specs)
    grid_configs(config, axes, seeds)  # every cell is valid before any trains
    grid = compare_grid(config, axes, seeds=seeds, progress=True)
    run_dir = _run_dir(run_dir_path, "playground-compare", config.data)
    run_dir.write_config(config)
    rows = grid.rows()
    write_text(run_dir.file("compare.csv"), csv_table(rows, [Column(k) for k in row_keys(rows)]))
    write_text(run_dir.file("metrics.csv"), grid_metrics_csv(grid))
    figure = save_figure(compare_figure(grid), run_dir.figure("compare.png"))
    line = (
        f"trained {len(grid.cells) * seeds} networks as {grid.groups} batched model(s) in "
        f"{grid.seconds:.1f} s; wrote {run_dir.path}: config.yaml, compare.csv, metrics.csv, "
        f"figures/{figure.name}"
    )
    run_dir.log(line)
    emit(grid_table(grid, notes=[line]), output_format)
