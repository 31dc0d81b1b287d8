"""The recipe options: EMA, MixUp / CutMix, RandAugment, erasing, accumulation, deterministic."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.vision.augment_recipe import RecipeAugmentation, random_erasing
from neuralab.vision.checkpoint import load_checkpoint
from neuralab.vision.config import TrainConfig
from neuralab.vision.ema import WeightEMA
from neuralab.vision.engine import train_one_epoch
from neuralab.vision.mixing import BatchMixing
from neuralab.vision.train import train
from train_configs import interrupted_at, rows_without_timing, tiny


# -- EMA -------------------------------------------------------------------------------------
def test_ema_of_a_scalar_by_hand():
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema = WeightEMA(model, decay=0.5)
    average = 1.0
    for t, w in enumerate([2.0, 4.0, 0.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0]):
        with torch.no_grad():
            model.weight.fill_(w)
        ema.update(model)
        d = min(0.5, (1 + t) / (10 + t))  # warm-up: 0.1, 2/11, 3/12, ... then 0.5 from t = 8
        average = d * average + (1 - d) * w
        assert ema.model.weight.item() == pytest.approx(average, rel=1e-6)
    assert ema.decay_at(0) == pytest.approx(0.1) and ema.decay_at(8) == 0.5
    # first two updates by hand: 0.1 * 1 + 0.9 * 2 = 1.9; 2/11 * 1.9 + 9/11 * 4 = 3.6182
    fresh = WeightEMA(nn.Linear(1, 1, bias=False).requires_grad_(False), decay=0.5)
    with torch.no_grad():
        fresh.model.weight.fill_(1.0)
    source = nn.Linear(1, 1, bias=False)
    for w in (2.0, 4.0):
        with torch.no_grad():
            source.weight.fill_(w)
        fresh.update(source)
    assert fresh.model.weight.item() == pytest.approx(2 / 11 * 1.9 + 9 / 11 * 4)
    assert not any(p.requires_grad for p in ema.model.parameters())


def test_ema_run_evaluates_and_saves_the_average_and_resumes_exactly(tmp_path, monkeypatch):
    config = {"epochs": 3, "ema_decay": 0.9, "mixup_alpha": 0.4, "accumulate_steps": 2}
    straight = train(tiny(tmp_path, "straight", **config), progress=False, report=False)
    best = load_checkpoint(straight.run_dir / "best.pt")
    assert set(best["ema"]) == {"training_model", "updates"}
    key = "features.conv1_1.weight"
    assert not torch.equal(best["model"][key], best["ema"]["training_model"][key])
    # the table's val accuracy is the average's: re-evaluating best.pt gives it again
    from neuralab.vision.inference import evaluate_run

    again = evaluate_run(straight.run_dir, split="val", device="cpu")
    row = straight.history[straight.best_epoch - 1]
    assert again["acc"] == pytest.approx(row["val_acc"])

    with interrupted_at(monkeypatch, epoch=2), pytest.raises(KeyboardInterrupt):
        train(tiny(tmp_path, "resumed", **config), progress=False, report=False)
    resumed = train(tiny(tmp_path, "resumed", **config), progress=False, resume=True, report=False)
    assert rows_without_timing(resumed.run_dir) == rows_without_timing(straight.run_dir)
    mine, theirs = (load_checkpoint(r.run_dir / "last.pt") for r in (resumed, straight))
    for name in theirs["model"]:
        assert torch.equal(mine["model"][name], theirs["model"][name]), name
    assert mine["ema"]["updates"] == theirs["ema"]["updates"] == 3 * 6  # 11 batches -> 6 steps


# -- MixUp / CutMix ----------------------------------------------------------------------------
def test_mixup_targets_sum_to_one_and_lam_is_beta_distributed():
    n, alpha = 16, 0.4
    mixing = BatchMixing(num_classes=n, mixup_alpha=alpha)
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(n)  # every image its own class: lam can be read off the targets
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()
    lams = []
    for _ in range(3000):
        mixed, targets = mixing(images, labels, generator)
        assert targets.shape == (n, n) and torch.allclose(targets.sum(1), torch.ones(n))
        moved = torch.nonzero(targets.diagonal() < 1).flatten().tolist()
        if not moved:  # the permutation left every image in place (or lam = 1)
            continue
        i = moved[0]
        lam = float(targets[i, i])  # one lam per batch
        j = [k for k in torch.nonzero(targets[i]).flatten().tolist() if k != i][0]
        # the image is the same blend as its target: lam x_i + (1 - lam) x_j
        assert mixed[i, 0, 0, 0].item() == pytest.approx(lam * i + (1 - lam) * j, abs=1e-5)
        lams.append(lam)
    lam_t = torch.tensor(lams)
    # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)) = 0.1389 for a = 0.4
    assert lam_t.mean().item() == pytest.approx(0.5, abs=4 * (0.1389 / len(lams)) ** 0.5)
    assert lam_t.var().item() == pytest.approx(1 / (4 * (2 * alpha + 1)), rel=0.08)


def test_cutmix_lam_is_the_unpasted_area():
    n = 8
    mixing = BatchMixing(num_classes=n, cutmix_alpha=1.0)
    generator = torch.Generator().manual_seed(1)
    labels = torch.arange(n)
    images = (torch.arange(n, dtype=torch.float32) + 1).view(n, 1, 1, 1).expand(n, 3, 16, 16)
    for _ in range(50):
        mixed, targets = mixing(images.clone(), labels, generator)
        assert torch.allclose(targets.sum(1), torch.ones(n))
        kept = (mixed == images).all(dim=1).float().mean(dim=(1, 2))  # share of own pixels
        for i in range(n):
            if targets[i, i] < 1:  # pasted from another image
                assert targets[i, i].item() == pytest.approx(kept[i].item(), abs=1e-6)


# -- RandAugment and erasing ---------------------------------------------------------------------
def test_randaugment_is_seeded_by_the_loader_generator_and_leaves_torch_rng_alone():
    images = torch.randint(0, 256, (16, 3, 16, 16)).float() / 255
    recipe = RecipeAugmentation(randaugment_ops=2, randaugment_magnitude=15)
    state = torch.get_rng_state()
    first = recipe(images, torch.Generator().manual_seed(3))
    again = recipe(images, torch.Generator().manual_seed(3))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, again) and not torch.equal(first, images)
    assert first.min() >= 0 and first.max() <= 1 and first.shape == images.shape
    assert torch.equal((first * 255).round(), first * 255)  # still whole uint8 levels


def test_shards_of_a_batch_are_augmented_as_the_whole_batch():
    """Under torchrun each process augments its rows of a global batch as one process would."""
    from neuralab.vision.augment import augmentation_preset

    images = torch.randint(0, 256, (12, 3, 16, 16)).float() / 255
    recipe = RecipeAugmentation(
        base=augmentation_preset("standard"), randaugment_ops=2, erasing=0.5
    )
    whole = recipe(images, torch.Generator().manual_seed(5))
    parts = [
        recipe(images[lo:hi], torch.Generator().manual_seed(5), rows=(12, lo, hi))
        for lo, hi in ((0, 5), (5, 12))
    ]
    assert torch.allclose(torch.cat(parts), whole, atol=1e-6)


def test_random_erasing_boxes():
    images = torch.full((400, 1, 20, 20), 0.5)
    erased = random_erasing(images, 0.5, torch.Generator().manual_seed(4))
    changed = (erased != images).flatten(1).float().mean(1)
    hit = changed > 0
    assert 0.4 < hit.float().mean().item() < 0.6  # p = 0.5
    # erased share of the area: s in [0.02, 1/3] (boxes are rounded to whole pixels)
    assert changed[hit].min().item() >= 0.005 and changed[hit].max().item() <= 0.45
    assert torch.equal(random_erasing(images, 0.0, torch.Generator()), images)


# -- gradient accumulation -----------------------------------------------------------------------
def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 3))


@pytest.mark.parametrize("sizes", [(8, 8, 8, 8), (8, 8, 8, 5)])
def test_k_accumulated_batches_equal_one_k_times_batch(sizes):
    torch.manual_seed(1)
    total = sum(sizes)
    images, labels = torch.randn(total, 3, 2, 2), torch.randint(0, 3, (total,))
    small = list(zip(images.split(list(sizes)), labels.split(list(sizes)), strict=True))
    results = []
    for loader, k in ((small, len(sizes)), ([(images, labels)], 1)):
        model = _model()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        out = train_one_epoch(model, optimizer, loader, accumulate_steps=k, grad_clip=1.0)
        assert out["steps"] == 1 and out["n"] == total
        results.append([p.detach().clone() for p in model.parameters()])
    for accumulated, whole in zip(*results, strict=True):
        assert torch.allclose(accumulated, whole, atol=1e-6)


def test_accumulation_with_sam_is_refused():
    with pytest.raises(NeuralabError, match="cannot be combined with sam"):
        TrainConfig(sam=True, accumulate_steps=2)


# -- deterministic ---------------------------------------------------------------------------------
def test_deterministic_runs_repeat_and_the_flag_is_restored(tmp_path):
    seen = []

    class Watch:
        def on_batch_end(self, state):
            seen.append(torch.are_deterministic_algorithms_enabled())

    before = torch.are_deterministic_algorithms_enabled()
    config = {"epochs": 1, "deterministic": True, "randaugment": 1, "cutmix_alpha": 1.0}
    first = train(tiny(tmp_path, "a", **config), progress=False, report=False, callbacks=[Watch()])
    second = train(tiny(tmp_path, "b", **config), progress=False, report=False)
    assert seen and all(seen)
    assert torch.are_deterministic_algorithms_enabled() == before
    assert rows_without_timing(first.run_dir) == rows_without_timing(second.run_dir)


# -- the command line ------------------------------------------------------------------------------
def test_recipe_flags_on_the_command_line(run_cli, tmp_path):
    import yaml

    result = run_cli(
        "train", "--epochs", "1", "--batch-size", "256", "--device", "cpu", "--no-progress",
        "--set", "widths=8", "--run-dir", tmp_path / "r", "--ema-decay", "0.99",
        "--mixup-alpha", "0.2", "--cutmix-alpha", "1.0", "--randaugment", "2",
        "--randaugment-magnitude", "5", "--random-erasing", "0.25", "--accumulate-steps", "2",
        "--deterministic", "--grad-clip", "2.5",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    saved = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    expected = {
        "ema_decay": 0.99, "mixup_alpha": 0.2, "cutmix_alpha": 1.0, "randaugment": 2,
        "randaugment_magnitude": 5, "random_erasing": 0.25, "accumulate_steps": 2,
        "deterministic": True, "grad_clip": 2.5,
    }  # fmt: skip
    assert {k: saved[k] for k in expected} == expected
    bad = run_cli("train", "--random-erasing", "1.5", "--run-dir", tmp_path / "bad")
    assert bad.exit_code == 2 and "random_erasing must be a probability" in bad.stderr
