"""Candidate Boolean networks read from text: a JSON list, a JSON file, or ``W1 | W2 | b1 | b2``.

A student's proposed weights, as ``neuralab logic search TARGET --check ... --candidate ...``
takes them, become :class:`~neuralab.theory.boolean.BooleanNetwork` values for
:func:`~neuralab.theory.boolean_search.check_candidates`.
"""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path
from typing import Any

from neuralab.errors import NeuralabError
from neuralab.theory.boolean import BooleanNetwork
from neuralab.theory.matrices import parse_matrix, parse_vector


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _candidate(parts: list[Any], number: int) -> BooleanNetwork:
    """Return a BooleanNetwork from [W1, W2] or [W1, W2, b1, b2] (text or nested lists)."""
    if len(parts) not in (2, 3, 4):
        raise NeuralabError(
            f"candidate {number} has {len(parts)} parts; expected W1 | W2 or W1 | W2 | b1 | b2"
        )
    W1 = parse_matrix(_text(parts[0]), f"candidate {number} W1")
    W2 = parse_matrix(_text(parts[1]), f"candidate {number} W2")
    b1 = parse_vector(_text(parts[2]), f"candidate {number} b1") if len(parts) > 2 else None
    b2 = parse_vector(_text(parts[3]), f"candidate {number} b2") if len(parts) > 3 else None
    return BooleanNetwork(W1, W2, b1, b2)


def _is_matrix(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and isinstance(value[0], list)
        and bool(value[0])
        and not isinstance(value[0][0], (list, dict))
    )


def _names_a_file(check: str) -> bool:
    """Return whether ``--check``'s text is meant as a file name rather than a JSON list."""
    text = check.strip()
    if text.startswith(("[", "(", "{")):
        return False
    return Path(text).exists() or text.lower().endswith(".json") or "/" in text or "\\" in text


def _checked_list(check: str) -> list[Any]:
    from_file = _names_a_file(check)
    if from_file:
        from neuralab.paths import input_file

        path = input_file(check.strip(), "--check file", expected="a JSON file of candidates")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise NeuralabError(
                f"--check file {str(path)!r} is not a UTF-8 text file ({type(error).__name__})"
            ) from None
    else:
        text = check
    try:
        data = json.loads(text)
    except ValueError as error:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Python's SyntaxWarning is not for a user
                data = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            if from_file:
                raise NeuralabError(
                    f"--check file {check.strip()!r} is malformed: not JSON ({error}); expected "
                    "a list of candidates like [[W1, W2], [W1, W2]]"
                ) from None
            raise NeuralabError(
                f"--check {check[:80]!r} is neither a JSON file nor a list of candidates "
                "like '[[W1, W2], [W1, W2]]'"
            ) from None
    if (
        isinstance(data, (list, tuple))
        and len(data) in (2, 4)
        and all(_is_matrix(d) or (i >= 2 and isinstance(d, list)) for i, d in enumerate(data))
    ):
        data = [data]  # one [W1, W2] pair rather than a list of pairs
    if not isinstance(data, (list, tuple)) or not data:
        raise NeuralabError(
            f"--check must hold a non-empty list of candidates; got {type(data).__name__}"
        )
    return list(data)


def parse_candidates(check: str | None, candidate: list[str]) -> list[BooleanNetwork]:
    """Return the candidate networks of ``--check`` (JSON text or file) and ``--candidate``.

    ``--check``: a list of candidates, each ``[W1, W2]``, ``[W1, W2, b1, b2]`` or
    ``{"w1": ..., "w2": ..., "b1": ..., "b2": ...}`` (a single ``[W1, W2]`` pair also works),
    given inline or as the path of a JSON file. ``--candidate "W1 | W2 [| b1 | b2]"``: one
    network, repeatable, each part a matrix as for ``--w1``.

    >>> [n.W1.tolist() for n in parse_candidates(None, ["[[-1,1],[1,-1]] | [[1,1]]"])]
    [[[-1.0, 1.0], [1.0, -1.0]]]
    """
    networks = []
    for number, item in enumerate(_checked_list(check) if check is not None else [], start=1):
        if isinstance(item, dict):
            keys = {k.lower(): v for k, v in item.items()}
            if not {"w1", "w2"} <= set(keys) or set(keys) - {"w1", "w2", "b1", "b2"}:
                raise NeuralabError(
                    f"candidate {number} has keys {sorted(item)}; expected w1, w2 and "
                    "optionally b1, b2"
                )
            item = [keys[k] for k in ("w1", "w2", "b1", "b2") if k in keys]
        if not isinstance(item, (list, tuple)):
            raise NeuralabError(
                f"candidate {number} is {item!r}; expected [W1, W2] or [W1, W2, b1, b2]"
            )
        networks.append(_candidate(list(item), number))
    for text in candidate:
        networks.append(_candidate([part.strip() for part in text.split("|")], len(networks) + 1))
    return networks
