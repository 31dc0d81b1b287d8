"""Image data sets by name, as uint8 tensors: digits, MNIST, Fashion-MNIST, CIFAR-10, GTSRB, npz, folders.

Every data set becomes the same :class:`ImageDataset`: uint8 images (N, C, H, W) with values
0..255 and int64 labels, a training and a test split, class names, and (GTSRB) a group key per
training image for grouped validation splits (:mod:`neuralab.vision.splits`). Decoding happens
once: the torchvision data sets, GTSRB and image folders are cached as tensors on disk
(``<data_dir>/neuralab-cache/<name>-<size>.pt``, written atomically, read with
``weights_only=True``), so later runs load in a fraction of a second.

Names: ``digits`` (scikit-learn's bundled 8x8 digits, offline), ``mnist``, ``fashion-mnist``,
``cifar10``, ``gtsrb`` (torchvision, ``download=True`` fetches them), ``npz:PATH`` (arrays
``x_train``, ``y_train``, ``x_test``, ``y_test``, optional ``track_train``) and ``folder:PATH``
(``train/<class>/*.png`` and ``test/<class>/*.png``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.registry import Registry

CACHE_FOLDER = "neuralab-cache"
CACHE_VERSION = 1


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


@dataclass(frozen=True)
class _Entry:
    # build(argument after "name:", data_dir, image_size, download) -> the data set
    build: Callable[[str, Path, int | None, bool], ImageDataset]
    takes_path: bool  # named "name:PATH"
    description: str


_DATASETS: Registry[_Entry] = Registry("data set")


def get_dataset(
    name: str,
    *,
    data_dir: str | Path = "data",
    image_size: int | None = None,
    download: bool = False,
) -> ImageDataset:
    """Return the data set ``name`` (see :func:`list_datasets`), images resized to ``image_size``.

    ``data_dir`` is where torchvision data sets live (and are downloaded to with ``download``);
    ``image_size`` S resizes every image to S x S (bilinear); None keeps the native size
    (32 for GTSRB and folders, whose images vary in size).
    """
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1
    ):
        raise NeuralabError(f"image size must be a positive integer, got {image_size!r}")
    key, _, argument = name.partition(":")
    entry = _lookup(key)
    if entry.takes_path and not argument:
        raise NeuralabError(f"data set {key!r} needs a path: {key}:PATH")
    if not entry.takes_path and argument:
        raise NeuralabError(f"data set {key!r} takes no argument, got {name!r}")
    return entry.build(argument, Path(data_dir), image_size, download)


def _lookup(key: str) -> _Entry:
    if key.strip().lower() in _DATASETS:
        return _DATASETS.get(key)
    # list "npz:PATH" rather than the bare registry key "npz"
    raise unknown_name_error("data set", key, list_datasets())


def list_datasets() -> list[str]:
    """Return the data set names; those taking a path are shown as ``name:PATH``."""
    return [n + (":PATH" if _DATASETS.get(n).takes_path else "") for n in _DATASETS.names()]


def dataset_descriptions() -> dict[str, str]:
    """Return a one-line description per data set name (for help texts and docs)."""
    return {
        n + (":PATH" if _DATASETS.get(n).takes_path else ""): _DATASETS.get(n).description
        for n in _DATASETS.names()
    }


def resize_images(images: Tensor, size: int) -> Tensor:
    """Return uint8 images (N, C, H, W) resized to ``size`` x ``size`` (bilinear, antialiased)."""
    if tuple(images.shape[2:]) == (size, size):
        return images
    chunks = []
    for chunk in images.split(2048):
        x = F.interpolate(
            chunk.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
        chunks.append(x.round_().clamp_(0, 255).to(torch.uint8))
    if not chunks:
        return images.new_zeros((0, images.shape[1], size, size))
    return torch.cat(chunks)


# ---------------------------------------------------------------------------- digits (bundled)


def _digits(_: str, __: Path, image_size: int | None, ___: bool) -> ImageDataset:
    """scikit-learn's 1,797 8x8 digits; a fixed stratified 80/20 split (random_state=0)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
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


_DATASETS.add(
    "digits",
    _Entry(_digits, False, "scikit-learn's bundled 8x8 digits (1,797 images, 10 classes, offline)"),
)


# ------------------------------------------------------------------------------ shared helpers


def _cache_path(data_dir: Path, name: str, size: int) -> Path:
    return data_dir / CACHE_FOLDER / f"{name}-{size}.pt"


def _load_cache(path: Path, fingerprint: str = "") -> dict | None:
    """Return the cached payload at ``path``, or None if absent, stale or unreadable."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a corrupt or foreign cache is rebuilt, never trusted
        return None
    if not isinstance(payload, dict) or payload.get("version") != CACHE_VERSION:
        return None
    if payload.get("fingerprint", "") != fingerprint:
        return None
    tensors = [payload.get(key) for key in ("x_train", "y_train", "x_test", "y_test")]
    if not all(isinstance(t, Tensor) for t in tensors) or payload["x_train"].dtype != torch.uint8:
        return None
    return payload


def _save_cache(path: Path, payload: dict, fingerprint: str = "") -> None:
    from neuralab.atomic import torch_save

    try:
        torch_save({**payload, "version": CACHE_VERSION, "fingerprint": fingerprint}, path)
    except (OSError, NeuralabError):
        return  # a read-only data folder or a full disk costs speed next time, not correctness


def _from_payload(name: str, payload: dict, source: str) -> ImageDataset:
    return ImageDataset(
        name=name,
        x_train=payload["x_train"],
        y_train=payload["y_train"],
        x_test=payload["x_test"],
        y_test=payload["y_test"],
        classes=list(payload["classes"]),
        groups_train=payload.get("groups_train"),
        source=source,
    )


def _cached_dataset(
    name: str,
    data_dir: Path,
    size: int,
    build: Callable[[], dict],
    *,
    cache: Path | None = None,
    fingerprint: str = "",
) -> ImageDataset:
    path = cache if cache is not None else _cache_path(data_dir, name, size)
    payload = _load_cache(path, fingerprint)
    if payload is None:
        payload = build()
        _save_cache(path, payload, fingerprint)
    return _from_payload(name, payload, str(path))


def _not_found(name: str, data_dir: Path, where: str) -> NeuralabError:
    return NeuralabError(
        f"data set {name!r} not found under {data_dir}: pass --download (download=True) to fetch "
        f"it, or put the files at {where} (or point --data-dir at their folder)"
    )


# ------------------------------------------------------------------ torchvision (MNIST, CIFAR)

# name -> (torchvision class name, native size, where the files must be below data_dir)
_TORCHVISION = {
    "mnist": ("MNIST", 28, "MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte"),
    "fashion-mnist": (
        "FashionMNIST",
        28,
        "FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte",
    ),
    "cifar10": ("CIFAR10", 32, "cifar-10-batches-py/{data_batch_1..5,test_batch}"),
}


def _torchvision_split(
    name: str, data_dir: Path, train: bool, download: bool
) -> tuple[Tensor, Tensor, list[str]]:
    import torchvision

    class_name, _, where = _TORCHVISION[name]
    factory = getattr(torchvision.datasets, class_name)
    try:
        dataset = factory(root=str(data_dir), train=train, download=download)
    except RuntimeError as error:
        if "not found" in str(error).lower() or "corrupted" in str(error).lower():
            raise _not_found(name, data_dir, str(data_dir / where)) from None
        raise NeuralabError(f"could not load {name!r} from {data_dir}: {error}") from None
    except OSError as error:  # no network while downloading, unreadable files
        raise NeuralabError(f"could not load {name!r} into {data_dir}: {error}") from None
    images = torch.as_tensor(dataset.data)
    # MNIST-like: (N, H, W); CIFAR-10: (N, H, W, 3) channels last
    images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
    labels = torch.as_tensor(dataset.targets, dtype=torch.int64)
    return images.contiguous(), labels, [str(c) for c in dataset.classes]


def _torchvision_dataset(name: str) -> Callable[[str, Path, int | None, bool], ImageDataset]:
    def build(_: str, data_dir: Path, image_size: int | None, download: bool) -> ImageDataset:
        size = image_size or _TORCHVISION[name][1]

        def decode() -> dict:
            x_train, y_train, classes = _torchvision_split(name, data_dir, True, download)
            x_test, y_test, _ = _torchvision_split(name, data_dir, False, download)
            return {
                "x_train": resize_images(x_train, size),
                "y_train": y_train,
                "x_test": resize_images(x_test, size),
                "y_test": y_test,
                "classes": classes,
            }

        return _cached_dataset(name, data_dir, size, decode)

    return build


_DATASETS.add(
    "mnist",
    _Entry(
        _torchvision_dataset("mnist"),
        False,
        "MNIST handwritten digits, 60,000 + 10,000 images 28x28x1 (torchvision)",
    ),
)
_DATASETS.add(
    "fashion-mnist",
    _Entry(
        _torchvision_dataset("fashion-mnist"),
        False,
        "Fashion-MNIST clothing, 60,000 + 10,000 images 28x28x1 (torchvision)",
    ),
    aliases=("fashion_mnist", "fashionmnist"),
)
_DATASETS.add(
    "cifar10",
    _Entry(
        _torchvision_dataset("cifar10"),
        False,
        "CIFAR-10 photos, 50,000 + 10,000 images 32x32x3 (torchvision)",
    ),
    aliases=("cifar-10",),
)


# ------------------------------------------------------------------------------------- GTSRB


def _decode_file(path: str, size: int, gray: bool = False) -> Tensor:
    """Return one image file as uint8 (C, size, size), decoded with PIL and resized (bilinear)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as file:
            image = file.convert("L" if gray else "RGB")
            image = image.resize((size, size), Image.Resampling.BILINEAR)
            pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    except (OSError, UnidentifiedImageError) as error:
        raise NeuralabError(f"cannot decode image {path}: {error}") from None
    return pixels.view(size, size, 1 if gray else 3).permute(2, 0, 1)


def _decode_files(paths: list[str], size: int, gray: bool = False) -> Tensor:
    """Return uint8 (N, C, size, size) images decoded with PIL and resized (bilinear)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    out = torch.empty((len(paths), 1 if gray else 3, size, size), dtype=torch.uint8)
    # PIL releases the GIL while it decodes and resizes: threads use every core
    workers = min(4, os.cpu_count() or 1) if len(paths) > 256 else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, image in enumerate(pool.map(lambda p: _decode_file(p, size, gray), paths)):
            out[i] = image
    return out


def gtsrb_group(path: str | Path, label: int) -> int | None:
    """Return the track group ``label * 1000 + track`` of a GTSRB training file, None if unnamed.

    GTSRB names training frames ``TTTTT_FFFFF.ppm``: track TTTTT, frame FFFFF, inside the folder
    of the class, so class 23's ``00000_00012.ppm`` is frame 12 of track 0 -> group 23000.
    """
    track, sep, frame = Path(path).stem.partition("_")
    if not (sep and track.isdigit() and frame.isdigit()):
        return None
    return label * 1000 + int(track)


def _gtsrb(_: str, data_dir: Path, image_size: int | None, download: bool) -> ImageDataset:
    size = image_size or 32

    def split(name: str) -> list[tuple[str, int]]:
        import torchvision

        try:
            dataset = torchvision.datasets.GTSRB(root=str(data_dir), split=name, download=download)
        except RuntimeError:
            where = (
                data_dir
                / "gtsrb"
                / "GTSRB"
                / ("Training/<class>/*.ppm" if name == "train" else "Final_Test/Images/*.ppm")
            )
            csv = "" if name == "train" else f" and {data_dir / 'gtsrb' / 'GT-final_test.csv'}"
            raise _not_found("gtsrb", data_dir, f"{where}{csv}") from None
        except OSError as error:
            raise NeuralabError(f"could not load 'gtsrb' from {data_dir}: {error}") from None
        return [(str(p), int(t)) for p, t in dataset._samples]

    def decode() -> dict:
        train, test = split("train"), split("test")
        groups = [gtsrb_group(p, t) for p, t in train]
        return {
            "x_train": _decode_files([p for p, _ in train], size),
            "y_train": torch.tensor([t for _, t in train], dtype=torch.int64),
            "x_test": _decode_files([p for p, _ in test], size),
            "y_test": torch.tensor([t for _, t in test], dtype=torch.int64),
            "classes": list(GTSRB_CLASSES),
            # one unparsable file name and the whole set is ungrouped, rather than wrongly grouped
            "groups_train": None if None in groups else torch.tensor(groups, dtype=torch.int64),
        }

    return _cached_dataset("gtsrb", data_dir, size, decode)


GTSRB_CLASSES = (
    "speed limit 20", "speed limit 30", "speed limit 50", "speed limit 60", "speed limit 70",
    "speed limit 80", "end of speed limit 80", "speed limit 100", "speed limit 120", "no passing",
    "no passing for trucks", "right of way at next intersection", "priority road", "yield", "stop",
    "no vehicles", "no trucks", "no entry", "general caution", "dangerous curve left",
    "dangerous curve right", "double curve", "bumpy road", "slippery road", "road narrows on right",
    "road work", "traffic signals", "pedestrians", "children crossing", "bicycles crossing",
    "beware of ice/snow", "wild animals crossing", "end of all limits", "turn right ahead",
    "turn left ahead", "ahead only", "go straight or right", "go straight or left", "keep right",
    "keep left", "roundabout mandatory", "end of no passing", "end of no passing for trucks",
)  # fmt: skip

_DATASETS.add(
    "gtsrb",
    _Entry(
        _gtsrb,
        False,
        "German traffic signs, 43 classes, 39,209 + 12,630 images resized to 32x32x3 (torchvision)",
    ),
)


# --------------------------------------------------------------------------------------- npz

_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _npz(argument: str, _: Path, image_size: int | None, __: bool) -> ImageDataset:
    """Arrays x_train/x_test uint8 (N, H, W, C) or (N, H, W), y_train/y_test integer labels."""
    import zipfile

    import numpy as np

    path = Path(argument).expanduser()
    if not path.is_file():
        raise NeuralabError(f"npz file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise NeuralabError(f"{path} is not a readable .npz archive ({error})") from None
    missing = [key for key in _NPZ_KEYS if key not in arrays]
    if missing:
        raise NeuralabError(
            f"{path.name}: missing key(s) {', '.join(missing)}; expected "
            f"{', '.join(_NPZ_KEYS)} (and optionally track_train); found {', '.join(arrays) or 'none'}"
        )
    images = {key: _npz_images(path.name, key, arrays[key]) for key in ("x_train", "x_test")}
    labels = {key: _npz_labels(path.name, key, arrays[key]) for key in ("y_train", "y_test")}
    for split in ("train", "test"):
        n_images, n_labels = images[f"x_{split}"].shape[0], labels[f"y_{split}"].shape[0]
        if n_images != n_labels:
            raise NeuralabError(
                f"{path.name}: x_{split} has {n_images} images but y_{split} has {n_labels} labels; expected equal counts"
            )
    if images["x_train"].shape[1:] != images["x_test"].shape[1:]:
        raise NeuralabError(
            f"{path.name}: x_test images are (C, H, W) = {tuple(images['x_test'].shape[1:])}, "
            f"expected the shape of x_train, {tuple(images['x_train'].shape[1:])}"
        )
    if "classes" in arrays:
        classes = [str(c) for c in arrays["classes"].tolist()]
    else:
        classes = [str(c) for c in range(int(labels["y_train"].max()) + 1)]
    for key, y in labels.items():
        if int(y.max()) >= len(classes):
            raise NeuralabError(
                f"{path.name}: {key} holds label {int(y.max())}, out of range; expected 0..{len(classes) - 1} ({len(classes)} classes)"
            )
    groups = None
    if "track_train" in arrays:
        track = arrays["track_train"]
        if track.shape != (len(labels["y_train"]),) or track.dtype.kind not in "iu":
            raise NeuralabError(
                f"{path.name}: track_train is {track.dtype} {track.shape}; expected integers of shape ({len(labels['y_train'])},)"
            )
        groups = torch.from_numpy(track.astype(np.int64))
    x_train, x_test = images["x_train"], images["x_test"]
    if image_size is not None:
        x_train, x_test = resize_images(x_train, image_size), resize_images(x_test, image_size)
    return ImageDataset(
        name=f"npz:{path}",
        x_train=x_train,
        y_train=labels["y_train"],
        x_test=x_test,
        y_test=labels["y_test"],
        classes=classes,
        groups_train=groups,
        source=str(path),
    )


def _npz_images(file: str, key: str, array: Any) -> Tensor:
    import numpy as np

    if array.dtype != np.uint8:
        raise NeuralabError(
            f"{file}: {key} has dtype {array.dtype}; expected uint8 (values 0..255)"
        )
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[0] == 0:
        raise NeuralabError(
            f"{file}: {key} has shape {array.shape}; expected (N, H, W, C) or (N, H, W) with N > 0"
        )
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))


def _npz_labels(file: str, key: str, array: Any) -> Tensor:
    import numpy as np

    if array.dtype.kind not in "iu":
        raise NeuralabError(
            f"{file}: {key} has dtype {array.dtype}; expected integer class indices (int64)"
        )
    if array.ndim != 1:
        raise NeuralabError(f"{file}: {key} has shape {array.shape}; expected (N,)")
    if array.size and int(array.min()) < 0:
        raise NeuralabError(
            f"{file}: {key} holds label {int(array.min())}, out of range; expected labels >= 0"
        )
    return torch.from_numpy(array.astype(np.int64))


_DATASETS.add(
    "npz",
    _Entry(
        _npz,
        True,
        "a NumPy archive: x_train, y_train, x_test, y_test (uint8 N x H x W x C), optional track_train",
    ),
)


# ------------------------------------------------------------------------------------ folder

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
    root = Path(root)
    if not root.is_dir():
        raise NeuralabError(
            f"image folder {str(root)!r} does not exist; expected {root}/<class>/<image>"
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


def _folder_is_gray(paths: list[str]) -> bool:
    from PIL import Image

    for path in paths:
        try:
            with Image.open(path) as image:  # opening reads the header only
                if image.mode not in ("1", "L", "I", "I;16", "F"):
                    return False
        except OSError as error:
            raise NeuralabError(f"cannot decode image {path}: {error}") from None
    return True


def _folder(argument: str, _: Path, image_size: int | None, __: bool) -> ImageDataset:
    root = Path(argument).expanduser()
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
        gray = _folder_is_gray([p for p, _ in train + test])
        return {
            "x_train": _decode_files([p for p, _ in train], size, gray),
            "y_train": torch.tensor([t for _, t in train], dtype=torch.int64),
            "x_test": _decode_files([p for p, _ in test], size, gray),
            "y_test": torch.tensor([t for _, t in test], dtype=torch.int64),
            "classes": classes,
        }

    dataset = _cached_dataset(
        "folder",
        root,
        size,
        decode,
        cache=root / CACHE_FOLDER / f"folder-{size}.pt",
        fingerprint=fingerprint,
    )
    dataset.name = f"folder:{root}"
    return dataset


_DATASETS.add(
    "folder",
    _Entry(
        _folder,
        True,
        "an image folder: PATH/train/<class>/*.png and PATH/test/<class>/*.png, resized to 32x32",
    ),
)


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
        self.gray = _folder_is_gray(sample) if gray is None else gray
        self.labels = torch.tensor([t for _, t in self.samples], dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        path, label = self.samples[index]
        return _decode_file(path, self.image_size, self.gray), label


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
