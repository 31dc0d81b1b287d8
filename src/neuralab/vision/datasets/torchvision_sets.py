"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision (``download=True`` fetches them)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.vision.datasets.cache import cached_dataset, not_found
from neuralab.vision.datasets.images import ImageDataset, resize_images

# name -> (torchvision class name, native size, where the files must be below data_dir)
TORCHVISION_SETS = {
    "mnist": ("MNIST", 28, "MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte"),
    "fashion-mnist": (
        "FashionMNIST",
        28,
        "FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte",
    ),
    "cifar10": ("CIFAR10", 32, "cifar-10-batches-py/{data_batch_1..5,test_batch}"),
}


def load_torchvision(
    name: str, data_dir: Path, image_size: int | None, download: bool
) -> ImageDataset:
    """Return the torchvision data set ``name`` (a key of ``TORCHVISION_SETS``), cached as tensors."""
    size = image_size or TORCHVISION_SETS[name][1]

    def decode() -> dict:
        x_train, y_train, classes = _split(name, data_dir, True, download)
        x_test, y_test, _ = _split(name, data_dir, False, download)
        return {
            "x_train": resize_images(x_train, size),
            "y_train": y_train,
            "x_test": resize_images(x_test, size),
            "y_test": y_test,
            "classes": classes,
        }

    return cached_dataset(name, data_dir, size, decode)


def _split(
    name: str, data_dir: Path, train: bool, download: bool
) -> tuple[Tensor, Tensor, list[str]]:
    import torchvision

    class_name, _, where = TORCHVISION_SETS[name]
    factory = getattr(torchvision.datasets, class_name)
    try:
        dataset = factory(root=str(data_dir), train=train, download=download)
    except RuntimeError as error:
        if "not found" in str(error).lower() or "corrupted" in str(error).lower():
            raise not_found(name, data_dir, str(data_dir / where)) from None
        raise NeuralabError(f"could not load {name!r} from {data_dir}: {error}") from None
    except OSError as error:  # no network while downloading, unreadable files
        raise NeuralabError(f"could not load {name!r} into {data_dir}: {error}") from None
    images = torch.as_tensor(dataset.data)
    # MNIST-like: (N, H, W); CIFAR-10: (N, H, W, 3) channels last
    images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
    labels = torch.as_tensor(dataset.targets, dtype=torch.int64)
    return images.contiguous(), labels, [str(c) for c in dataset.classes]
