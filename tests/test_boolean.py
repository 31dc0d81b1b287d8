"""Boolean networks: the course's XOR network, all 16 names, search counts against a naive loop."""

from __future__ import annotations

import itertools

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.theory.boolean import (
    TWO_INPUT_NAMES,
    BooleanNetwork,
    evaluate_network,
    input_combinations,
    name_boolean_function,
    target_bits,
)
from neuralab.theory.boolean_search import SEARCH_LIMIT, check_candidates, search_weights

XOR_W1 = torch.tensor([[-1.0, 1.0], [1.0, -1.0]])
XOR_W2 = torch.tensor([[1.0, 1.0]])


def test_course_xor_network_by_hand() -> None:
    result = evaluate_network(XOR_W1, XOR_W2, activation="relu")
    assert result.inputs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    # hidden: relu(-a + b), relu(a - b)
    assert result.hidden.tolist() == [[0, 0], [1, 0], [0, 1], [0, 0]]
    assert result.outputs[:, 0].tolist() == [0, 1, 1, 0]
    assert result.names == ["XOR"]
    assert result.input_names == ["A", "B"]


def test_biases_and_step_activation() -> None:
    # AND with one step unit: step(a + b - 1.5); the linear output copies it
    result = evaluate_network(
        torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0]]), torch.tensor([-1.5]), activation="step"
    )
    assert result.outputs[:, 0].tolist() == [0, 0, 0, 1]
    assert result.names == ["AND"]
    # b2 shifts the output: 1 - AND = NAND
    nand = evaluate_network(
        torch.tensor([[1.0, 1.0]]), torch.tensor([[-1.0]]), [-1.5], [1.0], activation="step"
    )
    assert nand.names == ["NAND"]


def test_two_outputs_are_named_separately() -> None:
    # half adder: sum = XOR, carry = AND (relu(a + b - 1))
    W1 = torch.tensor([[-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    b1 = torch.tensor([0.0, 0.0, -1.0])
    W2 = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert evaluate_network(W1, W2, b1).names == ["XOR", "AND"]


def test_sigmoid_output_uses_the_stated_tolerance() -> None:
    # sigmoid(10 (a + b) - 5) is within 0.05 of OR's outputs (0.0067, 0.9933, 0.9933, 1.0)
    W1 = torch.tensor([[10.0, 10.0]])
    result = evaluate_network(
        W1, torch.tensor([[1.0]]), [-5.0], activation="identity", output_activation="sigmoid"
    )
    assert result.tolerance == 0.05
    assert result.names == ["OR"]
    strict = evaluate_network(
        W1,
        torch.tensor([[1.0]]),
        [-5.0],
        activation="identity",
        output_activation="sigmoid",
        tolerance=1e-6,
    )
    assert strict.names == ["not Boolean"]
    # a linear output that lands on 0.5 is not Boolean
    assert evaluate_network(XOR_W1, torch.tensor([[0.5, 0.5]])).names == ["not Boolean"]


@pytest.mark.parametrize(("code", "name"), list(enumerate(TWO_INPUT_NAMES)))
def test_all_sixteen_two_input_names(code: int, name: str) -> None:
    outputs = [(code >> (3 - row)) & 1 for row in range(4)]
    assert name_boolean_function(outputs) == name
    label, bits = target_bits(name)
    assert label == name and bits.tolist() == outputs


def test_sixteen_names_by_meaning() -> None:
    rows = [(0, 0), (0, 1), (1, 0), (1, 1)]
    meaning = {
        "AND": lambda a, b: a and b,
        "A AND NOT B": lambda a, b: a and not b,
        "NOT A AND B": lambda a, b: (not a) and b,
        "XOR": lambda a, b: a != b,
        "OR": lambda a, b: a or b,
        "NOR": lambda a, b: not (a or b),
        "XNOR": lambda a, b: a == b,
        "A OR NOT B": lambda a, b: a or not b,
        "NOT A OR B": lambda a, b: (not a) or b,
        "NAND": lambda a, b: not (a and b),
    }
    for name, function in meaning.items():
        assert name_boolean_function([int(bool(function(a, b))) for a, b in rows]) == name


def test_n_input_names() -> None:
    X = input_combinations(3)
    ones = X.sum(dim=1)
    assert name_boolean_function((ones == 3).double()) == "AND"
    assert name_boolean_function((ones >= 1).double()) == "OR"
    assert name_boolean_function(ones % 2) == "XOR"
    assert name_boolean_function((ones >= 2).double()) == "MAJORITY"
    assert name_boolean_function(1 - X[:, 2]) == "NOT C"
    assert name_boolean_function([0, 1, 1, 1, 0, 0, 0, 0]) == "truth table 01110000"
    assert name_boolean_function([0, 1]) == "A"
    assert name_boolean_function([0.0, 0.3]) == "not Boolean"
    with pytest.raises(NeuralabError, match="2\\^n outputs; got 3"):
        name_boolean_function([0, 1, 1])


def test_target_names_and_bits() -> None:
    assert target_bits("a_and_not_b")[0] == "A AND NOT B"
    assert target_bits("parity", 3)[0] == "XOR"
    assert target_bits("0110")[0] == "XOR"
    assert target_bits("00010111")[0] == "MAJORITY"
    with pytest.raises(NeuralabError, match="unknown Boolean function of 2 inputs 'XRO'.*'XOR'"):
        target_bits("XRO")
    with pytest.raises(NeuralabError, match="has 3 bits; expected a power of two"):
        target_bits("011")
    with pytest.raises(NeuralabError, match="has 4 bits; expected 2\\^3 = 8"):
        target_bits("0110", 3)


def _naive_count(target: list[int], values: list[float], hidden: int, bias: bool) -> int:
    """Count networks computing ``target`` with plain python loops (the reference)."""
    rows = [(0, 0), (0, 1), (1, 0), (1, 1)]
    weights = hidden * 2 + hidden + (hidden + 1 if bias else 0)
    count = 0
    for w in itertools.product(values, repeat=weights):
        W1 = [w[2 * h : 2 * h + 2] for h in range(hidden)]
        W2 = w[2 * hidden : 3 * hidden]
        b1 = w[3 * hidden : 4 * hidden] if bias else [0.0] * hidden
        b2 = w[4 * hidden] if bias else 0.0
        outputs = []
        for a, b in rows:
            n = [max(0.0, W1[h][0] * a + W1[h][1] * b + b1[h]) for h in range(hidden)]
            outputs.append(sum(W2[h] * n[h] for h in range(hidden)) + b2)
        count += outputs == target
    return count


def test_search_or_matches_naive_loop() -> None:
    result = search_weights("OR", values=(-1, 0, 1), hidden=2)
    assert result.space == 3**6 == 729
    assert result.weights_per_network == 6
    assert result.count == _naive_count([0, 1, 1, 1], [-1.0, 0.0, 1.0], 2, False)
    assert result.count == len(result.solutions) > 0
    for network in result.solutions:
        assert evaluate_network(network.W1, network.W2).names == ["OR"]


def test_search_xor_with_bias_matches_naive_loop() -> None:
    result = search_weights("XOR", values=(-1, 0, 1), hidden=2, bias=True, keep=3, chunk=1000)
    assert result.space == 3**9
    assert result.count == _naive_count([0, 1, 1, 0], [-1.0, 0.0, 1.0], 2, True)
    assert len(result.solutions) == min(3, result.count)
    # the course's XOR network is among the bias-free solutions
    plain = search_weights("XOR", values=(-1, 0, 1), hidden=2)
    assert any(
        torch.equal(s.W1, XOR_W1.double()) and torch.equal(s.W2, XOR_W2.double())
        for s in plain.solutions
    )


def test_search_refuses_huge_spaces_saying_how_large() -> None:
    with pytest.raises(NeuralabError) as error:
        search_weights("XOR", values=range(-3, 4), hidden=4, bias=True)
    message = str(error.value)
    assert f"7^17 = {7**17:,} networks" in message
    assert f"{SEARCH_LIMIT:,}" in message


def test_check_candidates() -> None:
    checks = check_candidates(
        "XOR",
        [
            (XOR_W1, XOR_W2),
            BooleanNetwork(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0]])),
            (torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0]]), torch.tensor([-1.0])),
        ],
    )
    assert [c.computes_target for c in checks] == [True, False, False]
    assert [c.computed for c in checks] == ["XOR", "not Boolean", "AND"]


def test_wrong_shapes_say_what_was_expected() -> None:
    with pytest.raises(NeuralabError, match="W2 has shape 1x3; expected outputs x hidden = 1x2"):
        evaluate_network(XOR_W1, torch.ones(1, 3))
    with pytest.raises(NeuralabError, match="b1 has 3 entries; expected hidden = 2"):
        evaluate_network(XOR_W1, XOR_W2, torch.zeros(3))
    with pytest.raises(
        NeuralabError, match="candidate 1: W1 has shape 2x3; expected hidden x inputs = 2x2"
    ):
        check_candidates("XOR", [(torch.ones(2, 3), XOR_W2)])
    with pytest.raises(NeuralabError, match="unknown activation"):
        evaluate_network(XOR_W1, XOR_W2, activation="relux")


@pytest.mark.parametrize("inputs", [1, 2, 3, 4, 6])
def test_the_torch_free_names_are_the_computed_ones(inputs: int) -> None:
    from neuralab.theory.boolean import _bits_table
    from neuralab.theory.boolean_names import function_names

    assert function_names(inputs) == list(_bits_table(inputs))


@pytest.mark.parametrize(
    ("target", "inputs"),
    [("XR", None), ("XR", 3), ("B", 1), ("majority", 2), ("011", None), ("0110", 3), ("", None)],
)
def test_a_bad_target_is_refused_without_torch_as_target_bits_refuses_it(target, inputs) -> None:
    from neuralab.theory.boolean_names import check_target

    with pytest.raises(NeuralabError) as checked:
        check_target(target, inputs)
    assert "did you mean" in str(checked.value) or "bits" in str(checked.value)
    # the example truth table in the message is the function it names (XOR, or A for 1 input)
    if "e.g. " in str(checked.value):
        example = str(checked.value).rsplit("e.g. ", 1)[1]
        assert target_bits(example, inputs)[0] in ("XOR", "A")
