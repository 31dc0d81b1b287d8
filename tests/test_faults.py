"""Faults during a run: kill -9 inside a checkpoint write, a full disk, a killed sweep worker.

The previous checkpoint must stay loadable whatever happens to the next one, a run stopped by a
full disk must end with one line naming the last good checkpoint, and a resumed run must pick up
from it (the sweep's killed worker is in tests/test_cli_sweep.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from neuralab.vision.checkpoint import load_checkpoint

SOURCE = str(Path(__file__).resolve().parents[1] / "src")
SMALL = ("--data", "digits", "--model", "mlp", "--device", "cpu", "--no-progress")

# A child process that saves a checkpoint, then writes the next one slowly (4 KiB every 5 ms,
# through the real neuralab.atomic.torch_save) so that the parent can kill it mid-write.
_SLOW_WRITER = textwrap.dedent(
    """
    import io, sys, time
    import torch
    from neuralab.vision.checkpoint import save_checkpoint

    path = sys.argv[1]
    torch.manual_seed(0)
    model = torch.nn.Linear(512, 512)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    save_checkpoint(path, model=model, optimizer=optimizer, epoch=1, step=10, config={})
    real_save = torch.save

    def slow_save(obj, handle):
        buffer = io.BytesIO()
        real_save(obj, buffer)
        data = buffer.getvalue()
        for start in range(0, len(data), 4096):
            handle.write(data[start : start + 4096])
            handle.flush()
            time.sleep(0.005)

    torch.save = slow_save
    with torch.no_grad():
        model.weight.add_(1.0)
    print("saved epoch 1", flush=True)
    save_checkpoint(path, model=model, optimizer=optimizer, epoch=2, step=20, config={})
    print("saved epoch 2", flush=True)
    """
)


def _child(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SOURCE}
    return subprocess.Popen([sys.executable, *args], env=env, **kwargs)


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_kill_9_inside_a_checkpoint_write_leaves_the_previous_one_loadable(tmp_path):
    path = tmp_path / "last.pt"
    child = _child("-c", _SLOW_WRITER, str(path), stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "saved epoch 1"
    first = path.read_bytes()

    def half_written() -> bool:  # the next checkpoint is being written beside it
        partial = list(tmp_path.glob(".last.pt.*.tmp"))
        return bool(partial) and partial[0].stat().st_size > 64 * 1024

    _wait_for(half_written, 60, "the second checkpoint's write to begin")
    os.kill(child.pid, signal.SIGKILL)  # inside neuralab.atomic's write
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == first  # untouched by the interrupted write
    checkpoint = load_checkpoint(path)
    assert checkpoint["epoch"] == 1 and checkpoint["step"] == 10
    torch.manual_seed(0)
    assert torch.equal(checkpoint["model"]["weight"], torch.nn.Linear(512, 512).weight.detach())
    litter = list(tmp_path.glob(".last.pt.*.tmp"))
    assert len(litter) == 1  # a killed process cannot clean up: the next run does
    from neuralab.atomic import remove_temporaries

    assert remove_temporaries(tmp_path) == litter
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1.6 MB tmpfs: room for the first epoch's two checkpoints of a digits MLP (640 KB each)
    and the small files, not for a third checkpoint while the next last.pt is written."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1600k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(
            "mounting a small tmpfs needs root (mount -t tmpfs): "
            + (done.stderr.strip() or "refused")
            + "; test_cli_train.py::test_full_disk_leaves_no_half_written_checkpoint covers "
            "the same with a simulated ENOSPC"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_during_training_is_one_line_and_the_last_checkpoint_stays(tiny_disk, run_cli):
    run_dir = tiny_disk / "run"
    result = run_cli("train", "--epochs", "5", "--run-dir", run_dir, *SMALL)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"neuralab: error: cannot write '{run_dir}/")
    assert "': no space left on the device; last good checkpoint: " in lines[0]
    assert lines[0].endswith(f"{run_dir / 'last.pt'} (epoch 1)")
    assert load_checkpoint(run_dir / "last.pt")["epoch"] == 1
    assert not list(run_dir.glob(".*.tmp"))  # the failed write cleaned up after itself
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert len(rows) >= 2  # epoch 1, and maybe epoch 2's row (dropped again by resume)


@pytest.mark.slow
def test_train_killed_mid_checkpoint_resumes_to_the_uninterrupted_result(tmp_path, run_cli):
    """kill -9 while `neuralab train` writes epoch 2's last.pt; --resume ends where an
    uninterrupted run ends, bit for bit (CPU, same seed)."""
    reference = tmp_path / "reference"
    assert run_cli("train", "--epochs", "3", "--run-dir", reference, *SMALL).exit_code == 0
    run_dir = tmp_path / "killed"
    script = textwrap.dedent(
        """
        import io, sys, time
        import torch
        real_save = torch.save

        def slow_save(obj, handle):
            buffer = io.BytesIO()
            real_save(obj, buffer)
            data = buffer.getvalue()
            slow = obj.get("epoch") == 2
            for start in range(0, len(data), 4096):
                handle.write(data[start : start + 4096])
                if slow:
                    handle.flush()
                    time.sleep(0.01)

        torch.save = slow_save
        from neuralab.cli import main
        sys.exit(main(sys.argv[1:]))
        """
    )
    child = _child(
        "-c", script, "train", "--epochs", "3", "--run-dir", str(run_dir), *SMALL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def writing_epoch_2() -> bool:
        return (run_dir / "last.pt").is_file() and any(
            p.stat().st_size > 64 * 1024 for p in run_dir.glob(".*.pt.*.tmp")
        )

    _wait_for(writing_epoch_2, 300, "epoch 2's checkpoint write")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert load_checkpoint(run_dir / "last.pt")["epoch"] == 1
    result = run_cli("train", "--resume", run_dir, "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert not list(run_dir.glob(".*.tmp"))  # the killed writer's litter was removed
    for name in ("metrics.csv",):
        ours = [line.split(",")[:8] for line in (run_dir / name).read_text().splitlines()]
        theirs = [line.split(",")[:8] for line in (reference / name).read_text().splitlines()]
        assert ours == theirs  # every metric but the timings
    mine, ref = load_checkpoint(run_dir / "last.pt"), load_checkpoint(reference / "last.pt")
    for key, tensor in ref["model"].items():
        assert torch.equal(mine["model"][key], tensor), key
