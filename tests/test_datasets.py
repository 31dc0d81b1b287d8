"""Data sets: bundled digits, torchvision layouts written here, npz archives, folders, caches."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from neuralab.errors import NeuralabError
from neuralab.vision.datasets import (
    GTSRB_CLASSES,
    get_dataset,
    gtsrb_group,
    list_datasets,
    resize_images,
)

# ------------------------------------------------------------------------------------- names


def test_list_and_unknown_names():
    names = list_datasets()
    for name in ("digits", "mnist", "fashion-mnist", "cifar10", "gtsrb", "npz:PATH", "folder:PATH"):
        assert name in names
    with pytest.raises(NeuralabError, match=r"unknown data set 'gtsbr'; did you mean 'gtsrb'"):
        get_dataset("gtsbr")
    with pytest.raises(NeuralabError, match=r"needs a path: npz:PATH"):
        get_dataset("npz")
    with pytest.raises(NeuralabError, match="takes no argument"):
        get_dataset("digits:x")
    with pytest.raises(NeuralabError, match="image size"):
        get_dataset("digits", image_size=0)


# ------------------------------------------------------------------------------------ digits


def test_digits_is_sklearns_data_split_80_20_stratified():
    from sklearn.datasets import load_digits

    data = get_dataset("digits")
    assert data.x_train.shape == (1437, 1, 8, 8) and data.x_test.shape == (360, 1, 8, 8)
    assert data.x_train.dtype == torch.uint8 and data.y_train.dtype == torch.int64
    assert data.num_classes == 10 and data.image_shape == (1, 8, 8)
    assert data.groups_train is None
    # values 0..16 scaled to 0..255: 16 -> 255, 8 -> 128 (127.5 rounded to even)
    bunch = load_digits()
    all_images = torch.cat([data.x_train, data.x_test]).flatten(1)
    expected = torch.from_numpy(bunch.images).mul(255 / 16).round().to(torch.uint8).flatten(1)
    assert sorted(map(tuple, all_images.tolist())) == sorted(map(tuple, expected.tolist()))
    counts = torch.bincount(data.y_test, minlength=10)
    assert int(counts.min()) >= 35 and int(counts.max()) <= 37  # 20 % of 174..183 per class
    again = get_dataset("digits")
    assert torch.equal(again.y_test, data.y_test)  # the split is fixed


def test_digits_upsampled():
    data = get_dataset("digits", image_size=16)
    assert data.image_shape == (1, 16, 16)


def test_resize_keeps_constant_images_and_matches_interpolate():
    flat = torch.full((2, 3, 5, 7), 200, dtype=torch.uint8)
    assert torch.equal(resize_images(flat, 9), torch.full((2, 3, 9, 9), 200, dtype=torch.uint8))
    x = torch.randint(0, 256, (3, 1, 8, 8), dtype=torch.uint8)
    reference = torch.nn.functional.interpolate(
        x.float(), size=(16, 16), mode="bilinear", align_corners=False, antialias=True
    )
    assert (resize_images(x, 16).float() - reference).abs().max() <= 0.5


# ---------------------------------------------------------------- MNIST through torchvision


def _write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) in the IDX format of LeCun's MNIST files."""
    magic = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    dims = struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(magic + dims + array.astype(np.uint8).tobytes())


def _fake_mnist(root: Path, folder: str = "MNIST") -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    arrays = {
        "train": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(12, dtype=np.uint8) % 10,
        "test": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "test_labels": np.array([3, 1, 4, 1, 5], dtype=np.uint8),
    }
    _write_idx(raw / "train-images-idx3-ubyte", arrays["train"])
    _write_idx(raw / "train-labels-idx1-ubyte", arrays["train_labels"])
    _write_idx(raw / "t10k-images-idx3-ubyte", arrays["test"])
    _write_idx(raw / "t10k-labels-idx1-ubyte", arrays["test_labels"])
    return arrays


@pytest.mark.parametrize(
    ("name", "folder"), [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")]
)
def test_mnist_layout_through_torchvision_and_cache(tmp_path, name, folder):
    arrays = _fake_mnist(tmp_path, folder)
    data = get_dataset(name, data_dir=tmp_path)
    assert data.x_train.shape == (12, 1, 28, 28) and data.x_test.shape == (5, 1, 28, 28)
    assert torch.equal(data.x_train[:, 0], torch.from_numpy(arrays["train"]))
    assert data.y_test.tolist() == [3, 1, 4, 1, 5] and data.num_classes == 10
    cache = tmp_path / "neuralab-cache" / f"{name}-28.pt"
    assert cache.is_file()
    # the second load reads the cache: it works with the raw files gone
    for file in (tmp_path / folder / "raw").iterdir():
        file.unlink()
    cached = get_dataset(name, data_dir=tmp_path)
    assert torch.equal(cached.x_train, data.x_train) and cached.classes == data.classes
    payload = torch.load(cache, weights_only=True)
    assert payload["x_train"].dtype == torch.uint8


def test_mnist_resized_cache_per_size(tmp_path):
    _fake_mnist(tmp_path)
    data = get_dataset("mnist", data_dir=tmp_path, image_size=14)
    assert data.image_shape == (1, 14, 14)
    assert (tmp_path / "neuralab-cache" / "mnist-14.pt").is_file()


def test_a_corrupt_cache_is_rebuilt(tmp_path):
    _fake_mnist(tmp_path)
    cache = tmp_path / "neuralab-cache" / "mnist-28.pt"
    cache.parent.mkdir()
    cache.write_bytes(b"not a checkpoint")
    assert get_dataset("mnist", data_dir=tmp_path).x_train.shape[0] == 12
    torch.save({"version": 1, "x_train": [1, 2]}, cache)  # readable, but not ours
    assert get_dataset("mnist", data_dir=tmp_path).x_train.shape[0] == 12


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "cifar10", "gtsrb"])
def test_missing_data_says_download_or_where(tmp_path, name):
    with pytest.raises(NeuralabError, match=r"not found under .*--download.*put the files at"):
        get_dataset(name, data_dir=tmp_path)


# ---------------------------------------------------------------- GTSRB through torchvision


def _fake_gtsrb(root: Path) -> list[tuple[int, int, tuple[int, int, int]]]:
    """Write every class folder with a few .ppm frames, and a test set with its CSV.

    Returns (class, track, colour) of each training frame. Sizes vary as in GTSRB.
    """
    base = root / "gtsrb"
    training = base / "GTSRB" / "Training"
    frames = []
    for label in range(43):
        folder = training / f"{label:05d}"
        folder.mkdir(parents=True)
        tracks = (0, 1) if label < 3 else (0,)
        for track in tracks:
            for frame in range(2):
                colour = (label * 5, track * 100 + frame * 20, 250 - label)
                size = (20 + label % 7, 25 + frame * 9)
                Image.new("RGB", size, colour).save(folder / f"{track:05d}_{frame:05d}.ppm")
                frames.append((label, track, colour))
        (folder / f"GT-{label:05d}.csv").write_text("Filename;ClassId\n")  # ignored, as in GTSRB
    images = base / "GTSRB" / "Final_Test" / "Images"
    images.mkdir(parents=True)
    with open(base / "GT-final_test.csv", "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId"]
        )
        for i, label in enumerate((14, 1, 38)):
            Image.new("RGB", (40, 31), (label, 0, 0)).save(images / f"{i:05d}.ppm")
            writer.writerow([f"{i:05d}.ppm", 40, 31, 5, 5, 35, 26, label])
    return frames


def test_gtsrb_layout_through_torchvision(tmp_path):
    frames = _fake_gtsrb(tmp_path)
    data = get_dataset("gtsrb", data_dir=tmp_path)
    assert data.x_train.shape == (len(frames), 3, 32, 32) and data.x_test.shape == (3, 3, 32, 32)
    assert data.y_test.tolist() == [14, 1, 38]
    assert data.classes == list(GTSRB_CLASSES) and data.num_classes == 43
    assert data.classes[14] == "stop"
    # solid colours survive the resize exactly; group = class * 1000 + track
    expected = sorted((label, label * 1000 + track, colour) for label, track, colour in frames)
    got = sorted(
        (int(y), int(g), tuple(int(v) for v in x[:, 16, 16]))
        for x, y, g in zip(data.x_train, data.y_train, data.groups_train, strict=True)
    )
    assert got == expected
    assert (tmp_path / "neuralab-cache" / "gtsrb-32.pt").is_file()
    small = get_dataset("gtsrb", data_dir=tmp_path, image_size=24)
    assert small.image_shape == (3, 24, 24) and torch.equal(small.groups_train, data.groups_train)


def test_gtsrb_group_from_file_name():
    assert gtsrb_group("Training/00023/00000_00012.ppm", 23) == 23000
    assert gtsrb_group("Training/00002/00007_00029.ppm", 2) == 2007
    assert gtsrb_group("renamed.ppm", 2) is None


# --------------------------------------------------------------------------------------- npz


def _write_npz(path: Path, **overrides) -> Path:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (20, 6, 5, 3), dtype=np.uint8),
        "y_train": np.arange(20, dtype=np.int64) % 4,
        "x_test": rng.integers(0, 256, (8, 6, 5, 3), dtype=np.uint8),
        "y_test": np.arange(8, dtype=np.int64) % 4,
        "track_train": np.arange(20, dtype=np.int64) // 2,
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_npz_channels_last_to_channels_first(tmp_path):
    path = _write_npz(tmp_path / "d.npz")
    data = get_dataset(f"npz:{path}")
    with np.load(path) as archive:
        x = archive["x_train"]
    assert data.x_train.shape == (20, 3, 6, 5)  # (N, C, H, W)
    assert int(data.x_train[4, 2, 1, 3]) == int(x[4, 1, 3, 2])
    assert data.num_classes == 4 and data.classes == ["0", "1", "2", "3"]
    assert data.groups_train.tolist() == (np.arange(20) // 2).tolist()
    resized = get_dataset(f"npz:{path}", image_size=10)
    assert resized.image_shape == (3, 10, 10)


def test_npz_gray_and_class_names(tmp_path):
    rng = np.random.default_rng(1)
    path = _write_npz(
        tmp_path / "g.npz",
        x_train=rng.integers(0, 256, (20, 7, 7), dtype=np.uint8),
        x_test=rng.integers(0, 256, (8, 7, 7), dtype=np.uint8),
        track_train=None,
        classes=np.array(["cat", "dog", "owl", "fox"]),
    )
    data = get_dataset(f"npz:{path}")
    assert data.image_shape == (1, 7, 7) and data.classes == ["cat", "dog", "owl", "fox"]
    assert data.groups_train is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"y_test": None}, r"missing key\(s\) y_test"),
        (
            {"x_train": np.zeros((20, 6, 5, 3), np.float32)},
            r"x_train has dtype float32; expected uint8",
        ),
        ({"y_train": np.full(20, 0.5)}, r"y_train has dtype float64; expected integer"),
        ({"y_train": np.arange(20) - 1}, r"y_train holds label -1, out of range"),
        ({"y_test": np.full(8, 4)}, r"y_test holds label 4, out of range; expected 0..3"),
        (
            {"x_test": np.zeros((8, 6, 6, 3), np.uint8)},
            r"x_test images are .* expected the shape of x_train",
        ),
        ({"y_train": np.arange(19) % 4}, r"x_train has 20 images but y_train has 19 labels"),
        (
            {"track_train": np.arange(5)},
            r"track_train is int64 \(5,\); expected integers of shape \(20,\)",
        ),
    ],
)
def test_npz_bad_content(tmp_path, overrides, message):
    path = _write_npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(NeuralabError, match=message):
        get_dataset(f"npz:{path}")


def test_npz_missing_or_corrupt_file(tmp_path):
    with pytest.raises(NeuralabError, match="does not exist"):
        get_dataset(f"npz:{tmp_path / 'absent.npz'}")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(NeuralabError, match="not a valid .npz archive"):
        get_dataset(f"npz:{broken}")


def test_shared_gtsrb_subset(gtsrb_npz):
    data = get_dataset(f"npz:{gtsrb_npz}")
    assert data.x_train.shape == (10260, 3, 32, 32) and data.x_test.shape == (6315, 3, 32, 32)
    assert data.num_classes == 43 and data.groups_train is not None
    # the group key is class * 1000 + track: its class part is the label
    assert torch.equal(data.groups_train // 1000, data.y_train)


def test_shared_mnist(mnist_npz):
    data = get_dataset(f"npz:{mnist_npz}")
    assert data.x_train.shape == (60000, 1, 28, 28) and data.x_test.shape == (10000, 1, 28, 28)
    assert torch.bincount(data.y_test).tolist()[:3] == [980, 1135, 1032]  # the official counts


# ------------------------------------------------------------------------------------ folder


def _fake_folder(root: Path, mode: str = "RGB") -> None:
    colours = {"cat": 40, "dog": 120, "owl": 200}
    for split, count in (("train", 3), ("test", 1)):
        for name, value in colours.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                fill = value if mode == "L" else (value, i * 10, 255 - value)
                Image.new(mode, (17 + i, 11), fill).save(folder / f"{i}.png")
    (root / "train" / "cat" / "notes.txt").write_text("not an image")


def test_folder_layout_decoded_resized_and_cached(tmp_path):
    _fake_folder(tmp_path)
    data = get_dataset(f"folder:{tmp_path}")
    assert data.classes == ["cat", "dog", "owl"]
    assert data.x_train.shape == (9, 3, 32, 32) and data.x_test.shape == (3, 3, 32, 32)
    assert data.y_train.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert data.x_train[4, :, 5, 5].tolist() == [120, 10, 135]  # dog, second image
    cache = tmp_path / "neuralab-cache" / "folder-32.pt"
    assert cache.is_file()
    stamp = cache.stat().st_mtime_ns
    assert torch.equal(get_dataset(f"folder:{tmp_path}").x_train, data.x_train)
    assert cache.stat().st_mtime_ns == stamp  # read, not rebuilt
    # a new image makes the cache stale
    Image.new("RGB", (9, 9), (1, 2, 3)).save(tmp_path / "train" / "owl" / "new.png")
    assert get_dataset(f"folder:{tmp_path}").x_train.shape[0] == 10


def test_folder_gray_images_give_one_channel(tmp_path):
    _fake_folder(tmp_path, mode="L")
    data = get_dataset(f"folder:{tmp_path}", image_size=8)
    assert data.image_shape == (1, 8, 8) and int(data.x_test[2, 0, 3, 3]) == 200


def test_folder_errors(tmp_path):
    with pytest.raises(NeuralabError, match="train/ and test/"):
        get_dataset(f"folder:{tmp_path}")
    (tmp_path / "train" / "cat").mkdir(parents=True)
    (tmp_path / "test" / "cat").mkdir(parents=True)
    with pytest.raises(NeuralabError, match="holds no images"):
        get_dataset(f"folder:{tmp_path}")
    Image.new("RGB", (4, 4)).save(tmp_path / "train" / "cat" / "a.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "test" / "cat" / "a.png")
    (tmp_path / "test" / "cow").mkdir()
    with pytest.raises(NeuralabError, match=r"class folder\(s\) cow not in the training classes"):
        get_dataset(f"folder:{tmp_path}")
    (tmp_path / "test" / "cow").rmdir()
    (tmp_path / "train" / "cat" / "b.png").write_bytes(b"not a png")
    with pytest.raises(NeuralabError, match="cannot decode image"):
        get_dataset(f"folder:{tmp_path}")


def test_folder_streaming_matches_the_in_memory_tensors(tmp_path):
    from neuralab.vision.datasets import FolderImages, iterate_folder

    _fake_folder(tmp_path)
    data = get_dataset(f"folder:{tmp_path}", image_size=12)
    test = FolderImages(tmp_path, "test", image_size=12)
    assert len(test) == 3 and test.classes == data.classes and not test.gray
    image, label = test[1]
    assert torch.equal(image, data.x_test[1]) and label == 1
    batches = list(iterate_folder(tmp_path, "train", batch_size=4, image_size=12))
    assert [len(y) for _, y in batches] == [4, 4, 1]
    assert torch.equal(torch.cat([x for x, _ in batches]), data.x_train)
    assert torch.equal(torch.cat([y for _, y in batches]), data.y_train)
    with pytest.raises(NeuralabError, match="'train' or 'test'"):
        FolderImages(tmp_path, "val")


# ------------------------------------------------------------------- bad input at the CLI


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("gtsbr", "unknown data set 'gtsbr'; did you mean 'gtsrb'?"),
        ("npz:{tmp}/bad.npz", "bad.npz: missing key(s) y_test"),
        ("folder:{tmp}", "needs {tmp}/train/<class>/<image>"),
        ("mnist", "data set 'mnist' not found under {tmp}: pass --download"),
    ],
)
def test_bad_data_at_the_command_line(run_cli, tmp_path, data, message):
    np.savez(
        tmp_path / "bad.npz",
        x_train=np.zeros((4, 5, 5, 3), np.uint8),
        y_train=np.zeros(4, np.int64),
        x_test=np.zeros((2, 5, 5, 3), np.uint8),
    )
    result = run_cli(
        "train",
        "--data",
        data.format(tmp=tmp_path),
        "--data-dir",
        tmp_path,
        "--epochs",
        "1",
        "--run-dir",
        tmp_path / "run",
    )
    assert result.exit_code == 2
    stderr = result.stderr.replace("\n", " ")
    assert stderr.startswith("neuralab: error: ") and message.format(tmp=tmp_path) in stderr
    assert "Traceback" not in result.stderr


def test_many_images_are_decoded_in_order_by_threads(tmp_path):
    from neuralab.vision.datasets.images import decode_file, decode_files

    paths = []
    for i in range(300):  # above the 256 images from which threads decode
        path = tmp_path / f"{i:03d}.png"
        Image.new("RGB", (5 + i % 4, 6), (i % 256, i // 256, 7)).save(path)
        paths.append(str(path))
    images = decode_files(paths, 4)
    assert images.shape == (300, 3, 4, 4)
    assert [int(v) for v in images[:, 0, 1, 1]] == [i % 256 for i in range(300)]
    assert torch.equal(images[123], decode_file(paths[123], 4))
