"""Training-step memory: the saved activations counted by hand, modes, frozen models, torchinfo."""

from __future__ import annotations

import pytest
from torch import nn

from neuralab.arch.summary import summary


def course_cnn() -> nn.Sequential:
    """N = 28, M = 20 maps 5x5, 2x2 max-pool, dense K = 100, 10 classes."""
    return nn.Sequential(
        nn.Conv2d(1, 20, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2880, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    )


def test_course_cnn_saved_activations_by_hand():
    memory = summary(course_cnn(), (1, 28, 28)).memory
    assert memory is not None
    # What autograd keeps for backward (the input is counted on its own, float32 = 4 bytes):
    relu1 = 20 * 24 * 24 * 4  # ReLU keeps its output (its gradient mask); max-pool reads it too
    indices = 20 * 12 * 12 * 8  # max-pool keeps where each maximum came from (int64)
    fc1_input = 2880 * 4  # fc1 keeps its input (the flattened pool output) for dW = x^T dY
    relu2 = 100 * 4  # fc2's input is relu2's output: one storage
    assert memory.saved_bytes == relu1 + indices + fc1_input + relu2 == 81_040
    assert memory.input_bytes == 28 * 28 * 4
    assert memory.param_bytes == memory.grad_bytes == 289_630 * 4
    assert memory.total_bytes == 3_136 + 2 * 1_158_520 + 81_040


def test_saved_activations_scale_with_the_batch():
    one = summary(course_cnn(), (1, 28, 28)).memory
    eight = summary(course_cnn(), (1, 28, 28), batch_size=8).memory
    assert one is not None and eight is not None
    assert eight.saved_bytes == 8 * one.saved_bytes
    assert eight.param_bytes == one.param_bytes


def test_a_frozen_model_saves_nothing_and_has_no_gradients():
    model = course_cnn().requires_grad_(False)
    memory = summary(model, (1, 28, 28)).memory
    assert memory is not None
    assert memory.saved_bytes == 0 and memory.grad_bytes == 0


def test_train_mode_keeps_dropout_masks():
    model = nn.Sequential(nn.Linear(100, 100), nn.Dropout(0.5), nn.Linear(100, 10))
    evaluated = summary(model, (100,), batch_size=4).memory
    trained = summary(model, (100,), batch_size=4, mode="train").memory
    assert evaluated is not None and trained is not None
    assert evaluated.saved_bytes == 4 * 100 * 4  # fc2's input; dropout is off in eval mode
    # in train mode dropout also keeps its mask: at least one byte per element
    assert trained.saved_bytes >= evaluated.saved_bytes + 4 * 100


def test_half_precision_halves_every_term():
    full = summary(course_cnn(), (1, 28, 28)).memory
    half = summary(course_cnn(), (1, 28, 28), dtype="bfloat16").memory
    assert full is not None and half is not None
    assert 2 * half.param_bytes == full.param_bytes and 2 * half.input_bytes == full.input_bytes


def test_torchinfo_counts_twice_the_outputs_of_layers_with_parameters():
    """torchinfo's "Forward/backward pass size" is 2 x the output bytes of every leaf layer that
    has parameters ("x2 for gradients"); its "Params size" is our param_bytes, without gradients."""
    torchinfo = pytest.importorskip(
        "torchinfo", reason="torchinfo not installed (pip install torchinfo)"
    )
    model = course_cnn()
    ours = summary(model, (1, 28, 28))
    theirs = torchinfo.summary(model, input_size=(1, 1, 28, 28), verbose=0)
    # conv 20x24x24, fc1 100, fc2 10 outputs, float32, twice
    assert theirs.total_output_bytes == 2 * (20 * 24 * 24 + 100 + 10) * 4 == 93_040
    assert theirs.total_param_bytes == ours.param_bytes
    assert ours.memory is not None and ours.memory.saved_bytes == 81_040
