"""The columns a summary can show, by the names torchinfo uses for its ``col_names`` (torch-free).

``neuralab summary --columns input_size,output_size,num_params`` and
``neuralab.summary(..., columns=[...])`` take these names; the layer's name and type are always
shown. Without a choice the columns are the course's: output size, parameters (trainable when
some are frozen), fan-in, receptive field, jump, start, MACs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from neuralab.errors import NeuralabError, unknown_name_error

SummaryColumn = Literal[
    "input_size",  # the layer's (first) input, without the batch axis
    "output_size",  # its output
    "kernel_size",  # conv and pooling windows
    "num_params",  # parameters; "(recursive)" for a repeated call of a module
    "params_percent",  # share of all parameters
    "trainable",  # trainable parameters
    "fan_in",  # input connections into one output neuron
    "receptive_field",  # r, input pixels seen by one unit
    "jump",  # input pixels between neighbouring units
    "start",  # centre of the first unit's field
    "mult_adds",  # multiply-accumulates of the call
]
SUMMARY_COLUMNS: tuple[str, ...] = get_args(SummaryColumn)
DEFAULT_COLUMNS: tuple[str, ...] = (
    "output_size",
    "num_params",
    "trainable",  # shown by default only when some parameters are frozen
    "fan_in",
    "receptive_field",
    "jump",
    "start",
    "mult_adds",
)


def parse_columns(columns: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Return the column names of ``"input_size,output_size"`` (or a list), checked; None: default."""
    if columns is None:
        return None
    names = columns.split(",") if isinstance(columns, str) else list(columns)
    chosen = tuple(name.strip() for name in names if name.strip())
    if not chosen:
        raise NeuralabError(f"no columns given; choose from {', '.join(SUMMARY_COLUMNS)}")
    for name in chosen:
        if name not in SUMMARY_COLUMNS:
            raise unknown_name_error("column", name, list(SUMMARY_COLUMNS))
    return chosen


__all__ = ["DEFAULT_COLUMNS", "SUMMARY_COLUMNS", "SummaryColumn", "parse_columns"]
