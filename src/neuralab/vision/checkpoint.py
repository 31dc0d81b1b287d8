"""Checkpoints: written atomically every epoch, read with ``weights_only=True``, resumed exactly.

A checkpoint holds what torchvision's references keep (model, optimiser, epoch, config) plus
everything that decides what happens next, so a resumed run continues bit for bit (on the CPU):
the global step of the learning-rate schedule, the best monitor value and the epochs without
improvement (early stopping), and the states of every random number generator: torch (CPU and
CUDA), numpy, Python's ``random`` and the loader's own shuffling generator.

``torch.load(weights_only=True)`` refuses arbitrary Python objects, so every state is stored as
tensors and plain types (numpy's and Python's generator states are unpacked into tensors).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralab.atomic import torch_save
from neuralab.errors import NeuralabError

FORMAT = "neuralab-checkpoint"
VERSION = 1
REQUIRED_KEYS = ("format", "version", "model", "epoch", "config")


def rng_states(loader_generator: torch.Generator | None = None) -> dict[str, Any]:
    """Return the states of every random number generator as tensors and plain types."""
    numpy_state: Any = np.random.get_state()
    python_version, python_state, python_gauss = random.getstate()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": str(numpy_state[0]),
            "keys": torch.from_numpy(np.asarray(numpy_state[1], dtype=np.int64)),
            "pos": int(numpy_state[2]),
            "has_gauss": int(numpy_state[3]),
            "cached_gaussian": float(numpy_state[4]),
        },
        "python": {
            "version": int(python_version),
            "state": torch.tensor(python_state, dtype=torch.int64),
            "gauss_next": python_gauss,
        },
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "loader": loader_generator.get_state() if loader_generator is not None else None,
    }
    return states


def set_rng_states(states: dict[str, Any], loader_generator: torch.Generator | None = None) -> None:
    """Restore the generators saved by :func:`rng_states`."""
    torch.set_rng_state(states["torch"].cpu())
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python_state = states["python"]
    random.setstate(
        (
            python_state["version"],
            tuple(int(v) for v in python_state["state"].tolist()),
            python_state["gauss_next"],
        )
    )
    if states.get("cuda") and torch.cuda.is_available():
        cuda_states = states["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states])
    if loader_generator is not None and states.get("loader") is not None:
        loader_generator.set_state(states["loader"].cpu())


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    step: int,
    config: dict[str, Any],
    best: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    loader_generator: torch.Generator | None = None,
) -> Path:
    """Write a checkpoint of the state after ``epoch`` (completed) atomically; return the path.

    ``best`` holds the early-stopping state (``{"epoch", "value", "bad_epochs"}``); ``extra``
    any other plain data (class names, normalisation statistics). SAM's state is its base
    optimiser's (``SAM.state_dict``).
    """
    checkpoint = {
        "format": FORMAT,
        "version": VERSION,
        "model": _unwrapped(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": int(epoch),
        "step": int(step),
        "config": config,
        "best": best or {},
        "extra": extra or {},
        "rng": rng_states(loader_generator),
    }
    return torch_save(checkpoint, path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the checkpoint dict at ``path`` (tensors on the CPU); bad files raise one line."""
    file = Path(path)
    if not file.is_file():
        raise NeuralabError(f"checkpoint {str(file)!r} does not exist")
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 (any unpickling failure means a bad file)
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise NeuralabError(
            f"checkpoint {str(file)!r} is corrupt or not a PyTorch file ({first_line[:120]})"
        ) from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise NeuralabError(
            f"checkpoint {str(file)!r} was not written by neuralab train "
            "(a foreign file: expected a neuralab-checkpoint)"
        )
    missing = [key for key in REQUIRED_KEYS if key not in checkpoint]
    if missing:
        raise NeuralabError(f"checkpoint {str(file)!r} is incomplete: missing {', '.join(missing)}")
    if checkpoint["version"] > VERSION:
        raise NeuralabError(
            f"checkpoint {str(file)!r} has format version {checkpoint['version']}; "
            f"this neuralab reads up to {VERSION}"
        )
    return checkpoint


def load_model_state(model: torch.nn.Module, checkpoint: dict[str, Any], *, path: str = "") -> None:
    """Load the checkpoint's weights into ``model``; a mismatch is one line naming the keys."""
    try:
        _unwrapped(model).load_state_dict(checkpoint["model"])
    except RuntimeError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else lines[0] if lines else ""
        raise NeuralabError(
            f"checkpoint {path!r} does not fit this model ({detail[:160]})"
        ) from None


def _unwrapped(model: torch.nn.Module) -> torch.nn.Module:
    # torch.compile wraps the model; its state dict keys carry an "_orig_mod." prefix otherwise
    original = getattr(model, "_orig_mod", None)
    return original if isinstance(original, torch.nn.Module) else model


# -- using a finished run: its model, re-evaluation, predictions ------------------------------


@dataclass
class TrainedRun:
    """A run's model restored from a checkpoint, with what is needed to feed it images."""

    model: torch.nn.Module  # in eval mode, on ``device``
    config: dict[str, Any]  # the run's resolved config (config.yaml's fields)
    classes: list[str]  # class names, index = label
    input_shape: tuple[int, int, int]  # (C, H, W) the model was trained on
    normalization: Any  # neuralab.vision.loader.Normalization of the training split
    epoch: int  # the epoch whose weights these are
    device: torch.device


def load_trained_run(
    run_dir: str | os.PathLike[str], *, which: str = "best", device: str = "auto"
) -> TrainedRun:
    """Return the model of ``run_dir`` with the weights of ``best.pt`` (or ``last.pt``)."""
    from neuralab.device import resolve_device
    from neuralab.vision.config import TrainConfig
    from neuralab.vision.loader import Normalization
    from neuralab.vision.models import get_model

    if which not in ("best", "last"):
        raise NeuralabError(f"checkpoint must be best or last, got {which!r}")
    folder = Path(run_dir)
    if not folder.is_dir():
        raise NeuralabError(f"run directory {str(folder)!r} does not exist")
    path = folder / f"{which}.pt"
    checkpoint = load_checkpoint(path)
    saved = {k: v for k, v in checkpoint["config"].items() if k in _config_fields()}
    config = TrainConfig(**{**saved, "widths": _tuple(saved.get("widths"))})
    extra = checkpoint.get("extra", {})
    classes = [str(c) for c in extra.get("classes", [])]
    shape = [int(s) for s in extra.get("input_shape", [])]
    if not classes or len(shape) != 3:
        raise NeuralabError(f"checkpoint {str(path)!r} lacks the class names or the input shape")
    input_shape = (shape[0], shape[1], shape[2])
    options = config.model_options()
    options.pop("pretrained", None)  # the checkpoint holds the weights: nothing to download
    options.pop("weights", None)
    model = get_model(config.model, num_classes=len(classes), input_shape=input_shape, **options)
    load_model_state(model, checkpoint, path=str(path))
    target = resolve_device(device)
    model.to(target).eval()
    normalization = Normalization.from_dict(extra.get("normalization", {"mode": "none"}))
    return TrainedRun(
        model=model,
        config=saved,
        classes=classes,
        input_shape=input_shape,
        normalization=normalization,
        epoch=int(checkpoint["epoch"]),
        device=target,
    )


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
    from neuralab.vision.datasets import get_dataset
    from neuralab.vision.engine import evaluate
    from neuralab.vision.loader import DeviceLoader
    from neuralab.vision.splits import split_train_val

    if split not in ("test", "val", "train"):
        raise NeuralabError(f"split must be test, val or train, got {split!r}")
    run = load_trained_run(run_dir, which=which, device=device)
    channels, height, width = run.input_shape
    dataset = get_dataset(
        data or run.config["data"],
        data_dir=run.config.get("data_dir", "data"),
        image_size=height if height == width else run.config.get("image_size"),
    )
    if dataset.image_shape != run.input_shape:
        raise NeuralabError(
            f"data {data or run.config['data']!r} has images {_shape(dataset.image_shape)}, "
            f"but the model of {str(run_dir)!r} takes {_shape(run.input_shape)}"
        )
    if dataset.num_classes != len(run.classes):
        raise NeuralabError(
            f"data {data or run.config['data']!r} has {dataset.num_classes} classes, "
            f"but the model of {str(run_dir)!r} has {len(run.classes)}"
        )
    if split == "test":
        images, labels = dataset.x_test, dataset.y_test
    else:
        train_idx, val_idx = split_train_val(
            dataset.y_train,
            float(run.config["val_fraction"]),
            groups=dataset.groups_train,
            seed=int(run.config["seed"]),
        )
        index = val_idx if split == "val" else train_idx
        images, labels = dataset.x_train[index], dataset.y_train[index]
    loader = DeviceLoader(
        images,
        labels,
        batch_size=batch_size,
        device=run.device,
        shuffle=False,
        normalization=run.normalization,
    )
    amp = bool(run.config.get("amp")) and run.device.type == "cuda"
    return evaluate(run.model, loader, device=run.device, amp=amp)


def read_image(path: str | os.PathLike[str], input_shape: tuple[int, int, int]) -> torch.Tensor:
    """Return the image file at ``path`` as uint8 (C, H, W), converted and resized to fit.

    Colour images become grey (ITU-R 601 luma) for a one-channel model and grey images RGB for
    a three-channel one; the size is set with a bilinear resize, as the data sets do.
    """
    from PIL import Image, UnidentifiedImageError

    channels, height, width = input_shape
    file = Path(path)
    if not file.is_file():
        raise NeuralabError(f"image {str(file)!r} does not exist")
    try:
        with Image.open(file) as opened:
            picture = opened.convert("L" if channels == 1 else "RGB")
            picture = picture.resize((width, height), Image.Resampling.BILINEAR)
            array = np.asarray(picture, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as error:
        raise NeuralabError(f"image {str(file)!r} cannot be read ({error})") from None
    tensor = torch.from_numpy(array.copy())
    tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
    if tensor.shape[0] != channels:
        raise NeuralabError(
            f"image {str(file)!r} has {tensor.shape[0]} channels; the model takes {channels}"
        )
    return tensor.contiguous()


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
    run = load_trained_run(run_dir, which=which, device=device)
    batch = torch.stack([read_image(path, run.input_shape) for path in images])  # (N, C, H, W)
    x = run.normalization(batch.to(run.device, torch.float32).div_(255.0))
    with torch.inference_mode():
        probabilities = run.model(x).float().softmax(dim=1).cpu()  # (N, K)
    k = min(top_k, len(run.classes))
    values, indices = probabilities.topk(k, dim=1)
    rows = []
    for image, row_p, row_i in zip(images, values.tolist(), indices.tolist(), strict=True):
        for rank, (p, label) in enumerate(zip(row_p, row_i, strict=True), start=1):
            rows.append(
                {"image": image, "rank": rank, "label": label, "class": run.classes[label], "p": p}
            )
    return rows


def _config_fields() -> set[str]:
    import dataclasses

    from neuralab.vision.config import TrainConfig

    return {f.name for f in dataclasses.fields(TrainConfig)}


def _tuple(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(int(v) for v in value)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)
