"""Decoded data sets cached as tensors on disk, so a set is decoded once.

The torchvision data sets, GTSRB and image folders are stored as
``<data_dir>/neuralab-cache/<name>-<size>.pt``, written atomically and read with
``weights_only=True``; later runs load them in a fraction of a second. A cache that is absent,
stale (another version or fingerprint), corrupt or foreign is rebuilt, never trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.vision.datasets.images import ImageDataset

CACHE_FOLDER = "neuralab-cache"
CACHE_VERSION = 1


def cached_dataset(
    name: str,
    data_dir: Path,
    size: int,
    build: Callable[[], dict],
    *,
    cache: Path | None = None,
    fingerprint: str = "",
) -> ImageDataset:
    """Return the data set ``name`` from its cache, or ``build()`` it and cache the result.

    ``build`` returns the payload: ``x_train``, ``y_train``, ``x_test``, ``y_test``, ``classes``
    and optionally ``groups_train``. ``cache`` overrides the file; ``fingerprint`` names the
    files the payload was built from (a different one rebuilds it).
    """
    path = cache if cache is not None else data_dir / CACHE_FOLDER / f"{name}-{size}.pt"
    payload = _load_cache(path, fingerprint)
    if payload is None:
        payload = build()
        _save_cache(path, payload, fingerprint)
    return ImageDataset(
        name=name,
        x_train=payload["x_train"],
        y_train=payload["y_train"],
        x_test=payload["x_test"],
        y_test=payload["y_test"],
        classes=list(payload["classes"]),
        groups_train=payload.get("groups_train"),
        source=str(path),
    )


def not_found(name: str, data_dir: Path, where: str) -> NeuralabError:
    """Return the error for a data set missing under ``data_dir`` (its files belong at ``where``)."""
    return NeuralabError(
        f"data set {name!r} not found under {data_dir}: pass --download (download=True) to fetch "
        f"it, or put the files at {where} (or point --data-dir at their folder)"
    )


def _load_cache(path: Path, fingerprint: str) -> dict | None:
    """Return the cached payload at ``path``, or None if absent, stale or unreadable."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a corrupt or foreign cache is rebuilt, never trusted
        return None
    if not isinstance(payload, dict) or payload.get("version") != CACHE_VERSION:
        return None
    if payload.get("fingerprint", "") != fingerprint:
        return None
    tensors = [payload.get(key) for key in ("x_train", "y_train", "x_test", "y_test")]
    if not all(isinstance(t, Tensor) for t in tensors) or payload["x_train"].dtype != torch.uint8:
        return None
    return payload


def _save_cache(path: Path, payload: dict, fingerprint: str) -> None:
    from neuralab.atomic import torch_save

    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # the cache's own folder
        torch_save({**payload, "version": CACHE_VERSION, "fingerprint": fingerprint}, path)
    except (OSError, NeuralabError):
        return  # a read-only data folder or a full disk costs speed next time, not correctness
