"""What kind of network a model source names, and torchvision's model names, without torch.

``neuralab summary resnt18`` must answer "did you mean 'resnet18'?" in a fraction of a second,
so the name is checked here, before torch (about 1.5 s to import) or torchvision (3 s more) is
loaded. :data:`TORCHVISION_MODELS` is the list ``torchvision.models.list_models(module=
torchvision.models)`` returns for the installed torchvision; ``tests/test_model_names.py``
compares the two, so a torchvision upgrade that adds or removes a model fails a test rather
than a user.
"""

from __future__ import annotations

import re
from typing import Literal

from neuralab.errors import NeuralabError, unknown_name_error

SourceKind = Literal["factory", "spec", "torchvision"]
FACTORY_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

# torchvision 0.29's classification models (torchvision.models.list_models(module=...)), sorted
TORCHVISION_MODELS: tuple[str, ...] = (
    "alexnet",
    "convnext_base",
    "convnext_large",
    "convnext_small",
    "convnext_tiny",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "efficientnet_v2_l",
    "efficientnet_v2_m",
    "efficientnet_v2_s",
    "googlenet",
    "inception_v3",
    "maxvit_t",
    "mnasnet0_5",
    "mnasnet0_75",
    "mnasnet1_0",
    "mnasnet1_3",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "regnet_x_16gf",
    "regnet_x_1_6gf",
    "regnet_x_32gf",
    "regnet_x_3_2gf",
    "regnet_x_400mf",
    "regnet_x_800mf",
    "regnet_x_8gf",
    "regnet_y_128gf",
    "regnet_y_16gf",
    "regnet_y_1_6gf",
    "regnet_y_32gf",
    "regnet_y_3_2gf",
    "regnet_y_400mf",
    "regnet_y_800mf",
    "regnet_y_8gf",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "resnext50_32x4d",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
    "squeezenet1_0",
    "squeezenet1_1",
    "swin_b",
    "swin_s",
    "swin_t",
    "swin_v2_b",
    "swin_v2_s",
    "swin_v2_t",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "vit_b_16",
    "vit_b_32",
    "vit_h_14",
    "vit_l_16",
    "vit_l_32",
    "wide_resnet101_2",
    "wide_resnet50_2",
)


def is_spec(source: str) -> bool:
    """Return whether ``source`` reads as a layer spec rather than a model name."""
    if "(" in source or "->" in source:
        return True
    from neuralab.arch.spec import spec_layer_names

    return source.strip() in set(spec_layer_names())


def source_kind(source: str) -> SourceKind:
    """Return what ``source`` names: ``factory`` (module:factory), ``spec`` or ``torchvision``.

    The text is checked as far as it can be without torch: an empty source, a torchvision name
    that does not exist (with the closest names) and a spec that does not parse are refused
    here with one line.
    """
    text = source.strip()
    if not text:
        raise NeuralabError("the model is empty; give a spec, a torchvision name or module:factory")
    if FACTORY_PATTERN.match(text):
        return "factory"
    if is_spec(text):
        from neuralab.arch.spec import parse_spec

        parse_spec(text)
        return "spec"
    if text not in TORCHVISION_MODELS:
        raise unknown_name_error("model", text, TORCHVISION_MODELS)
    return "torchvision"
