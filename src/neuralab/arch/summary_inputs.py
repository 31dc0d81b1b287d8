"""The inputs of a summary's dry forward pass: one or several, positional or keyword, any dtype.

A summary runs the model once on inputs it makes itself (zeros of the given shapes, with the
batch axis in front) or on tensors the caller gives (``input_data``, torchinfo's name):

* ``"3x32x32"`` or ``(3, 32, 32)``: one input, the model's floating dtype;
* ``["3x32x32", "10"]``: two positional inputs (an image and a vector);
* ``"50:int64"``: 50 token ids (``Embedding`` layers need integers; zeros are a valid id);
* ``input_data=tensor``, ``(t1, t2)`` or ``{"x": t1, "mask": t2}``: the caller's tensors, batch
  axis included; keyword arguments of ``forward`` go in ``forward_kwargs``.

Before anything runs, the inputs are bound to ``forward``'s signature (:func:`bind_forward`), so
a model that takes two inputs given one is one line naming what ``forward`` expects, never a
``TypeError`` from deep inside the model.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import torch
from torch import nn

from neuralab.arch.shapes import fmt_size
from neuralab.arch.summary_names import DTYPE_NAMES, dtype_name
from neuralab.errors import NeuralabError


def torch_dtype(name: str) -> torch.dtype:
    """Return the ``torch.dtype`` named ``name`` (``float32``, ``int64``, ``half``, ...)."""
    dtype = getattr(torch, dtype_name(name))
    assert isinstance(dtype, torch.dtype)
    return dtype


@dataclass(frozen=True)
class InputSpec:
    """One input of the forward pass: the shape of one sample (no batch axis) and its dtype."""

    shape: tuple[int, ...]
    dtype: str = ""  # "" = the model's floating dtype; "int64" for token ids, class labels

    def __str__(self) -> str:
        return fmt_size(self.shape) + (f":{self.dtype}" if self.dtype else "")


# One sample's shape, or one per positional input of forward.
InputShape: TypeAlias = (
    "Sequence[int] | int | str | InputSpec | Sequence[Sequence[int] | str | InputSpec]"
)


def parse_input(text: str) -> InputSpec:
    """Return the :class:`InputSpec` of ``"3x32x32"`` or ``"50:int64"`` (shape, then a dtype)."""
    from neuralab.arch.shapes import parse_shape

    shape_text, _, dtype = text.strip().partition(":")
    shape = parse_shape(shape_text, what="--input", expected="")
    if dtype:
        dtype = dtype_name(dtype)  # refuse an unknown name here, with the valid ones
    return InputSpec(shape, dtype)


def _check_shape(shape: Any) -> tuple[int, ...]:
    from neuralab.arch.model_source import check_input_shape

    return check_input_shape(shape)


def input_specs(input_shape: Any) -> tuple[InputSpec, ...]:
    """Return the inputs named by ``input_shape``: one shape, a ``"3x32x32"`` string, an
    :class:`InputSpec`, or a list of these (one per positional input of ``forward``)."""
    if isinstance(input_shape, InputSpec):
        return (input_shape,)
    if isinstance(input_shape, str):
        return (parse_input(input_shape),)
    if isinstance(input_shape, int) and not isinstance(input_shape, bool):
        return (InputSpec(_check_shape(input_shape)),)
    if isinstance(input_shape, Sequence) and input_shape:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in input_shape):
            return (InputSpec(_check_shape(input_shape)),)
        specs: list[InputSpec] = []
        for item in input_shape:
            if isinstance(item, InputSpec | str) or (
                isinstance(item, Sequence) and not isinstance(item, str)
            ):
                specs.extend(input_specs(item))
            else:
                specs.append(InputSpec(_check_shape(item)))
        return tuple(specs)
    raise NeuralabError(
        f"input shape {input_shape!r} must be sizes like (3, 32, 32), a string like '3x32x32', "
        "or a list of them (one per input of forward)"
    )


@dataclass
class DryInputs:
    """The arguments of one forward call: positional tensors and keyword arguments."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def tensors(self) -> list[torch.Tensor]:
        """Return every tensor of the call, positional first."""
        return [t for t in _tensors((self.args, list(self.kwargs.values())))]

    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """Return each tensor's shape without its batch axis."""
        return tuple(tuple(t.shape[1:]) for t in self.tensors())

    def nbytes(self) -> int:
        """Return the bytes of every input tensor."""
        return sum(t.numel() * t.element_size() for t in self.tensors())

    def describe(self) -> str:
        """Return ``"1 input: 3x32x32"`` or ``"2 inputs: 3x32x32, 10 and keywords mask"``."""
        shapes = [fmt_size(tuple(t.shape[1:])) for t in _tensors(self.args)]
        n = len(self.args)
        text = f"{n} input{'' if n == 1 else 's'}" + (f": {', '.join(shapes)}" if shapes else "")
        if self.kwargs:
            text += f" and keyword{'s' if len(self.kwargs) > 1 else ''} {', '.join(self.kwargs)}"
        return text


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, Mapping):
        return _tensors(list(value.values()))
    return []


def dry_inputs(
    specs: Sequence[InputSpec],
    batch_size: int,
    *,
    device: torch.device,
    dtype: torch.dtype,
    forward_kwargs: Mapping[str, Any] | None = None,
) -> DryInputs:
    """Return zeros of shape ``(batch_size, *spec.shape)`` per input (``dtype`` unless the spec
    names its own), on ``device``, with ``forward_kwargs`` moved there too."""
    if batch_size < 1:
        raise NeuralabError(f"batch size {batch_size} must be >= 1")
    args = tuple(
        torch.zeros(
            (batch_size, *spec.shape),
            device=device,
            dtype=torch_dtype(spec.dtype) if spec.dtype else dtype,
        )
        for spec in specs
    )
    return DryInputs(args, _moved(dict(forward_kwargs or {}), device, dtype))


def given_inputs(
    input_data: Any,
    *,
    device: torch.device,
    dtype: torch.dtype,
    forward_kwargs: Mapping[str, Any] | None = None,
) -> DryInputs:
    """Return the caller's ``input_data`` (a tensor, a tuple/list of them, or a dict of keyword
    arguments; batch axis included) as a call, floating tensors moved to ``device`` and ``dtype``."""
    kwargs = dict(forward_kwargs or {})
    if isinstance(input_data, torch.Tensor):
        args: tuple[Any, ...] = (input_data,)
    elif isinstance(input_data, tuple | list):
        args = tuple(input_data)
    elif isinstance(input_data, Mapping):
        args, kwargs = (), {**dict(input_data), **kwargs}
    else:
        raise NeuralabError(
            f"input_data is a {type(input_data).__name__}; give a tensor, a tuple of tensors "
            "or a dict of keyword arguments (batch axis included)"
        )
    call = DryInputs(tuple(_moved(list(args), device, dtype)), _moved(kwargs, device, dtype))
    if not call.tensors():
        raise NeuralabError("input_data holds no tensor: give at least one input tensor")
    if any(t.dim() == 0 for t in call.tensors()):
        raise NeuralabError("input_data tensors need a batch axis: shape (N, ...), not a scalar")
    return call


def _moved(value: Any, device: torch.device, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device, dtype) if value.is_floating_point() else value.to(device)
    if isinstance(value, list | tuple):
        return type(value)(_moved(v, device, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _moved(v, device, dtype) for k, v in value.items()}
    return value


def forward_signature(model: nn.Module) -> str:
    """Return ``forward``'s parameters as a user reads them: ``"forward(image, label, mask=None)"``."""
    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return "forward(...)"
    names = []
    for p in parameters:
        if p.kind is p.VAR_POSITIONAL:
            names.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            names.append(f"**{p.name}")
        elif p.default is not p.empty:
            names.append(f"{p.name}={p.default!r}")
        else:
            names.append(p.name)
    return f"{type(model).__name__}.forward({', '.join(names)})"


def bind_forward(model: nn.Module, call: DryInputs) -> None:
    """Check that ``call`` fits ``model.forward``'s signature; otherwise one line naming it."""
    try:
        signature = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return  # a builtin forward: let the call itself decide
    try:
        signature.bind(*call.args, **call.kwargs)
    except TypeError as error:
        raise NeuralabError(
            f"{forward_signature(model)} cannot take {call.describe()} ({error}); give one "
            "--input per argument of forward, in order (e.g. --input 3x32x32 --input 10), "
            "or input_data= / keyword arguments in Python"
        ) from None


def run_checked(
    model: nn.Module, call: DryInputs, *, training: bool = False, grad: bool = False
) -> Any:
    """Return ``model``'s output on ``call`` in train or eval mode (with gradients: ``grad``).

    As :func:`neuralab.arch.model_source.checked_forward` does for one input: the arguments are
    bound to ``forward`` first, every conv, linear, batch-norm and pooling layer checks its
    input, and anything else PyTorch refuses becomes one :class:`NeuralabError` line naming the
    inputs. The model's modes are restored; in train mode its buffers (batch-norm running
    statistics) are restored too, so a summary never changes the model.
    """
    from neuralab.arch.model_source import _InputChecker

    bind_forward(model, call)
    shapes = call.shapes()
    checker = _InputChecker(shapes[0] if shapes else ())
    handles = [
        module.register_forward_pre_hook(checker.hook(name or type(module).__name__))
        for name, module in model.named_modules()
    ]
    with preserved_state(model, training=training):
        try:
            with torch.set_grad_enabled(grad):
                return model(*call.args, **call.kwargs)
        except NeuralabError:
            raise
        except Exception as error:  # noqa: BLE001 (any failure of the dry pass is the input's)
            raise forward_error(model, call, error, training=training) from None
        finally:
            for handle in handles:
                handle.remove()


def forward_error(
    model: nn.Module, call: DryInputs, error: BaseException, *, training: bool
) -> NeuralabError:
    """Return the one-line error for a forward pass on ``call`` that raised ``error``."""
    text = str(error).strip()
    first_line = text.splitlines()[0] if text else type(error).__name__
    hint = ""
    if training and "more than 1 value per channel" in text:
        hint = "; batch norm in train mode needs a batch of 2 or more (--batch-size 2)"
    elif isinstance(error, TypeError):
        hint = f"; the model's {forward_signature(model)}"
    return NeuralabError(f"the model cannot run on {call.describe()}: {first_line[:200]}{hint}")


@contextlib.contextmanager
def preserved_state(model: nn.Module, *, training: bool) -> Iterator[nn.Module]:
    """Set ``model``'s mode for a block; restore modes (and, in train mode, buffers) after it."""
    modes = {m: m.training for m in model.modules()}
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()} if training else {}
    model.train(training)
    try:
        yield model
    finally:
        for module, mode in modes.items():
            module.training = mode
        with torch.no_grad():
            for name, buffer in model.named_buffers():
                if name in buffers:
                    buffer.copy_(buffers[name])


__all__ = [
    "DTYPE_NAMES",
    "DryInputs",
    "InputSpec",
    "bind_forward",
    "dry_inputs",
    "forward_signature",
    "given_inputs",
    "input_specs",
    "parse_input",
    "preserved_state",
    "run_checked",
    "torch_dtype",
]
