"""The network diagram: its layout (arch), stages for big nets, the drawing in svg / png / pdf (report)."""

from __future__ import annotations

import pytest
import torchvision
from torch import nn

from neuralab.arch.diagram import Block, diagram_blocks, diagram_layout
from neuralab.arch.summary import summary
from neuralab.errors import NeuralabError
from neuralab.report.diagram import check_figure_path, draw_diagram


def course_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 20, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2880, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    )


def test_course_cnn_blocks_fold_activations_into_their_layer():
    blocks = diagram_blocks(summary(course_cnn(), (1, 28, 28)).rows, (1, 28, 28))
    assert [(b.label, b.shape) for b in blocks] == [
        ("input", (1, 28, 28)),
        ("conv 5x5, M=20\n+ relu", (20, 24, 24)),
        ("maxpool 2x2/2", (20, 12, 12)),
        ("flatten", (2880,)),
        ("fc K=100\n+ relu", (100,)),
        ("fc K=10", (10,)),
    ]


def test_strided_grouped_and_batch_norm_labels():
    model = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, groups=2), nn.BatchNorm2d(8), nn.ReLU())
    blocks = diagram_blocks(summary(model, (4, 9, 9)).rows, (4, 9, 9))
    assert blocks[1].label == "conv 3x3/2 g=2, M=8\n+ bn\n+ relu"


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_writes_each_format(tmp_path, suffix):
    path = draw_diagram(course_cnn(), (1, 28, 28), tmp_path / f"cnn{suffix}")
    data = path.read_bytes()
    magic = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix]
    assert data.startswith(magic)
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, no litter


def test_svg_shows_sizes_and_labels(tmp_path):
    svg = draw_diagram(course_cnn(), (1, 28, 28), tmp_path / "cnn.svg").read_text()
    for text in (
        "1x28x28",
        "20x24x24",
        "20x12x12",
        "2880",
        "10 classes",
        "maxpool 2x2/2",
        "fc K=100",
    ):
        assert text in svg
    assert "289,630 parameters" in svg


def test_big_models_are_drawn_by_stage(tmp_path):
    model = torchvision.models.resnet18(weights=None)
    layout = diagram_layout(model, (3, 64, 64), max_blocks=16)
    labels = [block.label.split("\n")[0] for block in layout.blocks]
    assert labels[:3] == ["input", "conv 7x7/2, M=64", "maxpool 3x3/2"]
    assert "layer1.0" in labels and "layer4.1" in labels
    assert len(layout.blocks) <= 16
    assert (
        layout.note == f"{len(layout.summary.rows)} layers drawn as {len(layout.blocks) - 1} stages"
    )
    stage = layout.blocks[labels.index("layer1.0")]
    assert (stage.label, stage.params) == ("layer1.0\nBasicBlock", 2 * (64 * 64 * 9 + 2 * 64))
    svg = draw_diagram(model, (3, 64, 64), tmp_path / "r18.svg", max_blocks=16).read_text()
    assert "74.0K params" in svg and "stages)" in svg  # the stage's parameters, the note


def test_a_summary_with_too_many_blocks_is_elided(tmp_path):
    model = nn.Sequential(*(nn.Conv2d(2, 2, 1) for _ in range(30)))
    result = summary(model, (2, 4, 4))
    blocks = diagram_blocks(result.rows, (2, 4, 4))
    assert len(blocks) == 31
    layout = diagram_layout(result, (2, 4, 4), 10)
    assert len(layout.blocks) == 10 and layout.blocks[-2].label == "... 22 more\nlayers ..."
    assert layout.note == "22 layers elided"
    assert diagram_layout(result, (2, 4, 4), 31).note == ""
    draw_diagram(result, (2, 4, 4), tmp_path / "long.png", max_blocks=10)


def test_block_extents_grow_with_the_logarithm_of_the_sizes():
    h, w, d = Block("conv", (16, 32, 8), "conv").extent()
    assert (h, w, d) == (0.25 + 0.14 * 5, 0.05 + 0.055 * 4, 0.06 + 0.05 * 3)
    assert Block("fc", (1024,), "fc").extent() == (0.25 + 0.14 * 10, 0.09, 0.0)
    assert Block("fc", (2**40,), "fc").extent()[0] == 2.2  # a long vector's bar is capped


def test_unknown_suffix_is_refused():
    with pytest.raises(NeuralabError, match=r"has suffix '.jpg'; use one of .svg, .png, .pdf"):
        check_figure_path("cnn.jpg")
    with pytest.raises(NeuralabError, match=r"suffix '\(none\)'"):
        draw_diagram(course_cnn(), (1, 28, 28), "cnn")
    with pytest.raises(NeuralabError, match="max_blocks 2 must be >= 3"):
        draw_diagram(course_cnn(), (1, 28, 28), "cnn.png", max_blocks=2)
