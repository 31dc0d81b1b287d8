"""Batches from a data set that lives on the device: index slices, per-batch normalisation.

A small image data set (GTSRB's 10,260 training images at 32x32x3 are 31 MB as uint8) fits in
the memory of any device, so it is moved there once, as uint8. An epoch is then one random
permutation of the indices; a batch is ``images[perm[i : i + B]]``, converted to float in [0, 1],
augmented and normalised in a few vectorised tensor operations. There is no per-sample Python,
no worker process and no host-to-device copy per batch, which is what makes this loop faster
than a ``DataLoader`` over the same tensors.

Sharded (``shard=(rank, world_size)``, one process of a multi-process run) the loader still
walks the global batches of one process, with the same permutation and the same augmentation
draws, and yields this rank's rows of each (:func:`neuralab.vision.distributed.shard_bounds`):
the ranks' shards of a step together are exactly one process's batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.vision.augment import Augmentation
from neuralab.vision.distributed import shard_bounds

NORMALIZATION_MODES = ("per_channel", "per_image", "none")


@dataclass
class Normalization:
    """Maps float images in [0, 1] to network inputs.

    - ``per_channel``: x' = (x - mu_c) / sigma_c with the mean mu_c and standard deviation
      sigma_c of channel c over the TRAINING split only (the test set never informs a choice);
    - ``per_image``: x' = (x - mean(x)) / max(std(x), 1 / sqrt(C H W)) over each image's own
      pixels and channels: every image gets mean 0 and standard deviation 1, which removes the
      huge brightness differences of GTSRB (many signs are nearly black);
    - ``none``: x' = x.
    """

    mode: str = "per_channel"  # per_channel, per_image or none
    mean: Tensor | None = None  # (C,) per-channel mean of the training images, units 0..1
    std: Tensor | None = None  # (C,) per-channel standard deviation of the training images
    _on_device: dict[str, tuple[Tensor, Tensor]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in NORMALIZATION_MODES:
            raise NeuralabError(
                f"unknown normalization {self.mode!r} (valid: {', '.join(NORMALIZATION_MODES)})"
            )
        if self.mode == "per_channel":
            if self.mean is None or self.std is None:
                raise NeuralabError(
                    "per_channel normalization needs mean and std: "
                    "use Normalization.from_images(train_images)"
                )
            self.mean = torch.as_tensor(self.mean, dtype=torch.float32).flatten().cpu()
            self.std = torch.as_tensor(self.std, dtype=torch.float32).flatten().cpu()
            if self.mean.shape != self.std.shape:
                raise NeuralabError(
                    f"normalization mean has {self.mean.numel()} channels but std has "
                    f"{self.std.numel()}"
                )
            # a constant channel (std 0) would divide by zero
            self.std = self.std.clamp(min=1e-6)

    @classmethod
    def from_images(cls, images: Tensor, mode: str = "per_channel") -> Normalization:
        """Return the normalisation with statistics of ``images`` (uint8 (N, C, H, W), the TRAINING split).

        mu_c = mean of x[:, c] / 255 and sigma_c = its (population) standard deviation, computed in
        float64 in chunks, so 60,000 MNIST images need no large float copy.
        """
        if images.dim() != 4 or images.shape[0] == 0:
            raise NeuralabError(
                f"normalization statistics need images of shape (N, C, H, W) with N > 0, "
                f"got {tuple(images.shape)}"
            )
        return cls.from_batches(images.split(4096), mode)

    @classmethod
    def from_batches(cls, batches: Iterable[Tensor], mode: str = "per_channel") -> Normalization:
        """Return the normalisation with statistics over uint8 (B, C, H, W) ``batches`` (one pass).

        For data streamed from disk (``StreamingLoader``): the same mu_c and sigma_c as
        :meth:`from_images` over the concatenated batches.
        """
        if mode != "per_channel":
            return cls(mode=mode)
        total = total_sq = None
        count = 0
        for batch in batches:
            x = batch.to("cpu", torch.float64) / 255.0
            sums, sums_sq = x.sum(dim=(0, 2, 3)), (x * x).sum(dim=(0, 2, 3))
            total = sums if total is None else total + sums
            total_sq = sums_sq if total_sq is None else total_sq + sums_sq
            count += x.shape[0] * x.shape[2] * x.shape[3]
        if total is None or total_sq is None or count == 0:
            raise NeuralabError("normalization statistics need at least one image")
        mean = total / count
        std = (total_sq / count - mean * mean).clamp(min=0.0).sqrt()
        return cls(mode="per_channel", mean=mean.float(), std=std.float())

    def __call__(self, images_float01: Tensor) -> Tensor:
        """Return the normalised images (same shape, dtype and device)."""
        x = images_float01
        if self.mode == "none":
            return x
        if self.mode == "per_image":
            flat = x.flatten(1)
            centred = flat - flat.mean(dim=1, keepdim=True)
            # two plain passes: several times faster on a CPU than torch.std's one-pass kernel
            std = centred.square().mean(dim=1, keepdim=True).sqrt_()
            # tf.image.per_image_standardization's floor: a flat image maps to 0, not to inf
            std = std.clamp_(min=1.0 / math.sqrt(flat.shape[1]))
            return (centred / std).view_as(x)
        mean, std = self._statistics_on(x)
        if mean.numel() != x.shape[1]:
            raise NeuralabError(
                f"normalization has statistics for {mean.numel()} channels, "
                f"but the images have {x.shape[1]}"
            )
        return (x - mean) / std

    def _statistics_on(self, x: Tensor) -> tuple[Tensor, Tensor]:
        key = f"{x.device}-{x.dtype}"
        if key not in self._on_device:
            assert self.mean is not None and self.std is not None
            self._on_device[key] = (
                self.mean.to(x.device, x.dtype).view(1, -1, 1, 1),
                self.std.to(x.device, x.dtype).view(1, -1, 1, 1),
            )
        return self._on_device[key]

    def to_dict(self) -> dict[str, Any]:
        """Return plain data (mode, mean, std as lists) for a config or a checkpoint."""
        return {
            "mode": self.mode,
            "mean": None if self.mean is None else [float(v) for v in self.mean],
            "std": None if self.std is None else [float(v) for v in self.std],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normalization:
        """Return the normalisation saved by :meth:`to_dict`."""
        return cls(mode=data["mode"], mean=data.get("mean"), std=data.get("std"))


class DeviceLoader:
    """Iterates (images, labels) batches of a uint8 data set held on ``device``.

    Every epoch (every ``iter``) draws a fresh permutation from ``generator`` when ``shuffle``;
    each batch is float32, augmented (if given), normalised and optionally channels_last; labels
    are int64. Random numbers are drawn on the generator's device: pass a generator on the
    training device to keep everything there. ``batch_size`` is the global batch; with
    ``shard=(rank, world_size)`` each batch is this rank's rows of it (every rank needs a
    generator seeded alike).
    """

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        *,
        batch_size: int,
        device: torch.device | str,
        shuffle: bool,
        normalization: Normalization,
        augmentation: Augmentation | None = None,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        channels_last: bool = False,
        shard: tuple[int, int] = (0, 1),
    ) -> None:
        if images.dim() != 4 or images.dtype != torch.uint8:
            raise NeuralabError(
                f"DeviceLoader expects uint8 images of shape (N, C, H, W), got "
                f"{images.dtype} {tuple(images.shape)}"
            )
        if labels.dim() != 1 or labels.shape[0] != images.shape[0]:
            raise NeuralabError(
                f"DeviceLoader got {images.shape[0]} images but labels of shape "
                f"{tuple(labels.shape)}; expected ({images.shape[0]},)"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise NeuralabError(f"batch size must be a positive integer, got {batch_size!r}")
        rank, world_size = shard
        if world_size < 1 or not 0 <= rank < world_size:
            raise NeuralabError(f"shard {shard} is not (rank, world_size) with 0 <= rank < size")
        self.device = torch.device(device)
        # one copy to the device for the whole run; no-op if it is already there
        self.images = images.to(self.device)
        self.labels = labels.to(self.device, torch.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.normalization = normalization
        self.augmentation = augmentation
        self.generator = generator
        self.drop_last = drop_last
        self.channels_last = channels_last
        self.shard = shard
        self.num_samples = int(images.shape[0])

    def __len__(self) -> int:
        """Return the number of batches per epoch."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def global_batch_sizes(self) -> list[int]:
        """Return the number of images in each global batch of an epoch (all ranks together)."""
        return [
            min(self.batch_size, self.num_samples - batch * self.batch_size)
            for batch in range(len(self))
        ]

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order: Tensor | None = None
        if self.shuffle:
            rng_device = self.generator.device if self.generator is not None else self.device
            order = torch.randperm(self.num_samples, generator=self.generator, device=rng_device)
            order = order.to(self.device)
        rank, world_size = self.shard
        for batch, n in enumerate(self.global_batch_sizes()):
            lo, hi = shard_bounds(n, rank, world_size)  # this rank's rows of the global batch
            start = batch * self.batch_size
            if order is None:
                x, y = self.images[start + lo : start + hi], self.labels[start + lo : start + hi]
            else:
                index = order[start + lo : start + hi]
                x, y = self.images.index_select(0, index), self.labels.index_select(0, index)
            yield self.transform(x, rows=(n, lo, hi)), y

    def transform(
        self, images_uint8: Tensor, *, rows: tuple[int, int, int] | None = None
    ) -> Tensor:
        """Return float32 network inputs for a uint8 batch: /255, augment, normalise.

        ``rows=(n, lo, hi)``: the images are rows lo..hi-1 of a global batch of n (see
        :class:`~neuralab.vision.augment.Augmentation`).
        """
        return to_inputs(
            images_uint8,
            self.normalization,
            self.augmentation,
            self.generator,
            channels_last=self.channels_last,
            rows=rows,
        )


def to_inputs(
    images_uint8: Tensor,
    normalization: Normalization,
    augmentation: Augmentation | None = None,
    generator: torch.Generator | None = None,
    *,
    channels_last: bool = False,
    rows: tuple[int, int, int] | None = None,
) -> Tensor:
    """Return float32 network inputs for a uint8 batch (N, C, H, W): x / 255, augment, normalise.

    ``rows=(n, lo, hi)``: the batch is rows lo..hi-1 of a global batch of n images.
    """
    x = images_uint8.to(torch.float32).div_(255.0)
    if augmentation is not None:
        x = augmentation(x, generator, rows=rows)
    x = normalization(x)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


class StreamingLoader:
    """DeviceLoader's interface over uint8 batches that do not fit in memory (a DataLoader).

    Each (uint8 images, labels) batch of ``batches`` (e.g. ``datasets.iterate_folder(...)``) is
    copied to ``device`` and transformed there exactly as in :class:`DeviceLoader`; shuffling is
    the DataLoader's.
    """

    def __init__(
        self,
        batches: Iterable[tuple[Tensor, Tensor]],
        *,
        num_samples: int,
        device: torch.device | str,
        normalization: Normalization,
        augmentation: Augmentation | None = None,
        generator: torch.Generator | None = None,
        channels_last: bool = False,
    ) -> None:
        self.batches = batches
        self.num_samples = num_samples
        self.device = torch.device(device)
        self.normalization = normalization
        self.augmentation = augmentation
        self.generator = generator
        self.channels_last = channels_last

    def __len__(self) -> int:
        """Return the number of batches per epoch (that of the wrapped loader)."""
        return len(self.batches) if isinstance(self.batches, Sized) else 0

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        # pinned host memory would let the copy overlap compute; non_blocking is harmless without
        for images, labels in self.batches:
            x = images.to(self.device, non_blocking=True)
            y = labels.to(self.device, torch.int64, non_blocking=True)
            yield (
                to_inputs(
                    x,
                    self.normalization,
                    self.augmentation,
                    self.generator,
                    channels_last=self.channels_last,
                ),
                y,
            )
