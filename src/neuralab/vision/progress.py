"""The live progress bar of a training epoch (batches, loss, images/s, ETA) on stderr.

Shown only where someone watches (stderr a terminal); a log file gets the epoch's table row
instead. Its callback is what :func:`neuralab.vision.engine.train_one_epoch` calls as
``progress(done_batches, images, loss)``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

# progress(batches_done, images_done, mean_loss_so_far): called from the loop to draw a bar
ProgressCallback = Callable[[int, int, float], None]


@contextlib.contextmanager
def epoch_progress(
    enabled: bool, epoch: int, epochs: int, batches: int
) -> Iterator[ProgressCallback | None]:
    """Yield a progress callback drawing a live bar on stderr (batches, loss, images/s, ETA).

    The bar disappears when the epoch ends (the epoch's table row replaces it). Disabled, or
    with stderr not a terminal (a log file), it yields ``None`` and the loop skips the calls.
    """
    if not enabled or not sys.stderr.isatty():  # a live bar only where someone watches it
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from neuralab.console import stderr_console

    bar = Progress(
        TextColumn(f"epoch {epoch}/{epochs}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TextColumn("{task.fields[speed]:,.0f} img/s"),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    )
    task = bar.add_task("train", total=batches, loss=float("nan"), speed=0.0)
    start = time.perf_counter()

    def update(done: int, images: int, loss: float) -> None:
        elapsed = max(time.perf_counter() - start, 1e-9)
        bar.update(task, completed=done, loss=loss, speed=images / elapsed)

    with bar:
        yield update
