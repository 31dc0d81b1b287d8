"""Your own points as a playground data set: a CSV file of rows ``x1,x2,label``.

A header line is optional (a first row that is not three numbers). The labels decide the task:

- integers 0 and 1, or -1 and +1: two classes (-1 is class 0, as in TF Playground);
- integers 0 .. k-1 with k <= 10: k classes (softmax and cross-entropy, as the blobs set);
- anything else: regression (the label is the target value).

The rows are shuffled with the data seed and the first ``floor(n * train_ratio)`` train, as for
the generated sets. On the command line the data set is named ``csv:PATH``; in the browser
``csv:NAME``, the uploaded file's name. Every bad row is named by its line number.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from neuralab.errors import NeuralabError
from neuralab.playground.toy_data import Task, ToyDataset, split_points

PREFIX = "csv:"
MAX_ROWS = 100_000
MAX_CLASSES = 10


def clean_file_name(name: str) -> str:
    """Return the base name of an uploaded file, letters, digits, ``._-`` only; it must end .csv."""
    base = re.split(r"[\\/]", name.strip())[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base)[:80]
    if not cleaned.lower().endswith(".csv") or cleaned.lower() == ".csv":
        raise NeuralabError(f"{name!r} is not a .csv file (rows x1,x2,label)")
    return cleaned


def parse_points_csv(
    text: str,
    *,
    name: str = "csv",
    train_ratio: float = 0.5,
    seed: int = 0,
    order: str = "shuffled",
) -> ToyDataset:
    """Return the data set of CSV ``text`` (rows x1,x2,label), split as the generated sets are."""
    if not 0 < train_ratio <= 1:
        raise NeuralabError(f"train_ratio={train_ratio} must be in (0, 1]")
    if order not in ("shuffled", "sorted"):
        raise NeuralabError(f"order={order!r} must be 'shuffled' or 'sorted'")
    rows: list[tuple[float, float, float]] = []
    # newline="": the reader itself takes \n, \r\n and a lone \r as the end of a row
    reader = csv.reader(io.StringIO(text, newline=""))
    for line, row in enumerate(_rows(reader, name), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) != 3:
            raise NeuralabError(
                f"{name} line {line}: {len(cells)} values; every row is x1,x2,label"
            )
        try:
            values = tuple(float(cell) for cell in cells)
        except ValueError:
            if not rows and line == 1:
                continue  # a header line
            bad = next(cell for cell in cells if not _is_number(cell))
            raise NeuralabError(
                f"{name} line {line}: {bad!r} is not a number (rows are x1,x2,label)"
            ) from None
        if not all(math.isfinite(v) for v in values):
            raise NeuralabError(f"{name} line {line}: values must be finite numbers")
        rows.append((values[0], values[1], values[2]))
        if len(rows) > MAX_ROWS:
            raise NeuralabError(f"{name}: more than {MAX_ROWS:,} rows")
    if len(rows) < 4:
        raise NeuralabError(f"{name}: {len(rows)} rows of x1,x2,label; at least 4 are needed")
    table = torch.tensor(rows, dtype=torch.float64)
    x, labels = table[:, :2], table[:, 2]
    task, y, num_classes = _labels(labels, name)
    n_train = math.floor(len(rows) * train_ratio)
    if n_train < 1:
        raise NeuralabError(
            f"train_ratio={train_ratio} of {len(rows)} rows leaves no training point"
        )
    permutation = torch.randperm(len(rows), generator=torch.Generator().manual_seed(int(seed)))
    x_train, y_train, x_test, y_test = split_points(x[permutation], y[permutation], n_train, order)
    return ToyDataset(
        name=name,
        task=task,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        num_classes=num_classes,
        input_dim=2,
        labels="value" if task == "regression" else "01",
        seed=int(seed),
    )


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _labels(labels: torch.Tensor, name: str) -> tuple[Task, torch.Tensor, int]:
    """Return (task, y, number of classes) of the label column (see the module doc)."""
    integral = bool((labels == labels.round()).all())
    values = sorted({int(v) for v in labels.tolist()}) if integral else []
    if integral and set(values) <= {-1, 1} and len(values) == 2:
        return "classification", (labels > 0).long(), 2
    if integral and values and values[0] >= 0 and values[-1] < MAX_CLASSES:
        classes = values[-1] + 1
        if len(values) < 2:
            raise NeuralabError(
                f"{name}: every label is {values[0]}; a classification needs two classes"
            )
        return "classification", labels.long(), max(2, classes)
    return "regression", labels.float(), 0


def _rows(reader: Any, name: str) -> Iterator[list[str]]:
    """Yield the reader's rows; a malformed one (a stray quote) is one line naming where."""
    try:
        yield from reader
    except csv.Error as error:
        raise NeuralabError(f"{name} line {reader.line_num}: not CSV ({error})") from None


def read_points_csv(
    data: str, *, train_ratio: float = 0.5, seed: int = 0, order: str = "shuffled"
) -> ToyDataset:
    """Return the data set ``csv:PATH`` names, read from PATH (see :func:`parse_points_csv`)."""
    from neuralab.paths import input_file

    path = Path(data[len(PREFIX) :] if data.startswith(PREFIX) else data)
    input_file(path, f"data {data!r}: the file", expected="a CSV file of x1,x2,label rows")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise NeuralabError(f"data {data!r}: {error.strerror or error}") from None
    return parse_points_csv(text, name=data, train_ratio=train_ratio, seed=seed, order=order)
