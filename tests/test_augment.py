"""Device augmentation: geometry judged by torchvision, colour jitter by hand, presets, flips."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from torchvision.transforms import InterpolationMode

from neuralab.errors import NeuralabError
from neuralab.vision.augment import (
    Augmentation,
    affine_matrices,
    affine_resample,
    augmentation_preset,
    list_augmentation_presets,
)

IDENTITY = Augmentation(
    translate=0.0, rotate=0.0, scale=(1.0, 1.0), brightness=0.0, contrast=0.0, noise=0.0
)


def _images(n: int = 6, size: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("angle", "shift_px", "scale"),
    [(30.0, (0, 0), 1.0), (30.0, (2, -1), 1.2), (-20.0, (0, 2), 0.8), (0.0, (3, 0), 1.0)],
)
def test_affine_matches_torchvision(angle, shift_px, scale):
    x = _images(1, 10)
    theta = affine_matrices(
        torch.tensor([angle]),
        torch.tensor([scale]),
        torch.tensor([[shift_px[0] / 10, shift_px[1] / 10]]),
    )
    ours = affine_resample(x, theta, padding_mode="zeros")
    # torchvision's affine turns clockwise, ours (like its rotate) counter-clockwise
    reference = TF.affine(
        x,
        angle=-angle,
        translate=list(shift_px),
        scale=scale,
        shear=[0.0, 0.0],
        interpolation=InterpolationMode.BILINEAR,
    )
    torch.testing.assert_close(ours, reference, atol=1e-5, rtol=0)


def test_sampling_grid_is_affine_grids():
    from neuralab.vision.augment import _sampling_grid

    theta = torch.randn(4, 2, 3, generator=torch.Generator().manual_seed(0))
    reference = torch.nn.functional.affine_grid(theta, [4, 3, 5, 7], align_corners=False)
    torch.testing.assert_close(_sampling_grid(theta, 5, 7), reference, atol=1e-6, rtol=0)


def test_quarter_turn_and_flip_are_exact_pixel_moves():
    x = _images(2, 8)
    quarter = affine_matrices(torch.full((2,), 90.0), torch.ones(2), torch.zeros(2, 2))
    torch.testing.assert_close(
        affine_resample(x, quarter), torch.rot90(x, 1, (2, 3)), atol=1e-5, rtol=0
    )
    flip = affine_matrices(
        torch.zeros(2), torch.ones(2), torch.zeros(2, 2), torch.tensor([True, False])
    )
    out = affine_resample(x, flip)
    torch.testing.assert_close(out[0], x[0].flip(-1), atol=1e-6, rtol=0)
    torch.testing.assert_close(out[1], x[1], atol=1e-6, rtol=0)


def test_keeps_shape_dtype_device_and_range():
    x = _images()
    out = augmentation_preset("strong")(x, torch.Generator().manual_seed(1))
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert not torch.equal(out, x)


def test_identity_returns_input():
    x = _images()
    torch.testing.assert_close(IDENTITY(x, torch.Generator()), x, atol=0, rtol=0)
    # the resampling path with a vanishing rotation is the identity to float tolerance
    tiny = dataclasses.replace(IDENTITY, rotate=1e-6)
    assert tiny.is_geometric
    torch.testing.assert_close(tiny(x, torch.Generator()), x, atol=1e-5, rtol=0)


def test_same_seed_same_output():
    x = _images()
    aug = augmentation_preset("strong")
    a = aug(x, torch.Generator().manual_seed(3))
    b = aug(x, torch.Generator().manual_seed(3))
    c = aug(x, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_brightness_scales_each_image_by_one_factor():
    x = 0.1 + 0.5 * _images()  # <= 0.6: a factor <= 1.5 never clips
    aug = dataclasses.replace(IDENTITY, brightness=0.5)
    out = aug(x, torch.Generator().manual_seed(0))
    ratio = out / x  # one factor b per image, in [0.5, 1.5]
    per_image = ratio.flatten(1)
    torch.testing.assert_close(per_image.min(1).values, per_image.max(1).values, atol=1e-5, rtol=0)
    assert float(ratio.min()) >= 0.5 - 1e-6 and float(ratio.max()) <= 1.5 + 1e-6


def test_contrast_keeps_the_mean_and_scales_deviations():
    x = 0.4 + 0.2 * _images()  # within [0.4, 0.6]: a contrast factor <= 1.5 never clips
    aug = dataclasses.replace(IDENTITY, contrast=0.5)
    out = aug(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.mean((1, 2, 3)), x.mean((1, 2, 3)), atol=1e-5, rtol=0)
    c = out.flatten(1).std(1) / x.flatten(1).std(1)
    assert float(c.min()) >= 0.5 - 1e-5 and float(c.max()) <= 1.5 + 1e-5


def test_noise_has_the_asked_standard_deviation():
    x = torch.full((8, 3, 32, 32), 0.5)
    out = dataclasses.replace(IDENTITY, noise=0.05)(x, torch.Generator().manual_seed(0))
    assert abs(float((out - x).std()) - 0.05) < 0.002


def _left_bright(n: int) -> torch.Tensor:
    x = torch.zeros(n, 1, 16, 16)
    x[..., :8] = 1.0
    return x


def test_hflip_only_when_enabled():
    x = _left_bright(200)
    generator = torch.Generator().manual_seed(0)
    # without hflip, small rotations, shifts and zooms keep the bright half on the left
    kept = augmentation_preset("standard")(x, generator)
    assert bool((kept[..., :8].mean((1, 2, 3)) > kept[..., 8:].mean((1, 2, 3))).all())
    flipped = dataclasses.replace(IDENTITY, hflip=True)(x, generator)
    is_flipped = (flipped == x.flip(-1)).flatten(1).all(1)
    is_same = (flipped == x).flatten(1).all(1)
    assert bool((is_flipped | is_same).all())
    assert 60 < int(is_flipped.sum()) < 140  # about half of 200
    geometric = dataclasses.replace(augmentation_preset("standard"), hflip=True)(x, generator)
    right = geometric[..., 8:].mean((1, 2, 3)) > geometric[..., :8].mean((1, 2, 3))
    assert 60 < int(right.sum()) < 140


def test_presets():
    assert {"none", "light", "standard", "strong", "cifar"} <= set(list_augmentation_presets())
    assert augmentation_preset("none") is None
    # GTSRB: several classes are mirror images of each other, so no GTSRB preset flips
    for name in ("light", "standard", "strong", "gtsrb"):
        preset = augmentation_preset(name)
        assert preset is not None and preset.hflip is False
    cifar = augmentation_preset("cifar")
    assert cifar is not None and cifar.hflip is True
    # a fresh copy each time: changing it does not change the preset
    first = augmentation_preset("standard")
    assert first is not None
    first.rotate = 45.0
    second = augmentation_preset("standard")
    assert second is not None and second.rotate == 10.0


def test_unknown_preset_lists_valid_names():
    with pytest.raises(NeuralabError, match="standard"):
        augmentation_preset("standrd")


@pytest.mark.parametrize(
    "bad",
    [
        {"translate": -0.1},
        {"rotate": 200.0},
        {"scale": (1.2, 0.8)},
        {"scale": (0.0, 1.0)},
        {"brightness": 1.5},
        {"noise": float("nan")},
        {"padding_mode": "wrap"},
    ],
)
def test_bad_parameters_raise(bad):
    with pytest.raises(NeuralabError, match=next(iter(bad))):
        Augmentation(**bad)


def test_rejects_uint8_images():
    with pytest.raises(NeuralabError, match="float images"):
        IDENTITY(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), None)


def test_real_gtsrb_batch(gtsrb_npz):
    import numpy as np

    with np.load(gtsrb_npz) as archive:
        x = torch.from_numpy(archive["x_train"][:64]).permute(0, 3, 1, 2).float() / 255
    out = augmentation_preset("standard")(x, torch.Generator().manual_seed(0))
    assert out.shape == (64, 3, 32, 32) and bool(torch.isfinite(out).all())
    # small transforms: the augmented image stays close to the original on average
    assert float((out - x).abs().mean()) < 0.2
