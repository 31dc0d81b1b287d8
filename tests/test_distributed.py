"""Training on several processes: W gloo processes with global batch B train like one with B.

The multi-process tests start the real thing, ``torchrun ... -m neuralab train``, on the CPU
(gloo), and compare weights and the per-epoch table with one process trained in this one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn

from neuralab.config import save_config
from neuralab.errors import NeuralabError
from neuralab.vision.augment import augmentation_preset
from neuralab.vision.config import TrainConfig
from neuralab.vision.distributed import Ranks, per_rank_batch_size, shard_bounds
from neuralab.vision.launch import launch_training
from neuralab.vision.loader import DeviceLoader, Normalization
from neuralab.vision.sync_batchnorm import SyncBatchNorm, convert_sync_batchnorm
from neuralab.vision.train import train

SRC = Path(__file__).resolve().parents[1] / "src"
TIMING = ("seconds", "images_per_s")


# -- the arithmetic ------------------------------------------------------------------------------


def test_the_global_batch_is_split_evenly_or_refused():
    assert per_rank_batch_size(128, 2) == 64
    assert per_rank_batch_size(96, 3) == 32
    with pytest.raises(NeuralabError, match=r"batch size 30 does not divide among 4 .* 28 or 32"):
        per_rank_batch_size(30, 4)
    with pytest.raises(NeuralabError, match=r"multiple of 4 \(e.g. 4\)"):
        per_rank_batch_size(3, 4)


def test_shards_tile_a_batch():
    assert [shard_bounds(10, r, 4) for r in range(4)] == [(0, 2), (2, 5), (5, 7), (7, 10)]
    assert [shard_bounds(2, r, 3) for r in range(3)] == [(0, 0), (0, 1), (1, 2)]  # one empty
    for n in range(0, 40):
        for world in range(1, 6):
            bounds = [shard_bounds(n, r, world) for r in range(world)]
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))


@pytest.mark.parametrize("num_samples", [23, 20])  # last batch 3 (1 each) and 0; 2 (one empty)
def test_sharded_loaders_give_one_process_batches(num_samples):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (num_samples, 3, 8, 8), dtype=torch.uint8, generator=generator)
    labels = torch.arange(num_samples) % 5
    strong = augmentation_preset("strong")  # shifts, rotation, zoom, jitter and noise

    def loader(shard: tuple[int, int]) -> DeviceLoader:
        return DeviceLoader(
            images,
            labels,
            batch_size=9 if num_samples == 20 else 10,
            device="cpu",
            shuffle=True,
            normalization=Normalization(mode="per_image"),
            augmentation=strong,
            generator=torch.Generator().manual_seed(7),
            shard=shard,
        )

    one, ranks = loader((0, 1)), [loader((r, 3)) for r in range(3)]
    assert one.global_batch_sizes() == ranks[1].global_batch_sizes()
    for _epoch in range(2):  # the second epoch shows the generators stayed in step
        shards = zip(*(iter(r) for r in ranks), strict=True)
        for (x, y), parts in zip(one, shards, strict=True):
            torch.testing.assert_close(torch.cat([p[0] for p in parts]), x)
            assert torch.equal(torch.cat([p[1] for p in parts]), y)


def test_a_peer_lost_under_a_collective_is_one_line_not_a_crash():
    gloo = RuntimeError(
        "[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:545] Read error "
        "[127.0.0.1]:29603: Connection reset by peer. This is typically caused by ..."
    )
    message = Ranks(rank=0, world_size=2).lost_peer(gloo)
    assert message is not None and message.startswith("process 0 of 2 stopped: a collective")
    assert "(Read error [127.0.0.1]:29603: Connection reset by peer), usually" in message
    assert "\n" not in message
    assert Ranks(rank=1, world_size=2).lost_peer(RuntimeError("shapes (2,3) and (4,5)")) is None
    assert Ranks().lost_peer(gloo) is None  # alone, there is no peer to lose


def test_sync_batch_norm_alone_is_batch_norm():
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.BatchNorm2d(4))
    synced = convert_sync_batchnorm(
        nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.BatchNorm2d(4))
    )
    synced.load_state_dict(plain.state_dict())  # same keys: checkpoints stay interchangeable
    assert isinstance(synced[1], SyncBatchNorm) and isinstance(synced[3], SyncBatchNorm)
    x = torch.randn(6, 3, 7, 7)
    for model in (plain, synced):
        model(x).square().sum().backward()
    torch.testing.assert_close(synced(x), plain(x))
    torch.testing.assert_close(synced[0].weight.grad, plain[0].weight.grad)
    torch.testing.assert_close(synced[1].running_var, plain[1].running_var)


# -- the real thing: torchrun -------------------------------------------------------------------


def tiny(tmp_path: Path, **changes) -> TrainConfig:
    """Digits 8x8 augmented, a narrow CNN without dropout (masks are per rank), 13 steps/epoch."""
    values = {
        "data": "digits",
        "data_dir": str(tmp_path / "data"),
        "widths": (8, 16),
        "batch_norm": False,
        "dropout": 0.0,
        "augment": "strong",  # shifts, rotations, zoom, jitter, noise: drawn for the global batch
        "epochs": 2,
        "batch_size": 100,  # 1,293 training images: the last global batch of 93 splits 46 / 47
        "schedule": "constant",  # the same learning rates however many epochs a run is given
        # SGD: Adam's g / sqrt(v) would blow rounding noise in near-zero gradients up to lr
        "optimizer": "sgd",
        "lr": 0.05,
        "device": "cpu",
        "run_dir": str(tmp_path / "one"),
    }
    values.update(changes)
    return TrainConfig(**values)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Train the one-process reference on one thread, as each rank does (OMP_NUM_THREADS=1).

    With batch norm, SAM and max pooling, the rounding of 1 against 2 threads' sums flips ties
    within a few steps: one process on 2 threads drifts from one on 1 thread as far as from 2
    processes. The equality tested is W processes against one, not threads against threads.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def torchrun(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``torchrun ARGUMENTS`` with this checkout's neuralab and return what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", *arguments],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _environment() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def train_arguments(config_file: Path, run_dir: Path) -> list[str]:
    return ["-m", "neuralab", "train", "--config", str(config_file), "--run-dir", str(run_dir)]


def write_config(config: TrainConfig, path: Path) -> Path:
    return save_config(dataclasses.replace(config, run_dir=None), path)


def table(run_dir: Path) -> list[dict[str, float]]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def assert_same_run(run_dir: Path, reference: Path) -> None:
    """The per-epoch tables agree to float rounding, and so do the weights of last.pt."""
    rows, expected = table(run_dir), table(reference)
    assert [r["epoch"] for r in rows] == [r["epoch"] for r in expected]
    for row, want in zip(rows, expected, strict=True):
        for key, value in want.items():
            if value is None:
                assert row[key] is None, key
            else:
                assert row[key] == pytest.approx(value, rel=1e-4, abs=1e-6), (row["epoch"], key)
    weights = torch.load(run_dir / "last.pt", weights_only=True)["model"]
    expected_weights = torch.load(reference / "last.pt", weights_only=True)["model"]
    assert weights.keys() == expected_weights.keys()
    for name, tensor in expected_weights.items():
        torch.testing.assert_close(weights[name], tensor, rtol=1e-4, atol=1e-5, msg=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[TrainConfig, Path]:
    """The tiny config trained for 2 epochs by one process, in this one."""
    folder = tmp_path_factory.mktemp("reference")
    config = tiny(folder)
    with one_thread():
        train(config, progress=False, report=False)
    return config, Path(str(config.run_dir))


def test_two_processes_train_like_one(tmp_path, reference):
    config, one = reference
    config_file = write_config(config, tmp_path / "config.yaml")
    done = torchrun(
        "--standalone", "--nproc-per-node", "2", *train_arguments(config_file, tmp_path / "two")
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_run(tmp_path / "two", one)
    # rank 0 alone printed the table and wrote the run directory
    assert "on cpu x 2 processes" in done.stdout
    assert done.stdout.count("epoch   train CE") == 1
    assert (tmp_path / "two" / "train.log").read_text().count("epoch   train CE") == 1


def test_sam_and_sync_bn_on_two_processes(tmp_path, run_cli, monkeypatch):
    """Both SAM passes all-reduced; batch norm with the global batch's mean and variance."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # each rank on one thread, like the reference
    # without augmentation: with it, BN and SAM, rounding differences flip ties in max pooling
    # within a few steps, between one process on 1 and on 2 threads just as much
    config = tiny(tmp_path, batch_norm=True, sam=True, sync_bn=True, augment="none")
    with one_thread():
        train(config, progress=False, report=False)
    config_file = write_config(config, tmp_path / "config.yaml")
    two = tmp_path / "two"
    result = run_cli("train", "--config", config_file, "--run-dir", two, "--nproc", "2")
    assert result.exit_code == 0, result.stderr
    assert_same_run(two, tmp_path / "one")


def test_a_run_resumes_on_another_number_of_processes(tmp_path, reference):
    config, two_epochs = reference
    first = dataclasses.replace(config, epochs=1, run_dir=str(tmp_path / "run"))
    with one_thread():
        train(first, progress=False, report=False)
    done = torchrun(
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "neuralab",
        "train",
        "--resume",
        str(tmp_path / "run"),
        "--set",
        "epochs=2",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resuming" in done.stdout
    assert_same_run(tmp_path / "run", two_epochs)


def test_two_nodes_meet_through_the_c10d_rendezvous(tmp_path, reference):
    config, one = reference
    config_file = write_config(config, tmp_path / "config.yaml")
    port = _free_port()
    nodes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--nnodes",
                "2",
                "--node-rank",
                str(node),
                "--nproc-per-node",
                "1",
                "--rdzv-backend",
                "c10d",
                "--rdzv-endpoint",
                f"127.0.0.1:{port}",
                "--rdzv-id",
                "two-nodes",
                *train_arguments(config_file, tmp_path / "two"),
            ],
            env=_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for node in (0, 1)
    ]
    outputs = [node.communicate(timeout=300) for node in nodes]
    for node, (_, error) in zip(nodes, outputs, strict=True):
        assert node.returncode == 0, error[-3000:]
    assert sum("x 2 processes" in out for out, _ in outputs) == 1  # rank 0 printed, once
    assert_same_run(tmp_path / "two", one)


@pytest.mark.skipif(not Path("/proc/self/environ").is_file(), reason="finds ranks in /proc")
# 2 restarts allowed, 1 needed: a busy machine once made a restarted process fail to start
@pytest.mark.parametrize("max_restarts", [2, 0])
def test_a_dying_rank_takes_the_job_down_or_is_restarted(tmp_path, max_restarts):
    """SIGKILL rank 1 during epoch 2: no hang; with --max-restarts the run resumes."""
    config = tiny(tmp_path, epochs=3, batch_size=16)  # 81 steps per epoch: time to kill
    config_file = write_config(config, tmp_path / "config.yaml")
    run_dir = tmp_path / "two"
    job = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "--max-restarts",
            str(max_restarts),
            *train_arguments(config_file, run_dir),
        ],
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not (run_dir / "metrics.jsonl").is_file():  # epoch 1 is saved
            assert job.poll() is None and time.monotonic() < deadline, "epoch 1 never ended"
            time.sleep(0.02)
        (victim,) = [pid for pid in _children(job.pid) if _rank_of(pid) == 1]
        os.kill(victim, signal.SIGKILL)
        out, error = job.communicate(timeout=240)  # a hang would time out here
    finally:
        job.kill()
    # the survivor says its peer is gone; it is not a bug of its own (no crash report)
    assert "internal error" not in error and "crash report" not in error, error[-3000:]
    if max_restarts == 0:
        assert job.returncode != 0
        assert "exitcode  : -9" in error  # torchrun names the killed rank
        return
    assert job.returncode == 0, error[-3000:]
    assert "resuming" in out
    assert [row["epoch"] for row in table(run_dir)] == [1, 2, 3]
    assert torch.load(run_dir / "last.pt", weights_only=True)["epoch"] == 3


def test_a_launch_is_checked_before_any_process_starts(tmp_path):
    config = tiny(tmp_path, batch_size=33, run_dir=str(tmp_path / "never"))
    with pytest.raises(NeuralabError, match="batch size 33 does not divide among 2 processes"):
        launch_training(config, nproc=2)
    with pytest.raises(NeuralabError, match="--nproc must be >= 1"):
        launch_training(config, nproc=0)
    assert not (tmp_path / "never").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _rank_of(pid: int) -> int | None:
    try:
        variables = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for variable in variables:
        if variable.startswith(b"RANK="):
            return int(variable[5:])
    return None
