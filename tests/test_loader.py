"""DeviceLoader and Normalization: every sample once, fresh permutations, training-only statistics."""

from __future__ import annotations

import math

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.vision.augment import augmentation_preset
from neuralab.vision.loader import DeviceLoader, Normalization


def _data(n: int = 50, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, 6, 6), dtype=torch.uint8, generator=generator)
    return images, torch.arange(n)  # label = index: shows which sample a batch holds


def _loader(images, labels, **kwargs) -> DeviceLoader:
    options = {
        "batch_size": 16,
        "device": "cpu",
        "shuffle": True,
        "normalization": Normalization(mode="none"),
        "generator": torch.Generator().manual_seed(0),
    }
    return DeviceLoader(images, labels, **(options | kwargs))


def test_every_sample_exactly_once_per_epoch():
    images, labels = _data(50)
    loader = _loader(images, labels)
    assert len(loader) == 4 and loader.num_samples == 50  # 16 + 16 + 16 + 2
    seen = torch.cat([y for _, y in loader])
    assert torch.equal(seen.sort().values, torch.arange(50))


def test_batches_are_the_indexed_images():
    images, labels = _data(20)
    for x, y in _loader(images, labels, batch_size=7):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        torch.testing.assert_close(x, images[y].float() / 255, atol=0, rtol=0)


def test_fresh_permutation_each_epoch_repeatable_by_seed():
    images, labels = _data(64)
    loader = _loader(images, labels)
    first = torch.cat([y for _, y in loader])
    second = torch.cat([y for _, y in loader])
    assert not torch.equal(first, second)
    again = _loader(images, labels)  # same seed: the same two epochs
    assert torch.equal(torch.cat([y for _, y in again]), first)
    assert torch.equal(torch.cat([y for _, y in again]), second)


def test_no_shuffle_keeps_order_and_drop_last():
    images, labels = _data(50)
    loader = _loader(images, labels, shuffle=False, drop_last=True)
    assert len(loader) == 3
    assert torch.equal(torch.cat([y for _, y in loader]), torch.arange(48))


def test_per_channel_statistics_from_the_training_split_only():
    train, _ = _data(40, seed=1)
    test = torch.full((10, 3, 6, 6), 255, dtype=torch.uint8)  # very different on purpose
    norm = Normalization.from_images(train)
    x = train.double() / 255
    torch.testing.assert_close(norm.mean.double(), x.mean((0, 2, 3)), atol=1e-6, rtol=0)
    torch.testing.assert_close(norm.std.double(), x.std((0, 2, 3), correction=0), atol=1e-6, rtol=0)
    both = Normalization.from_images(torch.cat([train, test]))
    assert float((both.mean - norm.mean).abs().min()) > 0.05
    # the normalised training set has mean 0 and std 1 per channel
    batches = torch.cat([b for b, _ in _loader(train, torch.arange(40), normalization=norm)])
    torch.testing.assert_close(batches.mean((0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        batches.std((0, 2, 3), correction=0), torch.ones(3), atol=1e-5, rtol=0
    )


def test_per_channel_matches_torchvision_normalize():
    import torchvision.transforms.v2.functional as TF

    train, _ = _data(30)
    norm = Normalization.from_images(train)
    x = train.float() / 255
    reference = TF.normalize(x, mean=norm.mean.tolist(), std=norm.std.tolist())
    torch.testing.assert_close(norm(x), reference, atol=1e-6, rtol=0)


def test_per_image_standardisation():
    images, labels = _data(30)
    images[0] = 7  # a flat image maps to zeros, not to a division by zero
    loader = _loader(images, labels, normalization=Normalization.from_images(images, "per_image"))
    for x, y in loader:
        flat = x.flatten(1)
        for row, label in zip(flat, y.tolist(), strict=True):
            assert abs(float(row.mean())) < 1e-5
            expected_std = 0.0 if label == 0 else 1.0
            assert abs(float(row.std(correction=0)) - expected_std) < 1e-4


def test_hand_computed_per_image_value():
    # a 1x4x4 image, left half 0.2 and right half 0.6: mean 0.4, population std 0.2
    # the std 0.2 is below the floor 1/sqrt(C H W) = 1/sqrt(16) = 0.25, so (x - 0.4) / 0.25
    x = torch.full((1, 1, 4, 4), 0.2)
    x[..., 2:] = 0.6
    expected = torch.full((1, 1, 4, 4), -0.8)
    expected[..., 2:] = 0.8
    torch.testing.assert_close(Normalization("per_image")(x), expected)
    # left half 0.0, right half 1.0: mean 0.5, std 0.5 above the floor -> exactly -1 and 1
    y = torch.zeros(1, 1, 4, 4)
    y[..., 2:] = 1.0
    torch.testing.assert_close(Normalization("per_image")(y), 2 * y - 1)


def test_augmentation_in_the_loader_keeps_shape_and_uses_the_generator():
    images, labels = _data(32)
    aug = augmentation_preset("standard")
    a = [x for x, _ in _loader(images, labels, augmentation=aug)]
    b = [x for x, _ in _loader(images, labels, augmentation=aug)]
    plain = [x for x, _ in _loader(images, labels)]
    assert all(x.shape == p.shape for x, p in zip(a, plain, strict=True))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], plain[0])


def test_channels_last():
    images, labels = _data(8)
    (x, _), *_ = list(_loader(images, labels, channels_last=True))
    assert x.is_contiguous(memory_format=torch.channels_last)


def test_normalization_round_trip_through_plain_data():
    norm = Normalization.from_images(_data(10)[0])
    again = Normalization.from_dict(norm.to_dict())
    assert again.mode == norm.mode and torch.equal(again.mean, norm.mean)
    assert torch.equal(again.std, norm.std)


def test_bad_inputs():
    images, labels = _data(10)
    with pytest.raises(NeuralabError, match="batch size"):
        _loader(images, labels, batch_size=0)
    with pytest.raises(NeuralabError, match="uint8"):
        _loader(images.float(), labels)
    with pytest.raises(NeuralabError, match="labels of shape"):
        _loader(images, labels[:5])
    with pytest.raises(NeuralabError, match="normalization"):
        Normalization("per_pixel")
    with pytest.raises(NeuralabError, match="from_images"):
        Normalization("per_channel")
    gray = Normalization.from_images(images[:, :1])
    with pytest.raises(NeuralabError, match="1 channels"):
        gray(images.float())


def test_real_gtsrb_batches(gtsrb_npz):
    import numpy as np

    with np.load(gtsrb_npz) as archive:
        x = torch.from_numpy(archive["x_train"][:512]).permute(0, 3, 1, 2).contiguous()
        y = torch.from_numpy(archive["y_train"][:512])
    loader = _loader(
        x,
        y,
        batch_size=128,
        normalization=Normalization.from_images(x, "per_image"),
        augmentation=augmentation_preset("standard"),
    )
    assert len(loader) == math.ceil(512 / 128)
    seen = []
    for images, labels in loader:
        assert images.shape == (128, 3, 32, 32) and bool(torch.isfinite(images).all())
        seen.append(labels)
    # one epoch: the 512 labels, each once, in a shuffled order
    assert torch.equal(torch.cat(seen).sort().values, y.sort().values)
    assert not torch.equal(torch.cat(seen), y)


def test_real_mnist_batches(mnist_npz):
    import numpy as np

    with np.load(mnist_npz) as archive:
        x = torch.from_numpy(archive["x_test"][:256]).permute(0, 3, 1, 2).contiguous()
        y = torch.from_numpy(archive["y_test"][:256])
    norm = Normalization.from_images(x)
    # MNIST: about 0.13 mean ink and 0.31 standard deviation, the well-known values
    assert abs(float(norm.mean[0]) - 0.13) < 0.03 and abs(float(norm.std[0]) - 0.31) < 0.03
    (images, labels), *_ = list(_loader(x, y, batch_size=64, normalization=norm, shuffle=False))
    assert images.shape == (64, 1, 28, 28) and torch.equal(labels, y[:64])


def test_streaming_loader_transforms_like_the_device_loader():
    from torch.utils.data import DataLoader, TensorDataset

    from neuralab.vision.loader import StreamingLoader

    images, labels = _data(30)
    norm = Normalization.from_batches(DataLoader(images, batch_size=7))
    reference = Normalization.from_images(images)
    torch.testing.assert_close(norm.mean, reference.mean, atol=1e-6, rtol=0)
    torch.testing.assert_close(norm.std, reference.std, atol=1e-6, rtol=0)
    stream = StreamingLoader(
        DataLoader(TensorDataset(images, labels), batch_size=8),
        num_samples=30,
        device="cpu",
        normalization=norm,
    )
    assert len(stream) == 4 and stream.num_samples == 30
    in_memory = _loader(images, labels, batch_size=8, shuffle=False, normalization=norm)
    for (x, y), (x_ref, y_ref) in zip(stream, in_memory, strict=True):
        assert torch.equal(y, y_ref)
        torch.testing.assert_close(x, x_ref, atol=0, rtol=0)
    with pytest.raises(NeuralabError, match="at least one image"):
        Normalization.from_batches([])
