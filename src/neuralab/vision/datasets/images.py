"""The value every data set becomes, :class:`ImageDataset`, and the uint8 image operations they share.

uint8 images (N, C, H, W) with values 0..255 and int64 labels, a training and a test split,
class names, and (GTSRB) a group key per training image for grouped validation splits
(:mod:`neuralab.vision.splits`). Files are decoded with PIL and resized bilinearly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.limits import check_memory


@dataclass
class ImageDataset:
    """A labelled image data set with a training and a test split, as uint8 tensors."""

    name: str
    x_train: Tensor  # uint8 (N, C, H, W), 0..255
    y_train: Tensor  # int64 (N,), class index
    x_test: Tensor  # uint8 (M, C, H, W)
    y_test: Tensor  # int64 (M,)
    classes: list[str]  # class names, index = label
    groups_train: Tensor | None = None  # int64 group key per training image (GTSRB track), or None
    source: str = ""  # where the data came from (a path, or "scikit-learn")

    @property
    def num_classes(self) -> int:
        """Return the number of classes K (labels are 0..K-1)."""
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Return (C, H, W) of one image."""
        c, h, w = self.x_train.shape[1:]
        return int(c), int(h), int(w)


def resize_images(images: Tensor, size: int) -> Tensor:
    """Return uint8 images (N, C, H, W) resized to ``size`` x ``size`` (bilinear, antialiased)."""
    if tuple(images.shape[2:]) == (size, size):
        return images
    count, channels = images.shape[0], images.shape[1]
    # the uint8 result, and one float32 chunk of 2048 images on its way
    check_memory(
        count * channels * size * size + 4 * min(count, 2048) * channels * size * size,
        f"{count:,} images at {size}x{size} (image size {size})",
    )
    chunks = []
    for chunk in images.split(2048):
        x = F.interpolate(
            chunk.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
        chunks.append(x.round_().clamp_(0, 255).to(torch.uint8))
    if not chunks:
        return images.new_zeros((0, images.shape[1], size, size))
    return torch.cat(chunks)


def decode_file(path: str, size: int | tuple[int, int], gray: bool = False) -> Tensor:
    """Return one image file as uint8 (C, H, W), decoded with PIL and resized (bilinear).

    ``size`` is S (an S x S image) or (H, W); colour images become grey with ITU-R 601 luma
    when ``gray``, grey images RGB otherwise.
    """
    from PIL import Image, UnidentifiedImageError

    height, width = (size, size) if isinstance(size, int) else size
    try:
        with Image.open(path) as file:
            image = file.convert("L" if gray else "RGB")
            image = image.resize((width, height), Image.Resampling.BILINEAR)
            pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    except (OSError, UnidentifiedImageError) as error:
        raise NeuralabError(f"cannot decode image {path}: {error}") from None
    return pixels.view(height, width, 1 if gray else 3).permute(2, 0, 1)


def decode_files(paths: list[str], size: int, gray: bool = False) -> Tensor:
    """Return uint8 (N, C, size, size) images decoded with PIL and resized (bilinear)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    out = torch.empty((len(paths), 1 if gray else 3, size, size), dtype=torch.uint8)
    # PIL releases the GIL while it decodes and resizes: threads use every core
    workers = min(4, os.cpu_count() or 1) if len(paths) > 256 else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, image in enumerate(pool.map(lambda p: decode_file(p, size, gray), paths)):
            out[i] = image
    return out
