"""One epoch of training and one pass of evaluation, each returning a plain dict.

In the style of torchvision's ``references/classification``: :func:`train_one_epoch` is the loop
read top to bottom (data, forward, loss, backward, step, log) and :func:`evaluate` the same
without gradients. Both take any iterable of ``(images, labels)`` batches that already sit on
the device (``neuralab.vision.loader.DeviceLoader``): no per-sample Python, and losses and
correct counts are summed on the device, so a GPU is synchronised only when the progress bar
asks for a number.

Cross-entropy with label smoothing epsilon over K classes, for one sample with logits z and
label y: CE = -sum_k q_k log softmax(z)_k, with q_k = (1 - epsilon) [k = y] + epsilon / K.
The reported loss is the mean over all samples of the epoch (not a mean of batch means).

In a multi-process run (``ranks``, see :mod:`neuralab.vision.distributed`) each process runs
the same loop on its shard of every global batch: its loss is its share of the global batch's
mean, the sums behind every reported number are all-reduced, and the loss is checked for NaN at
the same batches on every rank, so all of them stop together.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from neuralab.errors import NeuralabError
from neuralab.vision.callbacks import BatchEndCallback
from neuralab.vision.mixing import Mixing
from neuralab.vision.progress import ProgressCallback
from neuralab.vision.sam import SAM, disable_running_stats, enable_running_stats
from neuralab.vision.schedules import apply_lr

if TYPE_CHECKING:
    from neuralab.vision.distributed import Ranks

REPORT_SECONDS = 0.5  # seconds between progress reports (each one a host-device sync point)
# several processes check the loss at the same batches, not after the same seconds: it is a
# collective every rank must join
CHECK_BATCHES = 50


class NonFiniteLossError(NeuralabError):
    """The loss became NaN or infinite: training stops, saying at which epoch and batch."""

    def __init__(self, epoch: int, batch: int, value: float, note: str = "") -> None:
        self.epoch, self.batch, self.value = epoch, batch, value
        super().__init__(
            f"the loss became {value} at epoch {epoch}, batch {batch}: training stopped "
            "(lower the learning rate, turn on grad_clip, or check the data)" + note
        )

    def with_note(self, note: str) -> NonFiniteLossError:
        """Return the same error with ``note`` appended to its message (still this type, so a
        sweep can tell a diverged run from any other error)."""
        return NonFiniteLossError(self.epoch, self.batch, self.value, note)


def autocast_supported(device: torch.device) -> bool:
    """Return whether bfloat16 autocast pays off on ``device``: CUDA, or a CPU with AMX units.

    On a CPU with Intel AMX (Sapphire Rapids and later) oneDNN runs bfloat16 convolutions and
    matrix products on the tile units: the fast CNN trains 2x faster on a 2-core Xeon, with the
    same accuracy. Without AMX, bfloat16 is emulated on the CPU and slower than float32.
    """
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    has_amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(has_amx is not None and has_amx())


def autocast(device: torch.device, enabled: bool) -> AbstractContextManager[Any]:
    """Return bfloat16 autocast on ``device`` when ``enabled`` and supported; else a no-op.

    The choice is made by device type (:func:`autocast_supported`), so the CUDA path runs, on
    the same code, on a CPU with AMX; elsewhere no autocast context is entered at all.
    """
    if enabled and autocast_supported(device):
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: Iterable[tuple[Tensor, Tensor]],
    *,
    epoch: int = 1,
    device: torch.device | str = "cpu",
    step: int = 0,
    lr_schedule: Callable[[int], float] | None = None,
    label_smoothing: float = 0.0,
    grad_clip: float | None = None,
    amp: bool = False,
    progress: ProgressCallback | None = None,
    ranks: Ranks | None = None,
    global_batch_sizes: Sequence[int] | None = None,
    mixing: Mixing | None = None,
    accumulate_steps: int = 1,
    after_step: Callable[[], None] | None = None,
    on_batch_end: BatchEndCallback | None = None,
) -> dict[str, Any]:
    """Return ``{"loss", "acc", "n", "steps", "lr", "seconds", "images_per_s", "stopped"}``.

    ``loss`` is the mean cross-entropy over the epoch's n training images (with dropout and
    augmentation on, measured before each update; without label smoothing, which only shapes
    the gradient), ``acc`` the fraction classified correctly.
    ``step`` is the global optimiser step the epoch starts at; ``lr_schedule(step)`` returns the
    learning-rate factor set on the base optimiser before each update; ``steps`` is the global
    step after the epoch. With :class:`~neuralab.vision.sam.SAM` each update takes two forward
    and backward passes, and batch-norm running statistics move only on the first.
    A NaN or infinite loss raises :class:`NonFiniteLossError` naming the epoch and the batch
    (checked, and ``progress`` called, every REPORT_SECONDS and at the end of the epoch).

    With ``ranks`` of W > 1 processes, ``model`` is wrapped in DDP and ``loader`` yields this
    rank's shard of global batches of ``global_batch_sizes``; rank r's loss for a global batch
    of n images is (W / n) sum over its images of CE_i, whose gradient DDP's average over the
    ranks turns into the global batch's mean gradient. The returned numbers are over all ranks.

    Recipe hooks: ``mixing`` turns each batch into mixed images and soft targets (the loss is
    then CE against the targets, accuracy against their argmax); ``accumulate_steps`` = k sums
    the gradients of k batches and steps once, scaled by 1 / (images in those batches), which is
    the gradient of the mean loss over all k batches (the last group of an epoch may be shorter);
    ``after_step()`` runs after every optimiser step (the weights' moving average);
    ``on_batch_end`` returning True ends the epoch after that batch (``"stopped"`` is True; with
    several processes, when any of them asks).
    """
    device = torch.device(device)
    model.train()
    use_sam = isinstance(optimizer, SAM)
    distributed = ranks is not None and ranks.active
    if distributed and global_batch_sizes is None:
        raise NeuralabError("a multi-process epoch needs the loader's global batch sizes")
    # checking the loss needs its value on the host, a sync point on a GPU: done (with the
    # progress bar) every REPORT_SECONDS, and for all remaining batches at the end
    last_report = time.perf_counter()
    loss_sum = torch.zeros((), device=device)  # sum over samples, kept on the device
    correct = torch.zeros((), device=device, dtype=torch.long)
    batch_losses: list[Tensor] = []  # one 0-d tensor per batch (its CE sum), checked in chunks
    checked = 0
    seen = 0
    lr = optimizer.param_groups[0]["lr"]
    start = time.perf_counter()
    if accumulate_steps > 1 and use_sam:
        raise NeuralabError("gradient accumulation cannot be combined with SAM")
    group_images = 0  # images (of all processes) whose summed gradients await the next step
    stopped = False

    def check(upto: int) -> None:
        nonlocal checked
        if upto <= checked:
            return
        values = torch.stack(batch_losses[checked:upto]).float()
        if distributed:
            assert ranks is not None
            values = ranks.all_reduce_sum(values)  # every rank sees every rank's NaN
        finite = torch.isfinite(values)
        if not bool(finite.all()):
            bad = int((~finite).nonzero()[0, 0])
            raise NonFiniteLossError(epoch, checked + bad + 1, float(values[bad]))
        checked = upto

    for batch_index, (images, labels) in enumerate(loader):
        batch = labels.shape[0]
        if lr_schedule is not None and group_images == 0:
            lr = apply_lr(optimizer, lr_schedule(step))
        # one process: the batch mean; W processes: W / n times this rank's sum (see docstring);
        # accumulating: the sum, scaled at the step
        share = None
        if distributed:
            assert ranks is not None and global_batch_sizes is not None
            share = ranks.world_size / global_batch_sizes[batch_index]
        if accumulate_steps > 1:
            share = 1.0
        targets = labels
        if mixing is not None:
            images, targets = mixing(images, labels)

        # forward and loss
        with autocast(device, amp):
            logits = model(images)  # (B, K)
            loss = _batch_loss(logits, targets, label_smoothing, share)

        # backward and step (under DDP each backward all-reduces the gradients)
        loss.backward()
        stepped = True
        if accumulate_steps > 1:
            group_images += global_batch_sizes[batch_index] if distributed else batch  # type: ignore[index]
            done = batch_index + 1
            stepped = done % accumulate_steps == 0 or done == _length(loader)
            if stepped:  # DDP averaged W sums: W / (the group's images) makes them the mean
                world = ranks.world_size if distributed and ranks is not None else 1
                _scale_gradients(model, world / group_images)
                _clip(model, grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                group_images = 0
        elif use_sam:
            assert isinstance(optimizer, SAM)
            optimizer.first_step(zero_grad=True)  # w -> w + eps
            disable_running_stats(model)  # the second pass must not move BN's running stats
            try:
                with autocast(device, amp):
                    second = _batch_loss(model(images), targets, label_smoothing, share)
                second.backward()
            finally:
                enable_running_stats(model)
            _clip(model, grad_clip)
            optimizer.second_step(zero_grad=True)  # back to w, base step with grad at w + eps
        else:
            _clip(model, grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        if stepped:
            step += 1
            if after_step is not None:
                after_step()

        # log: sums stay on the device until someone needs a number
        detached = _reported_loss_sum(loss, logits, targets, label_smoothing, share)
        batch_losses.append(detached)
        loss_sum += detached
        truth = targets.argmax(dim=1) if targets.dim() == 2 else targets
        correct += (logits.detach().argmax(dim=1) == truth).sum()
        seen += batch
        if distributed:
            due = (batch_index + 1) % CHECK_BATCHES == 0
        else:
            due = time.perf_counter() - last_report >= REPORT_SECONDS
        if due:
            last_report = time.perf_counter()
            check(batch_index + 1)
            if progress is not None:
                progress(batch_index + 1, seen, float(loss_sum) / max(seen, 1))
        if on_batch_end is not None:
            stop = on_batch_end(batch_index + 1, seen, step, detached / max(batch, 1))
            if distributed:  # every rank stops at the same batch, or none does
                assert ranks is not None
                stop = bool(ranks.all_reduce_sum(torch.tensor(float(stop), device=device)) > 0)
            if stop:
                stopped = True
                break
    if group_images:  # stopped inside an accumulation group: its gradients are dropped
        optimizer.zero_grad(set_to_none=True)
    check(len(batch_losses))
    if distributed:
        assert ranks is not None
        totals = ranks.all_reduce_sum(
            torch.stack([loss_sum.double(), correct.double(), loss_sum.new_tensor(seen).double()])
        )
        loss_sum, correct, seen = totals[0], totals[1].round().long(), int(totals[2].round())
    if progress is not None and seen:
        progress(len(batch_losses), seen, float(loss_sum) / seen)
    if seen == 0:
        raise NeuralabError(
            "the training loader yielded no batches (batch size larger than the data?)"
        )
    seconds = time.perf_counter() - start
    return {
        "loss": float(loss_sum) / seen,
        "acc": int(correct) / seen,
        "n": seen,
        "steps": step,
        "lr": lr,
        "seconds": seconds,
        "images_per_s": seen / seconds if seconds > 0 else float("inf"),
        "stopped": stopped,
    }


def _length(loader: Iterable[Any]) -> int:
    return len(loader) if hasattr(loader, "__len__") else -1  # type: ignore[arg-type]


def _scale_gradients(model: nn.Module, factor: float) -> None:
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    if grads:
        torch._foreach_mul_(grads, factor)


def _batch_loss(
    logits: Tensor, labels: Tensor, label_smoothing: float, share: float | None
) -> Tensor:
    """Return the loss to differentiate: the batch's mean CE, or ``share`` times its sum."""
    if share is None:
        return F.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing)
    summed = F.cross_entropy(
        logits.float(), labels, label_smoothing=label_smoothing, reduction="sum"
    )
    return summed * share


def _reported_loss_sum(
    loss: Tensor, logits: Tensor, labels: Tensor, label_smoothing: float, share: float | None
) -> Tensor:
    """Return the plain cross-entropy summed over the batch (what the table reports).

    Without label smoothing, which only shapes the gradient, one process's loss is already the
    plain mean; otherwise it costs one (B, K) log-softmax. The plain one is comparable with val
    and test (the smoothed one has a floor above 0).
    """
    batch = labels.shape[0]
    if share is None and not label_smoothing:
        return loss.detach() * batch
    with torch.no_grad():
        if share is None:
            return F.cross_entropy(logits.detach().float(), labels) * batch
        # a rank's shard of the last batch may be empty: a sum, never a mean of nothing
        return F.cross_entropy(logits.detach().float(), labels, reduction="sum")


def _clip(model: nn.Module, grad_clip: float | None) -> None:
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)


def evaluate(
    model: nn.Module,
    loader: Iterable[tuple[Tensor, Tensor]],
    *,
    device: torch.device | str = "cpu",
    amp: bool = False,
    return_predictions: bool = False,
    ranks: Ranks | None = None,
) -> dict[str, Any]:
    """Return ``{"loss", "acc", "n"}``: mean cross-entropy and accuracy (0..1) over the loader.

    Runs in eval mode (dropout off, batch norm on its running statistics) under
    ``torch.inference_mode``; the model's mode is restored afterwards. With
    ``return_predictions`` the dict also holds ``predictions``, ``targets`` (CPU int64) and
    ``probabilities`` (CPU float32, (n, K)). With ``ranks`` each process evaluates its shard
    (the loader's) and the sums are all-reduced: every rank returns the numbers of the whole set.
    """
    device = torch.device(device)
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    predictions: list[Tensor] = []
    targets: list[Tensor] = []
    probabilities: list[Tensor] = []
    try:
        with torch.inference_mode():
            for images, labels in loader:
                with autocast(device, amp):
                    logits = model(images).float()  # (B, K)
                loss_sum += F.cross_entropy(logits, labels, reduction="sum").double()
                predicted = logits.argmax(dim=1)
                correct += (predicted == labels).sum()
                seen += labels.shape[0]
                if return_predictions:
                    predictions.append(predicted.cpu())
                    targets.append(labels.cpu())
                    probabilities.append(logits.softmax(dim=1).cpu())
    finally:
        model.train(was_training)
    if ranks is not None and ranks.active:
        if return_predictions:
            raise NeuralabError("predictions are returned by one process, not a sharded one")
        totals = ranks.all_reduce_sum(
            torch.stack([loss_sum, correct.double(), loss_sum.new_tensor(seen)])
        )
        loss_sum, correct, seen = totals[0], totals[1].round().long(), int(totals[2].round())
    if seen == 0:
        raise NeuralabError("nothing to evaluate: the loader yielded no batches")
    result: dict[str, Any] = {"loss": float(loss_sum) / seen, "acc": int(correct) / seen, "n": seen}
    if return_predictions:
        result["predictions"] = torch.cat(predictions)
        result["targets"] = torch.cat(targets)
        result["probabilities"] = torch.cat(probabilities)
    return result


def confusion_matrix(predictions: Tensor, targets: Tensor, num_classes: int) -> Tensor:
    """Return the (K, K) int64 matrix C with C[i, j] = number of class-i images predicted as j."""
    index = targets.long() * num_classes + predictions.long()
    return torch.bincount(index, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )
