"""Summary: the course's worked examples by hand, MACs against FlopCounterMode, row invariants."""

from __future__ import annotations

import functools
import math

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from neuralab.arch.shapes import adaptive_window
from neuralab.arch.summary import Summary, summary
from neuralab.errors import NeuralabError

COURSE_CNN = "conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)"


def course_cnn() -> nn.Sequential:
    """N = 28, M = 20 maps 5x5, 2x2 max-pool, dense K = 100, 10 classes (built by hand)."""
    return nn.Sequential(
        nn.Conv2d(1, 20, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2880, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    )


def flop_counter_macs(model: nn.Module, input_shape, batch_size: int = 1) -> int:
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(batch_size, *input_shape))
    return counter.get_total_flops() // 2


def assert_rows_add_up(result: Summary, model: nn.Module) -> None:
    assert result.total_params == sum(p.numel() for p in model.parameters())
    assert sum(row.params for row in result.rows) == result.total_params
    assert sum(row.trainable_params for row in result.rows) == result.trainable_params
    assert sum(row.macs for row in result.rows) == result.total_macs


@pytest.mark.parametrize("source", ["module", "spec"])
def test_course_cnn_by_hand(source):
    model = course_cnn() if source == "module" else COURSE_CNN
    result = summary(model, (1, 28, 28))
    conv, relu, pool, flatten, fc1, relu2, fc2 = result.rows
    assert (conv.output_shape, conv.params, conv.fan_in) == ((20, 24, 24), 20 * (5 * 5 + 1), 25)
    assert conv.macs == 24 * 24 * 20 * 25
    assert relu.fan_in is None and relu.macs == 0
    assert (pool.output_shape, pool.fan_in) == ((20, 12, 12), 4)
    # r: 5 after the conv, 5 + (2 - 1) * 1 = 6 after the pool (jump 2); the dense layer sees all
    # 12 pooled positions: 6 + (12 - 1) * 2 = 28, the whole image.
    assert (conv.receptive_field, conv.jump, conv.start) == ((5, 5), (1, 1), (2, 2))
    assert (pool.receptive_field, pool.jump, pool.start) == ((6, 6), (2, 2), (2.5, 2.5))
    assert fc1.receptive_field == (28, 28)
    assert flatten.output_shape == (2880,)
    # Each neuron of the dense layer has 20 * 12 * 12 = 2880 input connections.
    assert (fc1.fan_in, fc1.params, fc1.output_shape) == (2880, 2880 * 100 + 100, (100,))
    assert (fc2.fan_in, fc2.params) == (100, 100 * 10 + 10)
    assert result.total_params == 520 + 288_100 + 1_010 == 289_630
    assert result.total_macs == 288_000 + 288_000 + 1_000
    assert result.param_bytes == 289_630 * 4
    # outputs of conv, relu (20*24*24 each), pool, flatten (2880 each), fc, relu (100), fc (10)
    assert result.activation_bytes == (2 * 11_520 + 2 * 2_880 + 2 * 100 + 10) * 4


def test_ten_5x5_filters_on_32x32x3():
    result = summary(nn.Conv2d(3, 10, 5), (3, 32, 32))
    (row,) = result.rows
    assert row.output_shape == (10, 28, 28)
    assert row.params == 760 == 10 * (5 * 5 * 3 + 1)
    assert row.fan_in == 75
    assert row.macs == 28 * 28 * 10 * 75 == 588_000


@pytest.mark.parametrize("source", ["module", "spec"])
def test_four_stacked_5x5_convs_receptive_fields(source):
    model = (
        nn.Sequential(*(nn.Conv2d(3 if i == 0 else 10, 10, 5) for i in range(4)))
        if source == "module"
        else "conv(10,5) * 4"
    )
    result = summary(model, (3, 32, 32))
    assert [row.output_shape for row in result.rows] == [(10, n, n) for n in (28, 24, 20, 16)]
    assert [row.receptive_field for row in result.rows] == [(5, 5), (9, 9), (13, 13), (17, 17)]
    assert [row.jump for row in result.rows] == [(1, 1)] * 4
    assert [row.start for row in result.rows] == [(2, 2), (4, 4), (6, 6), (8, 8)]


def test_strided_receptive_field_and_jump():
    # conv 3x3/2 then 3x3: r = 3, then 3 + 2 * 2 = 7; jump 2.
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Conv2d(2, 2, 3))
    rows = summary(model, (1, 15, 15)).rows
    assert [(r.receptive_field, r.jump) for r in rows] == [((3, 3), (2, 2)), ((7, 7), (2, 2))]


def test_conv_transpose_counts_input_positions():
    model = nn.ConvTranspose2d(2, 3, 3, stride=2)
    (row,) = summary(model, (2, 4, 4)).rows
    assert row.output_shape == (3, 9, 9)
    assert row.macs == (2 * 4 * 4) * 3 * 3 * 3 == 864  # input elements * C_out * k_h * k_w
    assert row.macs == flop_counter_macs(model, (2, 4, 4))
    # 3x3 kernel, stride 2: an output position gets at most ceil(3/2) = 2 taps per axis.
    assert row.fan_in == 2 * 2 * 2


@functools.cache
def _torchvision(name: str) -> nn.Module:
    # Built once per test process: summary leaves a model as it found it.
    return torchvision.models.get_model(name, weights=None)


@pytest.mark.parametrize(
    ("name", "input_shape"),
    [
        ("resnet18", (3, 32, 32)),
        ("vgg11", (3, 32, 32)),
        ("mobilenet_v2", (3, 32, 32)),  # depthwise (grouped) convolutions
        ("squeezenet1_0", (3, 48, 48)),  # concatenated branches
    ],
)
def test_macs_match_flop_counter_on_torchvision_models(name, input_shape):
    model = _torchvision(name)
    result = summary(model, input_shape)
    expected = flop_counter_macs(model, input_shape)
    assert result.total_macs == pytest.approx(expected, rel=0.01)
    assert_rows_add_up(result, model)


def test_macs_match_flop_counter_on_an_encoder_decoder_with_conv_transpose():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2),
        nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1, groups=1),
    )
    result = summary(model, (3, 32, 32), batch_size=2)
    assert result.rows[-1].output_shape == (3, 32, 32)
    assert result.total_macs == flop_counter_macs(model, (3, 32, 32), batch_size=2)
    assert_rows_add_up(result, model)


@pytest.mark.parametrize(
    "spec",
    [
        COURSE_CNN,
        "(conv(16,3,p=1) -> bn -> relu) * 3 -> maxpool(2) -> conv(32,3,s=2,groups=4) -> gap -> flatten -> fc(10)",
        "convT(8,4,s=2,p=1) -> relu -> conv(4,3,p=same) -> flatten -> linear(5)",
    ],
)
def test_macs_match_flop_counter_on_spec_models(spec):
    from neuralab.arch.spec import build_model

    model = build_model(spec, (3, 16, 16))
    result = summary(model, (3, 16, 16))
    assert result.total_macs == flop_counter_macs(model, (3, 16, 16))
    assert_rows_add_up(result, model)


def test_unknown_leaf_modules_are_measured_with_the_flop_counter():
    class Bilinearish(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(16, 6))

        def forward(self, x):
            return x.flatten(1) @ self.weight

    model = nn.Sequential(Bilinearish(), nn.Linear(6, 2))
    result = summary(model, (1, 4, 4))
    assert result.rows[0].macs == 16 * 6
    assert result.total_macs == 16 * 6 + 12


def test_depth_folds_sub_modules_into_their_stage():
    model = _torchvision("resnet18")
    leaves = summary(model, (3, 32, 32))
    stages = summary(model, (3, 32, 32), depth=1)
    names = [row.name for row in stages.rows]
    assert names == [
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "fc",
    ]
    layer3 = stages.rows[names.index("layer3")]
    assert layer3.params == sum(p.numel() for p in model.layer3.parameters())
    assert layer3.output_shape == (256, 2, 2)
    assert stages.total_macs == leaves.total_macs
    assert_rows_add_up(stages, model)
    blocks = summary(model, (3, 32, 32), depth=2)
    assert "layer1.0" in [row.name for row in blocks.rows]
    assert_rows_add_up(blocks, model)


class SharedLinear(nn.Module):
    """One Linear(10, 10) applied twice (weight sharing): 10 * 10 + 10 = 110 parameters, not 220."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.fc(x)))


class SharedConv(nn.Module):
    """One 3x3 conv applied twice, then a linear head: the conv sees 3 pixels, then 5."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.conv(self.conv(x)).mean((2, 3)))


def test_a_linear_called_twice_counts_its_110_parameters_once():
    model = SharedLinear()
    result = summary(model, (10,))
    assert [(row.name, row.params, row.recursive) for row in result.rows] == [
        ("fc", 110, False),
        ("fc#2", 0, True),
    ]
    assert result.total_params == 110 == sum(p.numel() for p in model.parameters())
    assert result.total_macs == 2 * 10 * 10  # each call: 10 outputs * fan-in 10
    assert_rows_add_up(result, model)


def test_a_conv_called_twice_has_a_receptive_field_per_call():
    model = SharedConv()
    result = summary(model, (3, 16, 16))
    conv, again, head = result.rows
    assert (conv.name, conv.output_shape, conv.receptive_field) == ("conv", (3, 14, 14), (3, 3))
    assert (again.name, again.output_shape, again.receptive_field) == (
        "conv#2",
        (3, 12, 12),
        (5, 5),
    )
    assert (conv.params, again.params, again.recursive) == (84, 0, True)  # 3 * (3*3*3 + 1)
    # the head sees the whole last map: r = 5 + (12 - 1) * 1
    assert head.receptive_field == (16, 16)
    assert again.input_shape == (3, 14, 14) and again.kernel_size == (3, 3)
    assert_rows_add_up(result, model)


def test_resnet_reuses_its_relu_and_each_call_has_its_own_field():
    result = summary(_torchvision("resnet18"), (3, 64, 64))
    rows = {row.name: row for row in result.rows}
    # conv1 7x7/2 -> 7, maxpool 3x3/2 -> 11 (jump 4), a 3x3 conv adds 2 * 4 per call
    assert rows["layer1.0.relu"].receptive_field == (19, 19)
    assert rows["layer1.0.relu#2"].receptive_field == (27, 27)
    assert rows["layer1.0.relu#2"].recursive and not rows["layer1.0.relu"].recursive


def test_tied_weights_of_two_modules_count_once():
    first, second = nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False)
    second.weight = first.weight  # two modules, one 4x4 weight (tied, as in language models)
    model = nn.Sequential(first, nn.ReLU(), second)
    result = summary(model, (4,))
    assert result.total_params == 16 == sum(p.numel() for p in model.parameters())
    assert [row.params for row in result.rows] == [16, 0, 0]
    assert not any(row.recursive for row in result.rows)  # different modules, not a repeat
    assert_rows_add_up(result, model)


def test_folded_rows_count_a_shared_block_once():
    block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
    model = nn.Sequential(nn.Conv2d(3, 4, 1))
    model.add_module("a", block)
    model.add_module("b", block)  # the same block twice: one set of 148 parameters
    result = summary(model, (3, 8, 8), depth=1)
    assert result.total_params == 16 + 148
    assert_rows_add_up(result, model)
    leaves = summary(model, (3, 8, 8))
    assert [row.recursive for row in leaves.rows] == [False, False, False, True, True]


@pytest.mark.parametrize(
    ("name", "input_shape"),
    [("resnet18", (3, 64, 64)), ("mobilenet_v2", (3, 64, 64)), ("squeezenet1_0", (3, 64, 64))],
)
def test_same_rows_as_torchinfo(name, input_shape):
    """torchinfo (when installed) sees the same leaf calls, shapes, parameters and repeats.

    MACs differ by convention: torchinfo adds one per bias element and output position, and
    counts batch norm's parameters as MACs; neuralab counts weighted sums only (FLOPs / 2 of
    PyTorch's own counter). So for a conv or linear layer torchinfo = neuralab + bias additions.
    """
    torchinfo = pytest.importorskip(
        "torchinfo", reason="torchinfo not installed (pip install torchinfo)"
    )
    model = _torchvision(name)
    ours = summary(model, input_shape)
    theirs = torchinfo.summary(model, input_size=(1, *input_shape), verbose=0)
    leaves = [layer for layer in theirs.summary_list if layer.is_leaf_layer]
    assert len(leaves) == len(ours.rows)
    for row, layer in zip(ours.rows, leaves, strict=True):
        assert row.output_shape == tuple(layer.output_size[1:]), row.name
        assert row.recursive == layer.is_recursive, row.name
        if not row.recursive:
            assert row.params == layer.num_params, row.name
        module = model.get_submodule(row.name.split("#")[0])
        if isinstance(module, nn.Conv2d | nn.Linear):
            bias_adds = math.prod(row.output_shape) if module.bias is not None else 0
            assert layer.macs == row.macs + bias_adds, row.name
    assert ours.total_params == theirs.total_params
    assert ours.trainable_params == theirs.trainable_params


def test_shared_linear_as_torchinfo_marks_it():
    torchinfo = pytest.importorskip(
        "torchinfo", reason="torchinfo not installed (pip install torchinfo)"
    )
    model = SharedLinear()
    theirs = torchinfo.summary(model, input_size=(1, 10), verbose=0)
    ours = summary(model, (10,))
    assert theirs.total_params == ours.total_params == 110
    assert [layer.is_recursive for layer in theirs.summary_list[1:]] == [
        row.recursive for row in ours.rows
    ]


def test_trainable_parameters():
    model = course_cnn()
    model[0].requires_grad_(False)
    result = summary(model, (1, 28, 28))
    assert result.rows[0].trainable_params == 0
    assert result.trainable_params == 289_630 - 520


def test_batch_size_scales_macs():
    one = summary(course_cnn(), (1, 28, 28))
    four = summary(course_cnn(), (1, 28, 28), batch_size=4)
    assert four.total_macs == 4 * one.total_macs
    assert four.rows[0].output_shape == (20, 24, 24)


def test_adaptive_pool_fan_in():
    assert adaptive_window(7, 1) == 49**0.5
    assert adaptive_window(5, 3) == 3  # windows [0, 2), [1, 4), [3, 5)
    (row,) = summary(nn.AdaptiveAvgPool2d(1), (4, 7, 7)).rows
    assert row.fan_in == 49


def test_bad_depth_and_batch():
    with pytest.raises(NeuralabError, match="depth 0 must be >= 1"):
        summary(course_cnn(), (1, 28, 28), depth=0)
    with pytest.raises(NeuralabError, match="batch size 0"):
        summary(course_cnn(), (1, 28, 28), batch_size=0)


class _AttentionNet(nn.Module):
    """Patches -> self-attention -> LSTM -> linear: modules without a conv/linear formula."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 16, 4, stride=4)  # 16 patches of 16 values
        self.att = nn.MultiheadAttention(16, 2, batch_first=True)
        self.lstm = nn.LSTM(16, 8, batch_first=True)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        tokens = self.proj(x).flatten(2).transpose(1, 2)  # (N, 16, 16)
        tokens, _ = self.att(tokens, tokens, tokens)
        tokens, _ = self.lstm(tokens)
        return self.head(tokens[:, -1])


def test_attention_and_lstm_macs_and_parameters():
    model = _AttentionNet()
    result = summary(model, (3, 16, 16))
    rows = {row.name: row for row in result.rows}
    # out_proj is used by the attention without being called: its weights belong to that row.
    assert rows["att"].params == sum(p.numel() for p in model.att.parameters()) == 1_088
    assert_rows_add_up(result, model)
    # projections 3 * 16 * 16^2 and out_proj 16 * 16^2, scores and weighted sum 2 * 16 * 16 * 16
    assert rows["att"].macs == 4 * 16 * 16**2 + 2 * 16 * 16 * 16 == 24_576
    # In grad mode attention runs unfused, so PyTorch's counter sees its matmuls.
    with FlopCounterMode(display=False) as counter:
        model.att(*(torch.zeros(1, 16, 16),) * 3)
    assert rows["att"].macs == counter.get_total_flops() // 2
    # LSTM: 16 steps * 4 gates * 8 units * (16 inputs + 8 state)
    assert rows["lstm"].macs == 16 * 4 * 8 * (16 + 8)


@pytest.mark.parametrize(
    ("name", "input_shape", "mode"),
    [
        ("resnet18", (3, 64, 64), "train"),  # batch norm buffers restored, saved tensors counted
        ("swin_t", (3, 64, 64), "eval"),  # buffers computed in __init__ (relative positions)
        ("regnet_y_400mf", (3, 64, 64), "eval"),  # a builder that cannot run on meta
    ],
)
def test_a_model_named_is_summarised_as_the_same_model_built_with_random_weights(
    name, input_shape, mode
):
    # by name the weights are zeros (built on meta, then allocated: no initialisers run); the
    # summary must not depend on that, memory estimate included
    by_name = summary(name, input_shape, mode=mode)
    by_module = summary(torchvision.models.get_model(name, weights=None), input_shape, mode=mode)
    assert by_name == by_module


def test_zeros_instead_of_an_initialisation_for_a_model_named():
    from neuralab.arch.model_source import load_model

    model = load_model("resnet18", (3, 32, 32), check=False, initialise=False)
    tensors = [*model.parameters(), *model.buffers()]
    assert all(t.device.type == "cpu" and not t.any() for t in tensors)
    assert sum(p.numel() for p in model.parameters()) == 11_689_512
    initialised = load_model("resnet18", (3, 32, 32), check=False)
    assert any(p.any() for p in initialised.parameters())
