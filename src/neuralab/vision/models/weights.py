"""Pretrained weights for a backbone: a torchvision weights enum name or a local file.

``ResNet50_Weights.IMAGENET1K_V2`` (the enum name torchvision documents for every model) is
fetched by torchvision into ``$TORCH_HOME/hub/checkpoints`` on first use and read from there
afterwards; a cluster without internet reads the same file from ``--weights FILE``. A file is
read with ``torch.load(weights_only=True)`` and may be a state dict, or a checkpoint holding one
under ``"model"`` or ``"state_dict"`` (a neuralab ``best.pt`` among them). On a machine with
internet, ``torchvision.models.get_weight("ResNet50_Weights.IMAGENET1K_V2").get_state_dict()``
returns the state dict to ``torch.save`` for the cluster.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from neuralab.errors import NeuralabError

_ENUM = re.compile(r"^[A-Za-z0-9_]+_Weights\.[A-Za-z0-9_]+$")
# auxiliary classifiers (GoogLeNet, Inception v3) in ImageNet files, absent from our models
_AUX_PREFIXES = ("AuxLogits.", "aux1.", "aux2.")
# prefixes a saved model may carry: our wrapper, DistributedDataParallel, torch.compile
_WRAPPER_PREFIXES = ("net.", "module.", "_orig_mod.")


def is_weights_enum(text: str) -> bool:
    """Return whether ``text`` reads as a torchvision weights enum name (``X_Weights.NAME``)."""
    return bool(_ENUM.match(text))


def weights_state_dict(weights: str) -> dict[str, Tensor]:
    """Return the state dict named by ``weights``: a torchvision enum name or a local file."""
    if is_weights_enum(weights) and not Path(weights).exists():
        return _torchvision_state_dict(weights)
    return read_state_dict(Path(weights))


def torchvision_weight(name: str) -> Any:
    """Return torchvision's weights enum member ``name`` (``ResNet50_Weights.IMAGENET1K_V2``)."""
    import torchvision

    try:
        return torchvision.models.get_weight(name)
    except (ValueError, KeyError, AttributeError):
        raise NeuralabError(
            f"unknown torchvision weights {name!r}; see torchvision.models.get_model_weights"
            "(MODEL) for the names (e.g. ResNet50_Weights.IMAGENET1K_V2)"
        ) from None


def _torchvision_state_dict(name: str) -> dict[str, Tensor]:
    enum = torchvision_weight(name)
    try:
        return dict(enum.get_state_dict(progress=False, check_hash=True))
    except Exception as error:  # noqa: BLE001 (no network, a full disk: one line says what)
        raise NeuralabError(
            f"cannot fetch the weights {name} ({enum.url}): {type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}; without internet, save them on "
            f"a machine with it (torch.save(torchvision.models.get_weight({name!r})"
            ".get_state_dict(), 'weights.pt')) and pass --weights weights.pt"
        ) from None


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """Return the state dict in the file ``path`` (read with ``weights_only=True``)."""
    if not path.is_file():
        raise NeuralabError(
            f"weights file {str(path)!r} does not exist (give a file or a torchvision weights "
            "name such as ResNet50_Weights.IMAGENET1K_V2)"
        )
    from neuralab.vision.checkpoint import safe_load

    state = safe_load(path, "weights file", "state dicts of tensors")
    if isinstance(state, dict):
        for key in ("model", "state_dict"):
            if isinstance(state.get(key), dict):
                state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise NeuralabError(f"weights file {str(path)!r} does not hold a state dict of tensors")
    return {str(k): v for k, v in state.items()}


def load_backbone(net: nn.Module, state: dict[str, Tensor], *, head: str, source: str) -> None:
    """Load every tensor of ``net`` except its classifier ``head`` from ``state``.

    Keys of the old head are dropped (its class count is not ours); any other missing or
    unexpected key, or a tensor of another shape, is one error naming ``source``.
    """
    for prefix in _WRAPPER_PREFIXES:
        if state and all(k.startswith(prefix) for k in state):
            state = {k.removeprefix(prefix): v for k, v in state.items()}
    own = net.state_dict()
    head_prefix = head + "."
    wanted = {k for k in own if not k.startswith(head_prefix)}
    given = {k: v for k, v in state.items() if not k.startswith((head_prefix, *_AUX_PREFIXES))}
    missing = sorted(wanted - set(given))
    unexpected = sorted(set(given) - wanted)
    if missing or unexpected:
        raise NeuralabError(
            f"weights {source!r} do not fit {type(net).__name__}: "
            f"{len(missing)} missing keys (e.g. {missing[:2]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:2]})"
        )
    wrong = [k for k in wanted if given[k].shape != own[k].shape]
    if wrong:
        k = sorted(wrong)[0]
        raise NeuralabError(
            f"weights {source!r} do not fit {type(net).__name__}: {k} has shape "
            f"{tuple(given[k].shape)}, the model's is {tuple(own[k].shape)}"
        )
    net.load_state_dict(given, strict=False)
