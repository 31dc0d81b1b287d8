"""Batched data augmentation on the device: one affine resample, colour jitter and noise.

A whole batch is augmented in a handful of tensor operations, on the device the batch lives on
(no per-image Python, no PIL): every image gets its own random rotation angle alpha, scale s,
translation (t_x, t_y) and optional horizontal flip, folded into one 2x3 matrix per image and
applied with a single ``affine_grid`` + ``grid_sample`` (bilinear), so the image is resampled
once, not once per transform. Then brightness b and contrast c per image,
x' = clamp(c * (b * x - mean(b * x)) + mean(b * x), 0, 1), then Gaussian noise.

GTSRB must never be flipped: several of its classes are mirror images of each other (keep left /
keep right, turn left / turn right), so a flip changes the label. Every preset except ``cifar``
keeps ``hflip=False``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from neuralab.errors import NeuralabError
from neuralab.registry import Registry

PADDING_MODES = ("border", "zeros", "reflection")


@dataclass
class Augmentation:
    """Random per-image transforms for float images in [0, 1], shape (N, C, H, W)."""

    translate: float = 0.1  # largest shift, as a fraction of the image size (each axis)
    rotate: float = 10.0  # largest rotation, degrees (uniform in [-rotate, rotate])
    scale: tuple[float, float] = (0.9, 1.1)  # zoom factor range (> 1 enlarges the content)
    brightness: float = 0.2  # brightness factor uniform in [1 - brightness, 1 + brightness]
    contrast: float = 0.2  # contrast factor uniform in [1 - contrast, 1 + contrast]
    noise: float = 0.0  # standard deviation of added Gaussian noise (image units 0..1)
    hflip: bool = False  # mirror half of the images left-right (never for GTSRB)
    padding_mode: str = (
        "border"  # what fills pixels moved in from outside: border, zeros, reflection
    )

    def __post_init__(self) -> None:
        self.scale = (float(self.scale[0]), float(self.scale[1]))
        checks = [
            ("translate", self.translate, 0.0 <= self.translate <= 0.5, "in [0, 0.5]"),
            ("rotate", self.rotate, 0.0 <= self.rotate <= 180.0, "in [0, 180] degrees"),
            ("brightness", self.brightness, 0.0 <= self.brightness < 1.0, "in [0, 1)"),
            ("contrast", self.contrast, 0.0 <= self.contrast < 1.0, "in [0, 1)"),
            ("noise", self.noise, self.noise >= 0.0, ">= 0"),
        ]
        for name, value, ok, valid in checks:
            if not (ok and math.isfinite(value)):
                raise NeuralabError(f"augmentation {name}={value} is invalid; expected {valid}")
        low, high = self.scale
        if not (0.0 < low <= high and math.isfinite(high)):
            raise NeuralabError(
                f"augmentation scale={self.scale} is invalid; expected (low, high) with 0 < low <= high"
            )
        if self.padding_mode not in PADDING_MODES:
            raise NeuralabError(
                f"augmentation padding_mode={self.padding_mode!r} is invalid; "
                f"expected one of {', '.join(PADDING_MODES)}"
            )

    @property
    def is_geometric(self) -> bool:
        """Return whether any geometric transform (shift, rotation, zoom) is switched on."""
        return self.translate > 0 or self.rotate > 0 or self.scale != (1.0, 1.0)

    def __call__(
        self,
        images: Tensor,
        generator: torch.Generator | None = None,
        *,
        rows: tuple[int, int, int] | None = None,
    ) -> Tensor:
        """Return a randomly transformed copy of ``images`` (float (N, C, H, W), same device).

        Random numbers come from ``generator`` (drawn on its device, so a generator on the
        images' device keeps everything there); ``None`` uses torch's global generator.
        ``rows=(n, lo, hi)`` says the images are rows lo..hi-1 of a batch of n (one process's
        shard of a global batch): the random numbers of all n images are drawn and rows lo..hi-1
        of them applied, so each image is transformed as one process would transform it, and
        the generators of all processes stay in step.
        """
        if images.dim() != 4 or not images.is_floating_point():
            raise NeuralabError(
                f"augmentation expects float images of shape (N, C, H, W), got "
                f"{images.dtype} {tuple(images.shape)}"
            )
        n = images.shape[0]
        total, lo, hi = rows if rows is not None else (n, 0, n)
        if hi - lo != n or not 0 <= lo <= hi <= total:
            raise NeuralabError(f"augmentation rows {rows} do not fit a batch of {n} images")
        if total == 0:
            return images
        draw = _Draws(total, lo, hi, images, generator)
        out = images
        if self.is_geometric:
            theta = self._affine_matrices(draw)
            out = affine_resample(images, theta, padding_mode=self.padding_mode)
        elif self.hflip:
            flip = draw.uniform(0.0, 1.0) < 0.5
            out = torch.where(flip.view(n, 1, 1, 1), images.flip(-1), images)
        if self.brightness > 0 or self.contrast > 0:
            out = self._colour_jitter(out, draw)
        if self.noise > 0:
            noise = draw.normal(out.shape[1:])
            out = (out + self.noise * noise.to(out.device, out.dtype)).clamp_(0.0, 1.0)
        return out

    def _affine_matrices(self, draw: _Draws) -> Tensor:
        """Return random (N, 2, 3) output-to-input matrices, see :func:`affine_matrices`."""
        angle = draw.uniform(-self.rotate, self.rotate)
        scale = draw.uniform(self.scale[0], self.scale[1])
        shift = draw.uniform(-self.translate, self.translate, per_image=2).view(-1, 2)
        flip = None
        if self.hflip:
            flip = draw.uniform(0.0, 1.0) < 0.5
        return affine_matrices(angle, scale, shift, flip)

    def _colour_jitter(self, images: Tensor, draw: _Draws) -> Tensor:
        # c (b x - mean(b x)) + mean(b x) = (b c) x + b (1 - c) mean(x): one pass over the pixels
        n = images.shape[0]
        b = draw.uniform(1 - self.brightness, 1 + self.brightness)
        c = draw.uniform(1 - self.contrast, 1 + self.contrast)
        mean = images.flatten(1).mean(1)
        shift = (b * (1 - c) * mean).view(n, 1, 1, 1)
        # mul + add_ rather than addcmul: the broadcast addcmul is ~3x slower on a CPU
        return images.mul((b * c).view(n, 1, 1, 1)).add_(shift).clamp_(0.0, 1.0)


class _Draws:
    """Random numbers for a batch of ``total`` images, of which rows lo..hi-1 are returned."""

    def __init__(
        self, total: int, lo: int, hi: int, images: Tensor, generator: torch.Generator | None
    ) -> None:
        self.total, self.lo, self.hi = total, lo, hi
        self.images, self.generator = images, generator
        self.device = generator.device if generator is not None else images.device

    def uniform(self, low: float, high: float, *, per_image: int = 1) -> Tensor:
        """Return U(low, high) numbers, ``per_image`` for each of rows lo..hi-1 (flat)."""
        u = torch.rand(self.total * per_image, generator=self.generator, device=self.device)
        u = u[self.lo * per_image : self.hi * per_image]
        return (low + (high - low) * u).to(self.images.device, self.images.dtype)

    def normal(self, shape: torch.Size) -> Tensor:
        """Return N(0, 1) numbers of shape (hi - lo, *shape)."""
        z = torch.randn((self.total, *shape), generator=self.generator, device=self.device)
        return z[self.lo : self.hi]


def affine_matrices(
    angle: Tensor, scale: Tensor, shift: Tensor, flip: Tensor | None = None
) -> Tensor:
    """Return the (N, 2, 3) matrices theta that ``affine_grid`` needs (output -> input coordinates).

    Per image: mirror left-right where ``flip``, rotate by ``angle`` degrees counter-clockwise
    about the centre, zoom by ``scale`` (> 1 enlarges) and shift the content by ``shift`` =
    (s_x, s_y) fractions of the width and height (right, down). In normalised coordinates
    p in [-1, 1]^2 the forward map is p_out = M p_in + 2 shift with M = s R(alpha) F, so
    theta = [M^-1 | -2 M^-1 shift]. This is torchvision's ``rotate(angle)``, and its
    ``affine(angle=-angle, translate=shift * size, scale=scale)`` (whose angle turns clockwise).
    """
    alpha = torch.deg2rad(angle)
    cos, sin = torch.cos(alpha) / scale, torch.sin(alpha) / scale
    # M^-1 = F R(-alpha) / s, in image coordinates (y points down)
    a = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)  # (N, 2, 2)
    if flip is not None:
        sign = 1.0 - 2.0 * flip.to(a.dtype)  # -1 mirrors the input x coordinate
        a = torch.stack([a[:, 0] * sign.view(-1, 1), a[:, 1]], 1)
    offset = -2.0 * (a @ shift.to(a.dtype).unsqueeze(-1))  # (N, 2, 1)
    return torch.cat([a, offset], dim=2)


def affine_resample(images: Tensor, theta: Tensor, *, padding_mode: str = "border") -> Tensor:
    """Return ``images`` (N, C, H, W) resampled once, bilinearly, through matrices theta (N, 2, 3).

    The sampling grid equals ``F.affine_grid(theta, size, align_corners=False)``: pixel centres
    of the identity map land exactly on themselves.
    """
    h, w = images.shape[-2:]
    return F.grid_sample(
        images,
        _sampling_grid(theta.to(images.dtype), h, w),
        mode="bilinear",
        padding_mode=padding_mode,
        align_corners=False,
    )


def _sampling_grid(theta: Tensor, h: int, w: int) -> Tensor:
    """Return the (N, H, W, 2) grid theta @ (x, y, 1) over the pixel centres in [-1, 1]."""
    # one matrix product instead of affine_grid's batched (H W x 3) @ (3 x 2) products, which
    # are several times slower on a CPU
    xs = (torch.arange(w, dtype=theta.dtype, device=theta.device) * 2 + 1) / w - 1
    ys = (torch.arange(h, dtype=theta.dtype, device=theta.device) * 2 + 1) / h - 1
    base = torch.stack(
        [xs.expand(h, w), ys.view(h, 1).expand(h, w), torch.ones_like(xs).expand(h, w)], -1
    )  # (H, W, 3)
    return torch.einsum("hwk,njk->nhwj", base, theta)


_PRESETS: Registry[Augmentation | None] = Registry("augmentation preset")
_PRESETS.add("none", None, aliases=("off",))
_PRESETS.add(
    "light",
    Augmentation(translate=0.05, rotate=5.0, scale=(0.95, 1.05), brightness=0.1, contrast=0.1),
)
_PRESETS.add("standard", Augmentation(), aliases=("gtsrb", "default"))
_PRESETS.add(
    "strong",
    Augmentation(
        translate=0.15, rotate=15.0, scale=(0.85, 1.15), brightness=0.3, contrast=0.3, noise=0.02
    ),
)
# natural photos (CIFAR-10): the classic random crop (shift by 4 of 32 pixels) and mirror
_PRESETS.add(
    "cifar",
    Augmentation(
        translate=0.125,
        rotate=0.0,
        scale=(1.0, 1.0),
        brightness=0.1,
        contrast=0.1,
        hflip=True,
        padding_mode="reflection",
    ),
)


def augmentation_preset(name: str) -> Augmentation | None:
    """Return a fresh copy of the named augmentation preset (``None`` for ``"none"``)."""
    preset = _PRESETS.get(name)
    if preset is None:
        return None
    return dataclasses.replace(preset)


def list_augmentation_presets() -> list[str]:
    """Return the names of the augmentation presets."""
    return _PRESETS.names()
