"""Data sets by name: ``get_dataset("gtsrb")``, ``list_datasets()``, one entry per source module.

========================  =====================================================================
name                      source
========================  =====================================================================
``digits``                scikit-learn's bundled 8x8 digits (1,797 images, 10 classes, offline)
``mnist``                 MNIST handwritten digits, 60,000 + 10,000 images 28x28x1 (torchvision)
``fashion-mnist``         Fashion-MNIST clothing, 60,000 + 10,000 images 28x28x1 (torchvision)
``cifar10``               CIFAR-10 photos, 50,000 + 10,000 images 32x32x3 (torchvision)
``gtsrb``                 German traffic signs, 43 classes, 39,209 + 12,630 images at 32x32x3
``npz:PATH``              a NumPy archive: x_train, y_train, x_test, y_test, optional track_train
``folder:PATH``           PATH/train/<class>/*.png and PATH/test/<class>/*.png, resized to 32x32
========================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.registry import Registry
from neuralab.vision.datasets.digits import load_digits
from neuralab.vision.datasets.folder import load_folder
from neuralab.vision.datasets.gtsrb import load_gtsrb
from neuralab.vision.datasets.images import ImageDataset
from neuralab.vision.datasets.npz import load_npz
from neuralab.vision.datasets.torchvision_sets import load_torchvision

# load(PATH after "name:", data_dir, image_size, download) -> the data set
Load = Callable[[str, Path, int | None, bool], ImageDataset]


@dataclass(frozen=True)
class _Entry:
    load: Load
    takes_path: bool  # named "name:PATH"


def _table() -> Registry[_Entry]:
    table: Registry[_Entry] = Registry("data set")
    table.add("digits", _Entry(lambda path, root, size, download: load_digits(size), False))
    for name, aliases in (
        ("mnist", ()),
        ("fashion-mnist", ("fashion_mnist", "fashionmnist")),
        ("cifar10", ("cifar-10",)),
    ):
        table.add(name, _Entry(_torchvision(name), False), aliases=aliases)
    table.add(
        "gtsrb", _Entry(lambda path, root, size, download: load_gtsrb(root, size, download), False)
    )
    table.add("npz", _Entry(lambda path, root, size, download: load_npz(path, size), True))
    table.add("folder", _Entry(lambda path, root, size, download: load_folder(path, size), True))
    return table


def _torchvision(name: str) -> Load:
    return lambda path, root, size, download: load_torchvision(name, root, size, download)


_DATASETS = _table()


def get_dataset(
    name: str,
    *,
    data_dir: str | Path = "data",
    image_size: int | None = None,
    download: bool = False,
) -> ImageDataset:
    """Return the data set ``name`` (see :func:`list_datasets`), images resized to ``image_size``.

    ``data_dir`` is where torchvision data sets live (and are downloaded to with ``download``);
    ``image_size`` S resizes every image to S x S (bilinear); None keeps the native size
    (32 for GTSRB and folders, whose images vary in size).
    """
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1
    ):
        raise NeuralabError(f"image size must be a positive integer, got {image_size!r}")
    key, _, argument = name.partition(":")
    if key.strip().lower() not in _DATASETS:
        # list "npz:PATH" rather than the bare registry key "npz"
        raise unknown_name_error("data set", key, list_datasets())
    entry = _DATASETS.get(key)
    if entry.takes_path and not argument:
        raise NeuralabError(f"data set {key!r} needs a path: {key}:PATH")
    if not entry.takes_path and argument:
        raise NeuralabError(f"data set {key!r} takes no argument, got {name!r}")
    return entry.load(argument, Path(data_dir), image_size, download)


def list_datasets() -> list[str]:
    """Return the data set names; those taking a path are shown as ``name:PATH``."""
    return [n + (":PATH" if _DATASETS.get(n).takes_path else "") for n in _DATASETS.names()]
