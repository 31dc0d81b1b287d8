"""Receptive fields: the course's 5, 9, 13, 17, recursion == closed form, analytic == gradient."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from neuralab.arch.receptive import (
    LayerGeometry,
    ReceptiveField,
    receptive_field,
    receptive_field_closed_form,
)
from neuralab.arch.receptive_gradient import gradient_receptive_field
from neuralab.arch.receptive_graph import module_receptive_fields
from neuralab.arch.spec import build_model
from neuralab.errors import NeuralabError

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- the pure arithmetic


def test_four_stacked_5x5_convolutions_see_5_9_13_17() -> None:
    rows = receptive_field([(5, 1)] * 4)
    assert [row.r for row in rows] == [(5, 5), (9, 9), (13, 13), (17, 17)]
    assert [row.jump for row in rows] == [(1, 1)] * 4
    # no padding: the first unit is centred on pixel 2, then 4, 6, 8 (pixel centres at 0, 1, ...)
    assert [row.start for row in rows] == [(2, 2), (4, 4), (6, 6), (8, 8)]
    assert receptive_field_closed_form([5, 5, 5, 5]) == (17, 17)


def test_course_cnn_rows_by_hand() -> None:
    # conv 5x5 stride 1, then 2x2 max-pool stride 2: r = 5 + (2 - 1) * 1 = 6, jump 2,
    # start = 2 + (0.5 - 0) * 1 = 2.5 (the pool's first unit sits between pixels 2 and 3)
    conv, pool = receptive_field([LayerGeometry(5), LayerGeometry(2, 2)])
    assert conv == ReceptiveField((5, 5), (1, 1), (2, 2))
    assert pool == ReceptiveField((6, 6), (2, 2), (2.5, 2.5))


def test_padding_dilation_pairs_and_same() -> None:
    rows = receptive_field(
        [
            LayerGeometry(kernel=3, stride=2, padding=1),  # r 3, jump 2, start 0
            LayerGeometry(kernel=(3, 1), dilation=(2, 1), padding="same"),  # r += 2*2*2 in height
            {"kernel": 2, "stride": 2},
        ]
    )
    assert rows[0] == ReceptiveField((3, 3), (2, 2), (0, 0))
    assert rows[1] == ReceptiveField((11, 3), (2, 2), (0, 0))
    assert rows[2] == ReceptiveField((13, 5), (4, 4), (1, 1))
    assert rows[2].to_dict() == {"r": [13, 5], "jump": [4, 4], "start": [1, 1]}


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([(0, 1)], "kernel size 0 must be >= 1"),
        ([(3, 0)], "stride 0 must be >= 1"),
        ([(3, 1, -1)], "padding -1 must be >= 0"),
        ([(3, 1, 0, 0)], "dilation 0 must be >= 1"),
        (["conv"], "is not a geometry"),
        ([{"kernel": 3, "strides": 2}], "unknown keys \\['strides'\\]"),
    ],
)
def test_bad_geometry(layers: list[object], message: str) -> None:
    with pytest.raises(NeuralabError, match=message):
        receptive_field(layers)


geometry = st.tuples(
    st.integers(1, 7),  # kernel
    st.integers(1, 3),  # stride
    st.integers(0, 3),  # padding
    st.integers(1, 3),  # dilation
)


@FAST
@given(layers=st.lists(st.tuples(geometry, geometry), min_size=1, max_size=8))
def test_recursion_agrees_with_closed_form(layers: list[tuple[tuple[int, ...], ...]]) -> None:
    # per-axis geometry: (kernel_h, kernel_w), (stride_h, stride_w), ...
    per_axis = [LayerGeometry(*zip(h, w, strict=True)) for h, w in layers]  # type: ignore[arg-type]
    rows = receptive_field(per_axis)
    assert rows[-1].r == receptive_field_closed_form(per_axis)
    for row, prefix in zip(rows, range(1, len(per_axis) + 1), strict=True):
        assert row.r == receptive_field_closed_form(per_axis[:prefix])


# ---------------------------------------------------------------- models: analytic == gradient


def assert_centre_unit_inside(
    field: ReceptiveField, output_hw: tuple[int, int], input_hw: tuple[int, int]
) -> None:
    """The gradient method measures r only when the centre unit's field is not clipped."""
    for a in range(2):
        centre = field.start[a] + (output_hw[a] // 2) * field.jump[a]
        assert centre - (field.r[a] - 1) / 2 >= 0
        assert centre + (field.r[a] - 1) / 2 <= input_hw[a] - 1


def check_against_gradient(
    model: nn.Module, input_shape: tuple[int, int, int], names: list[str]
) -> None:
    fields = module_receptive_fields(model, input_shape)
    outputs = {}
    hooks = [
        model.get_submodule(name).register_forward_hook(
            lambda m, i, o, name=name: outputs.__setitem__(name, o.shape)
        )
        for name in names
    ]
    model.eval()(torch.zeros(1, *input_shape))
    for hook in hooks:
        hook.remove()
    for name in names:
        assert_centre_unit_inside(fields[name], tuple(outputs[name][-2:]), input_shape[1:])
        assert gradient_receptive_field(model, input_shape, name) == fields[name].r, name


def test_sequential_cnn_with_stride_dilation_and_pooling() -> None:
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, (3, 5), dilation=(2, 1), padding=1),
        nn.BatchNorm2d(4),
        nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
        nn.AvgPool2d(2, stride=1),
        nn.Conv2d(4, 3, 2),
        nn.Sigmoid(),
    )
    fields = module_receptive_fields(model, (2, 64, 64))
    # the chain's fields are the pure recursion's rows
    rows = receptive_field([(3, 2, 1), ((3, 5), 1, 1, (2, 1)), (3, 2, 1, 2), (2, 1), (2, 1)])
    assert [fields[n] for n in ("0", "2", "4", "5", "6")] == rows
    assert fields["1"] == fields["0"] and fields["7"] == fields["6"] == fields[""]
    check_against_gradient(model, (2, 64, 64), ["0", "2", "4", "5", "7"])


def test_course_cnn_dense_layer_sees_the_whole_input() -> None:
    model = build_model(
        "conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)", (1, 28, 28)
    )
    fields = module_receptive_fields(model, (1, 28, 28))
    assert fields["conv1"].r == (5, 5) and fields["pool1"].r == (6, 6)
    # 12x12 pooled map: r = 6 + (12 - 1) * 2 = 28, the whole 28x28 input
    assert fields["fc1"].r == fields["fc2"].r == (28, 28)
    assert fields["fc1"].start == (13.5, 13.5)  # the centre of the image
    assert gradient_receptive_field(model, (1, 28, 28), "fc1") == (28, 28)


def test_transposed_convolution() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, stride=2),
        nn.ConvTranspose2d(2, 2, 4, stride=2),  # each output sees ceil(4 / 2) = 2 input units
        nn.ConvTranspose2d(2, 1, 3),  # stride 1: 3 units
    )
    fields = module_receptive_fields(model, (1, 40, 40))
    # start: the centre of the continuous window, (p - d (k - 1) / 2) / s input units from the
    # previous start: 1 + (0 - 1.5) / 2 * 2 = -0.5 (the first unit hangs over the border)
    assert fields["1"] == ReceptiveField((5, 5), (1, 1), (-0.5, -0.5))
    assert fields["2"].r == (7, 7) and fields["2"].jump == (1, 1)
    check_against_gradient(model, (1, 40, 40), ["1", "2"])


class Residual(nn.Module):
    """A basic block: two 3x3 convolutions, the first strided, plus a 1x1 stride-2 shortcut."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.relu(self.conv1(x))) + self.shortcut(x))


class Inception(nn.Module):
    """Two branches joined by concatenation: 1x1 and 5x5 (padded)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.small = nn.Conv2d(c, c, 1)
        self.large = nn.Conv2d(c, c, 5, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.small(x), self.large(x)], dim=1)


def test_residual_network_takes_the_longest_path() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), Residual(4, 8), Residual(8, 8), Inception(8), nn.Flatten()
    )
    fields = module_receptive_fields(model, (1, 48, 48))
    assert fields["1.shortcut"].r == (3, 3)  # the shortcut alone: 3 + 0
    assert fields["1"].r == (9, 9)  # 3 + 2*1 + 2*2 (through conv1 and conv2)
    assert fields["2"].r == (9 + 2 * 2 + 2 * 4,) * 2
    assert fields["3"].r == (21 + 4 * 4,) * 2  # concatenation: the 5x5 branch wins
    assert fields["3.small"].r == (21, 21)
    check_against_gradient(model, (1, 48, 48), ["1", "2", "3"])


def test_torchvision_resnet18_inner_layer() -> None:
    torchvision = pytest.importorskip("torchvision")
    model = torchvision.models.resnet18(weights=None)
    fields = module_receptive_fields(model, (3, 64, 64))
    assert fields["conv1"] == ReceptiveField((7, 7), (2, 2), (0, 0))
    assert fields["maxpool"].r == (11, 11)
    assert fields["layer1"].r == (43, 43) and fields["layer1"].jump == (4, 4)
    assert fields["layer1.0.relu"].r == fields["layer1.0"].r == (27, 27)  # called twice: larger
    assert fields["layer2.0.downsample.0"].r == (43, 43)
    assert fields["layer2.0"].r == (67, 67)
    # fc sees the span of layer4's 2x2 map: 435 + (2 - 1) * 32
    assert fields["fc"].r == (467, 467)
    assert gradient_receptive_field(model, (3, 64, 64), "layer1") == (43, 43)


class ChannelsLast(nn.Module):
    """A ConvNeXt-style block: a 7x7 depthwise conv, then a Linear on (N, H, W, C) and back."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.mix = nn.Linear(c, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mix(self.dwconv(x).permute(0, 2, 3, 1))  # (N, H, W, C)
        return x + y.permute(0, 3, 1, 2)


class SqueezeExcitation(nn.Module):
    """A 1x1 gate from the global average multiplies the map: every unit then sees everything."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.fc(self.pool(x)))


def test_channels_last_permutes_keep_the_grid() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), ChannelsLast(4), nn.Conv2d(4, 2, 3))
    fields = module_receptive_fields(model, (1, 40, 40))
    assert fields["1.mix"] == ReceptiveField((15, 15), (2, 2), (1, 1))  # 3 + 6 * 2
    assert fields["2"].r == (19, 19)
    check_against_gradient(model, (1, 40, 40), ["1", "2"])


def test_broadcast_gate_widens_r_but_keeps_the_grid() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), SqueezeExcitation(4), nn.Conv2d(4, 4, 3, stride=2))
    fields = module_receptive_fields(model, (1, 12, 12))
    # the gate sees the whole 10x10 map: 3 + (10 - 1) * 1 = 12, the whole input
    assert fields["1"] == ReceptiveField((12, 12), (1, 1), (1, 1))
    assert fields["2"] == ReceptiveField((14, 14), (2, 2), (2, 2))
    assert gradient_receptive_field(model, (1, 12, 12), "1") == (12, 12)


class DataDependent(nn.Module):
    """A branch on a tensor value: torch.fx cannot trace it, the hook fallback chains modules."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if x.sum() > 0:
            x = x * 2
        return self.pool(x)


def test_untraceable_model_falls_back_to_hooks() -> None:
    fields = module_receptive_fields(DataDependent(), (1, 16, 16))
    assert fields["conv"].r == (3, 3) and fields["pool"] == ReceptiveField(
        (4, 4), (2, 2), (1.5, 1.5)
    )
    assert fields[""] == fields["pool"]


def test_mlp_input_has_no_spatial_fields_and_bad_inputs_raise() -> None:
    model = build_model("fc(4) -> relu", (3,))
    assert module_receptive_fields(model, (3,)) == {}
    with pytest.raises(NeuralabError, match="must be \\(C, H, W\\)"):
        module_receptive_fields(model, (3, 4))
    with pytest.raises(NeuralabError, match="needs an image input"):
        gradient_receptive_field(model, (3,))
    cnn = build_model("conv(2,3) -> relu", (1, 8, 8))
    with pytest.raises(NeuralabError, match="unknown module 'conv3'; did you mean 'conv1'"):
        gradient_receptive_field(cnn, (1, 8, 8), "conv3")
    with pytest.raises(NeuralabError, match="does not run on input 2x8x8"):
        module_receptive_fields(cnn, (2, 8, 8))


@pytest.mark.parametrize("meta", [True, False])
def test_the_trace_gives_the_same_fields_on_the_meta_device_and_for_real(monkeypatch, meta):
    # the meta device is used only when its kernels are already imported (about 1 s otherwise)
    from neuralab.arch import graph_shapes
    from neuralab.arch.receptive_graph import call_receptive_fields

    monkeypatch.setattr(graph_shapes, "META_KERNELS", () if meta else ("no.such.module",))
    model = build_model("conv(10,5) -> relu -> maxpool(2) -> conv(10,5) -> maxpool(2)", (3, 32, 32))
    fields = call_receptive_fields(model, (torch.zeros(2, 3, 32, 32),))
    # the course's chain: 5, then 6 after the 2x2 pool, 6 + 4 * 2 = 14, then 14 + 1 * 2 = 16
    assert [fields[name][0].r[0] for name in ("conv1", "pool1", "conv2", "pool2")] == [5, 6, 14, 16]


@pytest.mark.parametrize(
    "layer",
    [
        nn.Conv2d(3, 8, 5),
        nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
        nn.Conv2d(3, 6, 3, stride=3, groups=3, bias=False),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.Dropout(0.5),
    ],
)
def test_shapes_known_from_the_layer_are_those_torch_computes(layer):
    # the meta run's shortcut: an empty tensor of the shape the layer gives, without running it
    from neuralab.arch.graph_shapes import _known_output

    x = torch.zeros(2, 3, 17, 23)
    known = _known_output(layer, x.to("meta"))
    assert known is not None and known.is_meta
    assert known.shape == layer.eval()(x).shape


def test_a_layer_whose_shape_needs_running_is_run():
    from neuralab.arch.graph_shapes import _known_output

    x = torch.zeros(1, 3, 8, 8, device="meta")
    assert _known_output(nn.MaxPool2d(2), x) is None  # not in the table: runs on meta
    assert _known_output(nn.Conv2d(3, 4, 3, padding="same"), x) is None
    assert _known_output(nn.Conv2d(4, 4, 3), x) is None  # wrong channels: the layer says so
    assert _known_output(nn.Conv2d(3, 4, 9), x) is None  # kernel larger than the input
