"""Choosing the device a run uses: ``auto`` picks CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch

from neuralab.errors import NeuralabError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """Return the ``torch.device`` for ``name`` (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``).

    Asking for a device this machine does not have is an error that says what it has.
    """
    requested = name.strip().lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = requested.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise NeuralabError(f"unknown device {name!r} (valid: {', '.join(DEVICE_CHOICES)}, cuda:N)")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise NeuralabError(
                f"device {name!r} asked for, but CUDA is not available here "
                f"(available: {', '.join(available_devices())})"
            )
        index = int(requested.split(":")[1]) if ":" in requested else 0
        if index >= torch.cuda.device_count():
            raise NeuralabError(
                f"device {name!r} asked for, but this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
    if kind == "mps" and not _mps_available():
        raise NeuralabError(
            f"device 'mps' asked for, but it is not available here "
            f"(available: {', '.join(available_devices())})"
        )
    try:
        return torch.device(requested)
    except RuntimeError:
        raise NeuralabError(
            f"unknown device {name!r} (valid: {', '.join(DEVICE_CHOICES)})"
        ) from None


def available_devices() -> list[str]:
    """Return the device names this machine can run on, best first."""
    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    names.append("cpu")
    return names


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
