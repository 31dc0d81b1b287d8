"""Tests of the toy data sets: shapes, balance, determinism, order and TF Playground's recipes."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.errors import NeuralabError
from neuralab.playground.toy_data import (
    curve_function,
    list_toy_data,
    make_toy_data,
    multi_gauss_target,
)

ALL = list_toy_data()


def _all_xy(data):
    return torch.cat([data.x_train, data.x_test]), torch.cat([data.y_train, data.y_test])


def test_list_names():
    assert set(ALL) == {
        "blobs",
        "circle",
        "curve",
        "gauss",
        "moons",
        "multi-gauss",
        "plane",
        "spiral",
        "xor",
    }


@pytest.mark.parametrize("name", ALL)
def test_shapes_dtypes_and_split(name):
    data = make_toy_data(name, n=60, noise=10, seed=3, train_ratio=0.7)
    assert data.x_train.shape == (42, data.input_dim)
    assert data.x_test.shape == (18, data.input_dim)
    assert data.y_train.shape == (42,) and data.y_test.shape == (18,)
    assert data.x_train.dtype == torch.float32
    if data.task == "regression":
        assert data.y_train.dtype == torch.float32 and data.num_classes == 0
        assert data.labels == "value" and data.out_features == 1
    else:
        assert data.y_train.dtype == torch.int64
        assert set(torch.cat([data.y_train, data.y_test]).tolist()) <= set(range(data.num_classes))
    assert torch.isfinite(data.x_train).all() and torch.isfinite(data.y_train.float()).all()


@pytest.mark.parametrize("name", ALL)
def test_deterministic_per_seed(name):
    a = make_toy_data(name, n=50, noise=20, seed=7)
    b = make_toy_data(name, n=50, noise=20, seed=7)
    c = make_toy_data(name, n=50, noise=20, seed=8)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert torch.equal(a.x_test, b.x_test)
    assert not torch.equal(a.x_train, c.x_train)


def test_default_sizes():
    assert make_toy_data("curve", train_ratio=1.0).x_train.shape == (100, 1)
    data = make_toy_data("circle")
    assert len(data.x_train) + len(data.x_test) == 400


@pytest.mark.parametrize("name", ["circle", "gauss", "spiral", "moons"])
def test_label_balance(name):
    _, y = _all_xy(make_toy_data(name, n=200, seed=1))
    assert int((y == 1).sum()) == 100 and int((y == 0).sum()) == 100


def test_blobs_multiclass_balance():
    data = make_toy_data("blobs", n=100, classes=4, seed=0)
    _, y = _all_xy(data)
    assert data.num_classes == 4 and data.out_features == 4
    assert torch.bincount(y).tolist() == [25, 25, 25, 25]


def test_pm1_labels():
    data = make_toy_data("circle", n=40, labels="pm1")
    _, y = _all_xy(data)
    assert y.dtype == torch.float32 and set(y.tolist()) == {-1.0, 1.0}
    zero_one = make_toy_data("circle", n=40, labels="01")
    assert torch.equal((zero_one.y_train * 2 - 1).float(), data.y_train)


def test_sorted_order_puts_negative_class_first():
    data = make_toy_data("xor", n=200, seed=2, order="sorted", labels="pm1")
    y = data.y_train
    k = int((y == -1).sum())
    assert 0 < k < len(y)
    assert (y[:k] == -1).all() and (y[k:] == 1).all()
    shuffled = make_toy_data("xor", n=200, seed=2, labels="pm1")
    # same training examples, only reordered; the test set is untouched
    assert sorted(shuffled.x_train[:, 0].tolist()) == sorted(data.x_train[:, 0].tolist())
    assert torch.equal(shuffled.x_test, data.x_test)


def test_circle_radii_without_noise():
    x, y = _all_xy(make_toy_data("circle", n=400, seed=0))
    r = x.norm(dim=1)
    assert (r[y == 1] <= 2.5 + 1e-5).all()
    assert ((r[y == 0] >= 3.5 - 1e-5) & (r[y == 0] <= 5 + 1e-5)).all()


def test_circle_noise_flips_labels_not_positions():
    x, y = _all_xy(make_toy_data("circle", n=400, seed=0, noise=50))
    r = x.norm(dim=1)
    assert r.max() <= 5 + 1e-5  # points stay where they were drawn
    flipped = ((r <= 2.5) & (y == 0)) | ((r >= 3.5) & (y == 1))
    assert 0 < int(flipped.sum()) < 200


def test_xor_quadrants_and_gap():
    x, y = _all_xy(make_toy_data("xor", n=400, seed=0))
    assert (x.abs() >= 0.3 - 1e-6).all() and (x.abs() <= 5.3 + 1e-6).all()
    assert torch.equal(y, (x[:, 0] * x[:, 1] > 0).long())
    assert 150 < int(y.sum()) < 250


def test_gauss_means_and_variance():
    x, y = _all_xy(make_toy_data("gauss", n=4000, seed=0))
    assert torch.allclose(x[y == 1].mean(0), torch.tensor([2.0, 2.0]), atol=0.06)
    assert torch.allclose(x[y == 0].mean(0), torch.tensor([-2.0, -2.0]), atol=0.06)
    assert x[y == 1].var(0).mean().item() == pytest.approx(0.5, rel=0.08)
    noisy, yn = _all_xy(make_toy_data("gauss", n=4000, seed=0, noise=50))
    assert noisy[yn == 1].var(0).mean().item() == pytest.approx(4.0, rel=0.08)


def test_spiral_recipe_without_noise():
    x, y = _all_xy(make_toy_data("spiral", n=200, seed=0, train_ratio=1.0))
    r = x.norm(dim=1)
    assert r.max() < 5 and r.min() == 0
    # the arms are point reflections of each other (delta = pi)
    positive = sorted(r[y == 1].tolist())
    negative = sorted(r[y == 0].tolist())
    assert positive == pytest.approx(negative)
    expected = sorted(5 * i / 100 for i in range(100))
    assert positive == pytest.approx(expected, abs=1e-5)


def test_plane_target_without_noise():
    x, y = _all_xy(make_toy_data("plane", n=100))
    assert torch.allclose(y, (x[:, 0] + x[:, 1]) / 10, atol=1e-6)
    assert (x.abs() <= 6).all()


def test_multi_gauss_target_values():
    centres = torch.tensor([[-4, 2.5], [0, 2.5], [0, -2.5], [10.0, 10.0], [-3.0, 2.5]])
    assert multi_gauss_target(centres).tolist() == pytest.approx([1, -1, 1, 0, 0.5])
    x, y = _all_xy(make_toy_data("multi-gauss", n=100))
    assert torch.allclose(y, multi_gauss_target(x).float(), atol=1e-6)


def test_curve_is_noisy_smooth_function():
    clean = make_toy_data("curve", train_ratio=1.0)
    assert torch.allclose(clean.y_train, curve_function(clean.x_train[:, 0].double()).float())
    noisy = make_toy_data("curve", train_ratio=1.0, noise=10)
    residual = noisy.y_train - curve_function(noisy.x_train[:, 0].double()).float()
    assert residual.std().item() == pytest.approx(0.1, rel=0.25)


def test_moons_match_scikit_learn():
    from sklearn.datasets import make_moons

    data = make_toy_data("moons", n=50, train_ratio=1.0, seed=4)
    x_ref, _ = make_moons(n_samples=50, random_state=4)
    got = sorted(map(tuple, data.x_train.double().numpy().round(4).tolist()))
    want = sorted(map(tuple, x_ref.round(4).tolist()))
    assert got == want


def test_unknown_name_lists_valid():
    with pytest.raises(NeuralabError, match="circle") as error:
        make_toy_data("cirle")
    assert "did you mean 'circle'" in str(error.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"n": 1}, "n=1"),
        ({"n": 2.5}, "n=2.5"),
        ({"noise": -1}, "noise=-1"),
        ({"noise": 101}, "noise=101"),
        ({"noise": math.nan}, "noise=nan"),
        ({"train_ratio": 0}, "train_ratio=0"),
        ({"train_ratio": 1.5}, "train_ratio=1.5"),
        ({"n": 3, "train_ratio": 0.2}, "no training example"),
        ({"labels": "bin"}, "labels='bin'"),
        ({"order": "random"}, "order='random'"),
    ],
)
def test_bad_values(kwargs, fragment):
    with pytest.raises(NeuralabError, match=fragment.replace(".", r"\.")):
        make_toy_data("circle", **kwargs)


def test_bad_blobs_settings():
    with pytest.raises(NeuralabError, match="classes=1"):
        make_toy_data("blobs", classes=1)
    with pytest.raises(NeuralabError, match="pm1"):
        make_toy_data("blobs", labels="pm1")


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(["circle", "xor", "gauss", "spiral", "plane", "multi-gauss", "curve"]),
    n=st.integers(4, 300),
    ratio=st.floats(0.3, 1.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_split_sizes_property(name, n, ratio, seed):
    data = make_toy_data(name, n=n, train_ratio=ratio, seed=seed, order="sorted")
    assert len(data.x_train) == math.floor(n * ratio)
    assert len(data.x_train) + len(data.x_test) == n
    if data.task == "classification":
        assert torch.equal(data.y_train, torch.sort(data.y_train).values)  # sorted by class
