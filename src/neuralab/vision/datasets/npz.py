"""``npz:PATH``: a NumPy archive of uint8 images and integer labels.

Arrays ``x_train``, ``x_test`` uint8 (N, H, W, C) or (N, H, W); ``y_train``, ``y_test`` integer
labels 0..K-1; optional ``classes`` (names) and ``track_train`` (a group key per training image).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.paths import input_file
from neuralab.vision.datasets.images import ImageDataset, resize_images

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz(path_text: str, image_size: int | None) -> ImageDataset:
    """Return the data set in the archive at ``path_text``; every bad array is one line."""
    import zipfile

    import numpy as np

    path = input_file(Path(path_text), "npz file", expected="a .npz file")
    if not zipfile.is_zipfile(path):  # np.load would take a .npy or a pickle for something else
        raise NeuralabError(
            f"npz file {str(path)!r} is not a valid .npz archive (not a zip file of arrays, "
            "as numpy.savez writes)"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as error:
        # numpy's message advises allow_pickle=True: never for a file of unknown origin
        what = "object arrays" if "pickle" in str(error).lower() else "a damaged array"
        raise NeuralabError(
            f"npz file {str(path)!r} is not a valid .npz archive: it holds {what}; expected "
            f"uint8 images and integer labels ({', '.join(NPZ_KEYS)})"
        ) from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "truncated"
        raise NeuralabError(
            f"npz file {str(path)!r} is not a valid .npz archive ({reason[:120]})"
        ) from None
    missing = [key for key in NPZ_KEYS if key not in arrays]
    if missing:
        raise NeuralabError(
            f"{path.name}: missing key(s) {', '.join(missing)}; expected "
            f"{', '.join(NPZ_KEYS)} (and optionally track_train); found {', '.join(arrays) or 'none'}"
        )
    images = {key: _images(path.name, key, arrays[key]) for key in ("x_train", "x_test")}
    labels = {key: _labels(path.name, key, arrays[key]) for key in ("y_train", "y_test")}
    for split in ("train", "test"):
        n_images, n_labels = images[f"x_{split}"].shape[0], labels[f"y_{split}"].shape[0]
        if n_images != n_labels:
            raise NeuralabError(
                f"{path.name}: x_{split} has {n_images} images but y_{split} has {n_labels} labels; expected equal counts"
            )
    if images["x_train"].shape[1:] != images["x_test"].shape[1:]:
        raise NeuralabError(
            f"{path.name}: x_test images are (C, H, W) = {tuple(images['x_test'].shape[1:])}, "
            f"expected the shape of x_train, {tuple(images['x_train'].shape[1:])}"
        )
    if "classes" in arrays:
        classes = [str(c) for c in arrays["classes"].tolist()]
    else:
        classes = [str(c) for c in range(int(labels["y_train"].max()) + 1)]
    for key, y in labels.items():
        if int(y.max()) >= len(classes):
            raise NeuralabError(
                f"{path.name}: {key} holds label {int(y.max())}, out of range; expected 0..{len(classes) - 1} ({len(classes)} classes)"
            )
    groups = None
    if "track_train" in arrays:
        track = arrays["track_train"]
        if track.shape != (len(labels["y_train"]),) or track.dtype.kind not in "iu":
            raise NeuralabError(
                f"{path.name}: track_train is {track.dtype} {track.shape}; expected integers of shape ({len(labels['y_train'])},)"
            )
        groups = torch.from_numpy(track.astype(np.int64))
    x_train, x_test = images["x_train"], images["x_test"]
    if image_size is not None:
        x_train, x_test = resize_images(x_train, image_size), resize_images(x_test, image_size)
    return ImageDataset(
        name=f"npz:{path}",
        x_train=x_train,
        y_train=labels["y_train"],
        x_test=x_test,
        y_test=labels["y_test"],
        classes=classes,
        groups_train=groups,
        source=str(path),
    )


def _images(file: str, key: str, array: Any) -> Tensor:
    import numpy as np

    if array.dtype != np.uint8:
        raise NeuralabError(
            f"{file}: {key} has dtype {array.dtype}; expected uint8 (values 0..255)"
        )
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[0] == 0:
        raise NeuralabError(
            f"{file}: {key} has shape {array.shape}; expected (N, H, W, C) or (N, H, W) with N > 0"
        )
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))


def _labels(file: str, key: str, array: Any) -> Tensor:
    import numpy as np

    if array.dtype.kind not in "iu":
        raise NeuralabError(
            f"{file}: {key} has dtype {array.dtype}; expected integer class indices (int64)"
        )
    if array.ndim != 1:
        raise NeuralabError(f"{file}: {key} has shape {array.shape}; expected (N,)")
    if array.size and int(array.min()) < 0:
        raise NeuralabError(
            f"{file}: {key} holds label {int(array.min())}, out of range; expected labels >= 0"
        )
    return torch.from_numpy(array.astype(np.int64))
