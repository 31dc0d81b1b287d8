"""The German Traffic Sign Recognition Benchmark through torchvision, grouped by track.

43 classes, 39,209 training and 12,630 test images of varying size, resized to S x S (32 by
default). GTSRB records about 30 frames of each physical sign, a *track*: each training image
gets its track as a group key, so a validation split never puts frames of one sign on both sides.
"""

from __future__ import annotations

from pathlib import Path

import torch

from neuralab.errors import NeuralabError
from neuralab.vision.datasets.cache import cached_dataset, not_found
from neuralab.vision.datasets.images import ImageDataset, decode_files

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


def gtsrb_group(path: str | Path, label: int) -> int | None:
    """Return the track group ``label * 1000 + track`` of a GTSRB training file, None if unnamed.

    GTSRB names training frames ``TTTTT_FFFFF.ppm``: track TTTTT, frame FFFFF, inside the folder
    of the class, so class 23's ``00000_00012.ppm`` is frame 12 of track 0 -> group 23000.
    """
    track, sep, frame = Path(path).stem.partition("_")
    if not (sep and track.isdigit() and frame.isdigit()):
        return None
    return label * 1000 + int(track)


def load_gtsrb(data_dir: Path, image_size: int | None, download: bool) -> ImageDataset:
    """Return GTSRB from ``data_dir/gtsrb`` resized to ``image_size`` (32), cached as tensors."""
    size = image_size or 32

    def decode() -> dict:
        train, test = _samples(data_dir, "train", download), _samples(data_dir, "test", download)
        groups = [gtsrb_group(p, t) for p, t in train]
        return {
            "x_train": decode_files([p for p, _ in train], size),
            "y_train": torch.tensor([t for _, t in train], dtype=torch.int64),
            "x_test": decode_files([p for p, _ in test], size),
            "y_test": torch.tensor([t for _, t in test], dtype=torch.int64),
            "classes": list(GTSRB_CLASSES),
            # one unparsable file name and the whole set is ungrouped, rather than wrongly grouped
            "groups_train": None if None in groups else torch.tensor(groups, dtype=torch.int64),
        }

    return cached_dataset("gtsrb", data_dir, size, decode)


def _samples(data_dir: Path, split: str, download: bool) -> list[tuple[str, int]]:
    import torchvision

    try:
        dataset = torchvision.datasets.GTSRB(root=str(data_dir), split=split, download=download)
    except RuntimeError:
        where = (
            data_dir
            / "gtsrb"
            / "GTSRB"
            / ("Training/<class>/*.ppm" if split == "train" else "Final_Test/Images/*.ppm")
        )
        csv = "" if split == "train" else f" and {data_dir / 'gtsrb' / 'GT-final_test.csv'}"
        raise not_found("gtsrb", data_dir, f"{where}{csv}") from None
    except OSError as error:
        raise NeuralabError(f"could not load 'gtsrb' from {data_dir}: {error}") from None
    return [(str(p), int(t)) for p, t in dataset._samples]
