"""Matrices typed by a person: parse ``"[[-1,1],[1,-1]]"`` or ``"1,2;3,4"``, print them back.

The theory bench takes weight matrices on the command line (``--w1 "[[-1,1],[1,-1]]"``). This
module turns such text into a float64 tensor, checks its shape against what the caller needs and
explains a mistake in one line (``--w1 '[[1,2],[3,4],[5,6]]' has shape 3x2; expected hidden x
inputs = 2x2``). Text is read with :func:`ast.literal_eval` (literals only), never ``eval``.

Accepted forms:

- nested lists, Python/JSON style: ``[[-1, 1], [1, -1]]`` (rows), ``[1, 2]`` (one row);
- MATLAB style: rows separated by ``;``, entries by ``,`` or spaces: ``1,2;3,4``, ``1 2; 3 4``;
- a single number: ``3`` (a 1x1 matrix).
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from collections.abc import Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

from neuralab.errors import NeuralabError

if TYPE_CHECKING:
    import torch

__all__ = ["format_matrix", "matrix_rows", "parse_matrix", "parse_vector", "vector_entries"]

MAX_TEXT = 1_000_000  # characters of one typed matrix: more is a pasted file, not a matrix

_MATLAB_ENTRY_SEPARATOR = re.compile(r"[,\s]+")
_LITERAL_ENTRY_SEPARATOR = re.compile(r"[\[\](),\s]+")
# how to write the value, for errors: a matrix or a vector (a list of numbers)
_HINTS = {
    "matrix": "write rows like '1,2;3,4' or nested lists '[[1,2],[3,4]]'",
    "vector": "write a list of numbers like '1,10,100' or '[1, 10, 100]'",
}


def _shown(text: str) -> str:
    """Return ``text`` quoted for an error message, shortened when it is long."""
    text = text.strip()
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _dims(shape: Sequence[int | None], names: Sequence[str] | None, found: Sequence[int]) -> str:
    # a free size (None) is whatever was found: only the sizes that are wrong differ
    sizes = "x".join(str(f if s is None else s) for s, f in zip(shape, found, strict=True))
    if names:
        return f"{' x '.join(names)} = {sizes}"
    return sizes


def _number(value: object, name: str, text: str) -> float:
    # bool is an int subclass: "[[True, 1]]" is almost surely a typo, not a weight.
    if isinstance(value, bool) or not isinstance(value, Real):
        raise NeuralabError(
            f"{name} {_shown(text)} has the entry {value!r}; every entry must be a number"
        )
    number = float(value)
    if not math.isfinite(number):
        raise NeuralabError(
            f"{name} {_shown(text)} has the entry {value!r}; entries must be finite numbers"
        )
    return number


def _bad_entry(text: str, name: str, hint: str) -> NeuralabError | None:
    """Return the error naming the first entry of ``text`` that is not a number, if any."""
    for entry in _LITERAL_ENTRY_SEPARATOR.split(text):
        if not entry:
            continue
        try:
            number = float(entry)
        except ValueError:
            return NeuralabError(
                f"{name} {_shown(text)} has the entry {entry!r}, not a number; {hint}"
            )
        if not math.isfinite(number):
            return NeuralabError(
                f"{name} {_shown(text)} has the entry {entry!r}; entries must be finite numbers"
            )
    return None


def _rows_from_literal(text: str, name: str, kind: str = "matrix") -> list[list[float]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Python's SyntaxWarning for '1for' is not ours
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        found = _bad_entry(text, name, _HINTS[kind])
        if found is not None:  # nan, inf, a name: say which entry, as the other forms do
            raise found from None
        if kind == "vector":
            raise NeuralabError(
                f"{name} {_shown(text)} is not a list of numbers; {_HINTS[kind]}"
            ) from None
        raise NeuralabError(
            f"{name} {_shown(text)} is not a matrix; write rows as nested lists "
            "'[[-1,1],[1,-1]]', one row '[1, 2]' or MATLAB-like '1,2;3,4'"
        ) from None
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list) or not value:
        raise NeuralabError(
            f"{name} {_shown(text)} is not a non-empty list of numbers or of rows, "
            "e.g. '[[-1,1],[1,-1]]' or '[1, 2]'"
        )
    if all(not isinstance(v, (list, tuple)) for v in value):
        return [[_number(v, name, text) for v in value]]
    rows: list[list[float]] = []
    for row in value:
        if not isinstance(row, (list, tuple)):
            raise NeuralabError(
                f"{name} {_shown(text)} mixes rows and numbers ({row!r}); "
                "write every row as a list, e.g. '[[1,2],[3,4]]'"
            )
        if not row:
            raise NeuralabError(f"{name} {_shown(text)} has an empty row; every row needs entries")
        rows.append([_number(v, name, text) for v in row])
    return rows


def _rows_from_matlab(text: str, name: str, kind: str = "matrix") -> list[list[float]]:
    rows: list[list[float]] = []
    for part in text.split(";"):
        entries = [e for e in _MATLAB_ENTRY_SEPARATOR.split(part.strip()) if e]
        if not entries:
            raise NeuralabError(f"{name} {_shown(text)} has an empty row or entry; {_HINTS[kind]}")
        row: list[float] = []
        for entry in entries:
            try:
                row.append(float(entry))
            except ValueError:
                raise NeuralabError(
                    f"{name} {_shown(text)} has the entry {entry!r}, not a number; {_HINTS[kind]}"
                ) from None
            if not math.isfinite(row[-1]):
                raise NeuralabError(
                    f"{name} {_shown(text)} has the entry {entry!r}; entries must be finite numbers"
                )
        rows.append(row)
    return rows


def parse_matrix(
    text: str,
    name: str,
    *,
    shape: tuple[int | None, int | None] | None = None,
    shape_names: tuple[str, str] | None = None,
) -> torch.Tensor:
    """Return the matrix written in ``text`` as a float64 tensor of shape (rows, columns).

    ``name`` is what the user typed it as (``"--w1"``) and appears in every error. ``shape``
    is the expected (rows, columns); ``None`` in it leaves that size free. ``shape_names``
    says what the sizes mean (``("hidden", "inputs")``) so the error can explain them.

    >>> parse_matrix("1,2;3,4", "--w").tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    >>> parse_matrix("[-1, 1]", "--w").shape
    torch.Size([1, 2])
    """
    rows = matrix_rows(text, name, shape=shape, shape_names=shape_names)
    import torch  # only now: a malformed matrix is refused without torch's ~1.5 s import

    return torch.tensor(rows, dtype=torch.float64)


def matrix_rows(
    text: str,
    name: str,
    *,
    shape: tuple[int | None, int | None] | None = None,
    shape_names: tuple[str, str] | None = None,
) -> list[list[float]]:
    """Return the rows of the matrix written in ``text``, checked as :func:`parse_matrix`
    checks them, without importing torch (a command checks all its matrices first)."""
    return _parse_rows(text, name, shape, shape_names)


def _parse_rows(
    text: str,
    name: str,
    shape: tuple[int | None, int | None] | None = None,
    shape_names: tuple[str, str] | None = None,
    kind: str = "matrix",
) -> list[list[float]]:
    if not isinstance(text, str) or not text.strip():
        if kind == "vector":
            raise NeuralabError(f"{name} is empty; {_HINTS[kind]}")
        raise NeuralabError(f"{name} is empty; write a matrix like '[[-1,1],[1,-1]]' or '1,2;3,4'")
    stripped = text.strip()
    if len(stripped) > MAX_TEXT:
        raise NeuralabError(f"{name} is {len(stripped):,} characters long; at most {MAX_TEXT:,}")
    if stripped[0] in "[(":
        rows = _rows_from_literal(stripped, name, kind)
    else:
        rows = _rows_from_matlab(stripped, name, kind)
    widths = sorted({len(row) for row in rows})
    if len(widths) > 1:
        lengths = ", ".join(str(len(row)) for row in rows)
        raise NeuralabError(
            f"{name} {_shown(text)} has ragged rows (lengths {lengths}); "
            "every row needs the same number of entries"
        )
    found = (len(rows), widths[0])
    if shape is not None and any(
        e is not None and e != f for e, f in zip(shape, found, strict=True)
    ):
        raise NeuralabError(
            f"{name} {_shown(text)} has shape {found[0]}x{found[1]}; "
            f"expected {_dims(shape, shape_names, found)}"
        )
    return rows


def parse_vector(
    text: str, name: str, *, length: int | None = None, length_name: str | None = None
) -> torch.Tensor:
    """Return the vector written in ``text`` (a row or a column) as a 1-D float64 tensor.

    ``length_name`` says what the expected length means (``"hidden"``) in the error.

    >>> parse_vector("[0, -1]", "--b1").tolist()
    [0.0, -1.0]
    """
    entries = vector_entries(text, name, length=length, length_name=length_name)
    import torch  # only now, as in parse_matrix

    return torch.tensor(entries, dtype=torch.float64)


def vector_entries(
    text: str, name: str, *, length: int | None = None, length_name: str | None = None
) -> list[float]:
    """Return the entries of the vector written in ``text``, checked as :func:`parse_vector`
    checks them, without importing torch."""
    rows = _parse_rows(text, name, kind="vector")
    if len(rows) != 1 and len(rows[0]) != 1:
        raise NeuralabError(
            f"{name} {_shown(text)} has shape {len(rows)}x{len(rows[0])}; "
            "expected a vector (one row or one column)"
        )
    entries = [value for row in rows for value in row]
    if length is not None and len(entries) != length:
        expected = f"{length_name} = {length}" if length_name else str(length)
        raise NeuralabError(
            f"{name} {_shown(text)} has {len(entries)} entries; expected {expected}"
        )
    return entries


def _entry(value: Any) -> str:
    # ``value`` is a numpy scalar of the tensor's own dtype: its str is the shortest text that
    # reads back to the same number (0.1 in float32 prints as 0.1, not 0.10000000149011612).
    number = float(value)
    if math.isfinite(number) and number == int(number) and abs(number) < 1e15:
        return str(int(value))  # also prints -0.0 as 0
    return str(value)


def format_matrix(t: torch.Tensor) -> str:
    """Return ``t`` (a matrix or a vector) as text :func:`parse_matrix` reads back.

    Integer-valued entries print without a decimal point; others with the shortest exact repr.

    >>> import torch
    >>> format_matrix(torch.tensor([[-1.0, 1.0], [1.0, -0.5]]))
    '[[-1, 1], [1, -0.5]]'
    """
    values = t.detach().cpu().numpy()
    if t.dim() == 1:
        return "[" + ", ".join(_entry(v) for v in values) + "]"
    if t.dim() != 2:
        raise NeuralabError(
            f"format_matrix takes a matrix or a vector; got a tensor of shape {tuple(t.shape)}"
        )
    rows = ("[" + ", ".join(_entry(v) for v in row) + "]" for row in values)
    return "[" + ", ".join(rows) + "]"
