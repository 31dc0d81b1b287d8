"""The studies' and sweeps' figures, as matplotlib ``Figure`` objects (pyplot's state untouched).

Each function takes plain data and returns a ``Figure``; the caller saves it with
:func:`neuralab.atomic.save_figure` (``dpi=FIGURE_DPI``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIGURE_DPI = 120  # the resolution the studies' figures are saved at


class SettingLike(Protocol):
    """One swept setting over its seeds (a sweep's ``SettingSummary``)."""

    setting: dict[str, Any]
    trials: list[int]

    @property
    def mean(self) -> float: ...

    @property
    def std(self) -> float: ...

    @property
    def usable(self) -> bool: ...


def curves_figure(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    value: Callable[[Mapping[str, Any]], float],
    *,
    title: str,
    ylabel: str,
    styles: Mapping[str, str] | None = None,
) -> Figure:
    """Return per-epoch curves of several runs: ``value(row)`` against ``row["epoch"]``.

    ``histories`` maps a run's label to its metric rows; ``styles`` maps labels to matplotlib
    format strings (default ``"-o"``).
    """
    figure, axes = _figure(6.5, 4)
    for name, history in histories.items():
        epochs = [row["epoch"] for row in history]
        values = [float(value(row)) for row in history]
        axes.plot(epochs, values, (styles or {}).get(name, "-o"), label=name, markersize=4)
    axes.set_xlabel("epoch")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def loss_profile_figure(alphas: Sequence[float], profiles: Mapping[str, Sequence[float]]) -> Figure:
    """Return the 1-D loss profiles L(w + alpha d) of several minima, one line per optimizer."""
    figure, axes = _figure(6.5, 4)
    for name, losses in profiles.items():
        axes.plot(alphas, losses, marker=".", label=name.upper())
    axes.set_xlabel("alpha (step along a filter-normalised random direction d)")
    axes.set_ylabel("training cross-entropy L(w + alpha d)")
    axes.set_title("1-D loss profile around each minimum")
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def sweep_figure(
    settings: Sequence[SettingLike],
    grid: Mapping[str, Sequence[Any]],
    *,
    select: str,
    seeds: int,
    chosen: Mapping[str, Any] | None,
) -> Figure:
    """Return the selection metric (mean +- std over seeds) against the first swept field.

    One line per value of a second swept field, if any; failed settings are marked with x at
    the bottom; a dotted line marks the ``chosen`` setting.
    """
    fields = list(grid)
    x_field = fields[0]
    group_field = fields[1] if len(fields) > 1 else None
    x_values = list(grid[x_field])
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in x_values)

    def position(value: Any) -> float:
        return float(value) if numeric else float(x_values.index(value))

    figure, axes = _figure(7, 4.2)
    groups: dict[Any, list[SettingLike]] = {}
    for summary in settings:
        key = summary.setting.get(group_field) if group_field else None
        groups.setdefault(key, []).append(summary)
    for key, members in groups.items():
        members.sort(key=lambda s: x_values.index(s.setting[x_field]))
        usable = [s for s in members if s.usable]
        axes.errorbar(
            [position(s.setting[x_field]) for s in usable],
            [s.mean for s in usable],
            yerr=[s.std for s in usable],
            marker="o",
            capsize=4,
            label=f"{group_field}={key}" if group_field else select,
        )
    failed = [s for s in settings if s.trials and not s.usable]
    if failed:  # they have no metric: marked on the bottom edge, once in the legend
        axes.scatter(
            [position(s.setting[x_field]) for s in failed],
            [axes.get_ylim()[0]] * len(failed),
            marker="x",
            color="crimson",
            label="failed (excluded)",
            zorder=3,
        )
    if chosen is not None:
        axes.axvline(
            position(chosen[x_field]), color="gray", linestyle=":", label="chosen (validation)"
        )
    if not numeric:
        axes.set_xticks(range(len(x_values)), [str(v) for v in x_values])
    axes.set_xlabel(x_field)
    axes.set_ylabel(f"{select} (mean +- std over {seeds} seed{'s' if seeds > 1 else ''})")
    axes.set_title(f"Sweep over {', '.join(fields)}: chosen on validation data")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def dropout_figure(
    rows: Sequence[Mapping[str, Any]], *, short_epochs: int, long_epochs: int
) -> Figure:
    """Return validation accuracy against the dropout rate p, one line per batch-norm setting.

    Solid with error bars: the ``short_epochs`` runs (mean +- std over seeds, ``val_mean`` and
    ``val_std``); dashed: the ``long_epochs`` runs (``val_long``) where present; x on the bottom
    edge: rates whose runs all failed; a ring marks each setting's chosen rate.
    """
    figure, axes = _figure(7, 4.2)
    failed_x: list[float] = []
    for bn in dict.fromkeys(bool(row["batch_norm"]) for row in rows):
        mine = sorted((r for r in rows if bool(r["batch_norm"]) == bn), key=lambda r: r["dropout"])
        label = f"batch norm {'on' if bn else 'off'}"
        ok = [r for r in mine if r["val_mean"] is not None]
        line = axes.errorbar(
            [r["dropout"] for r in ok],
            [r["val_mean"] for r in ok],
            yerr=[r["val_std"] for r in ok],
            marker="o",
            capsize=4,
            label=f"{label}, {short_epochs} epoch{'s' if short_epochs > 1 else ''}",
        )
        color = line.lines[0].get_color()
        chosen = [r for r in ok if str(r.get("status", "")).startswith("chosen")]
        axes.scatter(
            [r["dropout"] for r in chosen],
            [r["val_mean"] for r in chosen],
            s=160,
            facecolors="none",
            edgecolors=color,
            zorder=3,
        )
        long = [r for r in mine if r.get("val_long") is not None]
        if long:
            axes.plot(
                [r["dropout"] for r in long],
                [r["val_long"] for r in long],
                "--s",
                color=color,
                markersize=4,
                label=f"{label}, {long_epochs} epochs",
            )
        failed_x += [r["dropout"] for r in mine if r["val_mean"] is None]
    if failed_x:
        axes.scatter(
            failed_x,
            [axes.get_ylim()[0]] * len(failed_x),
            marker="x",
            color="crimson",
            label="all runs failed (excluded)",
            zorder=3,
        )
    axes.set_xlabel("dropout rate p")
    axes.set_ylabel("validation accuracy")
    axes.set_title("Dropout rate on validation data (ring: chosen)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


__all__ = ["FIGURE_DPI", "curves_figure", "dropout_figure", "loss_profile_figure", "sweep_figure"]
