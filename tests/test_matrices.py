"""Parsing and printing matrices typed on the command line."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from neuralab.errors import NeuralabError
from neuralab.theory.matrices import format_matrix, parse_matrix, parse_vector


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[-1,1],[1,-1]]", [[-1.0, 1.0], [1.0, -1.0]]),
        ("[1, 2]", [[1.0, 2.0]]),
        ("1,2;3,4", [[1.0, 2.0], [3.0, 4.0]]),
        ("1 2; 3 4", [[1.0, 2.0], [3.0, 4.0]]),
        (" 1, -2.5 ;3e-1, 4 ", [[1.0, -2.5], [0.3, 4.0]]),
        ("5", [[5.0]]),
        ("[[0.5], [-0.5]]", [[0.5], [-0.5]]),
        ("((1, 2), (3, 4))", [[1.0, 2.0], [3.0, 4.0]]),
    ],
)
def test_parse_matrix_forms(text: str, expected: list[list[float]]) -> None:
    result = parse_matrix(text, "--w")
    assert result.dtype == torch.float64
    assert result.tolist() == expected


def test_shape_checked_with_names() -> None:
    with pytest.raises(NeuralabError) as error:
        parse_matrix("[[1,2],[3,4],[5,6]]", "--w1", shape=(2, 2), shape_names=("hidden", "inputs"))
    message = str(error.value)
    assert message == ("--w1 '[[1,2],[3,4],[5,6]]' has shape 3x2; expected hidden x inputs = 2x2")


def test_free_size_in_shape() -> None:
    assert parse_matrix("1,2,3;4,5,6", "--w1", shape=(None, 3)).shape == (2, 3)
    with pytest.raises(NeuralabError, match=r"has shape 1x3; expected 1x2"):
        parse_matrix("1,2,3", "--w1", shape=(None, 2))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("[[1,2],[3]]", "ragged rows (lengths 2, 1)"),
        ("1,2;3", "ragged rows (lengths 2, 1)"),
        ("[[1,2],[3,4]", "is not a matrix"),
        ("[[1,'a']]", "has the entry 'a'"),
        ("[[True, 1]]", "has the entry True"),
        ("[]", "non-empty"),
        ("[[1,2],3]", "mixes rows and numbers"),
        ("[[]]", "empty row"),
        ("1,2;;3,4", "empty row"),
        ("1,x;3,4", "has the entry 'x'"),
        ("1,nan", "must be finite"),
        ("[1e400]", "must be finite"),
        ("__import__('os')", "has the entry"),
        ("[__import__('os')]", "has the entry '__import__', not a number"),
    ],
)
def test_malformed_text_names_option_and_text(text: str, fragment: str) -> None:
    with pytest.raises(NeuralabError) as error:
        parse_matrix(text, "--w2")
    message = str(error.value)
    assert message.startswith("--w2")
    assert fragment in message
    assert "\n" not in message


def test_parse_vector() -> None:
    assert parse_vector("[0, -1]", "--b1").tolist() == [0.0, -1.0]
    assert parse_vector("[[1],[2],[3]]", "--b1", length=3).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(NeuralabError, match="--b1 '1,2;3,4' has shape 2x2; expected a vector"):
        parse_vector("1,2;3,4", "--b1")
    with pytest.raises(NeuralabError, match="has 2 entries; expected 3"):
        parse_vector("1,2", "--b1", length=3)


def test_format_matrix() -> None:
    assert format_matrix(torch.tensor([[-1.0, 1.0], [1.0, -0.5]])) == "[[-1, 1], [1, -0.5]]"
    assert format_matrix(torch.tensor([-0.0, 0.1])) == "[0, 0.1]"
    with pytest.raises(NeuralabError, match="shape"):
        format_matrix(torch.zeros(2, 2, 2))


@given(
    st.integers(1, 4).flatmap(
        lambda cols: st.lists(
            st.lists(
                st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
                min_size=cols,
                max_size=cols,
            ),
            min_size=1,
            max_size=4,
        )
    )
)
def test_format_then_parse_round_trips(rows: list[list[float]]) -> None:
    matrix = torch.tensor(rows, dtype=torch.float64)
    assert torch.equal(parse_matrix(format_matrix(matrix), "--w"), matrix)


def test_parse_vector_names_the_expected_length() -> None:
    with pytest.raises(NeuralabError, match=r"--b1 '1,2,3' has 3 entries; expected hidden = 2"):
        parse_vector("1,2,3", "--b1", length=2, length_name="hidden")
