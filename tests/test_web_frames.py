"""What a frame draws, for every kind of data set: two classes, k classes (blobs), regression in
2-D (plane, multi-gauss) and 1-D (curve); and every hidden unit's own picture."""

from __future__ import annotations

import base64

import pytest
import torch

from neuralab.playground.config import PlaygroundConfig
from neuralab.playground.session import PlaygroundSession, plot_extent
from neuralab.web.frames import CURVE_POINTS, neuron_pictures, output_picture, unit_bytes

R = 12  # grid resolution: small, every cell checked


def bytes_of(encoded: str) -> torch.Tensor:
    return torch.tensor(list(base64.b64decode(encoded)), dtype=torch.int64)


def session(**settings) -> PlaygroundSession:
    s = PlaygroundSession(PlaygroundConfig(n=80, hidden=(3, 2), seed=1, **settings))
    s.run_epoch()
    return s


def test_unit_bytes_map_minus_one_zero_one_to_0_128_255_and_clamp():
    values = torch.tensor([-1.0, 0.0, 1.0, -7.0, 7.0, 0.5])
    assert bytes_of(unit_bytes(values)).tolist() == [0, 128, 255, 0, 255, 191]  # 1.5 * 127.5


def test_two_classes_draw_2p_minus_1_of_the_sigmoid():
    s = session(data="circle")
    picture = output_picture(s, R, plot_extent(s.data))
    p = s.output_grid(R, plot_extent(s.data))[0]  # sigmoid: probability of class 1
    expected = ((2 * p - 1 + 1) * 127.5).round().to(torch.int64).reshape(-1)
    assert (picture["kind"], picture["size"]) == ("map", R)
    assert (picture["lo_label"], picture["hi_label"]) == ("class 0", "class 1")
    assert torch.equal(bytes_of(picture["grid"]), expected)


def test_k_classes_draw_the_winner_and_its_probability():
    s = session(data="blobs", classes=4)
    picture = output_picture(s, R, plot_extent(s.data))
    grid = s.output_grid(R, plot_extent(s.data))  # (4, R, R) softmax probabilities
    confidence, winner = grid.max(dim=0)
    assert torch.equal(bytes_of(picture["classes"]), winner.reshape(-1))
    assert len(picture["units"]) == 4  # one picture per class
    expected = ((2 * confidence - 1 + 1) * 127.5).round().to(torch.int64).reshape(-1)
    assert torch.equal(bytes_of(picture["grid"]), expected)


@pytest.mark.parametrize("data", ["plane", "multi-gauss"])
def test_regression_draws_the_output_over_the_largest_target(data):
    s = session(data=data)
    picture = output_picture(s, R, plot_extent(s.data))
    scale = float(torch.cat([s.data.y_train, s.data.y_test]).abs().max())
    y = s.output_grid(R, plot_extent(s.data))[0] / scale
    expected = ((y.clamp(-1, 1) + 1) * 127.5).round().to(torch.int64).reshape(-1)
    assert torch.equal(bytes_of(picture["grid"]), expected)
    assert picture["hi_label"] == f"{scale:.3g}" and picture["lo_label"] == f"{-scale:.3g}"


def test_one_dimensional_data_draw_the_curve():
    s = session(data="curve", features=("x1",))
    picture = output_picture(s, R, plot_extent(s.data))
    assert picture["kind"] == "curve" and len(picture["xs"]) == len(picture["ys"]) == CURVE_POINTS
    ys = s.output_grid(CURVE_POINTS, plot_extent(s.data))[0]
    assert picture["ys"] == [round(v, 5) for v in ys.tolist()]
    assert picture["xs"][0] == -round(plot_extent(s.data), 4)


def test_every_hidden_unit_has_its_picture():
    s = session(data="xor", activation="relu")
    layers = neuron_pictures(s, R, plot_extent(s.data))
    assert [len(units) for units in layers] == [3, 2]
    activations = s.neuron_grids(R, plot_extent(s.data))
    for units, a in zip(layers, activations, strict=True):
        for unit, values in zip(units, a, strict=True):
            scale = max(1.0, float(values.abs().max()))
            assert unit["scale"] == pytest.approx(scale)
            expected = ((values / scale + 1) * 127.5).round().to(torch.int64).reshape(-1)
            assert torch.equal(bytes_of(unit["grid"]), expected)
