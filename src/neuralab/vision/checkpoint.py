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
(:func:`checkpoint_to_resume`), and its ``identity``: the model, the class names, the input shape
and a hash of that config (:func:`config_hash`). :func:`check_belongs` refuses, in one line, a
checkpoint that sits in another run's directory (an MLP's best.pt copied into a CNN run).
Using a finished run's checkpoint is :mod:`neuralab.vision.inference`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralab.atomic import torch_save
from neuralab.config import config_fields, config_to_dict, make_config, read_config_file
from neuralab.errors import NeuralabError
from neuralab.paths import input_file
from neuralab.vision.config import RESUMABLE_CHANGES, TrainConfig
from neuralab.vision.resolve import config_differences

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
    training_model: torch.nn.Module | None = None,
    ema_updates: int = 0,
) -> Path:
    """Write a checkpoint of the state after ``epoch`` (completed) atomically; return the path.

    ``best`` holds the early-stopping state (``{"epoch", "value", "bad_epochs"}``); ``extra``
    any other plain data (class names, normalisation statistics). SAM's state is its base
    optimiser's (``SAM.state_dict``). ``model`` holds the weights that were evaluated; with a
    moving average of the weights (``model`` the average) the weights being trained are
    ``training_model``, kept under ``"ema"`` with the number of averaging updates.
    """
    extra = extra or {}
    checkpoint = {
        "format": FORMAT,
        "version": VERSION,
        "identity": checkpoint_identity(config, extra),
        "model": _unwrapped(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": int(epoch),
        "step": int(step),
        "config": config,
        "best": best or {},
        "extra": extra,
        "rng": rng_states(loader_generator),
    }
    if training_model is not None:
        checkpoint["ema"] = {
            "training_model": _unwrapped(training_model).state_dict(),
            "updates": int(ema_updates),
        }
    return torch_save(checkpoint, path)


def checkpoint_identity(config: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a checkpoint belongs to: model, class names, input shape, config hash."""
    return {
        "model": str(config.get("model", "")),
        "classes": [str(c) for c in extra.get("classes", [])],
        "input_shape": [int(s) for s in extra.get("input_shape", [])],
        "config_hash": config_hash(config),
    }


def config_hash(config: Mapping[str, Any]) -> str:
    """Return a 16-hex-digit SHA-256 of the run's config, without what a resume may change.

    Equal for a run's every checkpoint and its config.yaml (epochs, device and run_dir left
    out); different for any other run setting.
    """
    kept = {k: v for k, v in sorted(config.items()) if k not in RESUMABLE_CHANGES}
    text = json.dumps(kept, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the checkpoint dict at ``path`` (tensors on the CPU); bad files raise one line.

    Only tensors and plain data are read (``weights_only=True``): a file holding other Python
    objects is refused in neuralab's words, with nothing from torch on stderr.
    """
    file = input_file(path, "checkpoint", expected="a .pt checkpoint file")
    checkpoint = safe_load(file, "checkpoint", "the checkpoints neuralab train writes")
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


def safe_load(path: str | os.PathLike[str], what: str, readable: str) -> Any:
    """Return ``torch.load(path, weights_only=True)`` on the CPU; a bad file is one line.

    A file holding Python objects other than tensors and plain data (which could run code when
    loaded) is refused in neuralab's words, never with torch's advice to load it unsafely, and
    torch's warnings stay off stderr. ``what`` names the file (``"checkpoint"``), ``readable``
    what can be read (``"the checkpoints neuralab train writes"``).
    """
    file = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's advice is not for a neuralab user
            return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # torch names the Python object a safe load refuses as a GLOBAL; other failures of
        # the unpickler mean bytes that are no pickle at all
        if "global" in str(error).lower():
            raise NeuralabError(
                f"{what} {str(file)!r} holds Python objects other than tensors and plain data "
                f"(loading it could run code): refused; neuralab reads only {readable}"
            ) from None
        raise NeuralabError(f"{what} {str(file)!r} is corrupt or not a PyTorch file") from None
    except Exception:  # noqa: BLE001 (any other unpickling failure means a bad file)
        raise NeuralabError(
            f"{what} {str(file)!r} is corrupt or not a PyTorch file (truncated, or another format)"
        ) from None


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


def check_belongs(checkpoint: dict[str, Any], run_dir: str | os.PathLike[str], path: str) -> None:
    """Refuse, in one line, a checkpoint that does not belong to the run in ``run_dir``.

    The run's ``config.yaml`` and the checkpoint's config must agree on every field but
    epochs, device and run_dir (the checkpoint's config hash, when it has one, too).
    """
    folder = Path(run_dir)
    saved_file = folder / "config.yaml"
    if not saved_file.is_file():
        raise NeuralabError(
            f"{str(folder)!r} is not a run directory of neuralab train (no config.yaml)"
        )
    fields = set(config_fields(TrainConfig))
    saved = config_to_dict(
        make_config(
            TrainConfig, {k: v for k, v in read_config_file(saved_file).items() if k in fields}
        )
    )
    own = config_to_dict(checkpoint_config(checkpoint))
    differences = config_differences(own, saved)
    identity = checkpoint.get("identity") or {}
    if not differences and identity.get("config_hash") not in (None, config_hash(own)):
        differences = ["its config hash"]
    if differences:
        raise NeuralabError(
            f"checkpoint {path!r} does not belong to the run in {str(folder)!r}: "
            f"{'; '.join(differences[:3])} (checkpoint -> config.yaml); "
            "use the checkpoint with the run it came from"
        )


def checkpoint_to_resume(
    run_dir: Path, config: TrainConfig, resume: bool, *, overwrite: bool = False
) -> dict[str, Any] | None:
    """Return ``run_dir``'s last.pt to continue ``config`` from (``resume``), else None.

    A run directory that holds anything is never overwritten by a new run unless
    ``overwrite`` (:func:`neuralab.rundir.check_new_run_directory`), and a resumed run must
    have the saved config except for ``epochs``, ``run_dir`` and ``device``.
    """
    from neuralab.rundir import check_new_run_directory

    last = run_dir / "last.pt"
    if not resume:
        hint = f"resume it with --resume {run_dir}" if last.is_file() else ""
        check_new_run_directory(run_dir, overwrite=overwrite, continue_hint=hint)
        return None
    if not run_dir.is_dir():
        raise NeuralabError(
            f"cannot resume: run directory {str(run_dir)!r} "
            + ("is a file" if run_dir.exists() else "does not exist")
        )
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
