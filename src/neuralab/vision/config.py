"""The configuration of one training run: :class:`TrainConfig`, every field with its default.

Load it with ``neuralab.config.load_config(TrainConfig, "run.yaml", {"lr": "0.01"})`` (YAML or
TOML, then ``field=value`` overrides); each run saves the resolved one as ``config.yaml``. The
defaults train the course CNN on the bundled 8x8 ``digits`` in well under a minute on a laptop
CPU and are the settings that pass 95 % test accuracy on the GTSRB subset within 10 epochs.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

from neuralab.config import option
from neuralab.errors import NeuralabError

OptimizerName = Literal["sgd", "adam", "adamw"]
ScheduleName = Literal["constant", "step", "cosine", "onecycle"]
NormalizationName = Literal["per_channel", "per_image", "none"]
MonitorName = Literal["val_acc", "val_loss"]
LoggerName = Literal["tensorboard", "mlflow"]
OPTIMIZERS: tuple[str, ...] = typing.get_args(OptimizerName)
SCHEDULES: tuple[str, ...] = typing.get_args(ScheduleName)
NORMALIZATIONS: tuple[str, ...] = typing.get_args(NormalizationName)
MONITORS: tuple[str, ...] = typing.get_args(MonitorName)

DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adam": 5e-4, "adamw": 0.05}

# fields a resumed run may change without breaking "same run": how long it runs and where
# (sync_bn, like the number of processes, only changes how batch statistics are gathered;
# the loggers only where the same rows are also written)
LOGGING_FIELDS = ("log_to", "mlflow_tracking_uri", "mlflow_experiment")
RESUMABLE_CHANGES = ("epochs", "run_dir", "device", "sync_bn", *LOGGING_FIELDS)

_DATA, _MODEL, _OPTIMISATION, _RUN = "Data", "Model", "Optimisation", "Run"
_RECIPE, _LOGGING = "Recipe", "Logging"


@dataclass
class TrainConfig:
    """Everything that defines a training run (data, model, optimiser, schedule, run)."""

    data: str = option(
        "digits",
        help="Data set: digits (bundled, offline), mnist, fashion-mnist, cifar10, gtsrb, "
        "npz:PATH, folder:PATH",
        group=_DATA,
    )
    data_dir: str = option("data", help="Where downloaded data sets and caches live", group=_DATA)
    download: bool = option(False, help="Let torchvision download a missing data set", group=_DATA)
    image_size: int | None = option(
        None, help="Resize images to image_size x image_size (none: native size)", group=_DATA
    )
    val_fraction: float = option(
        0.1,
        help="Share of the training set held out for validation (grouped by GTSRB track, "
        "stratified)",
        group=_DATA,
    )
    augment: str = option(
        "auto",
        help="Augmentation preset: auto (the data set's own), none, light, standard, strong, cifar",
        group=_DATA,
    )
    normalization: NormalizationName = option(
        "per_image", help="Input standardisation", group=_DATA
    )
    model: str = option(
        "cnn",
        help="Model: cnn, mlp, resnet18, plain, residual, spec:<spec>, any torchvision "
        "classification model (resnet50, vit_b_16, ...), timm:<name>, package.module:factory",
        group=_MODEL,
    )
    widths: tuple[int, ...] | None = option(
        None, help="CNN channel widths per stage, e.g. 32,64 (none: the model's)", group=_MODEL
    )
    batch_norm: bool | None = option(
        None, help="CNN batch normalisation on/off (unset: the model's)", group=_MODEL
    )
    dropout: float | None = option(
        None, help="Dropout probability p (none: the model's)", group=_MODEL
    )
    activation: str | None = option(
        None,
        help="Activation from the shared table, e.g. relu, gelu (none: the model's)",
        group=_MODEL,
    )
    init: str | None = option(
        None,
        help="Initialization scheme of neuralab.theory.initialization, e.g. he (none: PyTorch's)",
        group=_MODEL,
    )
    pretrained: bool = option(
        False,
        help="torchvision/timm models: start from the model's default ImageNet weights "
        "(downloaded once into $TORCH_HOME)",
        group=_MODEL,
    )
    weights: str | None = option(
        None,
        help="Backbone weights: a torchvision enum name (ResNet50_Weights.IMAGENET1K_V2) or a "
        "local file (a state dict; offline clusters)",
        group=_MODEL,
    )
    depth: int | None = option(
        None, help="plain/residual: number of layers 6n + 2 (none: the model's)", group=_MODEL
    )
    width: int | None = option(
        None, help="plain/residual: channels of the first stage (none: the model's)", group=_MODEL
    )
    freeze_backbone: bool = option(
        False, help="Train the new classifier head only (any model)", group=_MODEL
    )
    backbone_lr_factor: float = option(
        0.1,
        help="Fine-tuning: backbone lr = lr * this (with pretrained or weights)",
        group=_MODEL,
    )
    epochs: int = option(10, help="Passes over the training set", group=_OPTIMISATION)
    batch_size: int = option(
        32, help="Images per optimiser step (smaller: more steps per epoch)", group=_OPTIMISATION
    )
    optimizer: OptimizerName = option("adamw", help="Base optimiser", group=_OPTIMISATION)
    lr: float = option(0.003, help="Peak learning rate eta", group=_OPTIMISATION)
    momentum: float = option(
        0.9, help="SGD momentum mu (Adam's beta1 stays 0.9)", group=_OPTIMISATION
    )
    nesterov: bool = option(False, help="SGD with Nesterov momentum", group=_OPTIMISATION)
    weight_decay: float | None = option(
        None,
        help="Weight decay lambda (none: 0.05 for adamw, 5e-4 for sgd and adam)",
        group=_OPTIMISATION,
    )
    sam: bool = option(
        False, help="Sharpness-aware minimisation around the base optimiser", group=_OPTIMISATION
    )
    rho: float = option(0.05, help="SAM neighbourhood radius rho", group=_OPTIMISATION)
    adaptive: bool = option(
        False, help="ASAM: the neighbourhood scaled by |w|", group=_OPTIMISATION
    )
    schedule: ScheduleName = option("onecycle", help="Learning-rate schedule", group=_OPTIMISATION)
    warmup: float = option(
        0.0, help="Linear warm-up in epochs (constant, step, cosine)", group=_OPTIMISATION
    )
    label_smoothing: float = option(
        0.1, help="Cross-entropy label smoothing epsilon (train loss only)", group=_OPTIMISATION
    )
    grad_clip: float | None = option(
        None, help="Clip the global gradient L2 norm to this (none: off)", group=_OPTIMISATION
    )
    patience: int | None = option(
        None,
        help="Early stopping: epochs without a better monitor value (none: off)",
        group=_OPTIMISATION,
    )
    monitor: MonitorName = option(
        "val_acc", help="What picks best.pt and stops early", group=_OPTIMISATION
    )
    evaluate_test: bool = option(
        True,
        help="Evaluate the test set every epoch (sweeps turn it off: choices see val only)",
        group=_OPTIMISATION,
    )
    ema_decay: float | None = option(
        None,
        help="Evaluate an exponential moving average of the weights with decay d, e.g. 0.999 "
        "(none: off)",
        group=_RECIPE,
    )
    mixup_alpha: float = option(
        0.0, help="MixUp: blend image pairs, lam ~ Beta(alpha, alpha) (0: off)", group=_RECIPE
    )
    cutmix_alpha: float = option(
        0.0, help="CutMix: paste a box of another image, Beta(alpha, alpha) (0: off)", group=_RECIPE
    )
    randaugment: int = option(
        0, help="RandAugment: operations N per image (torchvision v2; 0: off)", group=_RECIPE
    )
    randaugment_magnitude: int = option(
        9, help="RandAugment: magnitude M of the operations, 0..30", group=_RECIPE
    )
    random_erasing: float = option(
        0.0, help="Random erasing: probability of a noise box per image (0: off)", group=_RECIPE
    )
    bn_recalibrate: int = option(
        0,
        help="Precise BN: recompute batch-norm statistics with the current weights on N "
        "unaugmented training batches before each evaluation, e.g. 20 (0: off; for models whose "
        "running statistics lag, e.g. MobileNetV3's momentum 0.01)",
        group=_RECIPE,
    )
    accumulate_steps: int = option(
        1,
        help="Gradient accumulation: one optimiser step every k batches (effective batch "
        "k * batch_size)",
        group=_RECIPE,
    )
    deterministic: bool = option(
        False,
        help="torch.use_deterministic_algorithms during the run (GPU runs repeat exactly; slower)",
        group=_RECIPE,
    )
    log_to: tuple[LoggerName, ...] = option(
        (),
        help="Also log to tensorboard and/or mlflow, e.g. tensorboard,mlflow (extras of the "
        "same names)",
        group=_LOGGING,
    )
    mlflow_tracking_uri: str | None = option(
        None,
        help="MLflow tracking store, e.g. sqlite:///mlflow.db (none: MLFLOW_TRACKING_URI or "
        "MLflow's default)",
        group=_LOGGING,
    )
    mlflow_experiment: str = option("neuralab", help="MLflow experiment name", group=_LOGGING)
    device: str = option(
        "auto", help="Device: auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps", group=_RUN
    )
    amp: bool = option(True, help="CUDA: autocast to bfloat16", group=_RUN)
    amp_cpu: bool = option(
        False,
        help="Also autocast to bfloat16 on a CPU with AMX units (~2x faster there; the fast "
        "recipe turns it on; no effect on other CPUs)",
        group=_RUN,
    )
    channels_last: bool = option(
        True, help="NHWC layout for convolutions on CUDA and CPU (CPU: ~1.3x faster)", group=_RUN
    )
    compile: bool = option(
        False,
        help="Compile the model with torch.compile (a start-up cost; worth it on a GPU)",
        group=_RUN,
    )
    sync_bn: bool = option(
        False,
        help="Several processes: batch-norm mean and variance over the global batch",
        group=_RUN,
    )
    seed: int = option(
        0, help="Seeds torch, numpy, python and the loader (CPU runs repeat exactly)", group=_RUN
    )
    run_dir: str | None = option(
        None, help="Run directory (none: runs/<data>-<model>-<timestamp>)", group=_RUN
    )

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
        # weights are for torchvision / timm / factory models (a course model refuses them by name)
        if self.pretrained:
            options["pretrained"] = True
        if self.weights:
            options["weights"] = self.weights
        if self.freeze_backbone:
            options["freeze_backbone"] = True
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
        (
            config.ema_decay is None or 0 < config.ema_decay < 1,
            f"ema_decay must be in (0, 1) (or none), got {config.ema_decay}",
        ),
        (config.mixup_alpha >= 0, f"mixup_alpha must be >= 0, got {config.mixup_alpha}"),
        (config.cutmix_alpha >= 0, f"cutmix_alpha must be >= 0, got {config.cutmix_alpha}"),
        (config.randaugment >= 0, f"randaugment must be >= 0 operations, got {config.randaugment}"),
        (
            0 <= config.randaugment_magnitude <= 30,
            f"randaugment_magnitude must be in 0..30, got {config.randaugment_magnitude}",
        ),
        (
            0 <= config.random_erasing <= 1,
            f"random_erasing must be a probability in [0, 1], got {config.random_erasing}",
        ),
        (
            config.bn_recalibrate >= 0,
            f"bn_recalibrate must be >= 0 batches (0: off), got {config.bn_recalibrate}",
        ),
        (
            config.accumulate_steps >= 1,
            f"accumulate_steps must be >= 1, got {config.accumulate_steps}",
        ),
        (
            config.accumulate_steps == 1 or not config.sam,
            "accumulate_steps > 1 cannot be combined with sam (SAM needs the whole batch's "
            "gradient before its second pass)",
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
    """Raise one line, with the valid names, for an unknown data set, model or preset (no torch)."""
    from neuralab.vision.names import check_names as check

    check(config)
