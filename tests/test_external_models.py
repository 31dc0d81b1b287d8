"""Any torchvision model, timm model or module:factory as a classifier: head, channels, weights."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.vision.config import TrainConfig
from neuralab.vision.models import backbone_parameters, get_model, head_module, head_parameters
from neuralab.vision.optimizer import build_optimizer

# one member of each torchvision family, the smallest; tiny inputs, weights=None
FAMILIES = [
    ("resnet18", "net.fc", nn.Linear),
    ("mobilenet_v3_small", "net.classifier.3", nn.Linear),
    ("efficientnet_b0", "net.classifier.1", nn.Linear),
    ("vit_b_16", "net.heads.head", nn.Linear),
    ("convnext_tiny", "net.classifier.2", nn.Linear),
    ("densenet121", "net.classifier", nn.Linear),
    ("squeezenet1_1", "net.classifier.1", nn.Conv2d),
]


@pytest.mark.parametrize(("name", "head_name", "head_type"), FAMILIES)
def test_every_family_gets_k_logits_and_trains_its_head_only(name, head_name, head_type):
    torch.manual_seed(0)
    model = get_model(name, num_classes=5, input_shape=(1, 16, 16), freeze_backbone=True)
    assert model.head_name == head_name
    head = head_module(model)
    assert isinstance(head, head_type)
    assert (head.out_features if isinstance(head, nn.Linear) else head.out_channels) == 5
    images, labels = torch.rand(4, 1, 16, 16), torch.tensor([0, 1, 2, 4])
    model.eval()  # batch norm on running stats: the frozen backbone must not move at all
    assert model(images).shape == (4, 5)

    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    head_before = [p.detach().clone() for p in head_parameters(model)]
    assert frozen and all(p.requires_grad for p in head_parameters(model))
    optimizer = build_optimizer(TrainConfig(freeze_backbone=True, lr=0.1), model)
    nn.functional.cross_entropy(model(images), labels).backward()
    optimizer.step()
    for n, p in model.named_parameters():
        if n in frozen:
            assert torch.equal(p, frozen[n]), n
    assert any(
        not torch.equal(p, q) for p, q in zip(head_parameters(model), head_before, strict=True)
    )


def test_backbone_lr_factor_in_the_param_groups():
    model = get_model("mobilenet_v3_small", num_classes=3, input_shape=(3, 16, 16))
    config = TrainConfig(
        model="mobilenet_v3_small", weights="w.pt", lr=0.02, backbone_lr_factor=0.1
    )
    head, backbone = build_optimizer(config, model).param_groups
    assert head["lr"] == 0.02 and backbone["lr"] == pytest.approx(0.002)
    assert {id(p) for p in head["params"]} == {id(p) for p in model.net.classifier[3].parameters()}
    assert len(head["params"]) + len(backbone["params"]) == len(list(model.parameters()))
    assert {id(p) for p in backbone["params"]} == {id(p) for p in backbone_parameters(model)}


def test_vit_takes_the_data_size_rounded_up_to_whole_patches():
    model = get_model("vit_b_16", num_classes=3, input_shape=(3, 20, 20))
    assert model.net.image_size == 32 and model.upsample.exact == 32
    assert model.eval()(torch.rand(1, 3, 20, 20)).shape == (1, 3)


def test_weights_file_written_by_the_test_is_loaded_with_weights_only(tmp_path, monkeypatch):
    import torchvision

    torch.manual_seed(1)
    source = torchvision.models.mobilenet_v3_small(weights=None)  # stands in for ImageNet
    path = tmp_path / "mobilenet.pt"
    torch.save(source.state_dict(), path)
    loads = []
    real_load = torch.load

    def spy(*args, **kwargs):
        loads.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    model = get_model(
        "mobilenet_v3_small", num_classes=43, input_shape=(3, 32, 32), weights=str(path)
    )
    assert loads == [True]
    assert torch.equal(model.net.features[0][0].weight, source.features[0][0].weight)
    assert torch.equal(model.net.classifier[0].weight, source.classifier[0].weight)
    assert model.net.classifier[3].out_features == 43  # the 1000-class head was dropped

    grey = get_model(
        "mobilenet_v3_small", num_classes=4, input_shape=(1, 32, 32), weights=str(path)
    )
    expected = source.features[0][0].weight.sum(dim=1, keepdim=True)
    assert torch.allclose(grey.net.features[0][0].weight, expected)
    # a neuralab checkpoint of a fine-tuned model (keys under net., a "model" entry) loads too
    torch.save({"model": model.state_dict()}, tmp_path / "best.pt")
    again = get_model(
        "mobilenet_v3_small",
        num_classes=7,
        input_shape=(3, 32, 32),
        weights=str(tmp_path / "best.pt"),
    )
    assert torch.equal(again.net.features[0][0].weight, source.features[0][0].weight)


def test_weights_of_another_model_are_refused_in_one_line(tmp_path):
    import torchvision

    path = tmp_path / "resnet.pt"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    with pytest.raises(NeuralabError, match="do not fit MobileNetV3: .* missing keys"):
        get_model("mobilenet_v3_small", num_classes=3, input_shape=(3, 32, 32), weights=str(path))
    with pytest.raises(NeuralabError, match="are for another model than resnet50"):
        get_model(
            "resnet50",
            num_classes=3,
            input_shape=(3, 32, 32),
            weights="ResNet18_Weights.IMAGENET1K_V1",
        )
    with pytest.raises(NeuralabError, match="unknown torchvision weights"):
        get_model(
            "resnet50", num_classes=3, input_shape=(3, 32, 32), weights="ResNet50_Weights.NOPE"
        )


def test_weights_enum_read_from_torch_home_as_predownloaded(tmp_path, monkeypatch):
    """The documented offline path: the file torchvision would download, put in $TORCH_HOME."""
    import os

    import torchvision

    enum = torchvision.models.get_weight("ResNet18_Weights.IMAGENET1K_V1")
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.manual_seed(2)
    source = torchvision.models.resnet18(weights=None)
    torch.save(source.state_dict(), checkpoints / os.path.basename(enum.url))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    model = get_model("resnet18", num_classes=3, input_shape=(3, 32, 32), pretrained=True)
    assert torch.equal(model.net.conv1.weight, source.conv1.weight)
    model = get_model("resnet18", num_classes=3, input_shape=(3, 32, 32), weights=enum_name(enum))
    assert torch.equal(model.net.layer1[0].conv1.weight, source.layer1[0].conv1.weight)


def enum_name(enum) -> str:
    return f"{type(enum).__name__}.{enum.name}"


def test_module_factory_gets_its_head_replaced(tmp_path, monkeypatch):
    (tmp_path / "my_nets.py").write_text(
        textwrap.dedent(
            """
            from torch import nn

            def tiny():
                return nn.Sequential(
                    nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                    nn.Linear(4, 1000),
                )
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_nets", raising=False)
    model = get_model("my_nets:tiny", num_classes=6, input_shape=(3, 12, 12), freeze_backbone=True)
    assert model.head_name == "net.4" and model(torch.rand(2, 3, 12, 12)).shape == (2, 6)
    assert not model.net[0].weight.requires_grad and model.net[4].weight.requires_grad
    with pytest.raises(
        NeuralabError, match="MaxPool2d.*larger than its padded input.*--image-size"
    ):
        get_model("torchvision.models:squeezenet1_1", num_classes=3, input_shape=(1, 8, 8))
    with pytest.raises(NeuralabError, match="cannot import 'no_such_module'"):
        get_model("no_such_module:net", num_classes=3, input_shape=(3, 8, 8))


def test_unknown_names_and_course_models_refuse_weights():
    with pytest.raises(NeuralabError, match="did you mean 'resnet50'.*any torchvision"):
        get_model("resnet05", num_classes=3, input_shape=(3, 32, 32))
    with pytest.raises(NeuralabError, match="model 'cnn' has no option 'weights'"):
        get_model("cnn", num_classes=3, input_shape=(3, 32, 32), weights="x.pt")


@pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed")
def test_timm_models_and_their_weights_files(tmp_path):
    import timm

    model = get_model(
        "timm:resnet10t", num_classes=4, input_shape=(1, 32, 32), freeze_backbone=True
    )
    assert model.eval()(torch.rand(2, 1, 32, 32)).shape == (2, 4)
    assert model.head_name == "net.fc" and head_module(model).weight.requires_grad
    torch.manual_seed(3)
    source = timm.create_model("resnet10t")
    torch.save(source.state_dict(), tmp_path / "timm.pt")
    loaded = get_model(
        "timm:resnet10t", num_classes=4, input_shape=(3, 32, 32), weights=str(tmp_path / "timm.pt")
    )
    assert torch.equal(loaded.net.conv1[0].weight, source.conv1[0].weight)
    assert loaded.net.fc.out_features == 4
    with pytest.raises(NeuralabError, match="unknown timm model"):
        get_model("timm:resnet_nope", num_classes=3, input_shape=(3, 16, 16))


def test_train_any_model_from_the_cli(run_cli, tmp_path):
    result = run_cli(
        "train", "--model", "mobilenet_v3_small", "--freeze-backbone", "--epochs", "1",
        "--batch-size", "256", "--device", "cpu", "--no-progress", "--run-dir", tmp_path / "r",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "training mobilenet_v3_small on digits" in result.stdout
    assert (tmp_path / "r" / "best.pt").is_file()
    bad = run_cli("train", "--model", "resnet5O", "--epochs", "1", "--run-dir", tmp_path / "b")
    assert bad.exit_code == 2 and "unknown model 'resnet5O'" in bad.stderr
