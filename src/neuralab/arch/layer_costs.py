"""Per-layer costs and labels: fan-in, multiply-accumulates and the course's name of each layer.

MACs (multiply-accumulates, one multiplication plus one addition) count the weighted sums only:

* convolution: ``output elements * (C_in / groups) * k_h * k_w``;
* transposed convolution: ``input elements * (C_out / groups) * k_h * k_w`` (every *input*
  position is multiplied into a k_h x k_w window of the output);
* linear: ``output elements * in_features`` (= batch * out_features * in_features);
* batch norm, pooling, activations, dropout, flatten: 0. They are elementwise or comparisons,
  folded into the next layer on inference, and PyTorch's ``FlopCounterMode`` does not count them
  either, so ``total_macs == FLOPs / 2`` of that counter;
* any other leaf module: measured with ``torch.utils.flop_counter.FlopCounterMode`` (FLOPs / 2).

Fan-in is the number of input connections into one output neuron, bias excluded:
``k_h * k_w * C_in / groups`` for a convolution, ``in_features`` for a linear layer, ``k_h * k_w``
for pooling (per channel); ``None`` for elementwise layers.

:func:`layer_kind_label` names a layer the course's way (``conv 5x5, M=20``, ``maxpool 2x2/2``,
``fc K=100``) and sorts it into a kind, for the summary's rows and the diagram's blocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from neuralab.arch.shapes import adaptive_window, per_axis

_ADAPTIVE = (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
_POOL = (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, *_ADAPTIVE)
NORM_LAYERS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)
_RECURRENT_GATES = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}


def is_activation(module: nn.Module) -> bool:
    """Return whether ``module`` is an elementwise activation (torch's or neuralab's table)."""
    origin = type(module).__module__
    return (
        origin == "torch.nn.modules.activation" and not isinstance(module, nn.MultiheadAttention)
    ) or origin == "neuralab.theory.activations"


def _zero_macs(module: nn.Module) -> bool:
    # Elementwise layers and comparisons: no weighted sum (FlopCounterMode counts none either).
    shape_only = (nn.modules.dropout._DropoutNd, nn.Flatten, nn.Unflatten, nn.Identity)
    return isinstance(module, _POOL + NORM_LAYERS + shape_only) or is_activation(module)


def layer_fan_in(module: nn.Module, x: torch.Tensor | None, y: torch.Tensor | None) -> int | None:
    """Return the input connections into one output neuron of ``module`` (bias excluded).

    conv: ``k_h k_w C_in / groups``; transposed conv: at most
    ``ceil(k_h g_h / s_h) ceil(k_w g_w / s_w) C_in / groups`` with ``g = gcd(dilation, stride)``
    (the kernel taps that land on one output position); linear: ``in_features``; pooling:
    ``k_h k_w``; adaptive pooling: the largest window; ``None`` for elementwise layers.
    """
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        taps = math.prod(
            math.ceil(k * math.gcd(d, s) / s)
            for k, s, d in zip(module.kernel_size, module.stride, module.dilation, strict=True)
        )
        return taps * module.in_channels // module.groups
    if isinstance(module, nn.modules.conv._ConvNd):
        return math.prod(module.kernel_size) * module.in_channels // module.groups
    if isinstance(module, nn.Linear):
        return module.in_features
    if isinstance(module, nn.Bilinear):
        return module.in1_features * module.in2_features
    if isinstance(module, nn.modules.pooling._MaxPoolNd | nn.modules.pooling._AvgPoolNd):
        spatial = x.dim() - 2 if x is not None and x.dim() > 2 else 2
        kernel: Any = module.kernel_size
        return int(math.prod(kernel)) if isinstance(kernel, tuple) else int(kernel) ** spatial
    if isinstance(module, _ADAPTIVE) and x is not None and y is not None:
        spatial = min(x.dim(), y.dim()) - 2
        return math.prod(
            adaptive_window(n, m)
            for n, m in zip(x.shape[-spatial:], y.shape[-spatial:], strict=True)
        )
    return None


def _recurrent_macs(module: nn.LSTM | nn.GRU | nn.RNN, x: torch.Tensor) -> int:
    """Return the MACs of a recurrent layer: per step, layer and direction g H (I_l + H_out).

    g gates (LSTM 4, GRU 3, RNN 1), H hidden units, I_l the layer's input size, H_out the state
    size (LSTM ``proj_size`` or H; the projection adds H * proj_size).
    """
    gates = _RECURRENT_GATES[type(module)]
    hidden, directions = module.hidden_size, 2 if module.bidirectional else 1
    projection = getattr(module, "proj_size", 0)
    state = projection or hidden
    steps = x.numel() // x.shape[-1]  # sequence length * batch
    per_step = 0
    for layer in range(module.num_layers):
        size_in = module.input_size if layer == 0 else state * directions
        per_step += directions * (gates * hidden * (size_in + state) + hidden * projection)
    return steps * per_step


def attention_macs(
    module: nn.MultiheadAttention,
    inputs: tuple[Any, ...],
    kwargs: dict[str, Any] | None = None,
) -> int:
    """Return the MACs of multi-head attention on (query, key, value), by position or keyword.

    Per sample: projections L_q E^2 + L_k (k_dim + v_dim) E, scores and weighted sum
    2 L_q L_k E, output projection L_q E^2 (E the embedding size, L the sequence lengths).
    """
    given = {**dict(zip(("query", "key", "value"), inputs[:3], strict=False)), **(kwargs or {})}
    tensors = [given.get(name) for name in ("query", "key", "value")]
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        return 0
    query, key = tensors[0], tensors[1]
    assert isinstance(query, torch.Tensor) and isinstance(key, torch.Tensor)
    axis = 1 if module.batch_first or query.dim() == 2 else 0
    length_q, length_k = query.shape[axis], key.shape[axis]
    batch = query.numel() // (length_q * query.shape[-1])
    e = module.embed_dim
    per_sample = 2 * length_q * e * e + length_k * (module.kdim + module.vdim) * e
    return batch * (per_sample + 2 * length_q * length_k * e)


def layer_macs(module: nn.Module, x: torch.Tensor | None, y: torch.Tensor | None) -> int | None:
    """Return the multiply-accumulates of one call of ``module``, or ``None`` to measure them."""
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        if x is None:
            return None
        per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
        return x.numel() * per_input
    if isinstance(module, nn.modules.conv._ConvNd):
        if y is None:
            return None
        return y.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return None if y is None else y.numel() * module.in_features
    if isinstance(module, nn.Bilinear):
        return None if y is None else y.numel() * module.in1_features * module.in2_features
    if isinstance(module, nn.LSTM | nn.GRU | nn.RNN) and x is not None:
        return _recurrent_macs(module, x)
    if _zero_macs(module):
        return 0
    return None


def has_formula(module: nn.Module) -> bool:
    """Return whether ``module``'s MACs come from a formula here (else FlopCounterMode measures)."""
    # Attention runs as one fused kernel in eval mode, which FlopCounterMode does not see.
    formula: tuple[type[nn.Module], ...] = (
        nn.modules.conv._ConvNd,
        nn.Linear,
        nn.Bilinear,
        nn.LSTM,
        nn.GRU,
        nn.RNN,
        nn.MultiheadAttention,
    )
    return isinstance(module, formula) or _zero_macs(module)


def layer_kind_label(module: nn.Module, output_shape: Sequence[int]) -> tuple[str, str]:
    """Return the kind and the course's label of ``module``: ``("conv", "conv 5x5, M=20")``.

    Kinds: conv, convT, fc, pool, norm, activation, dropout, flatten, other.
    """
    size = "x".join
    if isinstance(module, nn.modules.conv._ConvNd):
        transposed = isinstance(module, nn.modules.conv._ConvTransposeNd)
        text = f"{'convT' if transposed else 'conv'} {size(map(str, module.kernel_size))}"
        if any(s != 1 for s in module.stride):
            text += "/" + size(map(str, sorted(set(module.stride))))
        if module.groups > 1:
            text += f" g={module.groups}"
        return ("convT" if transposed else "conv"), f"{text}, M={module.out_channels}"
    if isinstance(module, nn.Linear):
        return "fc", f"fc K={module.out_features}"
    if isinstance(module, nn.modules.pooling._MaxPoolNd | nn.modules.pooling._AvgPoolNd):
        name = "maxpool" if isinstance(module, nn.modules.pooling._MaxPoolNd) else "avgpool"
        k, s = per_axis(module.kernel_size), per_axis(module.stride or module.kernel_size)
        return "pool", f"{name} {size(map(str, k))}/{size(map(str, sorted(set(s))))}"
    if isinstance(module, _ADAPTIVE):
        name = "avg" if isinstance(module, nn.modules.pooling._AdaptiveAvgPoolNd) else "max"
        reach = "global" if math.prod(output_shape[1:]) == 1 else "adaptive"
        return "pool", f"{reach} {name}pool"
    if isinstance(module, NORM_LAYERS):
        return "norm", "bn" if isinstance(module, nn.modules.batchnorm._BatchNorm) else "norm"
    if is_activation(module):
        return "activation", type(module).__name__.lower().lstrip("_")
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return "dropout", f"dropout {module.p:g}"
    if isinstance(module, nn.Flatten):
        return "flatten", "flatten"
    if isinstance(module, nn.Identity):
        return "activation", "identity"
    return "other", type(module).__name__


__all__ = [
    "NORM_LAYERS",
    "attention_macs",
    "has_formula",
    "is_activation",
    "layer_fan_in",
    "layer_kind_label",
    "layer_macs",
]
