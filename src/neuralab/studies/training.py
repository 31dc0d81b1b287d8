"""Helpers the studies share: train one variant into the study directory, fixed data batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from neuralab.config import make_config


def train_variant(directory: Path, name: str, values: dict[str, Any]) -> Any:
    """Train ``TrainConfig(**values)`` into ``directory/runs/<name>`` and return its TrainResult."""
    from neuralab.vision.config import TrainConfig
    from neuralab.vision.train import train

    config = make_config(TrainConfig, {**values, "run_dir": str(directory / "runs" / name)})
    return train(config, progress=False)


def training_batches(run: Any, *, batches: int, batch_size: int) -> list[tuple[Tensor, Tensor]]:
    """Return the first ``batches`` batches of a trained run's own training split, normalised
    as in training and without augmentation (the same images every call)."""
    from neuralab.vision.datasets import get_dataset
    from neuralab.vision.splits import split_train_val

    config = run.config
    dataset = get_dataset(
        config["data"], data_dir=config.get("data_dir", "data"), image_size=config.get("image_size")
    )
    train_index, _ = split_train_val(
        dataset.y_train,
        float(config["val_fraction"]),
        groups=dataset.groups_train,
        seed=int(config["seed"]),
    )
    chosen = train_index[: batches * batch_size]
    images = dataset.x_train[chosen].to(run.device).float() / 255.0
    images = run.normalization(images)
    labels = dataset.y_train[chosen].to(run.device)
    return [
        (images[i : i + batch_size], labels[i : i + batch_size])
        for i in range(0, len(chosen), batch_size)
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
