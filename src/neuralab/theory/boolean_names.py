"""The names of Boolean functions and the check of a target, without importing torch.

``neuralab logic search XR`` is refused ("did you mean 'XOR'?") before torch is loaded.
:func:`neuralab.theory.boolean.target_bits` computes the outputs of a checked target;
``tests/test_boolean.py`` checks that :func:`function_names` are exactly the names it computes.
"""

from __future__ import annotations

import re

from neuralab.errors import NeuralabError, unknown_name_error

MAX_INPUTS = 16  # 2^16 = 65,536 truth-table rows

# The 16 two-input functions, indexed by their outputs on 00, 01, 10, 11 read as a binary number.
TWO_INPUT_NAMES = (
    "FALSE", "AND", "A AND NOT B", "A", "NOT A AND B", "B", "XOR", "OR",
    "NOR", "XNOR", "NOT B", "A OR NOT B", "NOT A", "NOT A OR B", "NAND", "TRUE",
)  # fmt: skip

ALIASES = {"PARITY": "XOR", "MAJ": "MAJORITY", "EQUIV": "XNOR", "XAND": "XNOR"}


def input_names(inputs: int) -> list[str]:
    """Return the names of ``inputs`` inputs: A, B, C, ... (x1, x2, ... beyond 26)."""
    return (
        [chr(ord("A") + i) for i in range(inputs)]
        if inputs <= 26
        else [f"x{i + 1}" for i in range(inputs)]
    )


def normalise(name: str) -> str:
    """Return ``name`` upper-cased, runs of spaces and underscores made one space."""
    return re.sub(r"[\s_]+", " ", name.strip().upper())


def function_names(inputs: int) -> list[str]:
    """Return the names given to functions of ``inputs`` inputs (2: all 16; n: AND, OR, NAND,
    NOR, XOR, XNOR, MAJORITY, MINORITY, each input and its negation, AT LEAST k OF n, ...)."""
    if inputs == 2:
        return list(TWO_INPUT_NAMES)
    if not 1 <= inputs <= MAX_INPUTS:
        raise NeuralabError(f"inputs {inputs} must be between 1 and {MAX_INPUTS}")
    names = ["FALSE", "TRUE"]
    if inputs >= 3:
        names += ["AND", "OR", "NAND", "NOR", "XOR", "XNOR", "MAJORITY", "MINORITY"]
    for name in input_names(inputs):
        names += [name, f"NOT {name}"]
    names += [f"AT LEAST {k} OF {inputs}" for k in range(2, inputs)]
    names += [f"EXACTLY {k} OF {inputs}" for k in range(1, inputs - 1)]
    return names


def check_target(target: str, inputs: int | None = None) -> str:
    """Return ``target`` checked: its truth-table bits (``"0110"``) or its function's name
    (normalised, aliases resolved: ``parity`` -> ``XOR``); otherwise one line naming the sizes
    or the close names."""
    text = normalise(target)
    if text and set(text) <= {"0", "1"}:
        size = len(text)
        found = size.bit_length() - 1
        if size < 2 or 2**found != size or (inputs is not None and found != inputs):
            want = f"2^{inputs} = {2**inputs}" if inputs is not None else "a power of two (>= 2)"
            raise NeuralabError(
                f"target truth table {target!r} has {size} bits; expected {want}, one per input row"
            )
        return text
    inputs = 2 if inputs is None else inputs
    names = function_names(inputs)
    text = ALIASES.get(text, text)
    if text not in names:
        error = unknown_name_error(f"Boolean function of {inputs} inputs", text, names)
        rows = range(2**inputs)
        if "XOR" in names:  # odd parity: an odd number of ones in the row
            example = "".join(str(bin(row).count("1") % 2) for row in rows)
        else:  # one input: the function A
            example = "".join(str((row >> (inputs - 1)) & 1) for row in rows)
        raise NeuralabError(f"{error}; or give the truth table as {2**inputs} bits, e.g. {example}")
    return text


__all__ = [
    "ALIASES",
    "MAX_INPUTS",
    "TWO_INPUT_NAMES",
    "check_target",
    "function_names",
    "input_names",
    "normalise",
]
