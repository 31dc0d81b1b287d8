"""Convolution as a matrix, judged by F.conv2d, conv_transpose2d and autograd."""

from __future__ import annotations

import time

import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from neuralab.arch.conv_matrix import (
    conv_parameter_counts,
    conv_to_matrix,
    dense_equivalent,
    symbolic_conv_matrix,
)
from neuralab.errors import NeuralabError


@st.composite
def conv_configs(draw: st.DrawFn) -> tuple[nn.Conv2d, tuple[int, int]]:
    """A small Conv2d (any channels, groups, kernel, stride, padding, dilation) and an input size."""
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    height = draw(st.integers(max(1, span[0] - 2 * padding[0]), 8))
    width = draw(st.integers(max(1, span[1] - 2 * padding[1]), 8))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    torch.manual_seed(seed)
    conv = nn.Conv2d(
        in_channels,
        out_channels,
        kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        dtype=torch.float64,
    )
    return conv, (height, width)


@settings(max_examples=60, deadline=None)
@given(conv_configs())
def test_matrix_equals_conv2d(config: tuple[nn.Conv2d, tuple[int, int]]) -> None:
    conv, (height, width) = config
    matrix = conv_to_matrix(conv, (height, width))
    x = torch.randn(conv.in_channels, height, width, dtype=torch.float64)
    expected = F.conv2d(
        x.unsqueeze(0),
        conv.weight,
        conv.bias,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
    )[0]
    assert matrix.output_shape == tuple(expected.shape)
    y = matrix.A @ x.reshape(-1) + matrix.b
    torch.testing.assert_close(y, expected.detach().reshape(-1))
    # nnz from the closed form (no matrix built) matches the matrix
    assert conv_parameter_counts(conv, (height, width)).nonzero_weights == matrix.nnz
    # the indices are generated already in coalesced (row, column) order
    recoalesced = torch.sparse_coo_tensor(
        matrix.A.indices(), matrix.A.values(), matrix.shape, check_invariants=True
    )
    assert torch.equal(recoalesced.coalesce().indices(), matrix.A.indices())


@settings(max_examples=40, deadline=None)
@given(conv_configs())
def test_transpose_is_the_input_gradient(config: tuple[nn.Conv2d, tuple[int, int]]) -> None:
    conv, (height, width) = config
    matrix = conv_to_matrix(conv, (height, width))
    x = torch.randn(1, conv.in_channels, height, width, dtype=torch.float64, requires_grad=True)
    y = conv(x)
    grad_output = torch.randn_like(y)
    (grad_input,) = torch.autograd.grad(y, x, grad_output)
    through_matrix = matrix.A.t() @ grad_output.reshape(-1)
    torch.testing.assert_close(through_matrix, grad_input.reshape(-1))
    # the same as a transposed convolution; output_padding restores the rows that the
    # forward stride dropped at the end
    out_h, out_w = y.shape[-2:]
    output_padding = tuple(
        size - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
        for size, o, s, p, d, k in zip(
            (height, width),
            (out_h, out_w),
            conv.stride,
            conv.padding,
            conv.dilation,
            conv.kernel_size,
            strict=True,
        )
    )
    transposed = F.conv_transpose2d(
        grad_output,
        conv.weight,
        stride=conv.stride,
        padding=conv.padding,
        output_padding=output_padding,
        groups=conv.groups,
        dilation=conv.dilation,
    )
    torch.testing.assert_close(through_matrix, transposed.reshape(-1))


def test_padding_same_and_batched_apply() -> None:
    torch.manual_seed(1)
    conv = nn.Conv2d(2, 3, (3, 4), padding="same", dilation=(1, 2), dtype=torch.float64)
    matrix = conv_to_matrix(conv, (2, 6, 5))
    x = torch.randn(4, 2, 6, 5, dtype=torch.float64)
    torch.testing.assert_close(matrix.apply(x), conv(x).detach())
    valid = nn.Conv2d(1, 1, 3, padding="valid", dtype=torch.float64)
    assert conv_to_matrix(valid, (5, 5)).output_shape == (1, 3, 3)


def test_course_example_numbers() -> None:
    # kernel [[1, 2], [3, 4]] on the 3x3 input 1..9: y1 = 1*1 + 2*2 + 3*4 + 4*5 = 37
    conv = nn.Conv2d(1, 1, 2, bias=False, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    matrix = conv_to_matrix(conv, (3, 3))
    assert matrix.dense().tolist()[0] == [1, 2, 0, 3, 4, 0, 0, 0, 0]
    x = torch.arange(1.0, 10.0, dtype=torch.float64)
    assert (matrix.A @ x).tolist() == [37.0, 47.0, 67.0, 77.0]
    assert matrix.nnz == 16
    assert matrix.sparsity == pytest.approx(1 - 16 / 36)


def test_large_layer_is_sparse_and_fast() -> None:
    # 3x64x64 input, 64 filters 3x3, padding 1: per axis the three taps are valid for 63, 64 and
    # 63 of the 64 outputs, so nnz = C_out C_in (63 + 64 + 63)^2 = 64 * 3 * 190^2
    conv = nn.Conv2d(3, 64, 3, padding=1)
    start = time.perf_counter()
    matrix = conv_to_matrix(conv, (64, 64))
    seconds = time.perf_counter() - start
    assert matrix.shape == (64 * 64 * 64, 3 * 64 * 64)
    assert matrix.nnz == 64 * 3 * 190**2 == 6_931_200
    assert seconds < 10
    x = torch.randn(3, 64, 64)
    torch.testing.assert_close(matrix.apply(x), conv(x).detach(), atol=1e-5, rtol=1e-5)
    with pytest.raises(NeuralabError, match="3,221,225,472 entries"):
        matrix.dense()
    counts = conv_parameter_counts(conv, (64, 64))
    assert (counts.conv_weights, counts.conv_bias) == (1728, 64)
    assert counts.dense_total == 262_144 * 12_288 + 262_144


def test_dense_equivalent_is_a_linear_layer() -> None:
    torch.manual_seed(2)
    conv = nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2, dtype=torch.float64)
    result = dense_equivalent(conv, (2, 5, 5))
    assert isinstance(result.linear, nn.Linear)
    assert (result.linear.in_features, result.linear.out_features) == (50, 36)
    x = torch.randn(7, 2, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(result.linear(x.reshape(7, -1)), conv(x).reshape(7, -1))
    # conv: 4 filters x 1 channel per group x 3x3 + 4 biases; dense: 36 x 50 + 36
    assert result.counts.conv_total == 40
    assert result.counts.dense_total == 1836
    assert result.counts.ratio == pytest.approx(1836 / 40)


def test_symbolic_course_example() -> None:
    result = symbolic_conv_matrix((3, 3), (2, 2))
    w1, w2, w3, w4 = result.weights
    x = result.inputs
    assert result.matrix.shape == (4, 9)
    assert list(result.matrix.row(0)) == [w1, w2, 0, w3, w4, 0, 0, 0, 0]
    assert list(result.matrix.row(3)) == [0, 0, 0, 0, w1, w2, 0, w3, w4]
    assert sympy.expand(result.outputs[0] - (w1 * x[0] + w2 * x[1] + w3 * x[3] + w4 * x[4])) == 0
    assert [str(s) for s in result.inputs] == [f"x{i}" for i in range(1, 10)]


def test_symbolic_stride_and_padding_match_numeric() -> None:
    result = symbolic_conv_matrix((4, 4), (3, 3), stride=2, padding=1)
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(1.0, 10.0).reshape(1, 1, 3, 3))
    substituted = result.matrix.subs({w: i + 1 for i, w in enumerate(result.weights)})
    numeric = conv_to_matrix(conv, (4, 4)).dense()
    assert [[int(v) for v in row] for row in substituted.tolist()] == numeric.int().tolist()


def test_bad_inputs_raise_neuralab_errors(monkeypatch) -> None:
    with pytest.raises(NeuralabError, match="padding_mode 'reflect'"):
        conv_to_matrix(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"), (5, 5))
    with pytest.raises(NeuralabError, match="output would be empty"):
        conv_to_matrix(nn.Conv2d(1, 1, 5), (3, 3))
    with pytest.raises(NeuralabError, match="expects in_channels = 3"):
        conv_to_matrix(nn.Conv2d(3, 1, 3), (1, 5, 5))
    # 64 x 64 x 190^2 = 147,865,600 non-zeros (per axis the 3 taps are valid for 63, 64, 63 of
    # the 64 positions: 190) of 24 bytes each: 3.3 GiB, above a limit of 2 GB
    monkeypatch.setenv("NEURALAB_MAX_MEMORY", "2GB")
    with pytest.raises(NeuralabError, match="A with 147,865,600 non-zeros .* needs about 3.3 GiB"):
        conv_to_matrix(nn.Conv2d(64, 64, 3, padding=1, bias=False, device="meta"), (64, 64))
    with pytest.raises(NeuralabError, match="expected an nn.Conv2d"):
        conv_to_matrix(nn.Linear(2, 2), (5, 5))  # type: ignore[arg-type]
