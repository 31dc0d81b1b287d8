"""Checkpoints: written atomically every epoch, read with ``weights_only=True``, resumed exactly.

A checkpoint holds what torchvision's references keep (model, optimiser, epoch, config) plus
everything that decides what happens next, so a resumed run continues bit for bit (on the CPU):
the global step of the learning-rate schedule, the best monitor value and the epochs without
improvement (early stopping), and the states of every random number generator: torch (CPU and
CUDA), numpy, Python's ``random`` and the loader's own shuffling generator.

``torch.load(weights_only=True)`` refuses arbitrary Python objects, so every state is stored as
tensors and plain types (numpy's and Python's generator states are unpacked into tensors).

What a checkpoint belongs to: the resolved config of its run (:func:`checkpoint_config`), which a
resumed run must match except for ``epochs``, ``run_dir`` and ``device``
(:func:`checkpoint_to_resume`). Using a finished run's checkpoint is :mod:`neuralab.vision.inference`.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralab.atomic import torch_save
from neuralab.config import config_fields, config_to_dict, make_config
from neuralab.errors import NeuralabError
from neuralab.vision.config import TrainConfig, config_differences

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


def checkpoint_config(checkpoint: dict[str, Any]) -> TrainConfig:
    """Return the resolved config of the run a checkpoint belongs to.

    Fields this version of TrainConfig no longer has are left out, so older checkpoints load.
    """
    fields = set(config_fields(TrainConfig))
    return make_config(TrainConfig, {k: v for k, v in checkpoint["config"].items() if k in fields})


def checkpoint_to_resume(run_dir: Path, config: TrainConfig, resume: bool) -> dict[str, Any] | None:
    """Return ``run_dir``'s last.pt to continue ``config`` from (``resume``), else None.

    A run directory with a last.pt is never overwritten by a new run, and a resumed run must
    have the saved config except for ``epochs``, ``run_dir`` and ``device``.
    """
    last = run_dir / "last.pt"
    if not resume:
        if last.is_file():
            raise NeuralabError(
                f"run directory {str(run_dir)!r} already holds a run; resume it with "
                f"--resume {run_dir} or choose another --run-dir"
            )
        return None
    if not last.is_file():
        raise NeuralabError(f"cannot resume: {str(run_dir)!r} has no last.pt checkpoint")
    checkpoint = load_checkpoint(last)
    differences = config_differences(checkpoint["config"], config_to_dict(config))
    if differences:
        raise NeuralabError(
            f"cannot resume {str(run_dir)!r} with a different config: {'; '.join(differences)}"
            " (only epochs and device may change)"
        )
    return checkpoint
