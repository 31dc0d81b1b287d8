"""A traced model's graph run once: forward's arguments for its placeholders, every node's shape.

:mod:`neuralab.arch.receptive_graph` propagates receptive fields along a ``torch.fx`` graph; it
needs each node's output shape, which one run of the graph gives (on the meta device when
torch's meta kernels are already loaded). torch is imported inside the functions.
"""

from __future__ import annotations

import functools
from typing import Any


def placeholder_values(
    model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Return forward's arguments in order (for fx's placeholders) and the non-tensor ones.

    Non-tensor arguments (``mask=None``, a flag) are traced as constants: ``if mask is not
    None`` then follows the value given, as the real call does.
    """
    import inspect

    import torch

    signature = inspect.signature(model.forward)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values, concrete = [], {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError("fx traces no *args / **kwargs forward")  # the hooks handle it
        values.append(value)
        if not isinstance(value, torch.Tensor):
            concrete[name] = value
    return values, concrete


# what the first run of an op on the meta device imports (its Python meta kernels and refs)
META_KERNELS = ("torch._dynamo", "torch.fx.experimental.symbolic_shapes")


def node_shapes(graph_module: Any, values: tuple[Any, ...]) -> dict[Any, Any]:
    """Return every fx node's output shape (None for non-tensors), from one run of the graph.

    The run is on the ``meta`` device when the graph allows it and torch's meta kernels are
    already imported (a torchvision model imports them): shapes without arithmetic, so this
    second pass of ``summary`` costs a fraction of a forward pass (resnet18 at 224x224: the
    real run took as long as the summary's own forward). Parameters are swapped for meta
    tensors by ``torch.func.functional_call`` and restored; the model is not modified. An op
    without a meta kernel falls back to the real run. Importing the meta kernels costs about
    1 s (``torch._dynamo``, sympy), more than a real pass of a course-sized network, so
    without them the graph runs for real on one sample. On meta, a layer whose output shape
    follows from the layer alone (elementwise layers, batch norm, a 2-d convolution) is not run:
    its output is an empty meta tensor of that shape (:func:`_known_output`).
    """
    import sys

    import torch
    import torch.fx

    shapes: dict[Any, Any] = {}

    class _Recorder(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            out = super().run_node(n)
            shapes[n] = tuple(out.shape) if isinstance(out, torch.Tensor) else None
            return out

        def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
            x = args[0] if len(args) == 1 and not kwargs else None
            if isinstance(x, torch.Tensor) and x.is_meta:
                known = _known_output(self.fetch_attr(target), x)
                if known is not None:
                    return known
            return super().call_module(target, args, kwargs)

    class _Run(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.graph_module = graph_module

        def forward(self, *inputs: Any) -> Any:
            return _Recorder(self.graph_module).run(*inputs)

    if all(name in sys.modules for name in META_KERNELS):
        runner = _Run()
        tensors = {**dict(runner.named_parameters()), **dict(runner.named_buffers())}
        on_meta = {name: tensor.to("meta") for name, tensor in tensors.items()}
        try:
            meta_values = tuple(v.to("meta") if isinstance(v, torch.Tensor) else v for v in values)
            torch.func.functional_call(runner, on_meta, meta_values)
            return shapes
        except Exception:  # an op without a meta kernel: run it for real
            shapes.clear()
    _Recorder(graph_module).run(*values)
    return shapes


def _known_output(module: Any, x: Any) -> Any:
    """Return an empty meta tensor of ``module``'s output on ``x`` (meta) where the shape
    follows from the layer alone, else None (the module then runs on meta).

    Elementwise layers keep the shape; a 2-d convolution with numeric padding gives
    n_out = floor((n + 2p - d (k - 1) - 1) / s) + 1 per axis. torch's meta kernels of conv and
    batch norm check their arguments in Python with symbolic-shape guards: resnet18's 60 such
    layers took 12 ms of an 18 ms meta run at 224x224.
    """
    import torch
    from torch import nn

    if isinstance(module, _elementwise()) and (
        not isinstance(module, nn.BatchNorm2d)
        or (x.dim() == 4 and x.shape[1] == module.num_features)
    ):
        return torch.empty_like(x)
    if (
        type(module) is nn.Conv2d
        and x.dim() == 4
        and x.shape[1] == module.in_channels
        and not isinstance(module.padding, str)
        and module.padding_mode == "zeros"
    ):
        size = []
        for axis in range(2):
            n = x.shape[2 + axis] + 2 * module.padding[axis]
            span = module.dilation[axis] * (module.kernel_size[axis] - 1) + 1
            if span > n:
                return None  # the module's own error names it
            size.append((n - span) // module.stride[axis] + 1)
        return x.new_empty((x.shape[0], module.out_channels, *size))
    return None


@functools.cache
def _elementwise() -> tuple[type, ...]:
    from torch import nn

    return (
        nn.BatchNorm2d,
        nn.ReLU,
        nn.ReLU6,
        nn.SiLU,
        nn.GELU,
        nn.Hardswish,
        nn.Hardsigmoid,
        nn.Sigmoid,
        nn.Tanh,
        nn.LeakyReLU,
        nn.Dropout,
        nn.Identity,
    )


__all__ = ["META_KERNELS", "node_shapes", "placeholder_values"]
