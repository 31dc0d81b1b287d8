"""Per-epoch curves of several runs on one figure (the studies' training-error plots)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neuralab.atomic import save_figure


def draw_curves(
    histories: Mapping[str, Sequence[dict[str, Any]]],
    metric: str,
    path: Path,
    *,
    title: str,
    ylabel: str,
    transform: Any = None,
    styles: Mapping[str, str] | None = None,
) -> Path:
    """Plot ``metric`` (or ``transform(row)``) against the epoch for every named run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.5, 4))
    for name, history in histories.items():
        epochs = [row["epoch"] for row in history]
        values: list[float] = [
            float(transform(row) if transform else row[metric]) for row in history
        ]
        axes.plot(epochs, values, (styles or {}).get(name, "-o"), label=name, markersize=4)
    axes.set_xlabel("epoch")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    saved = save_figure(figure, path, dpi=120)
    plt.close(figure)
    return saved
