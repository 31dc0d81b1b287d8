"""train_one_epoch and evaluate: PyTorch's own loop as the judge, SAM and batch norm, NaN stops."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from neuralab.vision.engine import (
    NonFiniteLossError,
    confusion_matrix,
    evaluate,
    train_one_epoch,
)
from neuralab.vision.sam import SAM
from neuralab.vision.train_end import fitting_batch_size


def batches(x, y, size):
    """A stand-in loader: a list of (images, labels) slices."""
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(y), size)]


@pytest.fixture
def data():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(23, 1, 4, 4, generator=generator)
    y = torch.randint(0, 3, (23,), generator=generator)
    return x, y


def small_model(batch_norm: bool = False) -> nn.Module:
    torch.manual_seed(1)
    layers: list[nn.Module] = [nn.Conv2d(1, 4, 3, padding=1)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)]
    return nn.Sequential(*layers)


def test_evaluate_is_the_mean_over_samples_not_over_batches(data):
    x, y = data
    model = small_model()
    result = evaluate(model, batches(x, y, 10), device="cpu")  # batches of 10, 10, 3
    with torch.no_grad():
        logits = model(x)
    assert result["n"] == 23
    assert result["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    assert result["acc"] == (logits.argmax(1) == y).sum().item() / 23


def test_evaluate_uses_eval_mode_and_restores_it(data):
    x, y = data
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(16, 3))
    model.train()
    first = evaluate(model, batches(x, y, 8))
    second = evaluate(model, batches(x, y, 8))
    assert first["loss"] == second["loss"]  # dropout off: deterministic
    assert model.training
    predictions = evaluate(model, batches(x, y, 8), return_predictions=True)
    assert predictions["predictions"].shape == (23,)
    assert predictions["probabilities"].sum(1) == pytest.approx(torch.ones(23))


def test_train_one_epoch_matches_a_plain_pytorch_loop(data):
    x, y = data
    model = small_model()
    reference = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    result = train_one_epoch(model, optimizer, batches(x, y, 8))

    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    total, correct = 0.0, 0
    for images, labels in batches(x, y, 8):
        logits = reference(images)
        loss = F.cross_entropy(logits, labels)
        total += loss.item() * len(labels)
        correct += (logits.argmax(1) == labels).sum().item()
        reference_optimizer.zero_grad()
        loss.backward()
        reference_optimizer.step()
    for mine, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0)
    assert result["loss"] == pytest.approx(total / 23, rel=1e-6)
    assert result["acc"] == correct / 23
    assert result["n"] == 23 and result["steps"] == 3


def test_label_smoothing_shapes_the_gradient_only(data):
    x, y = data
    model, reference = small_model(), small_model()
    train_one_epoch(
        model, torch.optim.SGD(model.parameters(), lr=0.1), [(x, y)], label_smoothing=0.2
    )
    F.cross_entropy(reference(x), y, label_smoothing=0.2).backward()
    with torch.no_grad():
        for p in reference.parameters():
            p.sub_(0.1 * p.grad)
    for mine, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-6, atol=1e-8)


def test_label_smoothing_and_lr_schedule(data):
    x, y = data
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no movement: the loss is CE at w0
    optimizer.param_groups[0]["base_lr"] = 1e-9
    seen_steps = []

    def schedule(step):
        seen_steps.append(step)
        return 0.5

    result = train_one_epoch(
        model, optimizer, batches(x, y, 8), label_smoothing=0.2, step=10, lr_schedule=schedule
    )
    with torch.no_grad():
        expected = F.cross_entropy(model(x), y).item()  # reported without smoothing
        smoothed = F.cross_entropy(model(x), y, label_smoothing=0.2).item()
    assert result["loss"] == pytest.approx(expected, rel=1e-5)
    assert smoothed > expected
    assert seen_steps == [10, 11, 12] and result["steps"] == 13
    assert result["lr"] == pytest.approx(0.5e-9)


def test_gradient_clipping_bounds_the_step(data):
    x, y = data
    model = small_model()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    train_one_epoch(model, optimizer, batches(x, y, 23), grad_clip=0.01)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    # one step of plain SGD moves the weights by lr * clipped gradient: norm <= 0.01
    assert (after - before).norm().item() == pytest.approx(0.01, rel=1e-4)


def test_sam_updates_batch_norm_statistics_once(data):
    x, y = data
    model = small_model(batch_norm=True)
    reference = copy.deepcopy(model)
    optimizer = SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.1)
    train_one_epoch(model, optimizer, [(x, y)])
    reference.train()
    with torch.no_grad():
        reference(x)  # one forward pass at w: what the running statistics should have seen
    bn, reference_bn = model[1], reference[1]
    torch.testing.assert_close(bn.running_mean, reference_bn.running_mean, rtol=0, atol=0)
    torch.testing.assert_close(bn.running_var, reference_bn.running_var, rtol=0, atol=0)
    assert bn.momentum == 0.1  # restored after the second pass


def test_sam_step_equals_the_written_out_procedure(data):
    x, y = data
    model = small_model()
    reference = copy.deepcopy(model)
    train_one_epoch(model, SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.1), [(x, y)])
    parameters = list(reference.parameters())
    gradients = torch.autograd.grad(F.cross_entropy(reference(x), y), parameters)
    norm = torch.cat([g.flatten() for g in gradients]).norm()
    with torch.no_grad():
        for p, g in zip(parameters, gradients, strict=True):
            p.add_(0.05 * g / (norm + 1e-12))  # w + eps
    sharp = torch.autograd.grad(F.cross_entropy(reference(x), y), parameters)
    with torch.no_grad():
        for p, g, g_sharp in zip(parameters, gradients, sharp, strict=True):
            p.sub_(0.05 * g / (norm + 1e-12))  # back to w
            p.sub_(0.1 * g_sharp)  # SGD step with the gradient at w + eps
    for mine, theirs in zip(model.parameters(), parameters, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_nan_loss_names_epoch_and_batch(data):
    x, y = data
    x = x.clone()
    x[17] = math.nan  # in the third batch of 8
    model = small_model()
    with pytest.raises(NonFiniteLossError, match="at epoch 4, batch 3") as error:
        train_one_epoch(
            model, torch.optim.SGD(model.parameters(), lr=0.1), batches(x, y, 8), epoch=4
        )
    assert (error.value.epoch, error.value.batch) == (4, 3)
    assert math.isnan(error.value.value)


def test_empty_loader_is_an_error():
    from neuralab.errors import NeuralabError

    model = small_model()
    with pytest.raises(NeuralabError, match="no batches"):
        train_one_epoch(model, torch.optim.SGD(model.parameters(), lr=0.1), [])
    with pytest.raises(NeuralabError, match="no batches"):
        evaluate(model, [])


def test_confusion_matrix_by_hand():
    targets = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 2, 0, 2])
    assert confusion_matrix(predictions, targets, 3).tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_fitting_batch_size_halves_until_it_fits():
    class Greedy(nn.Module):
        """Pretends that more than 8 images do not fit in memory."""

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            if x.shape[0] > 8:
                raise torch.OutOfMemoryError("pretend: out of memory")
            return self.fc(x.flatten(1))

    assert fitting_batch_size(Greedy(), (1, 2, 2), 64, torch.device("cpu")) == 8
    assert fitting_batch_size(Greedy(), (1, 2, 2), 12, torch.device("cpu")) == 6


def test_build_optimizer_gives_the_backbone_a_lower_lr():
    from neuralab.vision.config import TrainConfig
    from neuralab.vision.models import get_model
    from neuralab.vision.optimizer import build_optimizer

    model = get_model("cnn", num_classes=3, input_shape=(1, 8, 8), widths=(4,))
    fine_tune = TrainConfig(weights="backbone.pt", lr=0.01, backbone_lr_factor=0.1)
    head, backbone = build_optimizer(fine_tune, model).param_groups
    assert head["lr"] == 0.01 and backbone["lr"] == pytest.approx(0.001)
    assert {id(p) for p in head["params"]} == {id(p) for p in model.classifier.fc2.parameters()}
    assert len(head["params"]) + len(backbone["params"]) == len(list(model.parameters()))
    sam = build_optimizer(TrainConfig(sam=True, optimizer="sgd", nesterov=True), model)
    assert isinstance(sam, SAM) and isinstance(sam.base_optimizer, torch.optim.SGD)
    assert sam.base_optimizer.param_groups[0]["nesterov"] is True
