"""Resolve a model source (spec, torchvision name, ``module:factory``) and run it on a dry input.

A *model source* is how a person names a network on the command line:

* a layer spec, ``"conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(10)"`` (has ``(`` or ``->``,
  or is one bare layer name such as ``relu``), built by :func:`neuralab.arch.spec.build_model`;
* a torchvision classification model, ``resnet18``, ``vgg16``, ... built with ``weights=None``
  (nothing is downloaded);
* ``package.module:factory``, a function (or ``nn.Module`` class) of the user's own code, imported
  with :mod:`importlib` (never evaluated) and called without arguments.

:func:`checked_forward` runs a model once on zeros and turns every shape mismatch into a
:class:`~neuralab.errors.NeuralabError` that names the layer and the sizes involved, so no torch
traceback reaches a user who typed the wrong ``--input``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch import nn

from neuralab.arch.model_names import is_spec, source_kind
from neuralab.arch.shapes import fmt_size, per_axis
from neuralab.errors import NeuralabError, unknown_name_error

__all__ = [
    "check_input_shape",
    "checked_forward",
    "is_spec",
    "load_model",
    "model_device_dtype",
    "torchvision_model_names",
]


def check_input_shape(input_shape: Sequence[int] | int) -> tuple[int, ...]:
    """Return ``input_shape`` (one sample, no batch axis, e.g. C, H, W) as a tuple of ints >= 1."""
    given: Any = input_shape
    if isinstance(given, int) and not isinstance(given, bool):
        given = (given,)
    try:
        values = tuple(given)
    except TypeError:
        raise NeuralabError(
            f"input shape {input_shape!r} is not a sequence of sizes like (3, 32, 32)"
        ) from None
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise NeuralabError(
            f"input shape {input_shape!r} must be positive integers like (3, 32, 32) (C, H, W)"
        )
    if any(v <= 0 for v in values):
        raise NeuralabError(
            f"input shape {fmt_size(values)} has a zero or negative size; every size must be >= 1"
        )
    return values


def torchvision_model_names() -> list[str]:
    """Return the names of torchvision's classification models (those built without downloads)."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def load_model(
    source: str | nn.Module,
    input_shape: Sequence[int] | int,
    *,
    check: bool = True,
    batch_size: int = 1,
    initialise: bool = True,
) -> nn.Module:
    """Return the ``nn.Module`` named by ``source``, checked to run on one ``input_shape`` sample.

    ``source`` is an ``nn.Module`` (used as is), a spec string, a torchvision model name or
    ``package.module:factory``. With ``check`` the model runs once on zeros (:func:`checked_forward`)
    so a wrong channel count or a too-small input is reported here, as a one-line error. A spec or
    a torchvision name is first built on the meta device and refused above the memory limit
    (weights and a forward pass of ``batch_size`` samples; :mod:`neuralab.arch.model_memory`).
    Without ``initialise`` a torchvision model's weights and buffers are zeros instead of a
    random initialisation, for arithmetic that needs a forward pass but no particular values
    (a summary): built on the meta device and then allocated, which skips the initialisers
    (resnet18: 0.2 s, as long as the summary's own forward pass at 224x224).
    """
    shape = check_input_shape(input_shape)
    if isinstance(source, nn.Module):
        model = source
    elif not isinstance(source, str):
        raise NeuralabError(
            f"model {source!r} is neither an nn.Module nor a string "
            "(a spec, a torchvision name or module:factory)"
        )
    else:
        text = source.strip()
        if not text:
            raise NeuralabError(
                "the model is empty; give a spec, a torchvision name or module:factory"
            )
        kind = source_kind(text)  # refuses a mistyped name before torchvision is imported
        from neuralab.arch.model_memory import build_within_limit

        if kind == "factory":
            model = _from_factory(text)  # the user's code: not built twice (nor on meta)
        elif kind == "spec":
            from neuralab.arch.spec import build_model, call_output_shapes

            model = build_within_limit(
                lambda: build_model(text, shape),
                shape,
                f"the spec {text[:60]!r}",
                batch_size=batch_size,
                output_shapes=lambda: call_output_shapes(text, shape),
            )
        else:
            _check_torchvision_name(text)
            model = build_within_limit(
                lambda: _from_torchvision(text, initialise=initialise),
                shape,
                f"model {text}",
                batch_size=batch_size,
            )
    if check:
        checked_forward(model, shape)
    return model


def _check_torchvision_name(name: str) -> None:
    names = torchvision_model_names()
    if name not in names:
        raise unknown_name_error("model", name, names)


def _from_torchvision(name: str, *, initialise: bool = True) -> nn.Module:
    import torchvision

    _check_torchvision_name(name)
    # weights=None: a random initialisation, nothing downloaded.
    if not initialise:
        try:
            with torch.device("meta"):
                model = torchvision.models.get_model(name, weights=None)
        except Exception:  # noqa: BLE001 (a builder that computes on values: regnet's widths)
            return torchvision.models.get_model(name, weights=None)
        return _zeros_on_cpu(model)
    return torchvision.models.get_model(name, weights=None)


def _zeros_on_cpu(model: nn.Module) -> nn.Module:
    """Return ``model`` (on the meta device) allocated on the CPU with every tensor zero."""
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        for tensor in (*model.parameters(), *model.buffers()):
            tensor.zero_()
    return model


@contextlib.contextmanager
def _working_directory_importable() -> Iterator[None]:
    # The console script's sys.path does not hold the current folder; `mymodels:net` should
    # still find ./mymodels.py as it would under `python -m`.
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(cwd)


def _from_factory(source: str) -> nn.Module:
    module_name, attribute = source.split(":")
    with _working_directory_importable():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            raise NeuralabError(
                f"cannot import {module_name!r} for model {source!r}: {error}; "
                "give package.module:factory with the module on the Python path"
            ) from None
        except Exception as error:  # the user's module itself failed while importing
            raise NeuralabError(
                f"importing {module_name!r} for model {source!r} failed: "
                f"{type(error).__name__}: {error}"
            ) from None
    if not hasattr(module, attribute):
        public = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise unknown_name_error(f"factory in module {module_name!r}", attribute, public)
    factory = getattr(module, attribute)
    if isinstance(factory, nn.Module):
        return factory
    if not callable(factory):
        raise NeuralabError(
            f"{source!r} is a {type(factory).__name__}, not a function returning an nn.Module"
        )
    try:
        model = factory()
    except Exception as error:
        raise NeuralabError(
            f"calling {source}() without arguments failed: {type(error).__name__}: {error}"
        ) from None
    if not isinstance(model, nn.Module):
        raise NeuralabError(f"{source}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model


class _InputChecker:
    """Forward pre-hooks that compare each layer's input with what the layer expects."""

    def __init__(self, input_shape: tuple[int, ...]) -> None:
        self.input_shape = input_shape
        self.first_weighted = True  # the first conv / linear the data reaches

    def _where(self) -> str:
        return f"(input shape {fmt_size(self.input_shape)})"

    def hook(self, name: str) -> Callable[[nn.Module, tuple[Any, ...]], None]:
        def check(module: nn.Module, inputs: tuple[Any, ...]) -> None:
            if not inputs or not isinstance(inputs[0], torch.Tensor):
                return
            x = inputs[0]
            first = self.first_weighted
            if isinstance(module, nn.modules.conv._ConvNd | nn.Linear):
                self.first_weighted = False
            label = f"{name} ({type(module).__name__})"
            if isinstance(module, nn.modules.conv._ConvNd):
                self._check_conv(module, x, label, first)
            elif isinstance(module, nn.Linear):
                self._check_linear(module, x, label)
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                if x.dim() >= 2 and x.shape[1] != module.num_features:
                    raise NeuralabError(
                        f"layer {label} expects {module.num_features} channels but gets "
                        f"{x.shape[1]} {self._where()}"
                    )
            elif isinstance(module, nn.modules.pooling._MaxPoolNd | nn.modules.pooling._AvgPoolNd):
                self._check_window(module, x, label, "window")

        return check

    def _check_conv(self, module: Any, x: torch.Tensor, label: str, first: bool) -> None:
        spatial = len(module.kernel_size)
        if x.dim() not in (spatial + 1, spatial + 2):
            raise NeuralabError(
                f"layer {label} needs inputs with {spatial} spatial axes (C{'xH' if spatial > 1 else ''}"
                f"{'xW' if spatial > 1 else 'xL'}) but gets a tensor of shape "
                f"{fmt_size(x.shape[1:])} {self._where()}"
            )
        channels = x.shape[-spatial - 1]
        if channels != module.in_channels:
            s = "" if channels == 1 else "s"
            if first:
                raise NeuralabError(
                    f"input has {channels} channel{s} but {label} expects {module.in_channels} "
                    f"{self._where()}; use --input {module.in_channels}x..."
                )
            raise NeuralabError(
                f"layer {label} gets {channels} channel{s} but expects {module.in_channels} "
                f"{self._where()}"
            )
        if not isinstance(module, nn.modules.conv._ConvTransposeNd):
            self._check_window(module, x, label, "kernel")

    def _check_window(self, module: Any, x: torch.Tensor, label: str, what: str) -> None:
        kernel = module.kernel_size
        spatial = len(kernel) if isinstance(kernel, tuple | list) else max(x.dim() - 2, 1)
        if x.dim() < spatial + 1 or isinstance(module.padding, str):
            return  # padding="same"/"valid" is resolved by PyTorch itself
        size = tuple(x.shape[-spatial:])
        k = per_axis(kernel, spatial)
        p = per_axis(module.padding, spatial)
        d = per_axis(getattr(module, "dilation", 1), spatial)
        effective = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d, strict=True))
        padded = tuple(n + 2 * pi for n, pi in zip(size, p, strict=True))
        if any(e > n for e, n in zip(effective, padded, strict=True)):
            dilated = "" if all(di == 1 for di in d) else f" (dilation {fmt_size(d)})"
            raise NeuralabError(
                f"{what} {fmt_size(k)}{dilated} of layer {label} is larger than its padded input "
                f"{fmt_size(padded)} (size {fmt_size(size)} + padding {fmt_size(p)} per side) "
                f"{self._where()}; use a larger input"
            )

    def _check_linear(self, module: nn.Linear, x: torch.Tensor, label: str) -> None:
        if x.shape[-1] != module.in_features:
            raise NeuralabError(
                f"layer {label} expects {module.in_features} input features but gets "
                f"{x.shape[-1]} {self._where()}; this model needs a different input size"
            )


def model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Return the device and floating dtype of ``model``'s first parameter (CPU float32 if none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def checked_forward(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 1) -> Any:
    """Return ``model``'s output on zeros of shape ``(batch_size, *input_shape)``, run in eval mode.

    Every conv, linear, batch-norm and pooling layer first checks its input (channel count,
    features, kernel against the padded input); anything else PyTorch refuses becomes a
    :class:`NeuralabError` naming the input shape. The model's train/eval mode is restored.
    """
    shape = check_input_shape(input_shape)
    if batch_size < 1:
        raise NeuralabError(f"batch size {batch_size} must be >= 1")
    checker = _InputChecker(shape)
    handles = [
        module.register_forward_pre_hook(checker.hook(name or type(module).__name__))
        for name, module in model.named_modules()
    ]
    device, dtype = model_device_dtype(model)
    was_training = model.training
    model.eval()  # batch norm uses its running statistics; dropout is off
    try:
        with torch.no_grad():
            return model(torch.zeros((batch_size, *shape), device=device, dtype=dtype))
    except NeuralabError:
        raise
    except (RuntimeError, ValueError, IndexError) as error:
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise NeuralabError(
            f"the model cannot run on input shape {fmt_size(shape)}: {first_line}"
        ) from None
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
