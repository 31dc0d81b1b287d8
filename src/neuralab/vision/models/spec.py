"""``spec:<spec>``: any network written in the layer spec language (``neuralab.arch.spec``)."""

from __future__ import annotations

import torch
from torch import nn

from neuralab.errors import NeuralabError


def spec_model(spec: str, *, num_classes: int, input_shape: tuple[int, int, int]) -> nn.Module:
    from neuralab.arch.model_memory import build_within_limit
    from neuralab.arch.spec import build_model

    model = build_within_limit(
        lambda: build_model(spec, input_shape), input_shape, f"the spec {spec[:60]!r}"
    )
    with torch.no_grad():
        was_training = model.training
        model.eval()
        output = model(torch.zeros(1, *input_shape))
        model.train(was_training)
    if output.dim() != 2 or output.shape[1] != num_classes:
        raise NeuralabError(
            f"spec {spec!r} ends with output shape {tuple(output.shape[1:])}, "
            f"but the data set has {num_classes} classes: end the spec with fc({num_classes})"
        )
    return model
