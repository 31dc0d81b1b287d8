"""What the page draws, computed from an engine session: the data, and one frame per redraw.

A frame holds, per network, the newest history row (losses, accuracies, per-layer diagnostics),
the rows not sent before (every epoch reaches the loss chart), the output on a grid over the
plotted square, every hidden unit's activation on a coarser grid, and the weights and biases.

Encodings keep frames small and exact where it matters:

- heat maps are bytes, ``q = round((v + 1) * 127.5)`` for a value ``v`` in [-1, 1], in base64
  (the colour scale has far fewer shades than 256); row 0 is the top of the picture
  (x2 = +extent), column 0 the left (x1 = -extent), as the engine's grids are laid out;
- weights and biases are the model's float32 values, little-endian, in base64 (exact: a hovered
  weight reads what the model holds);
- losses are JSON numbers (Python's round-trip repr), so the page shows exactly the engine's
  value; a NaN or infinite value becomes ``null`` (JSON has no NaN) and the network's
  ``stopped`` line says what happened.
"""

from __future__ import annotations

import base64
import math
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from neuralab.playground.features import feature_matrix

if TYPE_CHECKING:
    from neuralab.playground.session import PlaygroundSession
    from neuralab.playground.toy_data import ToyDataset

CURVE_POINTS = 160  # samples of a 1-D network's curve
FEATURE_LABELS = {
    "x1": "X\u2081",
    "x2": "X\u2082",
    "x1^2": "X\u2081\u00b2",
    "x2^2": "X\u2082\u00b2",
    "x1x2": "X\u2081X\u2082",
    "sin_x1": "sin(X\u2081)",
    "sin_x2": "sin(X\u2082)",
}


def unit_bytes(values: Tensor) -> str:
    """Return base64 of ``values`` in [-1, 1] (clamped) quantised to bytes round((v + 1) 127.5)."""
    q = ((values.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return base64.b64encode(q.contiguous().numpy().tobytes()).decode("ascii")


def float32_bytes(values: Tensor) -> str:
    """Return base64 of ``values`` as little-endian float32 (exact for the model's weights)."""
    array = values.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4")
    return base64.b64encode(array.tobytes()).decode("ascii")


def finite(value: Any) -> Any:
    """Return ``value`` with NaN and infinities replaced by None (lists element-wise)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def grid_points(resolution: int, extent: float, input_dim: int) -> Tensor:
    """Return the raw inputs of the square grid the engine draws on: (R*R, 2), or (R, 1) in 1-D."""
    axis = torch.linspace(-extent, extent, resolution)
    if input_dim == 1:
        return axis.unsqueeze(1)
    rows, columns = torch.meshgrid(axis.flip(0), axis, indexing="ij")
    return torch.stack([columns.reshape(-1), rows.reshape(-1)], dim=1)


def target_scale(data: ToyDataset) -> float:
    """Return max |target| of a regression data set (the colour scale's end), else 1."""
    if data.task != "regression":
        return 1.0
    targets = torch.cat([data.y_train.reshape(-1), data.y_test.reshape(-1)]).float()
    return float(targets.abs().max()) if targets.numel() else 1.0


def data_picture(
    data: ToyDataset,
    features: list[str],
    extent: float,
    neuron_grid: int,
    *,
    version: int,
    uploaded: str | None = None,
) -> dict[str, Any]:
    """Return the data as the page draws it: points, the plotted square and the feature units."""
    input_dim = 1 if data.x_train.dim() == 1 else int(data.x_train.shape[1])

    def points(x: Tensor, y: Tensor) -> list[list[float]]:
        xs = x.reshape(len(x), -1).tolist()
        labels = y.reshape(-1).tolist()
        return [
            [*(round(v, 5) for v in p), round(label, 5)]
            for p, label in zip(xs, labels, strict=True)
        ]

    picture: dict[str, Any] = {
        "name": data.name,
        "task": data.task,
        "input_dim": input_dim,
        "num_classes": int(data.num_classes),
        "train": points(data.x_train, data.y_train),
        "test": points(data.x_test, data.y_test),
        "target_scale": target_scale(data),
        "neuron_grid": neuron_grid,
        "version": version,
        "uploaded": uploaded,
    }
    if input_dim == 1:
        targets = torch.cat([data.y_train.reshape(-1), data.y_test.reshape(-1)]).float()
        low, high = float(targets.min()), float(targets.max())
        pad = 0.1 * max(high - low, 1e-3)
        picture["domain"] = [-extent, extent, low - pad, high + pad]
    else:
        picture["domain"] = [-extent, extent, -extent, extent]
    grid = grid_points(neuron_grid if input_dim == 2 else CURVE_POINTS, extent, input_dim)
    columns = feature_matrix(grid, features)  # (points, F)
    picture["features"] = []
    for index, name in enumerate(features):
        values = columns[:, index]
        scaled = values / max(1e-12, float(values.abs().max()))
        entry: dict[str, Any] = {"name": name, "label": FEATURE_LABELS.get(name, name)}
        if input_dim == 1:
            entry["curve"] = [round(v, 4) for v in scaled.tolist()]
        else:
            entry["grid"] = unit_bytes(scaled)
        picture["features"].append(entry)
    return picture


def output_picture(session: PlaygroundSession, resolution: int, extent: float) -> dict[str, Any]:
    """Return the output on the grid, mapped to [-1, 1] as the page colours it.

    Two classes: v = 2p - 1 for a sigmoid or softmax output (p the probability of class 1), the
    output itself for tanh or linear; k classes: the winning class and its probability;
    regression: y / max|target|; 1-D data: the curve y(x).
    """
    plan = session.plan
    grid = session.output_grid(resolution if session.data.input_dim == 2 else CURVE_POINTS, extent)
    if grid.dim() == 2:  # 1-D data: (out, R)
        ys = grid[0]
        scale = max(1e-12, float(ys.abs().max()))
        xs = torch.linspace(-extent, extent, ys.shape[0])
        return {
            "kind": "curve",
            "xs": [round(v, 4) for v in xs.tolist()],
            "ys": [round(v, 5) for v in finite(ys.tolist())],
            "unit_values": [round(v, 4) for v in finite((ys / scale).tolist())],
        }
    picture: dict[str, Any] = {"kind": "map", "size": resolution}
    if plan.task == "regression":
        scale = target_scale(session.data)
        picture["grid"] = unit_bytes(torch.nan_to_num(grid[0] / scale))
        picture["lo_label"], picture["hi_label"] = f"{-scale:.3g}", f"{scale:.3g}"
    elif plan.out_features > 2:
        confidence, winner = grid.max(dim=0)
        picture["grid"] = unit_bytes(torch.nan_to_num(2 * confidence - 1))
        picture["classes"] = base64.b64encode(
            winner.to(torch.uint8).contiguous().numpy().tobytes()
        ).decode("ascii")
        picture["units"] = [unit_bytes(torch.nan_to_num(2 * p - 1)) for p in grid]
        picture["lo_label"], picture["hi_label"] = "", ""
    else:
        if plan.output == "softmax":
            value = 2 * grid[1] - 1
        elif plan.output == "sigmoid":
            value = 2 * grid[0] - 1
        else:
            value = grid[0]
        picture["grid"] = unit_bytes(torch.nan_to_num(value))
        picture["lo_label"], picture["hi_label"] = "class 0", "class 1"
    return picture


def neuron_pictures(
    session: PlaygroundSession, resolution: int, extent: float
) -> list[list[dict[str, Any]]]:
    """Return every hidden unit's activation a on the grid, divided by max(1, max|a|)."""
    one_d = session.data.input_dim == 1
    layers = session.neuron_grids(CURVE_POINTS // 4 if one_d else resolution, extent)
    pictures = []
    for activations in layers:  # (H, R, R) or (H, R)
        flat = torch.nan_to_num(activations.reshape(activations.shape[0], -1))
        scales = flat.abs().amax(dim=1).clamp(min=1.0)
        units = []
        for values, scale in zip(flat, scales.tolist(), strict=True):
            unit: dict[str, Any] = {"scale": scale}
            if one_d:
                unit["values"] = [round(v, 4) for v in (values / scale).tolist()]
            else:
                unit["grid"] = unit_bytes(values / scale)
            units.append(unit)
        pictures.append(units)
    return pictures


def chart_row(row: dict[str, Any]) -> list[Any]:
    """Return ``[epoch, train_loss, test_loss, train_acc, test_acc]`` of a history row."""
    return finite(
        [row["epoch"], row["train_loss"], row["test_loss"], row["train_acc"], row["test_acc"]]
    )


METRIC_KEYS = (
    "epoch",
    "steps",
    "examples",
    "train_loss",
    "test_loss",
    "train_acc",
    "test_acc",
    "grad_norm",
    "weight_norm",
    "dead_fraction",
    "saturated_fraction",
    "symmetric",
)


def metrics_of(row: dict[str, Any]) -> dict[str, Any]:
    """Return the fields of a history row the page shows (non-finite numbers as None)."""
    return {key: finite(row.get(key)) for key in METRIC_KEYS}


def parameters_of(session: PlaygroundSession) -> tuple[list[str], list[str]]:
    """Return (weights, biases) of every layer as base64 float32, W_l row-major (out, in)."""
    layers = session.model.layers()
    return (
        [float32_bytes(layer.weight) for layer in layers],
        [float32_bytes(layer.bias) for layer in layers],
    )


def usable_features(data: ToyDataset) -> list[str]:
    """Return the features (in TF Playground's order) that the data's inputs can feed."""
    from neuralab.errors import NeuralabError
    from neuralab.playground.features import list_features, resolve_features

    input_dim = 1 if data.x_train.dim() == 1 else int(data.x_train.shape[1])
    usable = []
    for name in list_features():
        try:
            resolve_features([name], input_dim)
        except NeuralabError:
            continue
        usable.append(name)
    return usable
