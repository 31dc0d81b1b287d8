"""The configuration of one training run: :class:`TrainConfig`, every field with its default.

Load it with ``neuralab.config.load_config(TrainConfig, "run.yaml", {"lr": "0.01"})`` (YAML or
TOML, then ``field=value`` overrides); each run saves the resolved one as ``config.yaml``. The
defaults train the course CNN on the bundled 8x8 ``digits`` in well under a minute on a laptop
CPU and are the settings that pass 95 % test accuracy on the GTSRB subset within 10 epochs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from neuralab.errors import NeuralabError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
NORMALIZATIONS = ("per_channel", "per_image", "none")
MONITORS = ("val_acc", "val_loss")

DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adam": 5e-4, "adamw": 0.05}

# fields a resumed run may change without breaking "same run": how long it runs and where
RESUMABLE_CHANGES = ("epochs", "run_dir", "device")


@dataclass
class TrainConfig:
    """Everything that defines a training run (data, model, optimiser, schedule, run)."""

    # -- data --------------------------------------------------------------------------------
    data: str = "digits"  # data set name: digits, mnist, fashion-mnist, cifar10, gtsrb, npz:PATH, folder:PATH
    data_dir: str = "data"  # where downloaded data sets and caches live
    download: bool = False  # let torchvision download a missing data set
    image_size: int | None = None  # resize images to image_size x image_size (None: native size)
    val_fraction: float = (
        0.1  # share of the training set held out for validation (grouped, stratified)
    )
    augment: str = "auto"  # augmentation preset (auto: the data set's own; none: off)
    normalization: Literal["per_channel", "per_image", "none"] = (
        "per_image"  # input standardisation
    )
    # -- model -------------------------------------------------------------------------------
    model: str = "cnn"  # model name: cnn, mlp, resnet18, plain, residual, spec:<spec>
    widths: tuple[int, ...] | None = (
        None  # cnn channel widths per stage (None: the model's default)
    )
    batch_norm: bool | None = None  # cnn batch normalisation on/off (None: the model's default)
    dropout: float | None = None  # dropout probability p (None: the model's default)
    activation: str | None = None  # activation from the shared table (None: the model's default)
    init: str | None = (
        None  # initialization scheme (neuralab.theory.initialization; None: PyTorch's)
    )
    pretrained: bool = False  # resnet18: start from torchvision's ImageNet weights
    weights: str | None = None  # resnet18: load backbone weights from this local file
    depth: int | None = None  # plain/residual: number of layers 6n + 2 (None: the model's default)
    width: int | None = (
        None  # plain/residual: channels of the first stage (None: the model's default)
    )
    freeze_backbone: bool = False  # resnet18: train the new classifier head only
    backbone_lr_factor: float = (
        0.1  # fine-tuning: backbone lr = lr * this (pretrained/weights only)
    )
    # -- optimisation ------------------------------------------------------------------------
    epochs: int = 10  # passes over the training set
    batch_size: int = 32  # images per optimiser step (small batches: more steps per epoch)
    optimizer: Literal["sgd", "adam", "adamw"] = "adamw"  # base optimiser
    lr: float = 0.003  # peak learning rate eta
    momentum: float = 0.9  # SGD momentum (Adam's beta1 stays 0.9)
    nesterov: bool = False  # SGD with Nesterov momentum
    weight_decay: float | None = (
        None  # weight decay lambda (None: 0.05 for adamw, 5e-4 for sgd/adam)
    )
    sam: bool = False  # sharpness-aware minimisation around the base optimiser
    rho: float = 0.05  # SAM neighbourhood radius rho
    adaptive: bool = False  # ASAM: neighbourhood scaled by |w|
    schedule: Literal["constant", "step", "cosine", "onecycle"] = "onecycle"  # lr schedule
    warmup: float = 0.0  # linear warm-up length in epochs (constant, step, cosine)
    label_smoothing: float = 0.1  # cross-entropy label smoothing epsilon (train loss only)
    grad_clip: float | None = None  # clip the global gradient L2 norm to this (None: off)
    patience: int | None = None  # early stopping: epochs without a better monitor value (None: off)
    monitor: Literal["val_acc", "val_loss"] = "val_acc"  # what picks best.pt and early stopping
    evaluate_test: bool = (
        True  # evaluate the test set each epoch (sweeps: off, choices see val only)
    )
    # -- run ---------------------------------------------------------------------------------
    device: str = "auto"  # auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps
    amp: bool = True  # CUDA only: autocast to bfloat16
    channels_last: bool = True  # NHWC layout for convolutions on CUDA and CPU (CPU: ~1.3x faster)
    compile: bool = False  # torch.compile the model (pays a start-up cost)
    seed: int = 0  # seeds torch, numpy, python and the loader (CPU runs are repeatable)
    run_dir: str | None = None  # run directory (None: runs/<data>-<model>-<timestamp>)

    def __post_init__(self) -> None:
        if self.weight_decay is None:
            # AdamW decays by lr * lambda per step (decoupled): it needs a ~100x larger lambda
            # than the L2 penalty lambda ||w||^2 / 2 that SGD and Adam add to the loss
            self.weight_decay = DEFAULT_WEIGHT_DECAY[self.optimizer]
        validate(self)

    def model_options(self) -> dict[str, Any]:
        """Return the model options set in this config (fields left at None are not passed)."""
        options: dict[str, Any] = {}
        for name in ("widths", "batch_norm", "dropout", "activation", "depth", "width"):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        if self.model == "resnet18":
            options.update(
                pretrained=self.pretrained,
                weights=self.weights,
                freeze_backbone=self.freeze_backbone,
            )
        return options


def model_label(config: TrainConfig) -> str:
    """Return the model's name and, where it could start from trained weights, where its
    weights came from: ``resnet18 (random init)``, ``resnet18 (ImageNet weights)``,
    ``resnet18 (weights from FILE)``; other models by name alone."""
    if config.model != "resnet18":
        return config.model
    if config.weights:
        origin = f"weights from {config.weights}"
    elif config.pretrained:
        origin = "ImageNet weights"
    else:
        origin = "random init"
    return f"{config.model} ({origin})"


def validate(config: TrainConfig) -> None:
    """Raise :class:`NeuralabError` naming the first field with an impossible value."""
    checks: list[tuple[bool, str]] = [
        (config.epochs >= 1, f"epochs must be >= 1, got {config.epochs}"),
        (config.batch_size >= 1, f"batch_size must be >= 1, got {config.batch_size}"),
        (config.lr > 0, f"lr must be > 0, got {config.lr}"),
        (0 <= config.momentum < 1, f"momentum must be in [0, 1), got {config.momentum}"),
        (
            config.weight_decay is not None and config.weight_decay >= 0,
            f"weight_decay must be >= 0, got {config.weight_decay}",
        ),
        (config.rho > 0, f"rho must be > 0, got {config.rho}"),
        (config.warmup >= 0, f"warmup must be >= 0 epochs, got {config.warmup}"),
        (0 < config.val_fraction < 1, f"val_fraction must be in (0, 1), got {config.val_fraction}"),
        (
            0 <= config.label_smoothing < 1,
            f"label_smoothing must be in [0, 1), got {config.label_smoothing}",
        ),
        (
            config.grad_clip is None or config.grad_clip > 0,
            f"grad_clip must be > 0 (or none), got {config.grad_clip}",
        ),
        (
            config.patience is None or config.patience >= 1,
            f"patience must be >= 1 (or none), got {config.patience}",
        ),
        (
            config.dropout is None or 0 <= config.dropout < 1,
            f"dropout must be in [0, 1), got {config.dropout}",
        ),
        (
            0 < config.backbone_lr_factor <= 1,
            f"backbone_lr_factor must be in (0, 1], got {config.backbone_lr_factor}",
        ),
        (
            config.image_size is None or config.image_size >= 4,
            f"image_size must be >= 4 pixels, got {config.image_size}",
        ),
        (
            not config.nesterov or (config.optimizer == "sgd" and config.momentum > 0),
            "nesterov needs optimizer=sgd with momentum > 0",
        ),
        (config.optimizer in OPTIMIZERS, f"optimizer {config.optimizer!r} not in {OPTIMIZERS}"),
        (config.schedule in SCHEDULES, f"schedule {config.schedule!r} not in {SCHEDULES}"),
        (config.monitor in MONITORS, f"monitor {config.monitor!r} not in {MONITORS}"),
        (
            config.normalization in NORMALIZATIONS,
            f"normalization {config.normalization!r} not in {NORMALIZATIONS}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise NeuralabError(message)


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Return ``["lr: 0.1 -> 0.2", ...]`` for every field that differs, except RESUMABLE_CHANGES."""
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    differences = []
    for name in names:
        if name in RESUMABLE_CHANGES:
            continue
        old, new = saved.get(name), current.get(name)
        if isinstance(old, list | tuple) and isinstance(new, list | tuple):
            old, new = list(old), list(new)
        if old != new:
            differences.append(f"{name}: {old!r} -> {new!r}")
    return differences


# augmentation preset for augment="auto", by data set (GTSRB: shifts, rotations, zoom, jitter)
AUTO_AUGMENTATION = (("gtsrb", "standard"), ("cifar", "cifar"))


def augmentation_name(config: TrainConfig) -> str:
    """Return the augmentation preset ``config.augment`` means (``auto``: by data set name)."""
    if config.augment != "auto":
        return config.augment
    name = config.data.lower()
    for key, preset in AUTO_AUGMENTATION:
        if key in name:
            return preset
    return "none"


def check_names(config: TrainConfig) -> None:
    """Raise one line, with the valid names, for an unknown data set, model or preset."""
    from neuralab.errors import unknown_name_error
    from neuralab.vision.augment import augmentation_preset
    from neuralab.vision.datasets import list_datasets
    from neuralab.vision.models import SPEC_PREFIX, list_models

    datasets = list_datasets()
    key = config.data.partition(":")[0].strip().lower()
    if key not in {name.partition(":")[0] for name in datasets}:
        raise unknown_name_error("data set", config.data, datasets)
    if not config.model.startswith(SPEC_PREFIX) and config.model not in list_models():
        raise unknown_name_error("model", config.model, list_models())
    augmentation_preset(augmentation_name(config))
