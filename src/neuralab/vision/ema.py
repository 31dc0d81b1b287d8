"""An exponential moving average (EMA) of a model's weights, evaluated in place of the weights.

After every optimiser step t = 0, 1, 2, ... each floating-point parameter and buffer w of the
model moves its average a towards it:

    a <- d_t a + (1 - d_t) w,    d_t = min(d, (1 + t) / (10 + t))

starting from a copy of the initial weights. The warm-up of d_t (as in timm's ``ModelEma``)
lets the average forget the random initialisation within the first few dozen steps even with
d = 0.9999; after t ~ 10 / (1 - d) steps d_t = d, an average over the last ~1 / (1 - d) steps.
Integer buffers (batch norm's ``num_batches_tracked``) are copied.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class WeightEMA:
    """The moving average of ``model``'s weights, kept in a copy (``.model``) in eval mode."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            from neuralab.errors import NeuralabError

            raise NeuralabError(f"ema_decay must be in (0, 1), got {decay}")
        source = inner_module(model)
        self.model = copy.deepcopy(source).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    def decay_at(self, t: int) -> float:
        """Return d_t = min(d, (1 + t) / (10 + t)) of update ``t`` (0-based)."""
        return min(self.decay, (1 + t) / (10 + t))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights (call after each step)."""
        d = self.decay_at(self.updates)
        source = inner_module(model).state_dict()
        for name, average in self.model.state_dict().items():
            value = source[name]
            if average.is_floating_point():
                average.lerp_(value.to(average.dtype), 1.0 - d)  # a + (1 - d)(w - a)
            else:
                average.copy_(value)
        self.updates += 1

    def checkpoint_entries(self, model: nn.Module) -> dict[str, Any]:
        """Return ``save_checkpoint``'s keywords for the weights being trained beside the average."""
        return {"training_model": model, "ema_updates": self.updates}

    def resume_from(self, checkpoint: dict[str, Any], path: str) -> dict[str, Any]:
        """Load the average from ``checkpoint``; return it with the trained weights as "model"."""
        from neuralab.vision.checkpoint import load_model_state

        load_model_state(self.model, checkpoint, path=path)  # "model" holds the average
        self.updates = int(checkpoint["ema"]["updates"])
        return {**checkpoint, "model": checkpoint["ema"]["training_model"]}

    def state_dict(self) -> dict[str, Any]:
        """Return the average and the number of updates, as plain tensors for a checkpoint."""
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])


def inner_module(model: nn.Module) -> nn.Module:
    """Return the module inside torch.compile's and DistributedDataParallel's wrappers."""
    for attribute in ("_orig_mod", "module"):
        inner = getattr(model, attribute, None)
        if isinstance(inner, nn.Module):
            return inner_module(inner)
    return model
