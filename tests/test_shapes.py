"""Output sizes and parameter counts: the course's examples by hand, PyTorch as the judge."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from neuralab.arch.shapes import (
    adaptive_window,
    as_pair,
    conv_fan_in,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    fmt_size,
    linear_params,
    parse_shape,
    per_axis,
    pool_output_size,
)
from neuralab.errors import NeuralabError

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def torch_size(module: nn.Module, h: int, w: int, channels: int = 1) -> tuple[int, int] | None:
    """Return the (H, W) PyTorch produces, or None when PyTorch refuses the input."""
    try:
        with torch.no_grad():
            out = module(torch.zeros(1, channels, h, w))
    except RuntimeError:
        return None
    return int(out.shape[-2]), int(out.shape[-1])


# ---------------------------------------------------------------- the course's worked examples


def test_ten_5x5_filters_on_32x32x3() -> None:
    assert conv_output_size(32, 5) == 28  # 28x28x10 output
    assert conv_output_size((32, 32), 5) == (28, 28)
    assert conv_params(3, 10, 5) == 760  # 10 * (5*5*3 + 1)
    assert conv_params(3, 10, 5) == sum(p.numel() for p in nn.Conv2d(3, 10, 5).parameters())


def test_course_cnn_dense_neuron_has_2880_inputs() -> None:
    # N = 28, M = 20 feature maps 5x5 stride 1 -> 20x24x24, 2x2 max-pool stride 2 -> 20x12x12
    maps = conv_output_size(28, 5)
    pooled = pool_output_size(maps, 2)
    assert (maps, pooled) == (24, 12)
    assert 20 * pooled * pooled == 2880
    assert linear_params(2880, 100) == 2880 * 100 + 100


def test_fan_in_is_kernel_area_times_channels_over_groups() -> None:
    assert conv_fan_in(3, 5) == 75
    assert conv_fan_in(8, (3, 5), groups=4) == 30
    conv = nn.Conv2d(8, 16, (3, 5), groups=4)
    assert conv_fan_in(8, (3, 5), groups=4) == conv.weight[0].numel()


def test_pairs_in_pairs_out_ints_in_int_out() -> None:
    assert conv_output_size((28, 20), (5, 3), stride=(1, 2), padding=1) == (26, 10)
    assert conv_output_size(28, (5, 3)) == (24, 26)
    assert isinstance(conv_output_size(28, 5), int)


def test_same_padding_keeps_size_and_needs_stride_1() -> None:
    assert conv_output_size(17, 4, padding="same", dilation=2) == 17
    assert conv_output_size(17, 4, padding="valid") == 14
    with pytest.raises(NeuralabError, match="needs stride 1"):
        conv_output_size(17, 3, stride=2, padding="same")


def test_ceil_mode_last_window_rule() -> None:
    # ceil((5 - 2) / 2) + 1 = 3: the third window holds the last pixel only
    assert pool_output_size(5, 2, ceil_mode=True) == 3
    # ceil((4 + 2 - 2) / 3) + 1 = 3, but window 3 would start at 6 >= n + p = 5: dropped
    assert pool_output_size(4, 2, 3, 1, ceil_mode=True) == 2
    assert torch_size(nn.MaxPool2d(2, 3, 1, ceil_mode=True), 4, 4) == (2, 2)


def test_transposed_convolution_inverts_the_shape_map() -> None:
    assert conv_transpose_output_size(12, 2, stride=2) == 24
    assert conv_transpose_output_size(12, 3, stride=2, padding=1, output_padding=1) == 24


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: conv_output_size(0, 3), "input size 0 must be >= 1"),
        (lambda: conv_output_size(8, -1), "kernel size -1 must be >= 1"),
        (lambda: conv_output_size(8, 3, padding=-1), "padding -1 must be >= 0"),
        (lambda: conv_output_size(8, 3, stride=0), "stride 0 must be >= 1"),
        (lambda: conv_output_size(4, 5), "spans 5 input positions, more than the padded input 4"),
        (lambda: conv_output_size((28, 4), 5), "padded input width 4 \\+ 2\\*0 = 4"),
        (lambda: conv_output_size(8, 3, padding="full"), "'same' or 'valid'"),
        (lambda: conv_output_size(8, 2.5), "must be an int"),
        (lambda: conv_output_size(8, (1, 2, 3)), "\\(h, w\\) pair"),
        (lambda: pool_output_size(1, 2), "spans 2 input positions"),
        (lambda: pool_output_size(8, 3, padding=2), "at most half the kernel size"),
        (lambda: conv_transpose_output_size(4, 3, stride=2, output_padding=2), "output_padding"),
        (lambda: conv_transpose_output_size(1, 1, padding=1), "output would be -1"),
        (lambda: conv_params(3, 10, 5, groups=2), "groups=2 must divide"),
        (lambda: conv_params(0, 10, 5), "in_channels 0 must be >= 1"),
        (lambda: linear_params(10, 0), "out_features 0 must be >= 1"),
        (lambda: conv_fan_in(3, 5, groups=2), "groups=2 must divide in_channels=3"),
    ],
)
def test_bad_values_raise_one_clear_line(call, message: str) -> None:
    with pytest.raises(NeuralabError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- PyTorch as the judge

sizes = st.integers(1, 12)
kernels = st.integers(1, 5)
strides = st.integers(1, 3)
dilations = st.integers(1, 3)


@FAST
@given(h=sizes, w=sizes, k=kernels, kw=kernels, s=strides, p=st.integers(0, 3), d=dilations)
def test_conv_output_size_matches_conv2d(
    h: int, w: int, k: int, kw: int, s: int, p: int, d: int
) -> None:
    expected = torch_size(nn.Conv2d(1, 1, (k, kw), s, p, d), h, w)
    if expected is None:
        with pytest.raises(NeuralabError):
            conv_output_size((h, w), (k, kw), s, p, d)
    else:
        assert conv_output_size((h, w), (k, kw), s, p, d) == expected


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@FAST
@given(n=sizes, k=kernels, d=dilations)
def test_same_padding_matches_conv2d(n: int, k: int, d: int) -> None:
    assert (conv_output_size(n, k, padding="same", dilation=d),) * 2 == torch_size(
        nn.Conv2d(1, 1, k, padding="same", dilation=d), n, n
    )


@FAST
@given(
    n=sizes,
    k=kernels,
    s=st.one_of(st.none(), strides),
    p=st.integers(0, 3),
    d=dilations,
    ceil=st.booleans(),
)
def test_pool_output_size_matches_maxpool2d(
    n: int, k: int, s: int | None, p: int, d: int, ceil: bool
) -> None:
    expected = torch_size(nn.MaxPool2d(k, s, p, d, ceil_mode=ceil), n, n)
    if expected is None:
        with pytest.raises(NeuralabError):
            pool_output_size(n, k, s, p, d, ceil)
    else:
        assert pool_output_size((n, n), k, s, p, d, ceil) == expected


@FAST
@given(n=sizes, k=kernels, s=st.one_of(st.none(), strides), p=st.integers(0, 3), ceil=st.booleans())
def test_pool_output_size_matches_avgpool2d(
    n: int, k: int, s: int | None, p: int, ceil: bool
) -> None:
    expected = torch_size(nn.AvgPool2d(k, s, p, ceil_mode=ceil), n, n)
    if expected is None:
        with pytest.raises(NeuralabError):
            pool_output_size(n, k, s, p, 1, ceil)
    else:
        assert pool_output_size(n, k, s, p, 1, ceil) == expected[0]


@FAST
@given(n=sizes, k=kernels, s=strides, p=st.integers(0, 3), op=st.integers(0, 2), d=dilations)
def test_conv_transpose_output_size_matches_convtranspose2d(
    n: int, k: int, s: int, p: int, op: int, d: int
) -> None:
    try:
        module = nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d)
    except ValueError:
        module = None
    expected = torch_size(module, n, n) if module is not None else None
    if expected is None or min(expected) < 1:
        with pytest.raises(NeuralabError):
            conv_transpose_output_size(n, k, s, p, op, d)
    else:
        assert conv_transpose_output_size(n, k, s, p, op, d) == expected[0]


@FAST
@given(
    per_group_in=st.integers(1, 4),
    per_group_out=st.integers(1, 4),
    groups=st.integers(1, 3),
    k=kernels,
    kw=kernels,
    bias=st.booleans(),
)
def test_conv_params_match_numel(
    per_group_in: int, per_group_out: int, groups: int, k: int, kw: int, bias: bool
) -> None:
    c_in, c_out = per_group_in * groups, per_group_out * groups
    conv = nn.Conv2d(c_in, c_out, (k, kw), groups=groups, bias=bias)
    expected = sum(p.numel() for p in conv.parameters())
    assert conv_params(c_in, c_out, (k, kw), bias=bias, groups=groups) == expected


@FAST
@given(n_in=st.integers(1, 50), n_out=st.integers(1, 50), bias=st.booleans())
def test_linear_params_match_numel(n_in: int, n_out: int, bias: bool) -> None:
    expected = sum(p.numel() for p in nn.Linear(n_in, n_out, bias=bias).parameters())
    assert linear_params(n_in, n_out, bias) == expected


# ---------------------------------------------------------------- the shared small helpers


def test_parse_shape_takes_any_number_of_sizes_unless_told() -> None:
    assert parse_shape("3x32x32") == parse_shape(" 3 X 32 , 32 ") == (3, 32, 32)
    assert parse_shape("784") == (784,) and parse_shape("50x64") == (50, 64)
    assert parse_shape("1x28x28", expected="CxHxW") == (1, 28, 28)
    with pytest.raises(NeuralabError, match=r"^--input '28x28' has 2 sizes; expected 3 \(CxHxW\)$"):
        parse_shape("28x28", what="--input", expected="CxHxW")
    with pytest.raises(NeuralabError, match=r"^shape '3x' is not a shape like 3x32x32 \("):
        parse_shape("3x")
    with pytest.raises(NeuralabError, match=r"'4xH' is not a shape like HxW"):
        parse_shape("4xH", expected="HxW")
    with pytest.raises(NeuralabError, match="has a zero size; every size must be >= 1"):
        parse_shape("0x4")


def test_as_pair_per_axis_and_fmt_size() -> None:
    assert as_pair(5) == (5, 5) and as_pair([5, 3]) == (5, 3)
    assert as_pair(0, "padding", minimum=0) == (0, 0)
    for bad in (True, 2.0, (1, 2, 3), "3", (1, None)):
        with pytest.raises(NeuralabError, match="must be an int or an \\(h, w\\) pair of ints"):
            as_pair(bad, "kernel size")
    with pytest.raises(NeuralabError, match="^stride \\(1, 0\\) must be >= 1$"):
        as_pair((1, 0), "stride")
    assert per_axis(2) == (2, 2) and per_axis((2, 2, 2)) == (2, 2, 2) and per_axis(3, 1) == (3,)
    assert fmt_size(5) == "5" and fmt_size((5, 3)) == "5x3" and fmt_size((2.5, 1.0)) == "2.5x1"
    assert fmt_size((3, 32, 32)) == "3x32x32" and fmt_size(torch.Size([20, 24, 24])) == "20x24x24"


def test_adaptive_window_is_the_widest_window_pytorch_averages() -> None:
    # d y_i / d x_j = 1 / |window i| on window i: PyTorch's windows, read off the Jacobian
    for n in range(1, 13):
        for m in range(1, n + 1):
            jacobian = torch.autograd.functional.jacobian(
                lambda x, m=m: nn.functional.adaptive_avg_pool1d(x[None, None], m)[0, 0],
                torch.ones(n, dtype=torch.float64),
            )
            assert adaptive_window(n, m) == int((jacobian > 0).sum(dim=1).max()), (n, m)
    assert adaptive_window(5, 3) == 3  # windows [0, 2), [1, 4), [3, 5)
