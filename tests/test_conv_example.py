"""The conv-matrix example: the layer from sizes, A and b, the counts, and A x + b = conv(x)."""

from __future__ import annotations

import pytest
import torch

from neuralab.arch.conv_example import conv_example
from neuralab.errors import NeuralabError


def test_course_example_with_given_weights():
    # a 2x2 kernel w1..w4 = 1..4 on a 3x3 input: y1 = 1 x1 + 2 x2 + 3 x4 + 4 x5
    example = conv_example((1, 3, 3), (2, 2), bias=False, weights=torch.tensor([[1.0, 2], [3, 4]]))
    A = example.matrix.dense()
    assert A.shape == (4, 9)
    assert A[0].tolist() == [1, 2, 0, 3, 4, 0, 0, 0, 0]
    assert A[3].tolist() == [0, 0, 0, 0, 1, 2, 0, 3, 4]
    assert (example.counts.conv_total, example.counts.dense_total) == (4, 36)
    assert example.max_difference < 1e-12


def test_large_layer_counts_and_check():
    example = conv_example((3, 64, 64), (3, 3), padding=(1, 1), out_channels=64)
    assert example.matrix.shape == (64 * 64 * 64, 3 * 64 * 64)
    # every filter reads 3 channels x 3x3 taps; on the border some taps fall on the padding:
    # per channel and filter, sum over output rows and columns of the taps inside = 190^2
    assert example.matrix.nnz == 64 * 3 * 190**2
    assert example.counts.conv_total == 64 * 27 + 64
    assert example.max_difference < 1e-10


def test_symbolic_matrix_and_its_check():
    example = conv_example((1, 3, 3), (2, 2), symbolic=True)
    assert example.symbolic is not None
    assert [str(e) for e in example.symbolic.matrix.row(0)] == [
        "w1", "w2", "0", "w3", "w4", "0", "0", "0", "0",
    ]  # fmt: skip
    assert example.conv.bias is None and example.max_difference < 1e-12


def test_the_callers_random_state_is_left_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = conv_example((2, 5, 5), (3, 3), out_channels=2, seed=1)
    assert torch.equal(torch.rand(3), expected)
    again = conv_example((2, 5, 5), (3, 3), out_channels=2, seed=1)
    assert torch.equal(first.conv.weight, again.conv.weight)  # the seed alone sets the weights


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"input_shape": (4, 5, 5), "kernel": (3, 3), "groups": 3}, "groups=3 must divide"),
        ({"input_shape": (1, 3, 3), "kernel": (2, 2), "out_channels": 2, "symbolic": True},
         "symbolic takes one input and one output channel"),
        ({"input_shape": (1, 30, 30), "kernel": (2, 2), "symbolic": True}, "at most 400"),
        ({"input_shape": (1, 3, 3), "kernel": (4, 4)}, "the output would be empty"),
    ],
)  # fmt: skip
def test_bad_sizes_are_one_clear_error(kwargs, fragment):
    with pytest.raises(NeuralabError, match=fragment):
        conv_example(**kwargs)
