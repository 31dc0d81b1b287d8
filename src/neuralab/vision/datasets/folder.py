"""``folder:PATH``: an ImageFolder layout, ``PATH/train/<class>/*.png`` and ``PATH/test/<class>/*.png``.

Small folders are decoded once into uint8 tensors and cached beside the images
(:func:`load_folder`); folders too large for memory are decoded image by image
(:class:`FolderImages`, :func:`iterate_folder`, fed to ``neuralab.vision.loader.StreamingLoader``).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.paths import input_dir
from neuralab.vision.datasets.cache import CACHE_FOLDER, cached_dataset
from neuralab.vision.datasets.images import ImageDataset, decode_file, decode_files

IMAGE_EXTENSIONS = (
    ".png",
    ".jpg",
    ".jpeg",
    ".ppm",
    ".pgm",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
)


def folder_samples(
    root: str | Path, classes: list[str] | None = None
) -> tuple[list[tuple[str, int]], list[str]]:
    """Return ([(file, label)], classes) of an ImageFolder layout ``root/<class>/<image>``.

    Classes are the sorted sub-folder names, unless ``classes`` (those of the training folder) is
    given; then a folder naming an unknown class is an error.
    """
    root = input_dir(
        root, "image folder", expected=f"a folder of class folders, {root}/<class>/<image>"
    )
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if classes is None:
        classes = folders
    unknown = sorted(set(folders) - set(classes))
    if unknown:
        raise NeuralabError(
            f"{root} has class folder(s) {', '.join(unknown)} not in the training classes ({', '.join(classes)})"
        )
    samples = [
        (str(file), label)
        for label, name in enumerate(classes)
        if (root / name).is_dir()
        for file in sorted((root / name).iterdir())
        if file.suffix.lower() in IMAGE_EXTENSIONS and file.is_file()
    ]
    if not samples:
        raise NeuralabError(
            f"{root} holds no images; expected {root}/<class>/<image> with suffix {', '.join(IMAGE_EXTENSIONS)}"
        )
    return samples, classes


def load_folder(path_text: str, image_size: int | None) -> ImageDataset:
    """Return the folder data set at ``path_text``, resized to ``image_size`` (32), cached."""
    root = input_dir(
        path_text, "folder data set", expected="a folder with train/ and test/ subfolders"
    )
    size = image_size or 32
    for split in ("train", "test"):
        if not (root / split).is_dir():
            raise NeuralabError(
                f"folder data set {str(root)!r} needs {root / split}/<class>/<image> (train/ and test/ subfolders)"
            )
    train, classes = folder_samples(root / "train")
    test, _classes = folder_samples(root / "test", classes)
    # the cache is valid while the files (names, sizes, times) are those it was built from
    stats = [(p, Path(p).stat()) for p, _ in train + test]
    fingerprint = (
        f"{len(stats)}-{sum(s.st_size for _, s in stats)}-{sum(s.st_mtime_ns for _, s in stats)}"
    )

    def decode() -> dict:
        gray = _is_gray([p for p, _ in train + test])
        return {
            "x_train": decode_files([p for p, _ in train], size, gray),
            "y_train": torch.tensor([t for _, t in train], dtype=torch.int64),
            "x_test": decode_files([p for p, _ in test], size, gray),
            "y_test": torch.tensor([t for _, t in test], dtype=torch.int64),
            "classes": classes,
        }

    dataset = cached_dataset(
        "folder",
        root,
        size,
        decode,
        cache=root / CACHE_FOLDER / f"folder-{size}.pt",
        fingerprint=fingerprint,
    )
    dataset.name = f"folder:{root}"
    return dataset


def _is_gray(paths: list[str]) -> bool:
    from PIL import Image

    for path in paths:
        try:
            with Image.open(path) as image:  # opening reads the header only
                if image.mode not in ("1", "L", "I", "I;16", "F"):
                    return False
        except OSError as error:
            raise NeuralabError(f"cannot decode image {path}: {error}") from None
    return True


class FolderImages(torch.utils.data.Dataset):
    """One split of a ``folder:`` data set, decoded image by image: for folders too large for memory.

    ``dataset[i]`` is (uint8 (C, S, S), label). Wrap it in a ``DataLoader`` (see
    :func:`iterate_folder`) and feed the batches to ``neuralab.vision.loader.StreamingLoader``.
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        image_size: int = 32,
        gray: bool | None = None,
    ) -> None:
        if split not in ("train", "test"):
            raise NeuralabError(f"folder split must be 'train' or 'test', got {split!r}")
        root = Path(root).expanduser()
        train, self.classes = folder_samples(root / "train")
        self.samples = train if split == "train" else folder_samples(root / "test", self.classes)[0]
        self.image_size = image_size
        # the headers of up to 256 files decide gray or colour: reading them all could take minutes
        sample = [p for p, _ in self.samples[:: max(1, len(self.samples) // 256)]]
        self.gray = _is_gray(sample) if gray is None else gray
        self.labels = torch.tensor([t for _, t in self.samples], dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        path, label = self.samples[index]
        return decode_file(path, self.image_size, self.gray), label


def iterate_folder(
    root: str | Path,
    split: str = "train",
    *,
    batch_size: int,
    image_size: int = 32,
    shuffle: bool = False,
    num_workers: int = 0,
    generator: torch.Generator | None = None,
) -> torch.utils.data.DataLoader:
    """Return a ``DataLoader`` of (uint8 (B, C, S, S), int64 (B,)) batches decoded from a folder.

    Decoding runs in ``num_workers`` processes; the float conversion, augmentation and
    normalisation then happen per batch on the device (``StreamingLoader``).
    """
    return torch.utils.data.DataLoader(
        FolderImages(root, split, image_size=image_size),
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        generator=generator,
        persistent_workers=num_workers > 0,
    )
