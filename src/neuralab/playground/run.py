"""Train one playground network on toy data, recording the course's diagnostics every epoch.

``train_playground(PlaygroundConfig(...))`` builds the data set, the input features, the MLP and
the optimiser, trains for ``epochs`` (or ``iterations`` parameter updates) and returns a
:class:`~neuralab.playground.session.PlaygroundResult` whose ``history`` has one row per epoch,
row 0 being the network at initialization (the row's contents: :mod:`neuralab.playground.session`).
A NaN or infinite loss stops training and says at which epoch.

It is a loop over a :class:`~neuralab.playground.session.PlaygroundSession`, the engine the browser
steps too, so the command line and the page compute the same numbers from the same config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.session import PlaygroundResult, PlaygroundSession

if TYPE_CHECKING:
    from neuralab.playground.toy_data import ToyDataset


def train_playground(
    config: PlaygroundConfig,
    *,
    data: ToyDataset | None = None,
    progress: bool = False,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> PlaygroundResult:
    """Return the trained network, its data and history for ``config`` (see the module doc).

    ``data`` replaces the data set the config names; ``on_epoch`` is called with every history
    row as it is recorded; ``progress`` shows a progress bar on stderr.
    """
    session = PlaygroundSession(config, data=data)
    if on_epoch is not None:
        on_epoch(session.history[0])
    with progress_bar(progress, session.plan.epochs, f"playground {config.data}") as advance:
        while not session.done:
            row = session.run_epoch()
            if on_epoch is not None:
                on_epoch(row)
            advance(row)
    return session.result()


def resolve_log_every(config: PlaygroundConfig, epochs: int | None = None) -> int:
    """Return how many epochs apart summary lines are printed (about 10 lines per run)."""
    if config.log_every > 0:
        return config.log_every
    return max(1, (epochs or config.epochs) // 10)


class progress_bar:
    """A rich progress bar over epochs on stderr (a no-op when off or not a terminal)."""

    def __init__(self, enabled: bool, total: int, description: str) -> None:
        self.enabled = enabled
        self.total = total
        self.description = description
        self._progress: Any = None

    def __enter__(self) -> Callable[[dict[str, Any]], None]:
        if not self.enabled:
            return lambda row: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from neuralab.console import stderr_console

        console = stderr_console()
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            "loss {task.fields[loss]}",
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._progress.start()
        task = self._progress.add_task(self.description, total=self.total, loss="-")

        def advance(row: dict[str, Any]) -> None:
            self._progress.update(task, advance=1, loss=f"{row['train_loss']:.4f}")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
