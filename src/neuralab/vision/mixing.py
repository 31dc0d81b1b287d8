"""MixUp and CutMix: train on blends of two images with the labels blended alike, on the device.

For a batch (x, y) and a permutation pi of it, with lam ~ Beta(alpha, alpha):

* MixUp (Zhang et al. 2018): x' = lam x + (1 - lam) x[pi];
* CutMix (Yun et al. 2019): x' = x with a box of area (1 - lam) H W pasted from x[pi]; lam is
  then recomputed as 1 - (box area inside the image) / (H W);

and in both the target is the distribution t = lam onehot(y) + (1 - lam) onehot(y[pi]), whose
entries sum to 1. One lam, one box and one permutation per batch (batched, as timm's "batch"
mode), so the whole batch is mixed with a few tensor operations where it lies. With both on,
each batch is CutMix with probability ``cutmix_prob``, else MixUp.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

# (images, labels) -> (mixed images, soft targets (B, K)): what the training loop calls
Mixing = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class BatchMixing:
    """MixUp with ``mixup_alpha`` > 0, CutMix with ``cutmix_alpha`` > 0, for K classes."""

    num_classes: int
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    cutmix_prob: float = 0.5  # when both are on: the share of batches mixed by CutMix
    rank: int = 0  # the process (of several): each pairs its own shard's images

    def __call__(
        self, images: Tensor, labels: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Return (mixed images, targets (B, K) float32 whose rows sum to 1).

        One number is drawn from ``generator`` per batch, whatever the batch size (so processes
        sharing a seed stay in step); lam, the box and the permutation come from it and
        ``rank``, so a run with the same seed mixes the same way and resumes exactly.
        """
        n = images.shape[0]
        device = generator.device if generator is not None else images.device
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=device))
        rng = np.random.default_rng([seed, self.rank])
        use_cutmix = self.cutmix_alpha > 0 and (
            self.mixup_alpha <= 0 or rng.random() < self.cutmix_prob
        )
        alpha = self.cutmix_alpha if use_cutmix else self.mixup_alpha
        lam = float(rng.beta(alpha, alpha))
        order = torch.from_numpy(rng.permutation(n)).to(images.device)
        if use_cutmix:
            images, lam = cutmix_images(images, order, lam, rng)
        else:
            images = images.mul(lam).add_(images[order], alpha=1.0 - lam)
        return images, mixed_targets(labels, order, lam, self.num_classes)


def mixed_targets(labels: Tensor, order: Tensor, lam: float, num_classes: int) -> Tensor:
    """Return lam onehot(y) + (1 - lam) onehot(y[order]), float32 (B, K)."""
    onehot = F.one_hot(labels, num_classes).float()
    return onehot.mul(lam).add_(onehot[order], alpha=1.0 - lam)


def cutmix_box(
    height: int, width: int, lam: float, rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """Return (top, bottom, left, right) of a box of area ~(1 - lam) H W, clipped to the image.

    Its sides are H sqrt(1 - lam) and W sqrt(1 - lam), its centre uniform over the image.
    """
    ratio = math.sqrt(1.0 - lam)
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    cy, cx = int(rng.integers(height)), int(rng.integers(width))
    top, bottom = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, height)
    left, right = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, width)
    return top, bottom, left, right


def cutmix_images(
    images: Tensor, order: Tensor, lam: float, rng: np.random.Generator
) -> tuple[Tensor, float]:
    """Return (images with a box pasted from images[order], lam = the share left unpasted)."""
    height, width = images.shape[-2:]
    top, bottom, left, right = cutmix_box(height, width, lam, rng)
    mixed = images.clone()
    mixed[..., top:bottom, left:right] = images[order][..., top:bottom, left:right]
    return mixed, 1.0 - (bottom - top) * (right - left) / (height * width)
