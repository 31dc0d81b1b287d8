"""Using a finished run: its model restored from a checkpoint, re-evaluated, classifying images.

:func:`load_trained_run` rebuilds a run from ``best.pt`` (or ``last.pt``) with
:func:`neuralab.vision.run.build_run`, so the model sees its inputs normalised exactly as in
training; :func:`evaluate_run` repeats a split's cross-entropy and accuracy and
:func:`predict_files` gives the top-k classes of image files.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from neuralab.device import resolve_device
from neuralab.errors import NeuralabError
from neuralab.paths import input_file
from neuralab.rundir import trained_checkpoint
from neuralab.vision.checkpoint import (
    check_belongs,
    checkpoint_config,
    load_checkpoint,
    load_model_state,
)
from neuralab.vision.datasets.images import decode_file
from neuralab.vision.engine import evaluate
from neuralab.vision.run import SPLITS, ModelInputs, Run, build_run, uses_amp


def load_trained_run(
    run_dir: str | os.PathLike[str],
    *,
    which: str = "best",
    device: str = "auto",
    dataset: str | None = None,
    load_data: bool = True,
) -> Run:
    """Return the run in ``run_dir`` with the weights of ``best.pt`` (or ``last.pt``), in eval mode.

    Its data is the run's own split (``dataset``: another data set of the same image shape;
    ``load_data=False``: none, for a model that only classifies files).
    """
    path = trained_checkpoint(run_dir, which)
    folder = path.parent
    checkpoint = load_checkpoint(path)
    check_belongs(checkpoint, folder, str(path))
    run = build_run(
        checkpoint_config(checkpoint),
        resolve_device(device),
        inputs=ModelInputs.from_dict(checkpoint.get("extra", {}), str(path)),
        dataset=dataset,
        load_data=load_data,
    )
    load_model_state(run.model, checkpoint, path=str(path))
    run.model.eval()
    return run


def evaluate_run(
    run_dir: str | os.PathLike[str],
    *,
    data: str | None = None,
    split: str = "test",
    which: str = "best",
    device: str = "auto",
    batch_size: int = 256,
) -> dict[str, Any]:
    """Return ``{"loss", "acc", "n"}`` of a run's checkpoint on a split of its (or other) data.

    ``split`` is ``test``, ``val`` or ``train``; val and train are the run's own split of the
    training set (same ``val_fraction`` and seed), so ``val`` reproduces the table's val column.
    """
    if split not in SPLITS:
        raise NeuralabError(f"split must be test, val or train, got {split!r}")
    run = load_trained_run(run_dir, which=which, device=device, dataset=data)
    assert run.data is not None
    name, dataset = data or run.config.data, run.data.dataset
    if dataset.image_shape != run.inputs.input_shape:
        raise NeuralabError(
            f"data {name!r} has images {_shape(dataset.image_shape)}, "
            f"but the model of {str(run_dir)!r} takes {_shape(run.inputs.input_shape)}"
        )
    if dataset.num_classes != len(run.inputs.classes):
        raise NeuralabError(
            f"data {name!r} has {dataset.num_classes} classes, "
            f"but the model of {str(run_dir)!r} has {len(run.inputs.classes)}"
        )
    amp = uses_amp(run.config, run.device)
    loader = run.loader(split, batch_size=batch_size)
    return evaluate(run.model, loader, device=run.device, amp=amp)


def read_image(path: str | os.PathLike[str], input_shape: tuple[int, int, int]) -> torch.Tensor:
    """Return the image file at ``path`` as uint8 (C, H, W), converted and resized to fit.

    Colour images become grey (ITU-R 601 luma) for a one-channel model and grey images RGB for
    a three-channel one; the size is set with a bilinear resize, as the data sets do.
    """
    channels, height, width = input_shape
    input_file(path, "image", expected="an image file (PNG, JPEG, ...)")
    if channels not in (1, 3):
        raise NeuralabError(f"images are grey or RGB; the model takes {channels} channels")
    return decode_file(str(path), (height, width), gray=channels == 1).contiguous()


def predict_files(
    run_dir: str | os.PathLike[str],
    images: list[str],
    *,
    top_k: int = 3,
    which: str = "best",
    device: str = "auto",
) -> list[dict[str, Any]]:
    """Return, per image file, its ``top_k`` classes: ``{"image", "rank", "label", "class", "p"}``."""
    if not images:
        raise NeuralabError("give at least one image file to classify")
    if top_k < 1:
        raise NeuralabError(f"top-k must be >= 1, got {top_k}")
    run = load_trained_run(run_dir, which=which, device=device, load_data=False)
    classes = run.inputs.classes
    batch = torch.stack(
        [read_image(path, run.inputs.input_shape) for path in images]
    )  # (N, C, H, W)
    x = run.inputs.normalization(batch.to(run.device, torch.float32).div_(255.0))
    with torch.inference_mode():
        probabilities = run.model(x).float().softmax(dim=1).cpu()  # (N, K)
    values, indices = probabilities.topk(min(top_k, len(classes)), dim=1)
    rows = []
    for image, row_p, row_i in zip(images, values.tolist(), indices.tolist(), strict=True):
        for rank, (p, label) in enumerate(zip(row_p, row_i, strict=True), start=1):
            rows.append(
                {"image": image, "rank": rank, "label": label, "class": classes[label], "p": p}
            )
    return rows


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)
