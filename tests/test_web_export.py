"""A network exported as PyTorch code and JSON or safetensors weights computes what the engine's
network computes."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.features import feature_matrix, list_features
from neuralab.playground.session import PlaygroundSession
from neuralab.theory.activations import list_activations
from neuralab.web.export import FEATURE_CODE, model_source, weights_json
from neuralab.web.urlstate import to_command


def exported(session: PlaygroundSession, folder: Path):
    (folder / "model.py").write_text(model_source(session, to_command(session.config)))
    (folder / "weights.json").write_text(weights_json(session))
    spec = importlib.util.spec_from_file_location(f"exported_{id(session)}", folder / "model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.load_weights(module.build_model(), str(folder / "weights.json"))


def test_every_feature_has_code_that_computes_it(tmp_path):
    assert set(FEATURE_CODE) == set(list_features())
    session = PlaygroundSession(
        PlaygroundConfig(features=tuple(list_features()), hidden=(3,), epochs=1)
    )
    module, _ = exported(session, tmp_path)
    x = torch.randn(20, 2) * 3
    assert torch.equal(module.features(x), feature_matrix(x, list_features()))


HIDDEN = [a for a in list_activations() if a != "softmax"]


@pytest.mark.parametrize("activation", HIDDEN)
def test_every_hidden_activation_exports(activation, tmp_path):
    config = PlaygroundConfig(
        data="xor", n=60, hidden=(4, 3), activation=activation, epochs=2, seed=1
    )
    session = PlaygroundSession(config)
    session.run_epoch()
    module, model = exported(session, tmp_path)
    x = torch.rand(30, 2) * 10 - 5
    assert torch.allclose(module.predict(model, x), session.result().predict(x), atol=1e-6)


@pytest.mark.parametrize(
    "settings",
    [
        {"data": "blobs", "classes": 4},  # softmax output
        {"data": "plane"},  # linear output, regression
        {"loss": "mse"},  # tanh output
        {"hidden": (), "features": ("x1^2", "x2^2")},  # logistic regression on features
        {"dropout": 0.3},  # dropout layers (identity at inference)
        {"data": "curve", "features": ("x1", "sin_x1")},  # 1-D inputs
    ],
)
def test_outputs_and_shapes_export(settings, tmp_path):
    session = PlaygroundSession(PlaygroundConfig(n=80, epochs=2, **settings))
    session.run_epoch()
    module, model = exported(session, tmp_path)
    x = torch.rand(25, 1 if settings.get("data") == "curve" else 2) * 6 - 3
    assert torch.allclose(module.predict(model, x), session.result().predict(x), atol=1e-6)


def test_weights_are_the_models_float32_values(tmp_path):
    session = PlaygroundSession(PlaygroundConfig(hidden=(3,), epochs=1))
    state = json.loads(weights_json(session))
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    first = session.model.layers()[0].weight.detach()
    assert torch.equal(torch.tensor(state["0.weight"], dtype=torch.float32), first)
    source = model_source(session, "neuralab playground --hidden 3")
    assert "neuralab playground --hidden 3" in source and "after 0 epochs" in source


def test_weights_as_safetensors_are_the_same_tensors_and_model_py_loads_them(tmp_path):
    safetensors = pytest.importorskip("safetensors.torch", reason="pip install 'neuralab[export]'")
    from neuralab.web.export import export_files
    from neuralab.web.network import Network

    net = Network("b", PlaygroundConfig(data="xor", n=60, hidden=(4, 3), seed=2), run=1)
    net.session.run_epoch()
    code, weights = export_files(net, "safetensors", "-b", upload=None)
    assert (code["name"], weights["name"]) == ("model-b.py", "weights-b.safetensors")
    path = tmp_path / weights["name"]
    path.write_bytes(base64.b64decode(weights["base64"]))
    tensors = safetensors.load_file(path)
    as_json = json.loads(weights_json(net.session))
    assert (
        sorted(tensors)
        == sorted(as_json)
        == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    )
    for key, values in as_json.items():
        assert tensors[key].dtype == torch.float32
        assert torch.equal(tensors[key], torch.tensor(values, dtype=torch.float32))
    (tmp_path / code["name"]).write_text(code["text"])
    assert 'load_weights(build_model(), "weights-b.safetensors")' in code["text"]
    spec = importlib.util.spec_from_file_location("exported_safetensors", tmp_path / code["name"])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.load_weights(module.build_model(), str(path))
    x = torch.rand(30, 2) * 10 - 5
    assert torch.allclose(module.predict(model, x), net.session.result().predict(x), atol=1e-6)


def test_without_the_safetensors_package_the_export_says_what_to_install(monkeypatch):
    import sys

    from neuralab.errors import NeuralabError
    from neuralab.web.export import weights_safetensors

    monkeypatch.setitem(sys.modules, "safetensors.torch", None)  # import fails
    session = PlaygroundSession(PlaygroundConfig(hidden=(3,), epochs=1))
    with pytest.raises(NeuralabError, match=r"pip install 'neuralab\[export\]'"):
        weights_safetensors(session)
