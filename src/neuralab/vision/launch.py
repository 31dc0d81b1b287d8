"""``neuralab train --nproc N``: start torchrun on this machine for one training run.

:func:`launch_training` does what this command line does, after checking the run first (so a
bad setting is one line here, not one per process)::

    torchrun --standalone --nproc-per-node N --max-restarts K \\
        -m neuralab train --config RESOLVED.yaml --run-dir RUN_DIR

The resolved config (its run directory decided once, here) is handed to every process in a
temporary file, so all ranks, and all restarts, train the same run into the same directory.
torchrun's elastic agent runs in this process: when a worker dies it stops the others (no rank
waits forever on a dead peer), and with ``max_restarts`` K > 0 it starts them again, up to K
times; they resume from ``last.pt`` (:func:`neuralab.vision.distributed.restarted_with_checkpoint`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from neuralab.config import save_config
from neuralab.errors import NeuralabError
from neuralab.rundir import clear_directory, is_run_directory
from neuralab.vision.checkpoint import checkpoint_to_resume
from neuralab.vision.config import TrainConfig, check_names
from neuralab.vision.distributed import per_rank_batch_size, rank_device
from neuralab.vision.resolve import resolve_run_dir


def torchrun_arguments(
    config_file: str | os.PathLike[str],
    run_dir: str | os.PathLike[str],
    *,
    nproc: int,
    resume: bool = False,
    max_restarts: int = 0,
    progress: bool = False,
) -> list[str]:
    """Return torchrun's arguments (after ``torchrun``) for one run on this machine."""
    return [
        "--standalone",
        "--nproc-per-node",
        str(nproc),
        "--max-restarts",
        str(max_restarts),
        "-m",
        "neuralab",
        "train",
        "--config",
        str(config_file),
        "--resume" if resume else "--run-dir",
        str(run_dir),
        "--progress" if progress else "--no-progress",
    ]


def check_launch(
    config: TrainConfig, *, nproc: int, resume: bool = False, overwrite: bool = False
) -> Path:
    """Return the run directory of ``config`` after checking it can start on ``nproc`` processes.

    Names, the global batch (it must divide by ``nproc``), the device (one GPU per process) and,
    for a new run, a run directory that holds no run (``overwrite``: neuralab's own run, which
    is then removed here, once, before the processes start): the checks every process would
    make.
    """
    if nproc < 1:
        raise NeuralabError(f"--nproc must be >= 1, got {nproc}")
    check_names(config)
    per_rank_batch_size(config.batch_size, nproc)
    rank_device(config.device, nproc - 1)
    run_dir = resolve_run_dir(config)
    resolved = dataclasses.replace(config, run_dir=str(run_dir))
    checkpoint_to_resume(run_dir, resolved, resume, overwrite=overwrite)
    if overwrite and is_run_directory(run_dir):
        clear_directory(run_dir)
    return run_dir


def launch_training(
    config: TrainConfig,
    *,
    nproc: int,
    resume: bool = False,
    max_restarts: int = 0,
    progress: bool = False,
    overwrite: bool = False,
) -> Path:
    """Train ``config`` on ``nproc`` processes of this machine and return its run directory.

    ``resume`` continues the run in ``config.run_dir``; ``overwrite`` replaces the run there. A failed run raises one
    :class:`NeuralabError` naming the exit code (the processes' own output is above it).
    """
    if max_restarts < 0:
        raise NeuralabError(f"--max-restarts must be >= 0, got {max_restarts}")
    run_dir = check_launch(config, nproc=nproc, resume=resume, overwrite=overwrite)
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    with tempfile.TemporaryDirectory(prefix="neuralab-launch-") as folder:
        config_file = save_config(
            dataclasses.replace(config, run_dir=str(run_dir)), Path(folder) / "config.yaml"
        )
        arguments = torchrun_arguments(
            config_file,
            run_dir,
            nproc=nproc,
            resume=resume,
            max_restarts=max_restarts,
            progress=progress,
        )
        with _worker_environment(nproc, config.device):
            try:
                run(parse_args(arguments))
            except ChildFailedError as error:
                rank, failure = error.get_first_failure()
                again = ""
                if (run_dir / "last.pt").is_file():
                    again = f"; continue it with: neuralab train --resume {run_dir} --nproc {nproc}"
                raise NeuralabError(
                    f"training on {nproc} processes failed: rank {rank} exited with code "
                    f"{failure.exitcode} (its output is above){again}"
                ) from None
    return run_dir


@contextlib.contextmanager
def _worker_environment(nproc: int, device: str) -> Iterator[None]:
    """Set, for the workers torchrun starts, the import path and the CPU threads per process."""
    package_root = str(Path(__file__).resolve().parents[2])  # the neuralab this one imported
    python_path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    changes = {"PYTHONPATH": python_path}
    if "OMP_NUM_THREADS" not in os.environ and device.startswith(("cpu", "auto")):
        # N processes share the cores; torchrun would set 1 thread each (and warn) otherwise
        changes["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // nproc))
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
