"""The names a summary accepts, without torch: dtypes (``float32``, ``int64``, ``half``, ...)
and modes (``eval``, ``train``).

``neuralab summary --input 50:int9``, ``--dtype flaot32`` or ``--mode trian`` is refused with
the valid names before torch is imported; :func:`neuralab.arch.summary_inputs.torch_dtype` turns a checked name
into its ``torch.dtype`` (``tests/test_summary_inputs.py`` checks every name is one of torch's).
"""

from __future__ import annotations

from typing import Literal, get_args

from neuralab.errors import NeuralabError, unknown_name_error

DtypeName = Literal["float32", "float16", "bfloat16", "float64", "int64", "int32", "bool"]
DTYPE_NAMES: tuple[str, ...] = get_args(DtypeName)
DTYPE_ALIASES = {"float": "float32", "half": "float16", "double": "float64", "long": "int64"}
FLOAT_DTYPES = ("float32", "float16", "bfloat16", "float64")
SummaryMode = Literal["eval", "train"]
SUMMARY_MODES: tuple[str, ...] = get_args(SummaryMode)


def dtype_name(name: str) -> str:
    """Return the dtype name ``name`` stands for (``half`` -> ``float16``); unknown names raise."""
    key = DTYPE_ALIASES.get(name, name)
    if key not in DTYPE_NAMES:
        raise unknown_name_error("dtype", name, list(DTYPE_NAMES))
    return key


def check_mode(mode: str) -> None:
    """Refuse a mode that is not ``eval`` or ``train``, naming both."""
    if mode not in SUMMARY_MODES:
        raise NeuralabError(f"mode {mode!r} is not one of {', '.join(SUMMARY_MODES)}")


__all__ = [
    "DTYPE_ALIASES",
    "DTYPE_NAMES",
    "FLOAT_DTYPES",
    "SUMMARY_MODES",
    "DtypeName",
    "SummaryMode",
    "check_mode",
    "dtype_name",
]
