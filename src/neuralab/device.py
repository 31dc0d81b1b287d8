"""Choosing the device a run uses: ``auto`` picks CUDA, then Apple's MPS, then the CPU.

torch is imported only once a device name is known to be valid, so ``--device cud`` is
answered before torch's import (about 1.5 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuralab.errors import NeuralabError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def check_device_name(name: str) -> str:
    """Return ``name`` lower-cased if it names a kind of device (``auto``, ``cpu``, ``cuda``,
    ``cuda:N``, ``mps``), without importing torch; otherwise one line with the valid names.
    Whether this machine has that device is :func:`resolve_device`'s question."""
    requested = name.strip().lower()
    if requested.split(":")[0] not in DEVICE_CHOICES:
        raise NeuralabError(f"unknown device {name!r} (valid: {', '.join(DEVICE_CHOICES)}, cuda:N)")
    return requested


def check_device_available(name: str) -> None:
    """Refuse a device name this machine cannot run on; ``auto`` and ``cpu`` always can, and
    are answered without importing torch (a config that names them validates without it)."""
    if check_device_name(name) not in ("auto", "cpu"):
        resolve_device(name)


def resolve_device(name: str = "auto") -> torch.device:
    """Return the ``torch.device`` for ``name`` (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``).

    Asking for a device this machine does not have is an error that says what it has.
    """
    requested = check_device_name(name)
    kind = requested.split(":")[0]
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
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
    import torch

    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    names.append("cpu")
    return names


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
