"""User-facing errors.

Every bad input a person can give (a model name, a spec, a shape, a file) raises
:class:`NeuralabError` with a message that names the bad value and says what would be valid.
The command line prints that message as one line on stderr and exits with code 2; library users
catch it like any ``ValueError``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class NeuralabError(ValueError):
    """Bad input, explained in one line: the bad value and what would be valid."""


def unknown_name_error(kind: str, name: str, valid: Iterable[str]) -> NeuralabError:
    """Return an error for an unknown ``name`` of ``kind``, suggesting close valid names.

    >>> str(unknown_name_error("model", "resnt18", ["resnet18", "vgg16"]))
    "unknown model 'resnt18'; did you mean 'resnet18'? (valid: resnet18, vgg16)"
    """
    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
    message = f"unknown {kind} {name!r}"
    if close:
        message += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(valid) if len(valid) <= 30 else ", ".join(valid[:30]) + ", ..."
    message += f" (valid: {shown})"
    return NeuralabError(message)
