"""Image classifiers by name: ``get_model("cnn", num_classes=10, input_shape=(1, 8, 8))``.

The name table and :func:`get_model` are in :mod:`.registry`; one module per model family.
"""

from neuralab.vision.models.heads import backbone_parameters, head_module, head_parameters
from neuralab.vision.models.registry import SPEC_PREFIX, get_model, list_models

__all__ = [
    "SPEC_PREFIX",
    "backbone_parameters",
    "get_model",
    "head_module",
    "head_parameters",
    "list_models",
]
