"""Pooling step by step (judged by F.max_pool2d / F.avg_pool2d) and padding usage counts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.errors import NeuralabError
from neuralab.theory.pooling import padding_usage, pool_steps

COURSE = [[1, 0, 2, 3], [1, 0, 4, 5], [-1, 2, 0, 0], [3, 3, 0, 1]]


def test_course_max_pool_by_hand() -> None:
    result = pool_steps(COURSE, "max", 2)
    assert result.output.tolist() == [[1, 5], [3, 1]]
    assert [w.computation for w in result.windows] == [
        "max(1,0,1,0) = 1",
        "max(2,3,4,5) = 5",
        "max(-1,2,3,3) = 3",
        "max(0,0,0,1) = 1",
    ]
    assert result.windows[1].rows == (0, 1) and result.windows[1].columns == (2, 3)


def test_course_avg_pool_by_hand() -> None:
    result = pool_steps([[1, 1, 0, 2], [1, 1, 2, 0], [3, 1, -1, 1], [0, 0, 1, 1]], "avg", 2)
    assert result.output.tolist() == [[1, 1], [1, 0.5]]
    assert result.windows[0].computation == "(1+1+1+1)/4 = 1"
    assert result.windows[3].computation == "(-1+1+1+1)/4 = 0.5"
    assert pool_steps([[1, -2]], "avg", (1, 2)).windows[0].computation == "(1-2)/2 = -0.5"


@st.composite
def pool_cases(draw: st.DrawFn) -> tuple[torch.Tensor, int, int, int]:
    size = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, size // 2))
    height = draw(st.integers(max(1, size - 2 * padding), 6))
    width = draw(st.integers(max(1, size - 2 * padding), 6))
    values = draw(st.lists(st.integers(-5, 5), min_size=height * width, max_size=height * width))
    matrix = torch.tensor(values, dtype=torch.float64).reshape(height, width)
    return matrix, size, stride, padding


@settings(max_examples=60, deadline=None)
@given(pool_cases(), st.sampled_from(["max", "avg"]))
def test_matches_torch(case: tuple[torch.Tensor, int, int, int], op: str) -> None:
    matrix, size, stride, padding = case
    result = pool_steps(matrix, op, size, stride, padding)
    pool = F.max_pool2d if op == "max" else F.avg_pool2d
    expected = pool(matrix[None, None], size, stride, padding)[0, 0]
    torch.testing.assert_close(result.output, expected)
    assert result.max_difference == float((result.output - expected).abs().max())
    assert result.torch_function == f"F.{pool.__name__}"
    assert len(result.windows) == expected.numel()
    # every computation string ends in the entry it computed
    for window in result.windows:
        assert window.computation.endswith(f"= {window.result:g}")


def test_stride_defaults_to_size_and_padding_shows_in_windows() -> None:
    assert pool_steps(torch.zeros(4, 6), "max", 2).output.shape == (2, 3)
    result = pool_steps([[4, 8], [1, 2]], "max", 2, 1, 1)
    assert result.windows[0].computation == "max(-inf,-inf,-inf,4) = 4"
    assert result.windows[0].rows == (-1, 0)
    avg = pool_steps([[4, 8], [1, 2]], "avg", 2, 1, 1)
    assert avg.windows[0].computation == "(0+0+0+4)/4 = 1"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"op": "min"}, "pooling op 'min' is unknown; valid: max, avg"),
        ({"size": 0}, "size 0 must be >= 1"),
        ({"stride": 0}, "stride 0 must be >= 1"),
        ({"padding": 2}, "more than half the window"),
        ({"size": 5}, "does not fit"),
    ],
)
def test_bad_pool_arguments(kwargs: dict, fragment: str) -> None:
    with pytest.raises(NeuralabError, match=fragment):
        pool_steps([[1, 2], [3, 4]], **kwargs)


def test_padding_usage_without_padding() -> None:
    usage = padding_usage((5, 5), 3)
    assert usage.output_hw == (3, 3)
    assert usage.counts == [
        [1, 2, 3, 2, 1],
        [2, 4, 6, 4, 2],
        [3, 6, 9, 6, 3],
        [2, 4, 6, 4, 2],
        [1, 2, 3, 2, 1],
    ]
    assert not any(any(row) for row in usage.padded)
    assert usage.conclusion.startswith(
        "without padding the corner pixel is used by 1 of 9 output positions, the centre by 9; "
        "with padding=1 the corner pixel is used by 4 of 25 output positions, the centre by 9"
    )


def test_padding_usage_with_padding_counts_zeros() -> None:
    usage = padding_usage((5, 5), 3, padding=1)
    assert usage.output_hw == (5, 5)
    assert usage.input_counts[0][0] == 4 and usage.input_counts[2][2] == 9
    assert usage.counts[0][0] == 1 and usage.padded[0][0] and not usage.padded[1][1]
    # the sum of all counts is (number of outputs) x (window size)
    assert sum(map(sum, usage.counts)) == 25 * 9
    assert "(the 24 padded zeros are read 56 times)" in usage.conclusion


def test_padding_usage_agrees_with_conv_of_ones() -> None:
    # uses of each input pixel = gradient of sum(conv(x)) w.r.t. x with an all-ones kernel
    for hw, kernel, stride, padding in [((6, 5), 3, 2, 1), ((7, 7), (2, 3), (1, 2), (1, 0))]:
        usage = padding_usage(hw, kernel, stride, padding)
        x = torch.zeros(1, 1, *hw, requires_grad=True)
        k = (kernel, kernel) if isinstance(kernel, int) else kernel
        F.conv2d(x, torch.ones(1, 1, *k), stride=stride, padding=padding).sum().backward()
        assert x.grad is not None
        assert x.grad[0, 0].int().tolist() == usage.input_counts


def test_padding_usage_reports_unused_pixels() -> None:
    usage = padding_usage((5, 5), 2, stride=3)
    assert usage.conclusion.endswith("9 input pixels by none")
    with pytest.raises(NeuralabError, match="does not fit"):
        padding_usage((2, 2), 5)
