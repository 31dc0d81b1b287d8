"""The classifier head of a model and the rest of it (the backbone), for fine-tuning.

A model names its head by a ``head_name`` attribute (default: the last ``nn.Linear``); the
trainer gives the backbone a lower learning rate, and ``freeze_backbone`` trains the head only.
"""

from __future__ import annotations

from collections.abc import Iterator

from torch import nn

from neuralab.errors import NeuralabError


def head_module(model: nn.Module) -> nn.Module:
    """Return the classifier head: ``model.head_name`` if set, else the last ``nn.Linear``."""
    head_name = getattr(model, "head_name", None)
    if isinstance(head_name, str):
        return model.get_submodule(head_name)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise NeuralabError(f"{type(model).__name__} has no nn.Linear head")
    return linears[-1]


def head_parameters(model: nn.Module) -> Iterator[nn.Parameter]:
    """Yield the parameters of the classifier head."""
    yield from head_module(model).parameters()


def backbone_parameters(model: nn.Module) -> Iterator[nn.Parameter]:
    """Yield every parameter that is not in the classifier head."""
    head = {id(p) for p in head_module(model).parameters()}
    for parameter in model.parameters():
        if id(parameter) not in head:
            yield parameter
