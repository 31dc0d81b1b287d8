"""Model sources: torchvision names, module:factory, nn.Module, and input checks before torch."""

from __future__ import annotations

import sys
import textwrap

import pytest
import torch
from torch import nn

from neuralab.arch.model_source import (
    check_input_shape,
    checked_forward,
    is_spec,
    load_model,
    torchvision_model_names,
)
from neuralab.errors import NeuralabError


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    """A user's module ``mymodels`` on the Python path with good and bad factories."""
    (tmp_path / "mymodels.py").write_text(
        textwrap.dedent(
            """
            from torch import nn

            def small_cnn():
                return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))

            def not_a_model():
                return 42

            def needs_arguments(width):
                return nn.Linear(width, 2)

            instance = nn.Sequential(nn.Conv2d(1, 2, 3))
            Net = nn.Identity
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "mymodels"


def test_module_is_used_as_is():
    model = nn.Sequential(nn.Conv2d(3, 4, 3))
    assert load_model(model, (3, 8, 8)) is model


def test_torchvision_name_builds_random_weights():
    model = load_model("resnet18", (3, 32, 32))
    assert (
        sum(p.numel() for p in model.parameters()) == 11_689_512
    )  # torchvision's documented count
    assert "resnet18" in torchvision_model_names()


def test_unknown_torchvision_name_suggests_close_names():
    with pytest.raises(NeuralabError, match="unknown model 'resnt18'; did you mean 'resnet18'"):
        load_model("resnt18", (3, 32, 32))


def test_factory_is_imported_and_called(user_models):
    model = load_model("mymodels:small_cnn", (3, 8, 8))
    assert isinstance(model[0], nn.Conv2d)
    assert isinstance(load_model("mymodels:instance", (1, 5, 5)), nn.Sequential)
    assert isinstance(load_model("mymodels:Net", (1, 5, 5)), nn.Identity)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("mymodels:not_a_model", r"mymodels:not_a_model\(\) returned a int, not a torch.nn.Module"),
        (
            "mymodels:small_cnm",
            "unknown factory in module 'mymodels' 'small_cnm'; did you mean 'small_cnn'",
        ),
        ("mymodels:needs_arguments", "without arguments failed: TypeError"),
        ("no_such_module_xyz:net", "cannot import 'no_such_module_xyz'"),
    ],
)
def test_bad_factories_are_one_clear_error(user_models, source, message):
    with pytest.raises(NeuralabError, match=message):
        load_model(source, (3, 8, 8))


def test_spec_detection():
    assert is_spec("conv(10,5) -> relu")
    assert is_spec("fc(10)")
    assert not is_spec("resnet18")


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((0, 28, 28), "has a zero or negative size"),
        ((1, -2, 28), "has a zero or negative size"),
        ((), "must be positive integers"),
        ((1.5, 28, 28), "must be positive integers"),
        ("3x32x32", "must be positive integers"),
    ],
)
def test_bad_input_shapes(shape, message):
    with pytest.raises(NeuralabError, match=message):
        check_input_shape(shape)


def test_wrong_channel_count_names_the_first_conv():
    model = load_model("resnet18", (3, 32, 32), check=False)
    with pytest.raises(NeuralabError) as caught:
        load_model(model, (1, 64, 64))
    message = str(caught.value)
    assert message.startswith("input has 1 channel but conv1 (Conv2d) expects 3")
    assert "1x64x64" in message


def test_wrong_channel_count_deeper_in_the_network():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(4, 2, 3))
    with pytest.raises(NeuralabError, match=r"layer 1 \(Conv2d\) gets 8 channels but expects 4"):
        checked_forward(model, (3, 16, 16))


def test_kernel_larger_than_padded_input():
    model = nn.Sequential(nn.Conv2d(1, 4, 5, padding=1))
    with pytest.raises(NeuralabError) as caught:
        checked_forward(model, (1, 2, 2))
    assert "kernel 5x5 of layer 0 (Conv2d) is larger than its padded input 4x4" in str(caught.value)


def test_pool_window_larger_than_its_input():
    # conv 3x3 on 3x3 leaves 1x1; a 2x2 max-pool cannot fit.
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2))
    with pytest.raises(NeuralabError, match=r"window 2x2 of layer 1 \(MaxPool2d\) is larger"):
        checked_forward(model, (1, 3, 3))


def test_linear_with_the_wrong_flattened_size():
    model = nn.Sequential(nn.Flatten(), nn.Linear(10, 2))
    with pytest.raises(
        NeuralabError, match=r"layer 1 \(Linear\) expects 10 input features but gets 16"
    ):
        checked_forward(model, (1, 4, 4))


def test_other_runtime_errors_name_the_input_shape():
    class Broken(nn.Module):
        def forward(self, x):
            return x.view(7, -1, 3)

    with pytest.raises(NeuralabError, match="the model cannot run on input shape 1x4x4: "):
        checked_forward(Broken(), (1, 4, 4))


def test_checked_forward_runs_in_eval_and_restores_training_mode():
    seen = []
    model = nn.Sequential(nn.BatchNorm2d(2))
    model.register_forward_hook(lambda m, i, o: seen.append(m.training))
    model.train()
    out = checked_forward(model, (2, 3, 3), batch_size=4)
    assert seen == [False] and model.training
    assert out.shape == (4, 2, 3, 3)
    assert torch.equal(out, torch.zeros_like(out))  # zeros through fresh BN stats stay zero


def test_factory_module_in_the_current_folder(tmp_path, monkeypatch):
    # The console script's sys.path lacks the current folder; ./nets_here.py is still found.
    (tmp_path / "nets_here.py").write_text(
        "from torch import nn\n\ndef net():\n    return nn.Conv2d(1, 3, 3)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    assert isinstance(load_model("nets_here:net", (1, 5, 5)), nn.Conv2d)
