"""One run rebuilt from its config: its data and split, the inputs' normalisation, the model.

Training, evaluation, prediction and the studies all rebuild a run through :func:`build_run`,
so they see the same validation split (:func:`load_run_data`, the one place a run's split is
decided), the same normalisation and the same model. A new run measures the normalisation on
its training split; a restored run takes it, with the class names and the image shape, from its
checkpoint (:class:`ModelInputs`), so a model is fed exactly as it was trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.vision.config import TrainConfig
from neuralab.vision.datasets import ImageDataset, get_dataset
from neuralab.vision.loader import DeviceLoader, Normalization
from neuralab.vision.models import get_model
from neuralab.vision.splits import split_train_val

SPLITS = ("train", "val", "test")


@dataclass
class RunData:
    """A run's data set and its split: train and val carved from the training set, test whole."""

    dataset: ImageDataset
    train_index: Tensor  # int64 indices into dataset.x_train
    val_index: Tensor  # int64 indices into dataset.x_train, disjoint from train_index

    def split(self, name: str) -> tuple[Tensor, Tensor]:
        """Return (uint8 images (N, C, H, W), int64 labels (N,)) of the split train, val or test."""
        if name not in SPLITS:
            raise NeuralabError(f"split must be test, val or train, got {name!r}")
        if name == "test":
            return self.dataset.x_test, self.dataset.y_test
        index = self.train_index if name == "train" else self.val_index
        return self.dataset.x_train[index], self.dataset.y_train[index]

    def sizes(self) -> str:
        """Return ``"train 1,293 / val 144 / test 360 images, 10 classes"``."""
        return (
            f"train {self.train_index.numel():,} / val {self.val_index.numel():,} / "
            f"test {self.dataset.y_test.numel():,} images, {self.dataset.num_classes} classes"
        )


def load_run_data(
    config: TrainConfig,
    *,
    dataset: str | None = None,
    image_size: int | None = None,
    download: bool = False,
) -> RunData:
    """Return the data of ``config`` (or the data set ``dataset``) split as the run splits it.

    The validation split takes ``config.val_fraction`` of the training set, stratified by class
    and grouped by GTSRB track when the data has groups, from ``config.seed``: the same indices
    for training, re-evaluation and the studies.
    """
    data = get_dataset(
        dataset or config.data, data_dir=config.data_dir, image_size=image_size, download=download
    )
    train_index, val_index = split_train_val(
        data.y_train, config.val_fraction, groups=data.groups_train, seed=config.seed
    )
    return RunData(data, train_index, val_index)


@dataclass
class ModelInputs:
    """What a run's model takes: the class names, the image shape, the inputs' normalisation."""

    classes: list[str]  # class names, index = label
    input_shape: tuple[int, int, int]  # (C, H, W) of one image
    normalization: Normalization  # of the training split

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for a checkpoint's ``extra``."""
        return {
            "classes": list(self.classes),
            "input_shape": list(self.input_shape),
            "normalization": self.normalization.to_dict(),
        }

    @classmethod
    def from_dict(cls, extra: dict[str, Any], source: str) -> ModelInputs:
        """Return the inputs saved by :meth:`to_dict` in the checkpoint ``source``."""
        classes = [str(c) for c in extra.get("classes", [])]
        shape = [int(s) for s in extra.get("input_shape", [])]
        if not classes or len(shape) != 3:
            raise NeuralabError(f"checkpoint {source!r} lacks the class names or the input shape")
        normalization = Normalization.from_dict(extra.get("normalization", {"mode": "none"}))
        return cls(classes, (shape[0], shape[1], shape[2]), normalization)


@dataclass
class Run:
    """One run rebuilt from its config: model, inputs and (unless left out) data, on a device."""

    config: TrainConfig
    device: torch.device
    inputs: ModelInputs
    model: nn.Module
    data: RunData | None  # None for a restored run built without its data (predict)

    def split(self, name: str) -> tuple[Tensor, Tensor]:
        """Return (uint8 images, labels) of the run's split ``name``: train, val or test."""
        if self.data is None:
            raise NeuralabError("this run was restored without its data")
        return self.data.split(name)

    def loader(
        self,
        split: str,
        *,
        batch_size: int,
        generator: torch.Generator | None = None,
        shard: tuple[int, int] = (0, 1),
    ) -> DeviceLoader:
        """Return batches of ``split`` on the run's device, normalised as in training.

        With ``generator`` they are training batches: shuffled and augmented (``config.augment``,
        RandAugment, random erasing) with its random numbers; without, in order and unaugmented.
        ``shard=(rank, world_size)`` yields this process's rows of every global batch of
        ``batch_size``.
        """
        from neuralab.vision.recipe import train_augmentation

        images, labels = self.split(split)
        training = generator is not None
        return DeviceLoader(
            images,
            labels,
            batch_size=batch_size,
            device=self.device,
            shuffle=training,
            normalization=self.inputs.normalization,
            augmentation=train_augmentation(self.config) if training else None,
            generator=generator,
            channels_last=uses_channels_last(self.config, self.device),
            shard=shard,
        )


def build_run(
    config: TrainConfig,
    device: torch.device,
    *,
    inputs: ModelInputs | None = None,
    dataset: str | None = None,
    load_data: bool = True,
) -> Run:
    """Return the run of ``config`` on ``device``: data and split, normalisation, model.

    A new run (``inputs`` None) takes the classes and image shape from its data and measures the
    normalisation on its training split; its model is fresh (``init``, pretrained weights,
    ``compile``). A restored run passes the ``inputs`` saved in its checkpoint and gets a model
    for them, ready for ``load_model_state``; ``dataset`` loads another data set (resized to the
    model's input) and ``load_data=False`` none at all.
    """
    if inputs is None:
        data = load_run_data(config, image_size=config.image_size, download=config.download)
        inputs = ModelInputs(
            classes=[str(c) for c in data.dataset.classes],
            input_shape=data.dataset.image_shape,
            normalization=Normalization.from_images(
                data.split("train")[0], mode=config.normalization
            ),
        )
        return Run(config, device, inputs, build_model(config, inputs, device), data)
    restored_data = None
    if load_data:
        _, height, width = inputs.input_shape
        size = height if height == width else config.image_size
        restored_data = load_run_data(config, dataset=dataset, image_size=size)
    model = build_model(config, inputs, device, restored=True)
    return Run(config, device, inputs, model, restored_data)


def build_model(
    config: TrainConfig, inputs: ModelInputs, device: torch.device, *, restored: bool = False
) -> nn.Module:
    """Return the model of ``config`` for ``inputs`` on ``device`` (restored: for saved weights)."""
    options = config.model_options()
    if restored:  # the checkpoint holds the weights: nothing to download or initialise
        options.pop("pretrained", None)
        options.pop("weights", None)
    model = get_model(
        config.model,
        num_classes=len(inputs.classes),
        input_shape=inputs.input_shape,
        init=None if restored else config.init,
        **options,
    ).to(device)
    if uses_channels_last(config, device):
        model = model.to(memory_format=torch.channels_last)
    if config.compile and not restored:
        model = torch.compile(model)  # type: ignore[assignment]
    return model


def uses_amp(config: TrainConfig, device: torch.device) -> bool:
    """Return whether the run's forward passes autocast to bfloat16.

    ``config.amp`` on CUDA; ``config.amp`` and ``config.amp_cpu`` on a CPU with AMX units
    (:func:`neuralab.vision.engine.autocast_supported`). On the CPU it is opt-in: the same
    accuracy, measured, but float32's last digits change, and the course's documented outputs
    are float32's.
    """
    from neuralab.vision.engine import autocast_supported

    if device.type == "cpu" and not config.amp_cpu:
        return False
    return config.amp and autocast_supported(device)


def uses_channels_last(config: TrainConfig, device: torch.device) -> bool:
    """Return whether the run stores images and convolution weights as NHWC (channels_last).

    cuDNN's and oneDNN's convolutions are faster in NHWC: on a 2-core CPU the course CNN trains
    1.25-1.3x faster on 28x28 and 32x32 images (the layout only changes strides, not values).
    MPS keeps NCHW.
    """
    return config.channels_last and device.type in ("cuda", "cpu")
