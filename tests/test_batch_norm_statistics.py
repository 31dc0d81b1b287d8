"""Precise BN: batch-norm statistics recomputed with the current weights before evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.vision.batch_norm_statistics import recalibrate_batch_norm
from neuralab.vision.train import train
from train_configs import tiny


def test_the_statistics_become_the_average_of_the_batch_statistics():
    """BN right after the input: mean of the batch means, mean of the unbiased batch variances."""
    generator = torch.Generator().manual_seed(0)
    batches = [(torch.randn(8, 3, generator=generator) * (k + 1) + k, None) for k in range(4)]
    model = nn.Sequential(nn.BatchNorm1d(3, momentum=0.01), nn.Linear(3, 2)).eval()
    layer = model[0]
    assert recalibrate_batch_norm(model, batches, count=3) == 3  # the fourth batch is not used
    used = [images for images, _ in batches[:3]]
    expected_mean = torch.stack([x.mean(0) for x in used]).mean(0)
    expected_var = torch.stack([x.var(0, unbiased=True) for x in used]).mean(0)
    torch.testing.assert_close(layer.running_mean, expected_mean)
    torch.testing.assert_close(layer.running_var, expected_var)
    assert layer.momentum == 0.01 and not model.training  # both restored


def test_a_model_without_batch_norm_is_left_alone():
    model = nn.Sequential(nn.Linear(3, 2))
    before = [p.clone() for p in model.parameters()]
    assert recalibrate_batch_norm(model, [(torch.ones(2, 3), None)], count=5) == 0
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_a_negative_count_is_refused():
    with pytest.raises(NeuralabError, match="bn_recalibrate must be >= 0 batches"):
        tiny(Path("unused"), bn_recalibrate=-1)


def test_mobilenet_evaluated_at_chance_learns_with_precise_batch_norm(tmp_path):
    """MobileNetV3's batch norm averages ~100 steps (momentum 0.01): after 2 short digits epochs
    its running statistics still describe the first steps' network and evaluation is near
    chance; recomputed on 10 training batches, the same weights classify the validation set."""
    results = {}
    for count in (0, 10):
        config = tiny(
            tmp_path,
            name=f"bn{count}",
            model="mobilenet_v3_small",
            widths=None,
            image_size=32,
            epochs=2,
            batch_size=32,
            evaluate_test=False,
            bn_recalibrate=count,
        )
        results[count] = train(config, progress=False, report=False).history[-1]["val_acc"]
    assert results[0] < 0.3, results  # the lag: near chance (0.1) on 10 classes
    assert results[10] > 0.8, results
