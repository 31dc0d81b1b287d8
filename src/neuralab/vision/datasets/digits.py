"""scikit-learn's bundled 8x8 digits: 1,797 images, 10 classes, offline."""

from __future__ import annotations

import torch

from neuralab.vision.datasets.images import ImageDataset, resize_images


def load_digits(image_size: int | None) -> ImageDataset:
    """Return scikit-learn's 1,797 8x8 digits with a fixed stratified 80/20 split (random_state=0)."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    # pixel values are counts 0..16 of a 4x4 block of the original 32x32 bitmap
    images = torch.from_numpy(bunch.images).mul(255.0 / 16.0).round().to(torch.uint8)
    images = images.unsqueeze(1)  # (N, 1, 8, 8)
    labels = torch.from_numpy(bunch.target).to(torch.int64)
    train_idx, test_idx = train_test_split(
        torch.arange(len(labels)).numpy(), test_size=0.2, stratify=bunch.target, random_state=0
    )
    train, test = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
    x_train, x_test = images[train], images[test]
    if image_size is not None:
        x_train, x_test = resize_images(x_train, image_size), resize_images(x_test, image_size)
    return ImageDataset(
        name="digits",
        x_train=x_train,
        y_train=labels[train],
        x_test=x_test,
        y_test=labels[test],
        classes=[str(d) for d in range(10)],
        source="scikit-learn load_digits",
    )
