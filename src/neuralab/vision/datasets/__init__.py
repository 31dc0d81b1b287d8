"""Image data sets by name, as uint8 tensors: one module per source, a registry, a cache.

Every data set becomes the same :class:`ImageDataset` (:mod:`.images`). Sources: ``digits``
(:mod:`.digits`), ``mnist``, ``fashion-mnist``, ``cifar10`` (:mod:`.torchvision_sets`), ``gtsrb``
(:mod:`.gtsrb`), ``npz:PATH`` (:mod:`.npz`) and ``folder:PATH`` (:mod:`.folder`); the name
table is :mod:`.registry` and decoded sets are cached as tensors by :mod:`.cache`.
"""

from neuralab.vision.datasets.folder import FolderImages, folder_samples, iterate_folder
from neuralab.vision.datasets.gtsrb import GTSRB_CLASSES, gtsrb_group
from neuralab.vision.datasets.images import ImageDataset, resize_images
from neuralab.vision.datasets.registry import get_dataset, list_datasets

__all__ = [
    "GTSRB_CLASSES",
    "FolderImages",
    "ImageDataset",
    "folder_samples",
    "get_dataset",
    "gtsrb_group",
    "iterate_folder",
    "list_datasets",
    "resize_images",
]
