"""Export: a tiny digits run written as ONNX, TorchScript and safetensors, each run and compared."""

from __future__ import annotations

import importlib.util
import json
import warnings

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.vision.export import NormalizedModel, export_run
from neuralab.vision.inference import load_trained_run
from neuralab.vision.loader import Normalization
from neuralab.vision.train import train
from train_configs import tiny


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A 1-epoch digits run with per-channel statistics (the export must carry them)."""
    folder = tmp_path_factory.mktemp("export")
    config = tiny(folder, epochs=1, normalization="per_channel", seed=5)
    return train(config, progress=False, report=False).run_dir


def _needs(*packages: str) -> None:
    for package in packages:
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} not installed (pip install 'neuralab[export]')")


def _digits(run_dir, count: int = 16) -> torch.Tensor:
    """Return the run's first test images as float32 in [0, 1] and the PyTorch model's logits."""
    run = load_trained_run(run_dir, device="cpu")
    images = run.split("test")[0][:count].float().div(255)
    with torch.no_grad():
        return images, run.model(run.inputs.normalization(images))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_runs_without_neuralab_and_matches(finished, tmp_path):
    result = export_run(finished, format="torchscript", output=tmp_path / "net.pt")
    assert result.check is not None and result.check.passed
    assert result.check.runtime == "torch.jit.load" and result.check.images == 256  # of 360
    assert result.check.top1_agreement == 1.0
    files = {"neuralab.json": ""}
    loaded = torch.jit.load(str(tmp_path / "net.pt"), _extra_files=files)
    metadata = json.loads(files["neuralab.json"])
    assert json.loads(metadata["classes"]) == [str(d) for d in range(10)]
    images, logits = _digits(finished)
    # the file holds the normalisation: raw [0, 1] images in, the same logits out
    assert torch.allclose(loaded(images), logits, atol=1e-5)


def test_safetensors_loads_into_a_fresh_model(finished, tmp_path):
    _needs("safetensors")
    from safetensors import safe_open

    result = export_run(finished, format="safetensors", checkpoint="last", output=tmp_path / "w")
    assert result.check is not None and result.check.passed
    assert result.check.max_abs_diff <= 1e-4 * 10
    with safe_open(str(tmp_path / "w"), framework="pt") as file:
        metadata = file.metadata()
        keys = set(file.keys())
    run = load_trained_run(finished, which="last", device="cpu")
    assert keys == set(run.model.state_dict())
    assert json.loads(metadata["normalization"])["mode"] == "per_channel"
    assert json.loads(metadata["input_shape"]) == [1, 8, 8]


def test_onnx_runs_in_onnxruntime_and_matches(finished, tmp_path):
    _needs("onnx", "onnxscript", "onnxruntime")
    import onnx
    import onnxruntime

    result = export_run(finished, format="onnx", check_images=64)
    assert result.path == str(finished / "model-best.onnx")
    assert result.check is not None and result.check.passed and result.check.images == 64
    assert result.check.runtime.startswith("onnxruntime")
    graph = onnx.load(result.path)
    metadata = {entry.key: entry.value for entry in graph.metadata_props}
    assert metadata["producer"] == "neuralab" and metadata["model"] == "cnn"
    session = onnxruntime.InferenceSession(result.path, providers=["CPUExecutionProvider"])
    images, logits = _digits(finished, count=5)  # another batch size than the export's 1
    (out,) = session.run(None, {"images": images.numpy()})
    assert out.shape == (5, 10)
    assert torch.allclose(torch.from_numpy(out), logits, atol=1e-4)


def test_onnx_without_onnxruntime_is_written_but_not_checked(finished, tmp_path, monkeypatch):
    _needs("onnx", "onnxscript")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "onnxruntime" else find_spec(name, *args),
    )
    result = export_run(finished, format="onnx", output=tmp_path / "m.onnx", check_images=8)
    assert result.check is None and "pip install 'neuralab[export]'" in result.skipped
    assert (tmp_path / "m.onnx").is_file()


def test_normalized_model_matches_every_normalization():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    images = torch.rand(4, 3, 2, 2)
    per_channel = Normalization.from_images((images * 255).to(torch.uint8), mode="per_channel")
    for normalization in (per_channel, Normalization(mode="per_image"), Normalization(mode="none")):
        wrapped = NormalizedModel(normalization, model)
        assert torch.allclose(wrapped(images), model(normalization(images)), atol=1e-6)


@pytest.mark.parametrize(
    "name",
    ["cnn", "mlp", "plain", "residual", "resnet18", "spec:conv(4,3) -> relu -> flatten -> fc(10)"],
)
def test_every_registry_model_traces(name):
    """torch.jit.trace (the torchscript export) takes every model of the registry (1x8x8 digits);
    resnet18 upsamples small images, by a size that must be Python ints to be traced."""
    from neuralab.vision.models import get_model

    torch.manual_seed(0)
    model = get_model(name, num_classes=10, input_shape=(1, 8, 8)).eval()
    wrapped = NormalizedModel(Normalization(mode="per_image"), model)
    images = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        expected = wrapped(images)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(wrapped, images[:1])
        assert torch.allclose(traced(images), expected, atol=1e-5)


def test_bad_requests_are_one_line(finished, tmp_path, monkeypatch):
    with pytest.raises(NeuralabError, match="unknown export format 'tflite'"):
        export_run(finished, format="tflite")
    with pytest.raises(NeuralabError, match="run directory '.*nowhere' does not exist"):
        export_run(tmp_path / "nowhere", format="torchscript")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NeuralabError, match="run directory '.*empty' has no best.pt"):
        export_run(tmp_path / "empty", format="torchscript")
    with pytest.raises(NeuralabError, match="checkpoint must be best or last"):
        export_run(finished, format="torchscript", checkpoint="middle")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(NeuralabError, match=r"needs the 'safetensors' package.*neuralab\[export\]"):
        export_run(finished, format="safetensors")


def test_cli_export(run_cli, finished, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # the table and the notes unwrapped
    result = run_cli(
        "export", str(finished), "--format", "torchscript", "-o", str(tmp_path / "m.pt")
    )
    assert result.exit_code == 0, result.stderr
    assert "torch.jit.load" in result.stdout and f"wrote {tmp_path / 'm.pt'}" in result.stdout
    missing = run_cli("export", str(tmp_path / "nowhere"), "--format", "onnx")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("neuralab: error: run directory")
    assert not list(tmp_path.glob(".*.tmp"))  # nothing half-written left behind


def test_a_file_that_fails_its_check_is_not_kept(finished, tmp_path, monkeypatch):
    """An export whose logits are off by 1 (a broken file) is refused and leaves nothing."""
    _needs("safetensors")
    import neuralab.vision.export as export

    run_file = export._run_safetensors
    monkeypatch.setattr(export, "_run_safetensors", lambda *args: run_file(*args) + 1.0)
    target = tmp_path / "w.safetensors"
    with pytest.raises(
        NeuralabError,
        match=r"differs from the PyTorch model by 1 \(tolerance 0.0001\) on 32 test images; not written",
    ):
        export_run(finished, format="safetensors", output=target, check_images=32)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one
