"""Boolean networks: truth tables of two-layer networks, naming Boolean functions.

The search over weight values and the check of proposed weights: :mod:`neuralab.theory.boolean_search`.

The course's network for n inputs x = (A, B, ...) in {0, 1}^n:

    n = f(W1 x + b1)      hidden layer, W1 is hidden x inputs, f = relu | step | sigmoid | ...
    out = W2 n + b2       output layer, W2 is outputs x hidden; linear (the course's convention)
                          unless an output activation g is asked for: out = g(W2 n + b2)

With f = relu, W1 = [[-1, 1], [1, -1]] and W2 = [[1, 1]], out = relu(B - A) + relu(A - B) = XOR.

Truth tables list the inputs in binary counting order with A the most significant bit
(00, 01, 10, 11 for two inputs); a function is named from its outputs in that order (0110 = XOR).
An output counts as 0 or 1 when it lies within ``tolerance`` of it (default 1e-6; a sigmoid
output unit never reaches 0 or 1 exactly, so there the default is 0.05); otherwise the function
is "not Boolean".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from neuralab.errors import NeuralabError
from neuralab.theory.activations import get_activation
from neuralab.theory.boolean_names import MAX_INPUTS, TWO_INPUT_NAMES, check_target, input_names

__all__ = [
    "BooleanNetwork",
    "check_network_shapes",
    "forward",
    "input_combinations",
    "input_names",
    "output_tolerance",
    "TruthTableResult",
    "boolean_function_names",
    "evaluate_network",
    "name_boolean_function",
    "target_bits",
]

EXACT_TOLERANCE = 1e-6  # outputs this close to 0 or 1 count as 0 or 1
SIGMOID_TOLERANCE = 0.05  # ... when the output unit is a sigmoid, which never reaches 0 or 1


def input_combinations(inputs: int) -> torch.Tensor:
    """Return every x in {0, 1}^inputs, (2^inputs, inputs) float64, in binary counting order."""
    if not 1 <= inputs <= MAX_INPUTS:
        raise NeuralabError(f"inputs {inputs} must be between 1 and {MAX_INPUTS}")
    codes = torch.arange(2**inputs).unsqueeze(1)
    shifts = torch.arange(inputs - 1, -1, -1).unsqueeze(0)  # A is the most significant bit
    return ((codes >> shifts) & 1).to(torch.float64)


def _bits_table(inputs: int) -> dict[str, tuple[int, ...]]:
    """Return name -> outputs in truth-table order, for every function named with ``inputs``."""
    if inputs == 2:  # the 16 two-input functions: bit r of the name's index, MSB first
        return {
            name: tuple((code >> (3 - row)) & 1 for row in range(4))
            for code, name in enumerate(TWO_INPUT_NAMES)
        }
    X = input_combinations(inputs).long()  # (2^n, n)
    ones = X.sum(dim=1)  # how many inputs are 1, per row
    columns: dict[str, torch.Tensor] = {
        "FALSE": torch.zeros_like(ones),
        "TRUE": torch.ones_like(ones),
    }
    if inputs >= 3:
        columns |= {
            "AND": ones == inputs,
            "OR": ones >= 1,
            "NAND": ones < inputs,
            "NOR": ones == 0,
            "XOR": ones % 2 == 1,  # parity: an odd number of ones
            "XNOR": ones % 2 == 0,
            "MAJORITY": 2 * ones > inputs,
            "MINORITY": 2 * ones < inputs,
        }
    for i, name in enumerate(input_names(inputs)):
        columns[name] = X[:, i]
        columns[f"NOT {name}"] = 1 - X[:, i]
    for k in range(2, inputs):
        columns[f"AT LEAST {k} OF {inputs}"] = ones >= k
    for k in range(1, inputs - 1):
        columns[f"EXACTLY {k} OF {inputs}"] = ones == k
    return {name: tuple(int(v) for v in column.tolist()) for name, column in columns.items()}


def boolean_function_names(inputs: int = 2) -> list[str]:
    """Return the names this module gives to functions of ``inputs`` inputs."""
    return list(_bits_table(inputs))


def target_bits(target: str, inputs: int | None = None) -> tuple[str, torch.Tensor]:
    """Return (name, outputs on every input row) for a function given by name or truth table.

    ``target`` is a name (``"OR"``, ``"A AND NOT B"``, ``"a_and_not_b"``, ``"PARITY"`` = XOR) or
    the outputs as bits in truth-table order (``"0111"`` = OR of two inputs); it is checked by
    :func:`neuralab.theory.boolean_names.check_target`.
    """
    text = check_target(target, inputs)
    if set(text) <= {"0", "1"}:
        bits = torch.tensor([float(c) for c in text], dtype=torch.float64)
        return name_boolean_function(bits), bits
    table = _bits_table(2 if inputs is None else inputs)
    return text, torch.tensor(table[text], dtype=torch.float64)


def name_boolean_function(
    outputs: Sequence[float] | torch.Tensor, tolerance: float = EXACT_TOLERANCE
) -> str:
    """Return the name of the Boolean function with these outputs (truth-table order).

    Two inputs (4 outputs): one of the 16 names FALSE, AND, A AND NOT B, A, NOT A AND B, B, XOR,
    OR, NOR, XNOR, NOT B, A OR NOT B, NOT A, NOT A OR B, NAND, TRUE. n inputs: AND, OR, NAND, NOR,
    XOR (odd parity), XNOR, MAJORITY, a single input or its negation, AT LEAST k OF n, ... when
    recognised, else ``truth table 01101001``. An output farther than ``tolerance`` from both 0
    and 1 makes it ``not Boolean``.

    >>> name_boolean_function([0, 1, 1, 0])
    'XOR'
    """
    values = torch.as_tensor(outputs, dtype=torch.float64).reshape(-1)
    size = values.numel()
    inputs = size.bit_length() - 1
    if size < 2 or 2**inputs != size:
        raise NeuralabError(f"a truth table has 2^n outputs; got {size} (expected 2, 4, 8, ...)")
    if inputs > MAX_INPUTS:
        raise NeuralabError(f"{inputs} inputs; at most {MAX_INPUTS} are supported")
    rounded = values.round()
    if not bool(((rounded == 0) | (rounded == 1)).all()) or bool(
        ((values - rounded).abs() > tolerance).any()
    ):
        return "not Boolean"
    bits = tuple(int(v) for v in rounded.tolist())
    for name, table_bits in _bits_table(inputs).items():
        if table_bits == bits:
            return name
    return "truth table " + "".join(map(str, bits))


@dataclass(frozen=True)
class BooleanNetwork:
    """A two-layer network: W1 (hidden x inputs), W2 (outputs x hidden), optional biases."""

    W1: torch.Tensor
    W2: torch.Tensor
    b1: torch.Tensor | None = None  # (hidden,)
    b2: torch.Tensor | None = None  # (outputs,)


def check_network_shapes(network: BooleanNetwork, inputs: int | None = None) -> None:
    W1, W2 = network.W1, network.W2
    if W1.dim() != 2 or W2.dim() != 2:
        raise NeuralabError(
            f"W1 and W2 must be matrices; got W1 {tuple(W1.shape)}, W2 {tuple(W2.shape)}"
        )
    hidden, n = W1.shape
    if inputs is not None and n != inputs:
        raise NeuralabError(
            f"W1 has shape {hidden}x{n}; expected hidden x inputs = {hidden}x{inputs}"
        )
    if W2.shape[1] != hidden:
        raise NeuralabError(
            f"W2 has shape {W2.shape[0]}x{W2.shape[1]}; expected outputs x hidden = "
            f"{W2.shape[0]}x{hidden} (W1 has {hidden} hidden rows)"
        )
    for name, bias, size, what in (
        ("b1", network.b1, hidden, "hidden"),
        ("b2", network.b2, W2.shape[0], "outputs"),
    ):
        if bias is not None and tuple(bias.shape) != (size,):
            raise NeuralabError(f"{name} has {bias.numel()} entries; expected {what} = {size}")


def forward(
    X: torch.Tensor,
    W1: torch.Tensor,
    W2: torch.Tensor,
    b1: torch.Tensor | None,
    b2: torch.Tensor | None,
    activation: str,
    output_activation: str | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (hidden, outputs) for inputs X (rows, n); weights may carry leading batch dims."""
    hidden = X @ W1.transpose(-1, -2)  # (..., rows, hidden)
    if b1 is not None:
        hidden = hidden + b1.unsqueeze(-2)
    hidden = get_activation(activation)(hidden)
    out = hidden @ W2.transpose(-1, -2)  # (..., rows, outputs)
    if b2 is not None:
        out = out + b2.unsqueeze(-2)
    if output_activation is not None:
        out = get_activation(output_activation)(out)
    return hidden, out


def output_tolerance(tolerance: float | None, output_activation: str | None) -> float:
    if tolerance is not None:
        if not 0 <= tolerance < 0.5:
            raise NeuralabError(f"tolerance {tolerance} must be in [0, 0.5)")
        return tolerance
    return SIGMOID_TOLERANCE if output_activation in ("sigmoid", "logistic") else EXACT_TOLERANCE


@dataclass(frozen=True)
class TruthTableResult:
    """A network's forward pass on every input combination, and what each output computes."""

    network: BooleanNetwork
    activation: str
    output_activation: str | None  # None: linear output unit
    tolerance: float
    input_names: list[str]  # A, B, ...
    inputs: torch.Tensor  # (2^n, n), binary counting order
    hidden: torch.Tensor  # (2^n, hidden): n = f(W1 x + b1)
    outputs: torch.Tensor  # (2^n, outputs)
    names: list[str]  # per output: the Boolean function computed, or "not Boolean"


def evaluate_network(
    W1: torch.Tensor | Sequence[Sequence[float]],
    W2: torch.Tensor | Sequence[Sequence[float]],
    b1: torch.Tensor | Sequence[float] | None = None,
    b2: torch.Tensor | Sequence[float] | None = None,
    activation: str = "relu",
    *,
    output_activation: str | None = None,
    tolerance: float | None = None,
) -> TruthTableResult:
    """Return the truth table of out = W2 f(W1 x + b1) + b2 over every x in {0, 1}^inputs.

    >>> W1 = torch.tensor([[-1.0, 1.0], [1.0, -1.0]]); W2 = torch.tensor([[1.0, 1.0]])
    >>> evaluate_network(W1, W2).names
    ['XOR']
    """
    network = BooleanNetwork(
        torch.as_tensor(W1, dtype=torch.float64),
        torch.as_tensor(W2, dtype=torch.float64),
        None if b1 is None else torch.as_tensor(b1, dtype=torch.float64).reshape(-1),
        None if b2 is None else torch.as_tensor(b2, dtype=torch.float64).reshape(-1),
    )
    check_network_shapes(network)
    get_activation(activation)  # unknown names: the table's error, before any computation
    if output_activation is not None:
        get_activation(output_activation)
    tol = output_tolerance(tolerance, output_activation)
    inputs = network.W1.shape[1]
    X = input_combinations(inputs)
    hidden, out = forward(
        X, network.W1, network.W2, network.b1, network.b2, activation, output_activation
    )
    names = [name_boolean_function(out[:, k], tol) for k in range(out.shape[1])]
    return TruthTableResult(
        network, activation, output_activation, tol, input_names(inputs), X, hidden, out, names
    )
