"""Validation splits carved from a training set: stratified by class, grouped when asked.

The test set is only ever evaluated; every choice (epochs, learning rate, early stopping) is made
on a validation set taken out of the training images. Two rules make that estimate honest:

- **stratified**: each class keeps (about) the fraction ``val_fraction`` of its images in the
  validation set, so a rare class is not missing from it by chance;
- **grouped**: images that are near copies of each other share a group key (GTSRB records about
  30 frames of each physical sign, a *track*) and a whole group goes to one side. A random split
  puts frames of one sign on both sides and the validation accuracy measures memory, not
  generalisation.

A training run's split is :func:`neuralab.vision.run.load_run_data`: this function applied to the
run's data with its ``val_fraction`` and ``seed``, the same for training, evaluation and studies.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from neuralab.errors import NeuralabError


def split_train_val(
    labels: Tensor,
    val_fraction: float,
    *,
    groups: Tensor | None = None,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    """Return sorted int64 index tensors (train, val) into ``labels``.

    Whole groups (single images when ``groups`` is None) go to the validation set, in a random
    order per class (from ``seed``): each class c with n_c images first gets as many groups as
    fit in its share val_fraction * n_c, then the groups still missing from the total
    val_fraction * N go, one each, to the classes owed the largest part of their next group
    (the largest-remainder rule, so classes with few groups are not all left out). At least one
    group of every class stays in training. A group's class is the class of its first image
    (GTSRB tracks hold one class). ``val_fraction`` 0 gives an empty validation set.
    """
    labels = _check_labels(labels, val_fraction, groups)
    n = labels.shape[0]
    if val_fraction == 0.0 or n == 0:
        return torch.arange(n, dtype=torch.int64), torch.empty(0, dtype=torch.int64)

    if groups is None:
        group_of = torch.arange(n)
    else:
        _, group_of = torch.unique(groups.cpu(), return_inverse=True)
    num_groups = int(group_of.max()) + 1
    group_size = torch.bincount(group_of, minlength=num_groups)
    # the class of each group: that of its first image (a stable sort keeps image order)
    order = torch.sort(group_of, stable=True).indices
    first = torch.ones(n, dtype=torch.bool)
    first[1:] = group_of[order][1:] != group_of[order][:-1]
    group_label = torch.empty(num_groups, dtype=torch.int64)
    group_label[group_of[order][first]] = labels[order][first]

    generator = torch.Generator().manual_seed(seed)
    val_group = torch.zeros(num_groups, dtype=torch.bool)
    for members in _validation_groups(group_label, group_size, val_fraction, generator):
        val_group[members] = True

    is_val = val_group[group_of]
    train_index = torch.nonzero(~is_val).flatten()
    val_index = torch.nonzero(is_val).flatten()
    return train_index, val_index


def _validation_groups(
    group_label: Tensor, group_size: Tensor, val_fraction: float, generator: torch.Generator
) -> list[Tensor]:
    """Return, per class, the group ids that go to the validation set (largest remainder)."""
    chosen: list[tuple[Tensor, Tensor, int]] = []  # (groups in random order, cumulative size, k)
    owed: list[float] = []  # the part of its next group a class is still owed, in [0, 1)
    deficit = 0.0  # validation images still missing from the total val_fraction * N
    for c in torch.unique(group_label).tolist():
        members = torch.nonzero(group_label == c).flatten()
        members = members[torch.randperm(members.numel(), generator=generator)]
        sizes = group_size[members]
        # cumulative[k] = images in validation if the first k groups go there (k < #groups)
        cumulative = torch.cat([torch.zeros(1, dtype=torch.int64), sizes.cumsum(0)[:-1]])
        target = val_fraction * float(sizes.sum())
        k = int((cumulative.double() <= target + 1e-9).sum()) - 1
        deficit += target - float(cumulative[k])
        can_grow = k < members.numel() - 1
        owed.append((target - float(cumulative[k])) / float(sizes[k]) if can_grow else -1.0)
        chosen.append((members, sizes, k))
    # ties between equal remainders are broken at random, not by class index
    shuffled = torch.randperm(len(owed), generator=generator).tolist()
    for i in sorted(shuffled, key=lambda j: -owed[j]):
        members, sizes, k = chosen[i]
        if owed[i] > 0 and deficit >= float(sizes[k]) / 2:
            chosen[i] = (members, sizes, k + 1)
            deficit -= float(sizes[k])
    return [members[:k] for members, _, k in chosen]


def _check_labels(labels: Tensor, val_fraction: float, groups: Tensor | None) -> Tensor:
    if not isinstance(val_fraction, int | float) or not math.isfinite(val_fraction):
        raise NeuralabError(f"val_fraction must be a number in [0, 1), got {val_fraction!r}")
    if not 0.0 <= val_fraction < 1.0:
        raise NeuralabError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if labels.dim() != 1 or labels.is_floating_point() or labels.is_complex():
        raise NeuralabError(
            f"labels must be a 1-D integer tensor, got {labels.dtype} {tuple(labels.shape)}"
        )
    if groups is not None and (groups.dim() != 1 or groups.shape[0] != labels.shape[0]):
        raise NeuralabError(
            f"groups must hold one key per image: expected shape ({labels.shape[0]},), "
            f"got {tuple(groups.shape)}"
        )
    return labels.cpu().to(torch.int64)


def describe_split(
    labels: Tensor, train_index: Tensor, val_index: Tensor, groups: Tensor | None = None
) -> dict[str, int]:
    """Return the sizes of a split: images and (if ``groups``) groups on each side and shared."""
    sizes = {"train_images": int(train_index.numel()), "val_images": int(val_index.numel())}
    if groups is not None:
        train_groups = set(groups[train_index].tolist())
        val_groups = set(groups[val_index].tolist())
        sizes |= {
            "train_groups": len(train_groups),
            "val_groups": len(val_groups),
            "shared_groups": len(train_groups & val_groups),
        }
    sizes["classes_in_val"] = int(torch.unique(labels[val_index]).numel())
    return sizes
