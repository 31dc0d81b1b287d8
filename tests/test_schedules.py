"""Learning-rate schedules: hand values, PyTorch's schedulers as judges, SAM follows the base."""

from __future__ import annotations

import math

import pytest
import torch

from neuralab.errors import NeuralabError
from neuralab.vision.sam import SAM
from neuralab.vision.schedules import apply_lr, lr_factor, make_schedule, set_base_lr


@pytest.mark.parametrize(
    ("name", "step", "expected"),
    [
        ("constant", 0, 1.0),
        ("constant", 99, 1.0),
        ("step", 49, 1.0),
        ("step", 50, 0.1),
        ("step", 74, 0.1),
        ("step", 75, 0.01),
        ("cosine", 0, 1.0),
        ("cosine", 25, (1 + math.cos(math.pi / 4)) / 2),  # 0.853553...
        ("cosine", 50, 0.5),
        ("cosine", 100, 0.0),
    ],
)
def test_hand_values(name, step, expected):
    assert lr_factor(name, step, 100) == pytest.approx(expected, abs=1e-12)


def test_warmup_is_linear_then_the_schedule():
    # constant with 3 warm-up steps: (s + 1) / (W + 1) = 1/4, 2/4, 3/4, then 1
    assert [lr_factor("constant", s, 10, warmup_steps=3) for s in range(5)] == [
        0.25,
        0.5,
        0.75,
        1.0,
        1.0,
    ]
    # cosine after 10 warm-up steps of 110: peak at step 10, half way at step 60, 0 at 110
    assert lr_factor("cosine", 10, 110, warmup_steps=10) == 1.0
    assert lr_factor("cosine", 60, 110, warmup_steps=10) == pytest.approx(0.5)
    assert lr_factor("cosine", 110, 110, warmup_steps=10) == pytest.approx(0.0)


@pytest.mark.parametrize("total", [10, 37, 200])
def test_onecycle_equals_pytorch(total):
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=1.0, total_steps=total, cycle_momentum=False
    )
    for step in range(total):
        assert lr_factor("onecycle", step, total) == pytest.approx(
            optimizer.param_groups[0]["lr"], rel=1e-12, abs=1e-15
        )
        optimizer.step()
        if step < total - 1:
            scheduler.step()
    # starts at 1/25 of the peak, peaks at 30 %, ends at 1/(25 * 10^4)
    assert lr_factor("onecycle", 0, 200) == pytest.approx(0.04)
    assert lr_factor("onecycle", 59, 200) == pytest.approx(1.0)
    assert lr_factor("onecycle", 199, 200) == pytest.approx(4e-6)


def test_cosine_and_step_equal_pytorch():
    total = 40
    for name, make in [
        ("cosine", lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total)),
        ("step", lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [20, 30], gamma=0.1)),
    ]:
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        scheduler = make(optimizer)
        for step in range(total):
            assert lr_factor(name, step, total) == pytest.approx(
                optimizer.param_groups[0]["lr"], abs=1e-12
            )
            optimizer.step()
            scheduler.step()


def test_apply_lr_on_sam_keeps_group_ratios():
    head, backbone = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    sam = SAM(
        [{"params": [head], "lr": 0.1}, {"params": [backbone], "lr": 0.01}],
        torch.optim.SGD,
        rho=0.05,
        lr=0.1,
    )
    set_base_lr(sam.base_optimizer)
    lr = apply_lr(sam.base_optimizer, 0.5)
    assert lr == pytest.approx(0.05)
    assert [g["lr"] for g in sam.base_optimizer.param_groups] == pytest.approx([0.05, 0.005])
    assert [g["lr"] for g in sam.param_groups] == pytest.approx([0.05, 0.005])  # shared groups


def test_bad_schedule_and_total():
    with pytest.raises(NeuralabError, match="unknown schedule 'linear'"):
        make_schedule("linear", 10)
    with pytest.raises(NeuralabError, match="total_steps >= 1"):
        lr_factor("cosine", 0, 0)
