"""``neuralab playground``: train a small network on toy 2-D data, or a grid of them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from neuralab.cli._app import app
from neuralab.cli._options import OutputFormat

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

Examples:

  neuralab playground --data spiral --hidden 8,8 --activation relu --init he --epochs 500

  neuralab playground --data circle --compare init=zeros,small,xavier,he --compare activation=relu,sigmoid --seeds 3
"""


@app.command("playground", help=_HELP)
def playground(
    data: str | None = typer.Option(
        None,
        "--data",
        help="Toy data set: circle, xor, gauss, spiral, moons, blobs, plane, multi-gauss, curve.",
    ),
    n: int | None = typer.Option(None, "--n", help="Number of examples (train + test)."),
    noise: float | None = typer.Option(
        None, "--noise", help="Noise in percent, as TF Playground's slider (0..50)."
    ),
    train_ratio: float | None = typer.Option(
        None, "--train-ratio", help="Fraction of examples used for training."
    ),
    order: str | None = typer.Option(
        None, "--order", help="shuffled, or sorted (all of one class first)."
    ),
    features: str | None = typer.Option(
        None, "--features", help="Input features, e.g. x1,x2,x1^2,x2^2,x1x2,sin_x1,sin_x2."
    ),
    hidden: str | None = typer.Option(
        None, "--hidden", help="Hidden layer sizes, e.g. 8,8 ('' = none)."
    ),
    activation: str | None = typer.Option(
        None, "--activation", help="Hidden activation, or one per layer: relu,tanh."
    ),
    output: str | None = typer.Option(
        None, "--output", help="Output activation: sigmoid, tanh, linear, softmax, auto."
    ),
    loss: str | None = typer.Option(None, "--loss", help="Loss: mse, bce, ce, auto."),
    dropout: float | None = typer.Option(
        None, "--dropout", help="Dropout probability after every hidden layer."
    ),
    init: str | None = typer.Option(
        None,
        "--init",
        help="Weight init: he, xavier, zeros, small, large, constant(0.5), normal(0.1), ...",
    ),
    bias_init: float | None = typer.Option(
        None, "--bias-init", help="Constant every bias starts at (0.01 keeps ReLUs alive)."
    ),
    optimizer: str | None = typer.Option(None, "--optimizer", help="sgd, momentum or adam."),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate eta."),
    momentum: float | None = typer.Option(
        None, "--momentum", help="Momentum mu (optimizer momentum)."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Examples per update: 0 = full batch (GD), 1 = SGD."
    ),
    l1: float | None = typer.Option(None, "--l1", help="L1 penalty lambda_1 * sum |w|."),
    l2: float | None = typer.Option(None, "--l2", help="L2 penalty lambda_2 / 2 * sum w^2."),
    shuffle: bool | None = typer.Option(
        None, "--shuffle/--no-shuffle", help="Reshuffle the training set every epoch."
    ),
    epochs: int | None = typer.Option(None, "--epochs", help="Passes over the training set."),
    iterations: int | None = typer.Option(
        None, "--iterations", help="Stop after this many updates instead (overrides --epochs)."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of initialization, shuffling, dropout (and data)."
    ),
    data_seed: int | None = typer.Option(
        None, "--data-seed", help="Seed of the data set (default: --seed)."
    ),
    classes: int | None = typer.Option(
        None, "--classes", help="Number of classes of the blobs data set."
    ),
    log_every: int | None = typer.Option(
        None, "--log-every", help="Print a line every k epochs (0 = about 10 lines)."
    ),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, mps or auto."),
    config_path: Path | None = typer.Option(
        None, "--config", help="YAML/TOML file of PlaygroundConfig fields; options override it."
    ),
    compare: list[str] | None = typer.Option(
        None,
        "--compare",
        help="FIELD=V1,V2,... to compare (repeatable); '+' joins list items: hidden=4,8+8.",
    ),
    seeds: int = typer.Option(1, "--seeds", help="Seeds per grid cell (mean ± std over them)."),
    run_dir: Path | None = typer.Option(
        None, "--run-dir", help="Run directory (default runs/playground-<data>-<time>)."
    ),
    output_format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", help="Grid table format: table, json, csv, markdown."
    ),
) -> None:
    from neuralab.config import load_config
    from neuralab.playground.config import PlaygroundConfig, validate_config
    from neuralab.playground.mlp import parse_hidden

    options: dict[str, Any] = {
        "data": data,
        "n": n,
        "noise": noise,
        "train_ratio": train_ratio,
        "order": order,
        "features": None if features is None else tuple(_split(features)),
        "hidden": None if hidden is None else parse_hidden(hidden),
        "activation": activation,
        "output": output,
        "loss": loss,
        "dropout": dropout,
        "init": init,
        "bias_init": bias_init,
        "optimizer": optimizer,
        "lr": lr,
        "momentum": momentum,
        "batch_size": batch_size,
        "l1": l1,
        "l2": l2,
        "shuffle": shuffle,
        "epochs": epochs,
        "iterations": iterations,
        "seed": seed,
        "data_seed": data_seed,
        "classes": classes,
        "log_every": log_every,
        "device": device,
    }
    config = load_config(PlaygroundConfig, config_path, options)
    validate_config(config)
    _one_thread_on_cpu(config.device)
    if compare:
        _run_grid(config, compare, seeds, run_dir, output_format)
    else:
        _run_single(config, run_dir)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _one_thread_on_cpu(device: str) -> None:
    # the playground's matrices are tiny: several threads only add synchronisation, and on a
    # shared machine they make a run many times slower
    import torch

    if device.strip().lower() == "cpu":
        torch.set_num_threads(1)


def _run_dir(path: Path | None, *parts: str) -> Any:
    from neuralab.rundir import RunDirectory, default_run_name

    return RunDirectory(path if path is not None else Path("runs") / default_run_name(*parts))


def flatten_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return a history row with per-layer lists as columns grad_norm_1, grad_norm_2, ..."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, list):
            for i, item in enumerate(value, start=1):
                flat[f"{key}_{i}"] = int(item) if isinstance(item, bool) else item
        else:
            flat[key] = value
    return flat


def summary_line(row: dict[str, Any], epochs: int) -> str:
    """Return the one-line summary of an epoch printed while training."""
    width = len(str(epochs))
    parts = [f"epoch {row['epoch']:>{width}}", f"train loss {_number(row['train_loss'])}"]
    if row.get("test_loss") is not None:
        parts.append(f"test loss {_number(row['test_loss'])}")
    if row.get("train_acc") is not None:
        parts.append(f"train acc {row['train_acc']:6.1%}")
    if row.get("test_acc") is not None:
        parts.append(f"test acc {row['test_acc']:6.1%}")
    parts.append("|dJ/dW| " + " ".join(f"{g:.1e}" for g in row["grad_norm"]))
    if any(row["dead_fraction"]):
        parts.append("dead " + " ".join(f"{d:.0%}" for d in row["dead_fraction"]))
    if any(row["saturated_fraction"]):
        parts.append("saturated " + " ".join(f"{s:.0%}" for s in row["saturated_fraction"]))
    if any(row["symmetric"]):
        parts.append("symmetric " + " ".join("yes" if s else "no" for s in row["symmetric"]))
    return "  ".join(parts)


def _number(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) and abs(value) < 1e4 else f"{value:.3g}"


def describe(config: Any, plan: Any) -> str:
    """Return the header line: data, features -> layers -> output, loss and optimiser."""
    layers = (
        "-".join(f"{h} {a}" for h, a in zip(plan.hidden, plan.activations, strict=True))
        or "no hidden layer"
    )
    batch = "full batch" if plan.batch_size == plan.n_train else f"batch {plan.batch_size}"
    return (
        f"{config.data}: {plan.n_train} train / {plan.n_test} test, noise {config.noise:g}; "
        f"{','.join(plan.features)} -> {layers} -> {plan.out_features} {plan.output}; "
        f"loss {plan.loss}; {config.optimizer} lr {config.lr:g}, {batch}, init {config.init}; "
        f"{plan.epochs} epochs"
    )


def _run_single(config: Any, run_dir_path: Path | None) -> None:
    from neuralab.console import stdout_console
    from neuralab.errors import NeuralabError
    from neuralab.playground.plan import load_data, make_plan
    from neuralab.playground.run import resolve_log_every, train_playground
    from neuralab.report.playground_figures import save_run_figures

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
        if pending:
            run_dir.rows.extend(flatten_row(r) for r in pending[:-1])
            run_dir.append_metrics(flatten_row(pending[-1]))
            pending.clear()

    def on_epoch(row: dict[str, Any]) -> None:
        pending.append(row)
        last = row["epoch"] == plan.epochs or not math.isfinite(row["train_loss"])
        if row["epoch"] % every == 0 or last:
            say(summary_line(row, plan.epochs))
            flush()

    say(describe(config, plan))
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
    config: Any,
    specs: list[str],
    seeds: int,
    run_dir_path: Path | None,
    output_format: OutputFormat,
) -> None:
    from neuralab.atomic import save_figure, write_text
    from neuralab.console import stdout_console
    from neuralab.playground.compare import compare_grid, grid_configs, parse_compare
    from neuralab.playground.config import validate_config
    from neuralab.report.playground_figures import compare_figure
    from neuralab.report.tabular import Column, csv_table, markdown_table, rich_table, to_json

    axes = parse_compare(specs)
    for _, runs in grid_configs(config, axes, seeds):  # every cell valid before training any
        validate_config(runs[0])
    grid = compare_grid(config, axes, seeds=seeds, progress=True)
    run_dir = _run_dir(run_dir_path, "playground-compare", config.data)
    run_dir.write_config(config)
    rows = grid.rows()
    columns = _grid_columns([name for name, _ in axes], rows)
    write_text(run_dir.file("compare.csv"), csv_table(rows, [Column(key) for key in rows[0]]))
    write_text(run_dir.file("metrics.csv"), _grid_metrics(grid))
    figure = save_figure(compare_figure(grid), run_dir.figure("compare.png"))
    console = stdout_console()
    if output_format is OutputFormat.json:
        print(to_json(rows))
    elif output_format is OutputFormat.csv:
        print(csv_table(rows, [Column(key) for key in rows[0]]), end="")
    elif output_format is OutputFormat.markdown:
        print(markdown_table(_display_rows(rows, seeds > 1), columns), end="")
    else:
        table = rich_table(_display_rows(rows, seeds > 1), columns, title=_grid_title(grid))
        console.print(table)
    networks = len(grid.cells) * seeds
    line = (
        f"trained {networks} networks as {grid.groups} batched model(s) in {grid.seconds:.1f} s; "
        f"wrote {run_dir.path}: config.yaml, compare.csv, metrics.csv, figures/{figure.name}"
    )
    console.print(line, markup=False, highlight=False, soft_wrap=True)
    run_dir.log(line)


def _grid_title(grid: Any) -> str:
    seeds = len(grid.seeds)
    spread = f", mean ± std over {seeds} seeds" if seeds > 1 else ""
    return f"{grid.base.data}: final epoch{spread}"


_METRICS = {
    "train_loss": "train loss",
    "test_loss": "test loss",
    "train_acc": "train acc",
    "test_acc": "test acc",
    "dead_fraction": "dead ReLU",
}


def _grid_columns(axes: list[str], rows: list[dict[str, Any]]) -> list[Any]:
    from neuralab.report.tabular import Column

    columns = [Column(key, key, justify="left") for key in axes]
    for key, header in _METRICS.items():
        if any(row[key] is not None for row in rows):  # no ReLU anywhere: no dead column
            columns.append(Column(key, header))
    if any(row["diverged"] for row in rows):
        columns.append(Column("diverged", "diverged"))
    return columns


def _display_rows(rows: list[dict[str, Any]], with_std: bool) -> list[dict[str, Any]]:
    """Return the rows with every metric as text: mean, or mean +- std over the seeds."""
    shown = []
    for row in rows:
        display = dict(row)
        for key in _METRICS:
            percent = not key.endswith("loss")
            text = _show(row[key], percent)
            if with_std and row[key] is not None:
                text += " ± " + _show(row[f"{key}_std"], percent)
            display[key] = text
        shown.append(display)
    return shown


def _show(value: Any, percent: bool) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return "nan"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def _grid_metrics(grid: Any) -> str:
    """Return every network's history as CSV: cell settings, seed, then the flattened row."""
    import csv
    import io

    from neuralab.playground.compare import show_value

    lines: list[dict[str, Any]] = []
    for cell in grid.cells:
        for result in cell.results:
            for row in result.history:
                lines.append(
                    {
                        **{k: show_value(v) for k, v in cell.settings.items()},
                        "seed": result.config.seed,
                    }
                    | flatten_row(row)
                )
    buffer = io.StringIO()
    fields: list[str] = []
    for line in lines:
        fields.extend(k for k in line if k not in fields)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines)
    return buffer.getvalue()
