"""Using a finished run: restored with its own split and normalisation, evaluated, predicting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.vision.inference import evaluate_run, load_trained_run, read_image
from neuralab.vision.run import build_run
from neuralab.vision.train import train
from train_configs import tiny


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A 1-epoch digits run with per-channel statistics (so normalisation has numbers to keep)."""
    folder = tmp_path_factory.mktemp("inference")
    config = tiny(folder, epochs=1, normalization="per_channel", val_fraction=0.2, seed=3)
    return train(config, progress=False, report=False), config


def test_restored_run_has_the_split_and_normalisation_of_training(finished):
    result, config = finished
    fresh = build_run(config, torch.device("cpu"))
    restored = load_trained_run(result.run_dir, device="cpu")
    assert restored.data is not None and fresh.data is not None
    assert torch.equal(restored.data.train_index, fresh.data.train_index)
    assert torch.equal(restored.data.val_index, fresh.data.val_index)
    assert (
        restored.data.val_index.numel() == 287
    )  # 20 % of the 1,437 digits training images, rounded
    mean = fresh.split("train")[0].double().div(255).mean().item()
    assert restored.inputs.normalization.mean.tolist() == pytest.approx([mean], abs=1e-6)
    assert restored.inputs.classes == [str(d) for d in range(10)]
    assert restored.inputs.input_shape == (1, 8, 8) and not restored.model.training
    assert restored.config == config


def test_evaluate_run_repeats_the_best_epochs_val_column(finished):
    result, _ = finished
    val = evaluate_run(result.run_dir, split="val", device="cpu")
    row = result.history[result.best_epoch - 1]
    assert val["n"] == 287
    assert val["acc"] == row["val_acc"]
    assert val["loss"] == pytest.approx(row["val_loss"], rel=1e-6)
    with pytest.raises(NeuralabError, match="split must be test, val or train, got 'dev'"):
        evaluate_run(result.run_dir, split="dev", device="cpu")


def test_a_run_restored_without_data_still_classifies(finished):
    result, _ = finished
    run = load_trained_run(result.run_dir, which="last", device="cpu", load_data=False)
    assert run.data is None
    with pytest.raises(NeuralabError, match="restored without its data"):
        run.split("train")
    with pytest.raises(NeuralabError, match="checkpoint must be best or last, got 'first'"):
        load_trained_run(result.run_dir, which="first", device="cpu")


def test_read_image_converts_and_resizes(tmp_path):
    from PIL import Image

    colour = np.zeros((10, 20, 3), dtype=np.uint8)
    colour[:, :, 0] = 255  # pure red
    Image.fromarray(colour).save(tmp_path / "red.png")
    grey = read_image(tmp_path / "red.png", (1, 5, 5))
    assert grey.shape == (1, 5, 5) and grey.dtype == torch.uint8
    assert int(grey[0, 2, 2]) == 76  # ITU-R 601 luma of red: 0.299 * 255 = 76.2
    rgb = read_image(tmp_path / "red.png", (3, 4, 8))
    assert rgb.shape == (3, 4, 8) and rgb[:, 1, 1].tolist() == [255, 0, 0]
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(NeuralabError, match="cannot decode image .*text.png"):
        read_image(tmp_path / "text.png", (1, 5, 5))
    with pytest.raises(NeuralabError, match="does not exist"):
        read_image(tmp_path / "none.png", (1, 5, 5))
    with pytest.raises(NeuralabError, match="the model takes 4 channels"):
        read_image(tmp_path / "red.png", (4, 5, 5))
