"""Helpers the studies share: train one variant into the study directory, fixed data batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from neuralab.config import make_config


def train_variant(directory: Path, name: str, values: dict[str, Any]) -> Any:
    """Train ``TrainConfig(**values)`` into ``directory/runs/<name>`` and return its TrainResult.

    In a study that is continued, a run with a last.pt resumes from it (a finished one only
    re-evaluates its best.pt) and one stopped before its first checkpoint starts again.
    """
    from neuralab.vision.config import TrainConfig
    from neuralab.vision.train import train

    run_dir = directory / "runs" / name
    config = make_config(TrainConfig, {**values, "run_dir": str(run_dir)})
    if (run_dir / "last.pt").is_file():
        return train(config, progress=False, resume=True)
    return train(config, progress=False, overwrite=True)


def training_batches(run: Any, *, batches: int, batch_size: int) -> list[tuple[Tensor, Tensor]]:
    """Return the first ``batches`` batches of a trained run's own training split, normalised
    as in training and without augmentation (the same images every call)."""
    x_train, y_train = run.split("train")
    images = x_train[: batches * batch_size].to(run.device).float() / 255.0
    images = run.inputs.normalization(images)
    labels = y_train[: batches * batch_size].to(run.device)
    return [
        (images[i : i + batch_size], labels[i : i + batch_size])
        for i in range(0, len(labels), batch_size)
    ]


def layer_gradient_norms(
    model: torch.nn.Module, images: Tensor, labels: Tensor
) -> list[tuple[str, float]]:
    """Return ``(layer, ||dL/dW||_2)`` for every conv and linear weight, input to output."""
    model.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(images), labels).backward()
    norms = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear) and module.weight.grad is not None:
            norms.append((name, float(module.weight.grad.norm())))
    model.zero_grad(set_to_none=True)
    return norms
