"""A trained playground network as files: PyTorch code that rebuilds it, and its weights as JSON
or safetensors.

``model.py`` needs only torch: ``features(x)`` computes the input features from raw points,
``build_model()`` returns the ``nn.Sequential`` of linear layers and activations (the activation
modules are the ones the shared table names), ``load_weights(model, "weights.json")`` loads the
weights, and ``predict(model, x)`` gives the network's output on raw points. ``weights.json``
maps the Sequential's state-dict keys to nested lists of the float32 values (exact);
``weights.safetensors`` holds the same tensors in the safetensors format (loading it needs the
``safetensors`` package, ``pip install 'neuralab[export]'``).
"""

from __future__ import annotations

import base64
import inspect
import json
from typing import TYPE_CHECKING, Any

from neuralab.errors import NeuralabError
from neuralab.theory.activations import activation_module

if TYPE_CHECKING:
    from neuralab.playground.session import PlaygroundSession

# the generated code's expression of each feature of neuralab.playground.features, on raw x (N, D)
FEATURE_CODE = {
    "x1": "x[:, 0]",
    "x2": "x[:, 1]",
    "x1^2": "x[:, 0] ** 2",
    "x2^2": "x[:, 1] ** 2",
    "x1x2": "x[:, 0] * x[:, 1]",
    "sin_x1": "torch.sin(x[:, 0])",
    "sin_x2": "torch.sin(x[:, 1])",
}


def module_code(name: str) -> tuple[str, str | None]:
    """Return (constructor expression, class source or None) of the activation ``name``.

    Activations that are torch modules are written as ``nn.ReLU()`` (their repr); others (the
    step function) bring their class's source along.
    """
    module = activation_module(name)
    cls = type(module)
    if cls.__module__.startswith("torch.nn"):
        return f"nn.{module!r}", None
    return f"{cls.__name__}()", inspect.getsource(cls)


def model_layers(session: PlaygroundSession) -> list[tuple[str, str | None]]:
    """Return the Sequential's layers as (expression, class source) pairs, in order."""
    plan = session.plan
    model = session.model
    layers: list[tuple[str, str | None]] = []
    for linear, name, p in zip(
        model.layers()[:-1], plan.activations, model.dropout_rates, strict=True
    ):
        layers.append((f"nn.Linear({linear.in_features}, {linear.out_features})", None))
        layers.append(module_code(name))
        if p > 0:
            layers.append((f"nn.Dropout(p={p!r})", None))
    last = model.layers()[-1]
    layers.append((f"nn.Linear({last.in_features}, {last.out_features})", None))
    layers.append(module_code(plan.output))
    return layers


def model_source(session: PlaygroundSession, command: str, weights: str = "weights.json") -> str:
    """Return ``model.py``: features, the network as nn.Sequential, loading and prediction.

    ``weights`` names the weights file its docstring and ``load_weights`` default to; either
    kind (``.json`` or ``.safetensors``) loads.
    """
    plan = session.plan
    missing = [f for f in plan.features if f not in FEATURE_CODE]
    if missing:
        raise NeuralabError(f"feature(s) {', '.join(missing)} cannot be written as code")
    layers = model_layers(session)
    classes = sorted({source for _, source in layers if source is not None})
    feature_lines = ",\n            ".join(FEATURE_CODE[f] for f in plan.features)
    layer_lines = "\n".join(f"        {expression}," for expression, _ in layers)
    kind = (
        "regression: the output is the prediction"
        if plan.task == "regression"
        else f"{plan.num_classes} classes; output {plan.output}"
        + (f", class 1 where y > {plan.threshold:g}" if plan.threshold is not None else ", argmax")
    )
    header = f'''"""A playground network exported by neuralab after {session.epoch} epochs ({session.steps} updates).

Trained with:  {command}
Inputs: raw points x (N, {session.data.input_dim}); features {", ".join(plan.features)}; {kind}.

    model = load_weights(build_model(), "{weights}")
    y = predict(model, torch.tensor([[0.5, -1.0]]))
"""

import json

import torch
from torch import Tensor, nn

FEATURES = {tuple(plan.features)!r}
'''
    body = f'''

def features(x: torch.Tensor) -> torch.Tensor:
    """Return the (N, {len(plan.features)}) input features of raw points x (N, {session.data.input_dim})."""
    if x.dim() == 1:
        x = x.unsqueeze(1)
    return torch.stack(
        [
            {feature_lines},
        ],
        dim=1,
    )


def build_model() -> nn.Sequential:
    """Return the network (untrained): linear layers, each followed by its activation."""
    return nn.Sequential(
{layer_lines}
    )


def load_weights(model: nn.Module, path: str = "{weights}") -> nn.Module:
    """Load the exported weights (.json, or .safetensors) into ``model``; return it in eval mode."""
    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file  # pip install safetensors

        model.load_state_dict(load_file(path))
        return model.eval()
    with open(path, encoding="utf-8") as file:
        state = json.load(file)
    model.load_state_dict({{key: torch.tensor(value, dtype=torch.float32) for key, value in state.items()}})
    return model.eval()


def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Return the network's output (N, {plan.out_features}) on raw points x."""
    with torch.no_grad():
        return model(features(x.float()))
'''
    extra = "".join("\n\n" + source.rstrip() + "\n" for source in classes)
    return header + extra + body


def model_state(session: PlaygroundSession) -> dict[str, Any]:
    """Return the state dict of :func:`build_model`'s Sequential: key -> float32 tensor (a copy)."""
    state: dict[str, Any] = {}
    index = 0
    for expression, _ in model_layers(session):
        if expression.startswith("nn.Linear"):
            linear = session.model.layers()[len([k for k in state if k.endswith(".weight")])]
            state[f"{index}.weight"] = linear.weight.detach().cpu().clone().contiguous()
            state[f"{index}.bias"] = linear.bias.detach().cpu().clone().contiguous()
        index += 1
    return state


def weights_json(session: PlaygroundSession) -> str:
    """Return ``weights.json`` of the network as it is now: key -> nested lists (float32)."""
    state = {key: tensor.tolist() for key, tensor in model_state(session).items()}
    return json.dumps(state, separators=(",", ":"))


def weights_safetensors(session: PlaygroundSession) -> bytes:
    """Return ``weights.safetensors`` of the network as it is now (the same float32 tensors)."""
    try:
        from safetensors.torch import save
    except ImportError:
        raise NeuralabError(
            "weights as safetensors need the safetensors package: pip install 'neuralab[export]' "
            "(or export them as JSON)"
        ) from None
    return save(model_state(session), metadata={"format": "pt"})


def export_files(
    net: Any, what: str, suffix: str, upload: tuple[str, str] | None
) -> list[dict[str, str]]:
    """Return the files of one network's export: ``config`` (its config.yaml, and the uploaded
    CSV it trains on), ``model`` (the model as PyTorch code and its weights as JSON) or
    ``safetensors`` (the same code, the weights as safetensors). A file is ``name``, ``type``
    and its ``text``, or for a binary file its ``base64``."""
    from neuralab.web.urlstate import to_command, to_yaml

    if what == "config":
        text = to_yaml(net.config)
        if net.edited:
            text = (
                "# Settings or weights were changed during training in the browser: this file\n"
                "# trains the final settings from the start.\n" + text
            )
        files = [{"name": f"config{suffix}.yaml", "text": text, "type": "application/yaml"}]
        if upload is not None and net.config.data.startswith("csv:"):
            files.append({"name": upload[0], "text": upload[1], "type": "text/csv"})
        return files
    command = to_command(net.config)
    if what == "safetensors":
        weights = {
            "name": f"weights{suffix}.safetensors",
            "base64": base64.b64encode(weights_safetensors(net.session)).decode("ascii"),
            "type": "application/octet-stream",
        }
    else:
        weights = {
            "name": f"weights{suffix}.json",
            "text": weights_json(net.session),
            "type": "application/json",
        }
    return [
        {
            "name": f"model{suffix}.py",
            "text": model_source(net.session, command, weights["name"]),
            "type": "text/x-python",
        },
        weights,
    ]
