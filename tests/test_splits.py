"""Validation splits: a partition, stratified by class, grouped by track, repeatable by seed."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.errors import NeuralabError
from neuralab.vision.splits import describe_split, split_train_val


def _is_partition(train: torch.Tensor, val: torch.Tensor, n: int) -> bool:
    both = torch.cat([train, val]).sort().values
    return torch.equal(both, torch.arange(n)) and train.dtype == val.dtype == torch.int64


def test_stratified_exact_counts():
    # 500, 300 and 200 images of classes 0, 1, 2: 20 % of each is 100, 60 and 40
    labels = torch.cat([torch.full((500,), 0), torch.full((300,), 1), torch.full((200,), 2)])
    labels = labels[torch.randperm(1000, generator=torch.Generator().manual_seed(0))]
    train, val = split_train_val(labels, 0.2, seed=0)
    assert _is_partition(train, val, 1000)
    assert torch.bincount(labels[val]).tolist() == [100, 60, 40]
    assert torch.equal(train, train.sort().values) and torch.equal(val, val.sort().values)


def test_zero_fraction_gives_empty_validation():
    labels = torch.arange(10) % 3
    train, val = split_train_val(labels, 0.0)
    assert torch.equal(train, torch.arange(10)) and val.numel() == 0


def test_seed_decides_the_split():
    labels = torch.arange(300) % 5
    a = split_train_val(labels, 0.3, seed=1)
    b = split_train_val(labels, 0.3, seed=1)
    c = split_train_val(labels, 0.3, seed=2)
    assert torch.equal(a[1], b[1]) and not torch.equal(a[1], c[1])


def test_groups_never_cross():
    # 40 groups of 5 images each; 4 classes, 10 groups per class
    groups = torch.arange(200) // 5
    labels = groups % 4
    train, val = split_train_val(labels, 0.25, groups=groups, seed=0)
    assert _is_partition(train, val, 200)
    assert not set(groups[train].tolist()) & set(groups[val].tolist())
    # 25 % of 10 groups of 5 images per class: 2.5 groups -> 2 or 3 groups (10 or 15 images);
    # the total 25 % of 40 groups = 10 groups, so two classes give 3 and two give 2
    assert sorted(torch.bincount(labels[val]).tolist()) == [10, 10, 15, 15]


def test_largest_remainder_fills_the_total_with_small_classes():
    # 10 classes of 3 groups of 4 images: 10 % is 0.3 of a group per class, 3 groups in total;
    # per-class rounding alone would give an empty validation set
    groups = torch.arange(120) // 4
    labels = groups // 3
    train, val = split_train_val(labels, 0.1, groups=groups, seed=0)
    assert val.numel() == 12  # 3 whole groups
    assert torch.bincount(labels[val], minlength=10).max() == 4  # in 3 different classes


def test_a_class_with_one_group_stays_in_training():
    groups = torch.tensor([0, 0, 0, 1, 1, 2, 2, 3, 3])
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 1, 1, 1])
    train, val = split_train_val(labels, 0.5, groups=groups)
    assert {0, 1, 2} <= set(train.tolist())  # class 0's only group
    assert 0 < val.numel() < 9


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(1, 6)), min_size=1, max_size=30),
    st.floats(0.0, 0.9),
    st.integers(0, 10),
)
def test_property_partition_without_shared_groups(spec, fraction, seed):
    # spec: one (class, size) per group
    labels = torch.cat([torch.full((size,), c) for c, size in spec])
    groups = torch.cat([torch.full((size,), g) for g, (_, size) in enumerate(spec)])
    train, val = split_train_val(labels, fraction, groups=groups, seed=seed)
    assert _is_partition(train, val, len(labels))
    assert not set(groups[train].tolist()) & set(groups[val].tolist())
    # every class keeps at least one group in training
    assert set(labels[train].tolist()) == set(labels.tolist())


@pytest.mark.parametrize("fraction", [1.0, -0.1, float("nan"), 1.5])
def test_bad_fraction(fraction):
    with pytest.raises(NeuralabError, match="val_fraction"):
        split_train_val(torch.arange(10), fraction)


def test_bad_labels_and_groups():
    with pytest.raises(NeuralabError, match="integer"):
        split_train_val(torch.rand(10), 0.2)
    with pytest.raises(
        NeuralabError, match=r"groups must hold one key per image: expected shape \(10,\)"
    ):
        split_train_val(torch.arange(10), 0.2, groups=torch.arange(9))


def test_gtsrb_tracks_are_kept_whole(gtsrb_npz):
    import numpy as np

    with np.load(gtsrb_npz) as archive:
        labels = torch.from_numpy(archive["y_train"])
        groups = torch.from_numpy(archive["track_train"])
    train, val = split_train_val(labels, 0.2, groups=groups, seed=0)
    sizes = describe_split(labels, train, val, groups)
    assert sizes["shared_groups"] == 0
    assert sizes["train_groups"] + sizes["val_groups"] == int(torch.unique(groups).numel())
    assert abs(sizes["val_images"] / len(labels) - 0.2) < 0.03
    # a random (ungrouped) split would put frames of nearly every track on both sides
    random_train, random_val = split_train_val(labels, 0.2, seed=0)
    random_sizes = describe_split(labels, random_train, random_val, groups)
    assert random_sizes["shared_groups"] > 0.9 * int(torch.unique(groups).numel())
