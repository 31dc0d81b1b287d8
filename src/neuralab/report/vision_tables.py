"""Tables of a trained run: its evaluation on a split, and its predictions for image files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from neuralab.report.tabular import Column, Table


def evaluation_table(result: Mapping[str, Any], *, split: str, title: str | None = None) -> Table:
    """Return one row: the split, its number of images, mean cross-entropy and accuracy (0..1)."""
    row = {"split": split, "n": result["n"], "loss": result["loss"], "acc": result["acc"]}
    columns = [
        Column("split", "split", justify="left"),
        Column("n", "images", ",d"),
        Column("loss", "CE", ".4f"),
        Column("acc", "accuracy", ".4f"),
    ]
    return Table([row], columns, title=title)


def prediction_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """Return one row per image and rank: the class and its probability p = softmax(z)."""
    columns = [
        Column("image", "image", justify="left"),
        Column("rank", "rank", "d"),
        Column("class", "class", justify="left"),
        Column("p", "probability", ".4f"),
    ]
    return Table(list(rows), columns)
