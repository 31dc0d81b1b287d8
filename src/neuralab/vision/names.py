"""The names ``neuralab train`` accepts for data sets, models and augmentation presets, without torch.

A mistyped ``--data``, ``--model`` or ``--augment`` is answered in a fraction of a second, before
torch (about 1.5 s to import) is loaded: :func:`check_names` reads these tables. The registries
(:mod:`neuralab.vision.datasets`, :mod:`neuralab.vision.models`, :mod:`neuralab.vision.augment`)
stay the source of what each name builds; ``tests/test_vision_names.py`` checks that these
tables list exactly their names, so a new model or data set fails a test until it is added here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuralab.arch.model_names import FACTORY_PATTERN, TORCHVISION_MODELS
from neuralab.errors import NeuralabError, unknown_name_error

if TYPE_CHECKING:
    from neuralab.vision.config import TrainConfig

# what list_datasets() returns ("name:PATH" for the sources read from a path)
DATASET_NAMES: tuple[str, ...] = (
    "cifar10",
    "digits",
    "fashion-mnist",
    "folder:PATH",
    "gtsrb",
    "mnist",
    "npz:PATH",
)
# what list_models() returns
MODEL_NAMES: tuple[str, ...] = (
    "cnn",
    "fast",
    "mlp",
    "plain",
    "residual",
    "resnet18",
    "spec:<spec>",
)
SPEC_PREFIX = "spec:"
TIMM_PREFIX = "timm:"  # timm models, when timm is installed (neuralab.vision.models.external)
# augmentation presets -> their aliases (neuralab.vision.augment's registry)
AUGMENTATION_PRESETS: dict[str, tuple[str, ...]] = {
    "cifar": (),
    "light": (),
    "none": ("off",),
    "standard": ("gtsrb", "default"),
    "strong": (),
}


def is_model_name(name: str) -> bool:
    """Return whether ``name`` names a model ``train`` can build: a course model, ``spec:``,
    ``timm:NAME``, ``package.module:factory`` or a torchvision classification model (the static
    table of :mod:`neuralab.arch.model_names`, checked against torchvision in the tests)."""
    return (
        name in MODEL_NAMES
        or name.startswith((SPEC_PREFIX, TIMM_PREFIX))
        or bool(FACTORY_PATTERN.match(name))
        or name in TORCHVISION_MODELS
    )


def unknown_model_error(name: str) -> NeuralabError:
    """Return the error for an unknown model: close names among all, then the forms accepted."""
    error = unknown_name_error("model", name, [*MODEL_NAMES, *TORCHVISION_MODELS])
    message = str(error).split(" (valid:")[0]
    return NeuralabError(
        f"{message} (valid: {', '.join(n for n in MODEL_NAMES if n != 'spec:<spec>')}, "
        "spec:<spec>, any torchvision classification model, timm:<name>, package.module:factory)"
    )


def check_names(config: TrainConfig) -> None:
    """Raise one line, with the valid names, for an unknown data set, model, preset or device."""
    from neuralab.device import check_device_name
    from neuralab.vision.config import augmentation_name

    key = config.data.partition(":")[0].strip().lower()
    if key not in {name.partition(":")[0] for name in DATASET_NAMES}:
        raise unknown_name_error("data set", config.data, DATASET_NAMES)
    if not is_model_name(config.model):
        raise unknown_model_error(config.model)
    preset = augmentation_name(config).strip().lower()
    if not any(
        preset == name or preset in aliases for name, aliases in AUGMENTATION_PRESETS.items()
    ):
        raise unknown_name_error(
            "augmentation preset", augmentation_name(config), AUGMENTATION_PRESETS
        )
    check_device_name(config.device)
