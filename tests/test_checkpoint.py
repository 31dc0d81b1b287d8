"""Checkpoints: weights_only round trip, RNG states restored, bad files refused in one line."""

from __future__ import annotations

import errno
import random

import numpy as np
import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.vision.checkpoint import (
    load_checkpoint,
    load_model_state,
    rng_states,
    save_checkpoint,
    set_rng_states,
)


def draws(generator: torch.Generator) -> tuple:
    """One number from every generator a run uses."""
    return (
        torch.rand(3).tolist(),
        np.random.rand(3).tolist(),
        np.random.randn(1).tolist(),  # numpy caches a second Gaussian: the state must hold it
        random.random(),
        random.gauss(0, 1),
        torch.randperm(10, generator=generator).tolist(),
    )


def test_rng_states_restore_every_generator():
    generator = torch.Generator().manual_seed(3)
    np.random.randn(1)  # leave a cached Gaussian behind
    random.gauss(0, 1)
    states = rng_states(generator)
    first = draws(generator)
    set_rng_states(states, generator)
    assert draws(generator) == first


def save(path, model, optimizer, **kw):
    return save_checkpoint(
        path,
        model=model,
        optimizer=optimizer,
        epoch=kw.get("epoch", 2),
        step=kw.get("step", 20),
        config={"lr": 0.1, "widths": [8, 16]},
        best={"epoch": 1, "value": 0.5, "bad_epochs": 1},
        extra={"classes": ["a", "b"], "input_shape": [1, 2, 2]},
        loader_generator=torch.Generator().manual_seed(0),
    )


def test_round_trip_with_weights_only(tmp_path):
    model = nn.Linear(4, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    model(torch.ones(1, 4)).sum().backward()
    optimizer.step()
    save(tmp_path / "last.pt", model, optimizer)
    checkpoint = load_checkpoint(tmp_path / "last.pt")  # weights_only=True inside
    assert checkpoint["epoch"] == 2 and checkpoint["step"] == 20
    assert checkpoint["best"] == {"epoch": 1, "value": 0.5, "bad_epochs": 1}
    other = nn.Linear(4, 2)
    load_model_state(other, checkpoint)
    torch.testing.assert_close(other.weight, model.weight, rtol=0, atol=0)
    fresh = torch.optim.AdamW(other.parameters(), lr=0.01)
    fresh.load_state_dict(checkpoint["optimizer"])
    assert fresh.state_dict()["state"][0]["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary files left


def test_corrupt_foreign_and_missing_files(tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a checkpoint")
    with pytest.raises(NeuralabError, match="corrupt or not a PyTorch file"):
        load_checkpoint(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.ones(1)}}, foreign)
    with pytest.raises(NeuralabError, match="not written by neuralab train"):
        load_checkpoint(foreign)
    pickled = tmp_path / "pickled.pt"
    torch.save({"format": "neuralab-checkpoint", "object": NeuralabError("x")}, pickled)
    with pytest.raises(NeuralabError, match="holds Python objects other than tensors"):
        load_checkpoint(pickled)  # weights_only refuses arbitrary Python objects
    with pytest.raises(NeuralabError, match="does not exist"):
        load_checkpoint(tmp_path / "absent.pt")


def test_truncated_checkpoint_is_refused(tmp_path):
    model = nn.Linear(4, 2)
    path = save(tmp_path / "last.pt", model, torch.optim.SGD(model.parameters(), lr=0.1))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NeuralabError, match="corrupt"):
        load_checkpoint(path)


def test_model_mismatch_is_one_line(tmp_path):
    model = nn.Linear(4, 2)
    save(tmp_path / "last.pt", model, torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(NeuralabError, match="does not fit this model") as error:
        load_model_state(nn.Linear(5, 2), load_checkpoint(tmp_path / "last.pt"))
    assert "\n" not in str(error.value)


def test_full_disk_leaves_no_half_written_file(tmp_path, monkeypatch):
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    save(tmp_path / "last.pt", model, optimizer, epoch=1)

    def full_disk(obj, handle):  # neuralab.atomic.torch_save hands torch.save an open file
        handle.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(NeuralabError, match="no space left"):
        save(tmp_path / "last.pt", model, optimizer, epoch=2)
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1  # the old one, intact


def test_a_checkpoint_records_what_it_belongs_to_and_refuses_another_run(tmp_path):
    import yaml

    from neuralab.config import config_to_dict
    from neuralab.vision.checkpoint import check_belongs, config_hash
    from neuralab.vision.config import TrainConfig

    config = config_to_dict(TrainConfig(model="mlp", lr=0.01, run_dir=str(tmp_path / "a")))
    model = nn.Linear(4, 2)
    save_checkpoint(
        tmp_path / "best.pt",
        model=model,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        epoch=1,
        step=3,
        config=config,
        extra={"classes": ["cat", "dog"], "input_shape": [1, 2, 2]},
    )
    checkpoint = load_checkpoint(tmp_path / "best.pt")
    assert checkpoint["identity"] == {
        "model": "mlp",
        "classes": ["cat", "dog"],
        "input_shape": [1, 2, 2],
        "config_hash": config_hash(config),
    }
    # the hash leaves out what a resume may change: epochs, device, run_dir
    moved = {**config, "epochs": 99, "device": "cpu", "run_dir": "elsewhere"}
    assert config_hash(moved) == config_hash(config) != config_hash({**config, "lr": 0.1})
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump({**config, "epochs": 5}))
    check_belongs(checkpoint, run, "best.pt")  # its own run (moved, run longer): accepted
    (run / "config.yaml").write_text(yaml.safe_dump({**config, "model": "cnn"}))
    with pytest.raises(NeuralabError, match=r"does not belong to the run .* model: 'mlp' -> 'cnn'"):
        check_belongs(checkpoint, run, "best.pt")
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    checkpoint["identity"]["config_hash"] = "0" * 16  # written by a run of other settings
    with pytest.raises(NeuralabError, match="its config hash"):
        check_belongs(checkpoint, run, "best.pt")
    (run / "config.yaml").unlink()
    with pytest.raises(NeuralabError, match="not a run directory of neuralab train"):
        check_belongs(checkpoint, run, "best.pt")
