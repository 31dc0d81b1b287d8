"""The model registry: every model runs forward and backward; ResNet-18's weight paths."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.vision.models import (
    backbone_parameters,
    get_model,
    head_module,
    head_parameters,
    list_models,
)

REGISTERED = [n for n in list_models() if not n.startswith("spec:")]


@pytest.mark.parametrize("name", REGISTERED)
@pytest.mark.parametrize("input_shape", [(3, 32, 32), (1, 8, 8)])
def test_forward_backward_every_parameter_gets_a_gradient(name, input_shape):
    torch.manual_seed(0)
    options = {"min_size": 16} if name == "resnet18" else {}
    model = get_model(name, num_classes=5, input_shape=input_shape, **options)
    x = torch.randn(4, *input_shape)
    logits = model(x)
    assert logits.shape == (4, 5)
    assert torch.isfinite(logits).all()
    nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 3])).backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None, parameter_name
        assert torch.isfinite(parameter.grad).all(), parameter_name


def test_course_cnn_shapes_on_gtsrb_size():
    model = get_model("cnn", num_classes=43, input_shape=(3, 32, 32))
    # three stages halve 32 -> 16 -> 8 -> 4; 128 channels * 4 * 4 = 2048 inputs to fc1
    assert model.classifier.fc1.in_features == 2048
    assert head_module(model) is model.classifier.fc2
    assert model.classifier.fc2.out_features == 43


def test_cnn_options_and_init():
    model = get_model(
        "cnn",
        num_classes=10,
        input_shape=(1, 28, 28),
        widths=(8, 16),
        convs_per_stage=1,
        batch_norm=False,
        dropout=0.0,
        activation="tanh",
        init="zeros",
    )
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert any(isinstance(m, nn.Tanh) for m in model.modules())
    assert all(torch.all(p == 0) for p in model.parameters())


def test_plain_and_residual_depth():
    for name in ("plain", "residual"):
        model = get_model(name, num_classes=10, input_shape=(3, 32, 32), depth=20, width=4)
        convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        assert len(convs) + len(linears) == 20  # 6n + 2 weighted layers on the main path
    with pytest.raises(NeuralabError, match="6n \\+ 2"):
        get_model("plain", num_classes=10, input_shape=(3, 32, 32), depth=21)


def test_resnet18_head_and_freeze():
    model = get_model("resnet18", num_classes=7, input_shape=(3, 32, 32), freeze_backbone=True)
    assert head_module(model).out_features == 7
    assert all(p.requires_grad for p in head_parameters(model))
    assert not any(p.requires_grad for p in backbone_parameters(model))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == 512 * 7 + 7


def test_resnet18_upsamples_small_inputs_on_device():
    model = get_model("resnet18", num_classes=3, input_shape=(3, 8, 8), min_size=32)
    seen = {}

    def record(module, inputs, output):
        seen["in"] = inputs[0].shape

    model.net.conv1.register_forward_hook(record)
    model.eval()(torch.zeros(1, 3, 8, 8))
    assert seen["in"] == (1, 3, 32, 32)


def test_resnet18_weights_file_written_by_the_test(tmp_path):
    import torchvision

    torch.manual_seed(0)
    source = torchvision.models.resnet18(weights=None)  # stands in for ImageNet weights
    path = tmp_path / "resnet18-backbone.pt"
    torch.save(source.state_dict(), path)
    model = get_model("resnet18", num_classes=43, input_shape=(3, 32, 32), weights=str(path))
    assert torch.equal(model.net.conv1.weight, source.conv1.weight)
    assert torch.equal(model.net.layer4[1].bn2.running_var, source.layer4[1].bn2.running_var)
    assert model.net.fc.out_features == 43  # the 1000-class head was dropped and replaced

    grey = get_model("resnet18", num_classes=10, input_shape=(1, 28, 28), weights=str(path))
    expected = source.conv1.weight.sum(dim=1, keepdim=True)
    assert torch.allclose(grey.net.conv1.weight, expected)


def test_resnet18_bad_weights_files(tmp_path):
    missing = tmp_path / "absent.pt"
    with pytest.raises(NeuralabError, match="does not exist"):
        get_model("resnet18", num_classes=3, input_shape=(3, 32, 32), weights=str(missing))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(NeuralabError, match="corrupt or not a PyTorch file"):
        get_model("resnet18", num_classes=3, input_shape=(3, 32, 32), weights=str(garbage))
    foreign = tmp_path / "foreign.pt"
    torch.save(nn.Linear(2, 2).state_dict(), foreign)
    with pytest.raises(NeuralabError, match="do not fit ResNet"):
        get_model("resnet18", num_classes=3, input_shape=(3, 32, 32), weights=str(foreign))


def test_bad_names_and_options():
    with pytest.raises(NeuralabError, match="did you mean 'resnet18'"):
        get_model("resnet81", num_classes=3, input_shape=(3, 32, 32))
    with pytest.raises(NeuralabError, match="has no option 'width'.*valid: widths"):
        get_model("cnn", num_classes=3, input_shape=(3, 32, 32), width=3)
    with pytest.raises(NeuralabError, match="dropout must be in"):
        get_model("cnn", num_classes=3, input_shape=(3, 32, 32), dropout=1.5)
    with pytest.raises(NeuralabError, match="at least 2 classes"):
        get_model("cnn", num_classes=1, input_shape=(3, 32, 32))


def test_spec_models_from_the_layer_language():
    model = get_model(
        "spec:conv(8,3,p=1) -> relu -> maxpool(2) -> flatten -> fc(10)",
        num_classes=10,
        input_shape=(1, 28, 28),
    )
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert model.fc1.in_features == 8 * 14 * 14
    with pytest.raises(NeuralabError, match="end the spec with fc\\(43\\)"):
        get_model("spec:conv(8,3) -> flatten -> fc(10)", num_classes=43, input_shape=(3, 32, 32))
    with pytest.raises(NeuralabError, match="spec models take no options"):
        get_model("spec:flatten -> fc(10)", num_classes=10, input_shape=(1, 8, 8), dropout=0.5)


def test_fast_cnn_pools_after_each_blocks_first_conv():
    model = get_model("fast", num_classes=43, input_shape=(3, 32, 32))
    names = [name for name, _ in model.features.named_children()]
    assert names[:7] == ["conv1_1", "pool1", "bn1_1", "act1_1", "conv1_2", "bn1_2", "act1_2"]
    # MACs of the convolutions, C_in * 9 * C_out * H * W: 9,953,280 (the docstring's 10M)
    sizes = {"conv1_1": 32, "conv1_2": 16, "conv2_1": 16, "conv2_2": 8, "conv3_1": 8, "conv3_2": 4}
    macs = sum(
        m.in_channels * 9 * m.out_channels * sizes[n] ** 2
        for n, m in model.features.named_children()
        if n.startswith("conv")
    )
    assert macs == 9_953_280
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 43)
