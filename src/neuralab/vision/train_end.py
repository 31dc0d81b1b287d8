"""How a training run ends: best.pt tested and reported, or one line saying why it stopped.

:func:`finish_run` evaluates ``best.pt`` once on the whole test set and writes the figures and
``report.md``; :func:`stopped_run_error` turns what stopped a run (Ctrl-C, a full disk, a loss
that is no longer finite, memory) into what :func:`neuralab.vision.train.train` raises, after
logging it with the last good checkpoint (and, out of memory, a batch size that fits).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from neuralab.atomic import WriteError
from neuralab.errors import NeuralabError
from neuralab.report.run_report import EpochTable
from neuralab.rundir import RunDirectory
from neuralab.vision.checkpoint import load_checkpoint, load_model_state
from neuralab.vision.engine import NonFiniteLossError, evaluate
from neuralab.vision.run import Run, uses_amp

if TYPE_CHECKING:
    from neuralab.vision.train import TrainResult


def finish_run(
    result: TrainResult, run: Run, directory: RunDirectory, table: EpochTable, report: bool
) -> None:
    """Evaluate best.pt on the test set, write figures and report.md, fill them into ``result``."""
    from neuralab.report.run_report import write_run_report

    config = run.config
    if not config.evaluate_test:  # a sweep run: choices see validation data only
        table.say(
            f"best epoch {result.best_epoch} by {config.monitor} ({result.best_value:.4f}); "
            "test set not evaluated (evaluate_test is off)"
        )
        return
    best_file = directory.file("best.pt")
    load_model_state(run.model, load_checkpoint(best_file), path=str(best_file))
    amp = uses_amp(config, run.device)
    # the whole test set, in this process (the epochs' test loader was this rank's shard)
    test_loader = run.loader("test", batch_size=max(config.batch_size, 256))
    test = evaluate(run.model, test_loader, device=run.device, amp=amp, return_predictions=True)
    result.test = {k: test[k] for k in ("loss", "acc", "n")}
    if report:
        assert run.data is not None
        test_images = run.data.dataset.x_test.cpu()
        result.figures = write_run_report(
            directory, result, test, test_images, run.inputs.classes, config
        )
    table.say(
        f"best epoch {result.best_epoch} by {config.monitor} ({result.best_value:.4f}): "
        f"test CE {test['loss']:.4f}, test accuracy {100 * test['acc']:.2f} % on {test['n']} images"
    )
    written = "config.yaml metrics.csv train.log best.pt last.pt" + (
        " figures/ report.md" if report else ""
    )
    table.say(f"wrote {directory.path}/: {written}")


class PeerLostError(Exception):
    """Another rank of a distributed run died (its message: what the process group said)."""


def stopped_run_error(
    error: BaseException, table: EpochTable, run: Run, epoch: int
) -> BaseException:
    """Return what to raise for a run stopped during ``epoch``, after logging why."""
    config = run.config
    last = Path(str(config.run_dir)) / "last.pt"
    if isinstance(error, KeyboardInterrupt):
        table.say(
            f"interrupted during epoch {epoch}; epoch {epoch - 1} is saved in {last}. "
            f"Continue with: neuralab train --resume {config.run_dir}"
            if epoch > 1
            else f"interrupted during epoch {epoch}; no epoch completed, nothing to resume"
        )
        return error
    if isinstance(error, WriteError | PeerLostError):
        message = f"{error}; last good checkpoint: {_last_good(last)}"
        with contextlib.suppress(WriteError):  # the log may be on the full disk too
            table.log_only(f"error: {message}")
        return NeuralabError(message)
    if isinstance(error, NonFiniteLossError):
        kept = f"{last} (epoch {epoch - 1})" if epoch > 1 else "none (first epoch)"
        # still a NonFiniteLossError: a sweep records the run as diverged and goes on
        diverged = error.with_note(f"; last good checkpoint: {kept}")
        table.log_only(f"error: {diverged}")
        return diverged
    # out of memory
    suggestion = fitting_batch_size(
        run.model, run.inputs.input_shape, config.batch_size, run.device
    )
    message = (
        f"batch size {config.batch_size} does not fit in the memory of {run.device}; "
        f"try --batch-size {suggestion}"
    )
    table.log_only(f"error: {message}")
    return NeuralabError(message)


def _last_good(last: Path) -> str:
    """Return ``last.pt`` with its epoch, read back (so it is known to load), or ``none``."""
    if not last.is_file():
        return "none (no epoch completed)"
    try:
        return f"{last} (epoch {int(load_checkpoint(last)['epoch'])})"
    except NeuralabError:
        return f"none ({last} cannot be read)"


def fitting_batch_size(
    model: nn.Module, input_shape: Sequence[int], batch_size: int, device: torch.device
) -> int:
    """Return the largest of batch_size/2, /4, ... for which a forward and backward pass fits.

    Called after ``torch.OutOfMemoryError``: it tries zero images of ``input_shape`` on
    ``device``, freeing the cache between tries, and returns 1 if nothing larger fits.
    """
    model.train()
    candidate = batch_size // 2
    while candidate > 1:
        model.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()
        try:
            images = torch.zeros(candidate, *input_shape, device=device)
            model(images).float().sum().backward()
            model.zero_grad(set_to_none=True)
            return candidate
        except torch.OutOfMemoryError:
            candidate //= 2
    model.zero_grad(set_to_none=True)
    return 1
