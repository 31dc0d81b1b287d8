"""The dtype names a summary accepts (``float32``, ``int64``, ``half``, ...), without torch.

``neuralab summary --input 50:int9`` or ``--dtype flaot32`` is refused with the valid names
before torch is imported; :func:`neuralab.arch.summary_inputs.torch_dtype` turns a checked name
into its ``torch.dtype`` (``tests/test_summary_inputs.py`` checks every name is one of torch's).
"""

from __future__ import annotations

from typing import Literal, get_args

from neuralab.errors import unknown_name_error

DtypeName = Literal["float32", "float16", "bfloat16", "float64", "int64", "int32", "bool"]
DTYPE_NAMES: tuple[str, ...] = get_args(DtypeName)
DTYPE_ALIASES = {"float": "float32", "half": "float16", "double": "float64", "long": "int64"}
FLOAT_DTYPES = ("float32", "float16", "bfloat16", "float64")


def dtype_name(name: str) -> str:
    """Return the dtype name ``name`` stands for (``half`` -> ``float16``); unknown names raise."""
    key = DTYPE_ALIASES.get(name, name)
    if key not in DTYPE_NAMES:
        raise unknown_name_error("dtype", name, list(DTYPE_NAMES))
    return key


__all__ = ["DTYPE_ALIASES", "DTYPE_NAMES", "FLOAT_DTYPES", "DtypeName", "dtype_name"]
