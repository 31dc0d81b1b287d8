"""The empirical receptive field: the support of one output unit's gradient on the input.

A check of :mod:`neuralab.arch.receptive_graph` that needs no layer table: whatever the model
does, the input pixels with a nonzero gradient are the ones the unit depends on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.arch.receptive import Pair, check_image_shape
from neuralab.arch.shapes import as_pair, pool_output_size
from neuralab.errors import NeuralabError


def _window_average(kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool) -> Any:
    """Return a module averaging over a max-pool's windows (same geometry, every input counts)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    k, d = as_pair(kernel, "kernel size"), as_pair(dilation, "dilation")
    s = as_pair(stride if stride is not None else kernel, "stride")
    p = as_pair(padding, "padding", minimum=0)

    class WindowAverage(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n = (int(x.shape[-2]), int(x.shape[-1]))
            out = pool_output_size(n, k, s, p, d, ceil_mode)
            assert isinstance(out, tuple)
            # pad the right/bottom enough for ceil_mode's last window, then crop to PyTorch's size
            extra = [
                max((out[a] - 1) * s[a] + d[a] * (k[a] - 1) + 1 - n[a] - p[a], 0) for a in range(2)
            ]
            x = F.pad(x, (p[1], extra[1], p[0], extra[0]))
            channels = x.shape[1]
            weight = x.new_full((channels, 1, k[0], k[1]), 1.0 / (k[0] * k[1]))
            y = F.conv2d(x, weight, stride=s, dilation=d, groups=channels)
            return y[..., : out[0], : out[1]]

    return WindowAverage()


def _positive_copy(model: Any) -> Any:
    """Return a float64 eval-mode copy with positive weights and max-pools turned into averages."""
    import copy

    import torch
    from torch import nn

    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                fan_in = module.weight[0].numel()
                module.weight.fill_(1.0 / fan_in)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                if module.affine:
                    module.weight.fill_(1.0)
                    module.bias.zero_()
                if module.running_mean is not None and module.running_var is not None:
                    module.running_mean.zero_()
                    module.running_var.fill_(1.0)
    for name, module in list(net.named_modules()):
        replacement = None
        if isinstance(module, nn.MaxPool2d):
            replacement = _window_average(
                module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode
            )
        elif isinstance(module, nn.AdaptiveMaxPool2d):
            replacement = nn.AdaptiveAvgPool2d(module.output_size)
        if replacement is not None:
            parent_name, _, child = name.rpartition(".")
            setattr(net.get_submodule(parent_name), child, replacement)
    return net


def gradient_receptive_field(
    model: Any, input_shape: Sequence[int], output_module: str | None = None
) -> Pair:
    """Return (rh, rw): the height and width of the input region one output unit depends on.

    The empirical check of :func:`module_receptive_fields`: on a float64 copy with every
    conv/linear weight set to 1/fan_in (bias 0), batch norm neutral and max-pools replaced by
    average pools of the same geometry (a max passes gradient to one input only), the centre
    unit of ``output_module``'s output (default: the last module with a spatial output) is
    backpropagated to an all-ones input; the nonzero gradient's bounding box is the receptive
    field. Away from the borders it equals the analytic r. Functional max-pools inside
    ``forward`` cannot be replaced and make the measured field smaller.
    """
    import torch

    shape = check_image_shape(input_shape)
    if shape is None:
        raise NeuralabError("a receptive field needs an image input (C, H, W), not (features,)")
    net = _positive_copy(model)
    names = dict(net.named_modules())
    if output_module is not None and output_module not in names:
        from neuralab.errors import unknown_name_error

        raise unknown_name_error("module", output_module, [n for n in names if n])
    outputs: dict[str, Any] = {}
    order: list[str] = []

    class _Reached(Exception):
        """Raised once the chosen module has run: the layers after it are not needed."""

    def hook(name: str) -> Any:
        def run(module: Any, inputs: Any, output: Any) -> None:
            if isinstance(output, torch.Tensor):
                outputs[name] = output
                order.append(name)
                if name == output_module:
                    raise _Reached

        return run

    handles = [m.register_forward_hook(hook(n)) for n, m in names.items() if n]
    parameter = next(net.parameters(), None)
    device = parameter.device if parameter is not None else "cpu"
    x = torch.ones(1, *shape, dtype=torch.float64, device=device, requires_grad=True)
    final = None
    try:
        final = net(x)
    except _Reached:  # the hook stopped the forward pass at output_module: final stays None
        final = None
    finally:
        for handle in handles:
            handle.remove()
    target: Any = final
    if output_module is None:
        spatial = [n for n in order if outputs[n].dim() == 4]
        if spatial:
            target = outputs[spatial[-1]]
    else:
        target = outputs.get(output_module)
    if not isinstance(target, torch.Tensor):
        if output_module is not None:
            raise NeuralabError(f"module {output_module!r} did not produce a tensor in forward")
        raise NeuralabError("the model's forward did not return a tensor")
    if target.dim() == 4:
        unit = target[0, :, target.shape[2] // 2, target.shape[3] // 2].sum()
    else:
        unit = target.reshape(target.shape[0], -1)[0, 0]
    (grad,) = torch.autograd.grad(unit, x)
    support = grad[0].abs().sum(dim=0) > 0  # (H, W)
    rows = torch.nonzero(support.any(dim=1)).flatten()
    cols = torch.nonzero(support.any(dim=0)).flatten()
    if len(rows) == 0:
        return 0, 0
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


__all__ = ["gradient_receptive_field"]
