"""RandAugment and random erasing on top of an augmentation preset, for batches on the device.

* RandAugment (Cubuk et al. 2020): ``N`` operations drawn from torchvision's list (rotate,
  shear, translate, colour, contrast, sharpness, posterize, solarize, equalize, ...) at magnitude
  ``M`` of 31 bins, by ``torchvision.transforms.v2.RandAugment`` on uint8 images where they lie.
  v2 draws one choice of operations per call, so a batch is cut into ``groups`` groups and each
  group gets its own draw, from its own seed (8 draws per batch; per image would cost one call
  per image).
* Random erasing (Zhong et al. 2020): with probability p an image gets a rectangle of area
  s H W, s ~ U(0.02, 1/3), aspect ratio r ~ logU(0.3, 3.3), filled with uniform noise; one box
  per image, drawn for the whole batch at once.

Random numbers come from the loader's generator (RandAugment: a seed drawn from it, the global
generators restored afterwards), so runs repeat and resume exactly; ``rows=(n, lo, hi)`` (one
process's rows of a global batch of n) draws for all n images and applies rows lo..hi-1, as
:class:`~neuralab.vision.augment.Augmentation` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

ERASING_SCALE = (0.02, 1 / 3)  # share of the image area erased
ERASING_RATIO = (0.3, 3.3)  # aspect ratio h / w of the box


@dataclass(frozen=True)
class RecipeAugmentation:
    """RandAugment, then the preset ``base``, then random erasing, on float images in [0, 1]."""

    base: Any = None  # an Augmentation of neuralab.vision.augment, or None
    randaugment_ops: int = 0  # N: operations per image (0: off)
    randaugment_magnitude: int = 9  # M in 0..30
    erasing: float = 0.0  # probability p of erasing a box (0: off)
    groups: int = 8  # RandAugment draws per batch

    def __call__(
        self,
        images: Tensor,
        generator: torch.Generator | None = None,
        *,
        rows: tuple[int, int, int] | None = None,
    ) -> Tensor:
        """Return the augmented batch (float (N, C, H, W) in [0, 1], same device)."""
        out = images
        if self.randaugment_ops > 0:
            out = self.randaugment(out, generator, rows=rows)
        if self.base is not None:
            out = self.base(out, generator, rows=rows)
        if self.erasing > 0:
            out = random_erasing(out, self.erasing, generator, rows=rows)
        return out

    def randaugment(
        self,
        images: Tensor,
        generator: torch.Generator | None,
        *,
        rows: tuple[int, int, int] | None = None,
    ) -> Tensor:
        """Return RandAugment applied to ``groups`` groups of the batch, each with its own seed."""
        from torchvision.transforms import v2

        transform = v2.RandAugment(
            num_ops=self.randaugment_ops, magnitude=self.randaugment_magnitude
        )
        total, lo, hi = rows if rows is not None else (images.shape[0], 0, images.shape[0])
        device = generator.device if generator is not None else images.device
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=device))
        if hi <= lo:
            return images
        as_uint8 = images.mul(255.0).round_().clamp_(0, 255).to(torch.uint8)
        chunk = max(1, math.ceil(total / self.groups))
        cuda = [images.device.index or 0] if images.device.type == "cuda" else []
        parts = []
        with torch.random.fork_rng(devices=cuda):  # v2 draws from the global generators
            for group in range(lo // chunk, (hi - 1) // chunk + 1):
                start, end = max(group * chunk, lo), min((group + 1) * chunk, hi)
                torch.manual_seed((seed + group) % 2**63)
                parts.append(transform(as_uint8[start - lo : end - lo]))
        return torch.cat(parts).to(images.dtype).div_(255.0)


def random_erasing(
    images: Tensor,
    probability: float,
    generator: torch.Generator | None = None,
    *,
    rows: tuple[int, int, int] | None = None,
) -> Tensor:
    """Return ``images`` with one noise-filled box in each image chosen with ``probability``.

    ``rows=(total, lo, hi)``: draw for ``total`` images, apply the draws of rows lo..hi-1.
    """
    n, channels, height, width = images.shape
    total, lo, hi = rows if rows is not None else (n, 0, n)
    if total == 0:
        return images
    device = generator.device if generator is not None else images.device

    def uniform(low: float, high: float) -> Tensor:
        u = torch.rand(total, generator=generator, device=device)[lo:hi].to(images.device)
        return low + (high - low) * u

    chosen = uniform(0.0, 1.0) < probability
    area = uniform(*ERASING_SCALE) * height * width
    ratio = torch.exp(uniform(math.log(ERASING_RATIO[0]), math.log(ERASING_RATIO[1])))
    box_h = torch.sqrt(area * ratio).round().clamp(1, height)
    box_w = torch.sqrt(area / ratio).round().clamp(1, width)
    top = (uniform(0.0, 1.0) * (height - box_h + 1)).floor()
    left = (uniform(0.0, 1.0) * (width - box_w + 1)).floor()
    ys = torch.arange(height, device=images.device).view(1, height, 1)
    xs = torch.arange(width, device=images.device).view(1, 1, width)
    inside = (
        (ys >= top.view(n, 1, 1))
        & (ys < (top + box_h).view(n, 1, 1))
        & (xs >= left.view(n, 1, 1))
        & (xs < (left + box_w).view(n, 1, 1))
        & chosen.view(n, 1, 1)
    )
    noise = torch.rand((total, *images.shape[1:]), generator=generator, device=device)
    noise = noise[lo:hi].to(images)
    return torch.where(inside.unsqueeze(1), noise, images)
