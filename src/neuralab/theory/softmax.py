"""Softmax, checked: outputs in (0, 1) that sum to 1, and where floating point breaks that.

softmax(z)_k = e^{z_k} / sum_j e^{z_j}. In exact arithmetic every output lies strictly between
0 and 1 and they sum to 1. In floating point:

- the naive formula overflows: e^1000 is inf in float32 and float64, and inf / inf is NaN;
  subtracting max_j z_j first (what ``torch.softmax`` does) gives the same value without it;
- even the stable form rounds: when z_k - max_j z_j < about -104 (float32; -745 in float64),
  e^{z_k - max} underflows to exactly 0, and the largest output, 1 - (something below the
  machine epsilon), rounds to exactly 1 once the gap exceeds about 17 (float32; 37 in float64);
- log(softmax(z)) is then log(0) = -inf, so a cross-entropy on it is infinite and its gradient
  NaN, while log_softmax(z)_k = z_k - max - log sum_j e^{z_j - max} stays finite (it is -200
  exactly for z = (0, 200), k = 1).

:func:`softmax_check` measures all of this on given logits, in float32 and float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuralab.errors import NeuralabError

if TYPE_CHECKING:
    import torch

# torch is imported where the softmax is computed: the inputs are checked without it
DTYPES = ("float32", "float64")
# the course's examples: ordinary logits, a gap float32 rounds to 1, a gap that underflows to 0,
# and logits the naive formula overflows on
DEFAULT_LOGITS = ((1.0, 2.0, 3.0), (0.0, 20.0), (0.0, 200.0), (1000.0, 1001.0, 1002.0))


@dataclass(frozen=True)
class SoftmaxRow:
    """Softmax of one logit vector in one floating-point type."""

    logits: tuple[float, ...]
    dtype: str
    probabilities: tuple[float, ...]  # the stable softmax (max subtracted)
    naive: tuple[float, ...]  # e^z / sum e^z as written
    total: float  # sum of the probabilities
    zeros: int  # outputs that are exactly 0
    ones: int  # outputs that are exactly 1
    log_of_softmax: tuple[float, ...]  # log(softmax(z)): -inf where an output is 0
    log_softmax: tuple[float, ...]  # torch.log_softmax(z): finite
    cross_entropy_via_log: float  # -log(softmax(z))_k for k = argmin z (the least likely class)
    cross_entropy_via_log_softmax: float  # -log_softmax(z)_k, same k
    gradient_finite: bool  # d/dz of -log(softmax(z))_k is finite

    @property
    def open_interval(self) -> bool:
        """Return whether every output is strictly between 0 and 1."""
        return self.zeros == 0 and self.ones == 0


@dataclass(frozen=True)
class SoftmaxReport:
    """Every logit vector in every dtype."""

    rows: list[SoftmaxRow]


def parse_logits(text: str) -> tuple[float, ...]:
    """Return the logits written as ``"0,200"`` or ``"[0, 200]"``."""
    from neuralab.theory.matrices import vector_entries

    logits = tuple(float(v) for v in vector_entries(text, "logits"))
    if len(logits) < 2:
        raise NeuralabError(f"logits {text!r} need at least two entries (one per class)")
    return logits


def parse_dtypes(text: str) -> list[str]:
    """Return the dtype names of ``"float32,float64"``, each one of :data:`DTYPES`."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names or [text]:
        if name not in DTYPES:
            raise NeuralabError(f"unknown dtype {name!r} (valid: {', '.join(DTYPES)})")
    return names


def softmax_row(logits: Sequence[float], dtype: str) -> SoftmaxRow:
    """Return the softmax of ``logits`` computed in ``dtype`` (``float32`` or ``float64``)."""
    import torch

    if dtype not in DTYPES:
        raise NeuralabError(f"unknown dtype {dtype!r} (valid: {', '.join(DTYPES)})")
    if len(logits) < 2 or not all(math.isfinite(v) for v in logits):
        raise NeuralabError(f"logits {list(logits)} must be at least two finite numbers")
    z = torch.tensor(list(logits), dtype=getattr(torch, dtype), requires_grad=True)
    p = torch.softmax(z, dim=0)
    with torch.no_grad():
        naive = torch.exp(z) / torch.exp(z).sum()
        log_softmax = torch.log_softmax(z, dim=0)
    k = int(torch.argmin(z.detach()))
    log_p = torch.log(p)
    loss = -log_p[k]
    (gradient,) = torch.autograd.grad(loss, z)
    return SoftmaxRow(
        logits=tuple(float(v) for v in logits),
        dtype=dtype,
        probabilities=_floats(p),
        naive=_floats(naive),
        total=float(p.detach().sum()),
        zeros=int((p == 0).sum()),
        ones=int((p == 1).sum()),
        log_of_softmax=_floats(log_p),
        log_softmax=_floats(log_softmax),
        cross_entropy_via_log=float(loss.detach()),
        cross_entropy_via_log_softmax=float(-log_softmax[k]),
        gradient_finite=bool(torch.isfinite(gradient).all()),
    )


def softmax_check(
    logits: Sequence[Sequence[float]] = DEFAULT_LOGITS,
    dtypes: Sequence[str] = ("float32", "float64"),
) -> SoftmaxReport:
    """Return :func:`softmax_row` of every logit vector in every dtype."""
    return SoftmaxReport([softmax_row(z, dtype) for z in logits for dtype in dtypes])


def _floats(t: torch.Tensor) -> tuple[float, ...]:
    return tuple(float(v) for v in t.detach().tolist())


__all__ = [
    "DEFAULT_LOGITS",
    "DTYPES",
    "SoftmaxReport",
    "SoftmaxRow",
    "parse_dtypes",
    "parse_logits",
    "softmax_check",
]
