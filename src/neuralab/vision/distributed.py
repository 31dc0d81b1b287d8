"""Training on several processes: torchrun's environment, DistributedDataParallel, reductions.

``torchrun --nproc-per-node N -m neuralab train ...`` starts N copies of the same command, each
with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address in its environment;
:func:`join_process_group` turns that into a :class:`Ranks` (gloo on the CPU, nccl on CUDA, one
GPU per process). Without those variables it returns one process, and nothing changes.

Why W processes with global batch B train exactly like one process with batch B:

- **Data.** Every rank draws the epoch's permutation from the same seeded generator, so all see
  the same order; of global batch i, made of the images perm[iB : (i+1)B], rank r takes rows
  [r n / W, (r+1) n / W) (n = B, or fewer in the last batch): the W shards of a step are exactly
  one process's batch. Augmentation draws its random numbers for the whole global batch and
  each rank applies its rows, so the generators of all ranks stay in step.
- **Gradients.** Rank r minimises its share of the global batch's mean cross-entropy,
  L_r = (W / n) sum_{i in shard r} CE_i. DDP averages gradients over the ranks during backward,
  (1 / W) sum_r grad L_r = (1 / n) sum_i grad CE_i: the gradient one process computes, also for
  a last batch that does not split evenly.
- **Metrics.** Sums of cross-entropy, correct predictions and image counts are all-reduced
  before anything is divided, so every rank prints, and rank 0 writes, one process's table.
- **Batch norm.** Each rank normalises with its own n / W images unless ``sync_bn`` is set
  (:mod:`neuralab.vision.sync_batchnorm`: mean and variance over the global batch).
- **Dropout** masks come from each rank's own generator, reseeded every epoch from
  (seed, epoch, rank): statistically the same as one process, not bit for bit, and a resumed run
  with the same process count repeats exactly.

**SAM** takes two forward and backward passes per step, and DDP all-reduces the gradients of
both. The first: so that eps = rho g / ||g|| uses the gradient g of the global batch, the same
on every rank (one process's ascent step); reducing it per rank would be m-sharpness with
m = n / W, a different method. The second: the base optimiser's step must use the same
gradient on every rank, or the replicas drift apart.

Only rank 0 writes the run directory; all ranks read a checkpoint to resume. A rank that dies
makes its peers' next collective fail (or torchrun stop them); ``--max-restarts`` restarts all
of them, and a restarted run resumes from ``last.pt`` (:func:`restarted_with_checkpoint`).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from neuralab.device import resolve_device
from neuralab.errors import NeuralabError

# seconds a collective waits for a peer before failing (a dead peer usually fails it sooner)
TIMEOUT_SECONDS = float(os.environ.get("NEURALAB_DIST_TIMEOUT", "600"))


# what gloo's and nccl's errors say when a peer process died under them
_PEER_LOST = ("Connection reset by peer", "Connection closed by peer", "Broken pipe", "NCCL")


@dataclass(frozen=True)
class Ranks:
    """Where this process stands in a multi-process run (rank 0 of 1 when alone)."""

    rank: int = 0  # global rank r in 0..W-1
    world_size: int = 1  # number of processes W
    local_rank: int = 0  # rank on this machine: the GPU it uses
    device: torch.device = torch.device("cpu")  # the device this process trains on
    restart: int = 0  # how many times torchrun has restarted the processes (--max-restarts)

    @property
    def active(self) -> bool:
        """Return whether more than one process trains (gradients and metrics are reduced)."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Return whether this is rank 0, the one that prints and writes the run directory."""
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int]:
        """Return (rank, world_size): which rows of every global batch this process takes."""
        return self.rank, self.world_size

    def all_reduce_sum(self, values: Tensor) -> Tensor:
        """Return ``values`` summed element-wise over all ranks (itself when alone)."""
        if not self.active:
            return values
        import torch.distributed as dist

        reduced = values.clone()
        dist.all_reduce(reduced, op=dist.ReduceOp.SUM)
        return reduced

    def broadcast(self, value: Any) -> Any:
        """Return rank 0's ``value`` (a picklable object of our own, never user input)."""
        if not self.active:
            return value
        import torch.distributed as dist

        holder = [value]
        dist.broadcast_object_list(holder, src=0)
        return holder[0]

    def barrier(self) -> None:
        """Wait until every rank arrives here."""
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Run the block on rank 0 first, then on the others (downloads, data caches)."""
        if not self.is_main:
            self.barrier()
        try:
            yield
        finally:
            if self.is_main:
                self.barrier()

    def seed_epoch(self, seed: int, epoch: int) -> None:
        """Reseed this rank's global generator (dropout) from (seed, epoch, rank).

        Only in a multi-process run: one process keeps its single stream, so it repeats as
        before; here the ranks get different masks and a resumed run the same ones again.
        """
        if self.active:
            torch.manual_seed((seed * 1_000_003 + epoch) * 4099 + self.rank)

    def wrap(self, model: nn.Module) -> nn.Module:
        """Return ``model`` in DistributedDataParallel (gradients all-reduced), or itself."""
        if not self.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def lost_peer(self, error: BaseException) -> str | None:
        """Return one line saying a peer process is gone, if ``error`` is that; else None.

        A rank killed mid-step (out of memory, a lost node, ``kill -9``) breaks its peers'
        next collective: gloo raises "Connection reset by peer", nccl a DistBackendError. That
        is the job going down, not a bug of this process: its survivors say so in one line
        and leave the exit codes to torchrun's summary.
        """
        if not self.active or not isinstance(error, RuntimeError):
            return None
        import torch.distributed as dist

        text = str(error)
        if not isinstance(error, dist.DistError) and not any(m in text for m in _PEER_LOST):
            return None
        first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
        first = first.split("] ", 1)[-1]  # gloo's "[/path/to/pair.cc:545] " prefix
        first = first.split(". ", 1)[0].rstrip(".")  # its first sentence: what failed, where
        return (
            f"process {self.rank} of {self.world_size} stopped: a collective with the other "
            f"processes failed ({first[:100]}), usually because one of them is gone; "
            "torchrun's summary names it"
        )

    def broadcast_buffers(self, model: nn.Module) -> None:
        """Copy rank 0's buffers (batch-norm running statistics) to every rank.

        DDP broadcasts them before each training forward pass, so after the epoch's last step
        every rank holds rank 0's statistics plus its own last update: evaluation first makes
        them the ones rank 0 saves.
        """
        if not self.active:
            return
        import torch.distributed as dist

        for buffer in model.buffers():
            dist.broadcast(buffer.data, src=0)


def per_rank_batch_size(batch_size: int, world_size: int) -> int:
    """Return b = B / W, the images each of W processes takes from a global batch of B.

    A global batch that does not divide evenly is refused, naming the nearest that do.
    """
    if world_size < 1:
        raise NeuralabError(f"the number of processes must be >= 1, got {world_size}")
    if batch_size % world_size:
        lower = batch_size - batch_size % world_size
        upper = lower + world_size
        nearest = f"{lower} or {upper}" if lower > 0 else str(upper)
        raise NeuralabError(
            f"batch size {batch_size} does not divide among {world_size} processes: the batch "
            f"size is the global batch, give a multiple of {world_size} (e.g. {nearest})"
        )
    return batch_size // world_size


def shard_bounds(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """Return (lo, hi): rank r's rows [r n / W, (r + 1) n / W) of a batch of n images.

    The W ranges tile 0..n; their sizes differ by at most one (n = 10, W = 4: 2, 3, 2, 3).
    """
    return n * rank // world_size, n * (rank + 1) // world_size


def environment_ranks() -> tuple[int, int, int]:
    """Return (rank, world_size, local_rank) from torchrun's environment (0, 1, 0 when absent)."""
    try:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        raise NeuralabError(
            "RANK, WORLD_SIZE and LOCAL_RANK must be integers (they are set by torchrun)"
        ) from None
    if world_size < 1 or not 0 <= rank < world_size:
        raise NeuralabError(f"RANK={rank} is not within WORLD_SIZE={world_size}")
    return rank, world_size, local_rank


def join_process_group(device_name: str = "auto") -> Ranks:
    """Return this process's :class:`Ranks`, joining torchrun's process group if there is one.

    Under torchrun (``WORLD_SIZE`` > 1) each process takes ``cuda:LOCAL_RANK`` and nccl when the
    device is CUDA (``auto`` on a GPU machine, ``cuda``), else the CPU and gloo. Joining twice in
    one process returns the same group. Alone, the device is ``resolve_device(device_name)``.
    """
    rank, world_size, local_rank = environment_ranks()
    restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0)
    if world_size == 1:
        return Ranks(device=resolve_device(device_name), restart=restart)
    device = rank_device(device_name, local_rank)
    import torch.distributed as dist

    if not dist.is_available():
        raise NeuralabError("this PyTorch build has no torch.distributed: train on one process")
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        timeout = datetime.timedelta(seconds=TIMEOUT_SECONDS)
        dist.init_process_group(
            backend="nccl" if device.type == "cuda" else "gloo",
            timeout=timeout,
            device_id=device if device.type == "cuda" else None,
            **_attempt_store(rank, world_size, restart, timeout),
        )
        atexit.register(_leave_process_group)
    return Ranks(rank, world_size, local_rank, device, restart)


def _attempt_store(
    rank: int, world_size: int, restart: int, timeout: datetime.timedelta
) -> dict[str, Any]:
    """Return init_process_group's store arguments: the agent's store, keyed by attempt.

    torchrun's c10d rendezvous lets the workers share the agent's TCP store, which outlives a
    restart; the workers of attempt k would read the addresses attempt k - 1 left there and
    fail to connect. Prefixing the keys with the attempt keeps every attempt's to itself.
    Without a shared agent store (plain ``env://``) there is nothing to add.
    """
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return {}
    import torch.distributed as dist

    agent_store = dist.TCPStore(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]),
        world_size,
        is_master=False,
        timeout=timeout,
    )
    store = dist.PrefixStore(f"neuralab/attempt-{restart}", agent_store)
    return {"store": store, "rank": rank, "world_size": world_size}


def rank_device(device_name: str, local_rank: int) -> torch.device:
    """Return the device of the process with ``local_rank``: its own GPU, or the CPU."""
    requested = device_name.strip().lower()
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cpu":
        return torch.device("cpu")
    if requested.startswith("cuda"):
        if ":" in requested:
            raise NeuralabError(
                f"device {device_name!r}: under torchrun every process takes its own GPU "
                "(cuda:LOCAL_RANK); give --device cuda"
            )
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if local_rank >= count:
            raise NeuralabError(
                f"process {local_rank} on this machine needs GPU {local_rank}, but there are "
                f"{count}: start at most {count} processes per node (--nproc-per-node)"
            )
        return torch.device("cuda", local_rank)
    raise NeuralabError(
        f"device {device_name!r} cannot train on several processes (valid: auto, cpu, cuda)"
    )


def _leave_process_group() -> None:
    """Destroy the process group at exit, while the interpreter is still whole.

    A DDP model kept alive by a reference cycle holds the gloo group until the interpreter's
    final teardown; gloo's threads then free their last work objects without the GIL and the
    process aborts ("terminate called without an active exception", SIGABRT), which torchrun
    reports as a failed run. Collecting the cycles first lets the group go here.
    """
    import gc

    import torch.distributed as dist

    gc.collect()
    if dist.is_initialized():
        dist.destroy_process_group()
    gc.collect()


def restarted_with_checkpoint(ranks: Ranks, run_dir: Path) -> bool:
    """Return whether torchrun restarted this run and ``run_dir`` has a last.pt to resume from.

    ``torchrun --max-restarts K`` reruns the same command after a process died; continuing from
    the last checkpoint (rather than refusing a run directory that holds a run) is what makes the
    restart worth it.
    """
    return ranks.restart > 0 and (run_dir / "last.pt").is_file()
