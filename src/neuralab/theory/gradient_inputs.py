"""The inputs of :func:`neuralab.theory.gradients.gradient_report`, checked and made float64 tensors.

W1 is hidden x inputs, W2 outputs x hidden (the course's convention); b1, b2 default to zero
vectors; x has one entry per input; y is one target per output (for ce a class index may
stand for the one-hot vector). Every mismatch is a :class:`NeuralabError` naming both shapes.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from neuralab.errors import NeuralabError


def check_shapes(
    W1: Any, W2: Any, b1: Any, b2: Any, x: Any
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    W1t = as_matrix(W1, "W1", "hidden x inputs")
    W2t = as_matrix(W2, "W2", "outputs x hidden")
    hidden, inputs = W1t.shape
    if W2t.shape[1] != hidden:
        raise NeuralabError(
            f"W2 has shape {W2t.shape[0]}x{W2t.shape[1]}; expected outputs x hidden = "
            f"{W2t.shape[0]}x{hidden} (W1 has {hidden} hidden rows)"
        )
    xt = as_vector(x, "x", inputs, f"W1 has {inputs} input columns")
    b1t = torch.zeros(hidden, dtype=torch.float64) if b1 is None else None
    b1t = b1t if b1t is not None else as_vector(b1, "b1", hidden, f"W1 has {hidden} rows")
    b2t = torch.zeros(W2t.shape[0], dtype=torch.float64) if b2 is None else None
    b2t = (
        b2t if b2t is not None else as_vector(b2, "b2", W2t.shape[0], f"W2 has {W2t.shape[0]} rows")
    )
    return W1t, W2t, b1t, b2t, xt


def as_matrix(value: Any, name: str, meaning: str) -> Tensor:
    try:
        t = torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise NeuralabError(f"{name} {value!r} is not a matrix of numbers ({meaning})") from None
    if t.dim() != 2 or t.numel() == 0:
        raise NeuralabError(f"{name} has shape {tuple(t.shape)}; expected a matrix {meaning}")
    if not torch.isfinite(t).all():
        raise NeuralabError(f"{name} has entries that are not finite")
    return t


def as_vector(value: Any, name: str, length: int, why: str) -> Tensor:
    try:
        t = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        raise NeuralabError(f"{name} {value!r} is not a vector of numbers") from None
    if t.numel() != length:
        raise NeuralabError(f"{name} has {t.numel()} entries; expected {length} ({why})")
    if not torch.isfinite(t).all():
        raise NeuralabError(f"{name} has entries that are not finite")
    return t


def target_vector(y: Any, loss: str, outputs: int) -> Tensor:
    t = torch.as_tensor(y, dtype=torch.float64).reshape(-1)
    if loss == "ce":
        if outputs < 2:
            raise NeuralabError(
                "loss 'ce' needs at least 2 outputs (softmax of one output is always 1); "
                "use bce for one output"
            )
        if t.numel() == 1 and outputs > 1:
            index = float(t[0])
            if index != int(index) or not 0 <= index < outputs:
                raise NeuralabError(
                    f"y {index:g} is not a class index 0..{outputs - 1} (or give {outputs} "
                    "probabilities)"
                )
            t = torch.nn.functional.one_hot(torch.tensor(int(index)), outputs).to(torch.float64)
        if t.numel() == outputs and (bool((t < 0).any()) or abs(float(t.sum()) - 1.0) > 1e-12):
            raise NeuralabError(f"y {t.tolist()} must be probabilities summing to 1 for loss 'ce'")
    if t.numel() != outputs:
        raise NeuralabError(f"y has {t.numel()} entries; expected {outputs} (one per output)")
    if loss == "bce" and bool(((t < 0) | (t > 1)).any()):
        raise NeuralabError(f"y {t.tolist()} must lie in [0, 1] for loss 'bce'")
    if not torch.isfinite(t).all():
        raise NeuralabError("y has entries that are not finite")
    return t
