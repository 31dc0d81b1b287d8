"""The layer spec language: golden parses and builds, every error path, shapes against shapes.py."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuralab.arch.shapes import conv_output_size, conv_transpose_output_size, pool_output_size
from neuralab.arch.spec import (
    LayerNode,
    RepeatNode,
    SpecError,
    build_model,
    expand,
    parse_spec,
    spec_layer_names,
    spec_layer_signatures,
    tokenize,
)
from neuralab.errors import NeuralabError

COURSE_CNN = "conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)"


def output_shape(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    model.eval()
    with torch.no_grad():
        return tuple(model(torch.zeros(2, *input_shape)).shape[1:])


# ---------------------------------------------------------------- parsing


def test_tokens_keep_their_positions() -> None:
    tokens = tokenize("conv(8, 3x5) -> relu")
    assert [(t.kind, t.text, t.pos) for t in tokens] == [
        ("name", "conv", 0),
        ("(", "(", 4),
        ("int", "8", 5),
        (",", ",", 6),
        ("pair", "3x5", 8),
        (")", ")", 11),
        ("arrow", "->", 13),
        ("name", "relu", 16),
        ("eof", "", 20),
    ]


def test_parse_gives_nodes_with_positions_and_resolved_arguments() -> None:
    nodes = parse_spec("conv(10, 5, stride=2) -> leaky_relu(0.2)")
    conv, act = nodes
    assert isinstance(conv, LayerNode) and isinstance(act, LayerNode)
    assert conv.kind == "conv" and conv.pos == 0 and conv.text == "conv(10, 5, stride=2)"
    assert conv.params == {"out": 10, "k": 5, "s": 2, "p": 0, "d": 1, "groups": 1, "bias": True}
    assert act.kind == "leaky_relu" and act.params == {"a": 0.2} and act.pos == 25


def test_positional_and_keyword_aliases_mean_the_same() -> None:
    a = parse_spec("conv(8, 3, 2, 1)")[0]
    b = parse_spec("conv(out_channels=8, kernel_size=3, stride=2, padding=1)")[0]
    c = parse_spec("CONV(8, k=3, s=2, p=1)")[0]
    assert isinstance(a, LayerNode) and isinstance(b, LayerNode) and isinstance(c, LayerNode)
    assert a.params == b.params == c.params


def test_repetition_of_a_layer_and_of_a_group() -> None:
    nodes = parse_spec("(conv(64,3,p=1) -> relu) * 10 -> fc(10) * 2")
    group, fc = nodes
    assert isinstance(group, RepeatNode) and group.count == 10 and len(group.body) == 2
    assert isinstance(fc, RepeatNode) and fc.count == 2
    kinds = [layer.kind for layer in expand(nodes)]
    assert kinds == ["conv", "relu"] * 10 + ["fc", "fc"]
    nested = expand(parse_spec("((conv(8,3) -> relu) * 2 -> bn) * 3"))
    assert [n.kind for n in nested] == (["conv", "relu"] * 2 + ["bn"]) * 3


def test_layer_names_for_help() -> None:
    names = spec_layer_names()
    for name in ("conv", "convT", "maxpool", "avgpool", "gap", "flatten", "fc", "dropout", "bn"):
        assert name in names
    for name in ("relu", "sigmoid", "tanh", "identity", "softmax", "leaky_relu", "gelu"):
        assert name in names
    assert "conv(out, k, s=1, p=0, d=1, groups=1, bias=true)" in spec_layer_signatures()
    assert "maxpool(k, s=k, p=0, d=1, ceil=false)" in spec_layer_signatures()


# ---------------------------------------------------------------- building


def test_course_cnn_on_28x28_has_2880_inputs_per_dense_neuron() -> None:
    model = build_model(COURSE_CNN, (1, 28, 28))
    assert list(dict(model.named_children())) == [
        "conv1",
        "relu1",
        "pool1",
        "flatten",
        "fc1",
        "relu2",
        "fc2",
    ]
    assert model.fc1.in_features == 2880  # 20 x 12 x 12
    assert output_shape(model, (1, 28, 28)) == (10,)


def test_four_stacked_conv_layers_on_32x32x3() -> None:
    model = build_model("conv(10,5) * 4", (3, 32, 32))
    assert [m.in_channels for m in model] == [3, 10, 10, 10]
    assert model.conv1.weight.shape == (10, 3, 5, 5)
    assert sum(p.numel() for p in model.conv1.parameters()) == 760
    assert output_shape(model, (3, 32, 32)) == (10, 16, 16)


def test_repetition_builds_that_many_layers_with_stable_names() -> None:
    model = build_model("(conv(16,3,p=1) -> relu) * 10 -> gap -> fc(10)", (3, 8, 8))
    names = list(dict(model.named_children()))
    assert names[:4] == ["conv1", "relu1", "conv2", "relu2"]
    assert names[-5:] == ["conv10", "relu10", "gap", "flatten", "fc1"]
    assert sum(isinstance(m, nn.Conv2d) for m in model) == 10
    assert output_shape(model, (3, 8, 8)) == (10,)


def test_fc_after_a_spatial_map_inserts_flatten() -> None:
    model = build_model("conv(4,3) -> fc(5) -> flatten -> flatten", (2, 6, 6))
    assert list(dict(model.named_children())) == [
        "conv1",
        "flatten1",
        "fc1",
        "flatten2",
        "flatten3",
    ]
    assert model.fc1.in_features == 4 * 4 * 4


def test_pairs_and_same_padding() -> None:
    model = build_model("conv(8, 3x5, s=1x2, p=1x2) -> conv(4, 3x5, p=same)", (3, 17, 20))
    assert model.conv1.kernel_size == (3, 5) and model.conv1.stride == (1, 2)
    assert model.conv2.padding == "same"
    hw = conv_output_size((17, 20), (3, 5), (1, 2), (1, 2))
    assert output_shape(model, (3, 17, 20)) == (4, *hw)  # type: ignore[misc]
    # PyTorch refuses padding='same' with a stride, and so does the spec
    with pytest.raises(SpecError, match="padding='same' needs stride 1"):
        build_model("conv(8, 3x5, s=1x2, p=same)", (3, 17, 20))


def test_every_layer_kind_builds_and_runs() -> None:
    spec = (
        "conv(8,3,p=1,d=1,groups=1,bias=false) -> bn -> leaky_relu(a=0.1) -> "
        "convT(4,2,s=2,op=0) -> maxpool(3,s=2,p=1,ceil=true) -> avgpool(2,s=1) -> dropout(0.2) -> "
        "gelu -> elu -> softplus -> tanh -> sigmoid -> identity -> gap -> fc(6,bias=false) -> "
        "bn -> relu -> linear(3) -> softmax"
    )
    model = build_model(spec, (3, 9, 9))
    assert model.conv1.bias is None and model.fc1.bias is None
    assert isinstance(model.bn1, nn.BatchNorm2d) and isinstance(model.bn2, nn.BatchNorm1d)
    assert model.leaky_relu1.negative_slope == pytest.approx(0.1)
    probs = model.eval()(torch.randn(2, 3, 9, 9))
    assert probs.shape == (2, 3)
    assert torch.allclose(probs.sum(dim=1), torch.ones(2))


def test_mlp_spec_on_a_features_input() -> None:
    model = build_model("fc(16) -> tanh -> dropout -> fc(1)", (2,))
    assert model.fc1.in_features == 2 and model.dropout1.p == 0.5
    assert output_shape(model, (2,)) == (1,)


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        (
            "conv(6,5,s=2,p=2,d=2) -> maxpool(3,s=2,p=1,d=2,ceil=true) -> avgpool(2,ceil=true)",
            (2, 31, 23),
        ),
        ("convT(5,3,s=2,p=1,op=1,d=1) -> conv(3,2x4,s=2x1) -> maxpool(2x3)", (3, 7, 9)),
        ("conv(8,3,groups=2) -> conv(4,1,groups=4) -> avgpool(3,s=1,p=1)", (4, 10, 10)),
    ],
)
def test_built_output_shape_equals_shapes_prediction(spec: str, shape: tuple[int, ...]) -> None:
    model = build_model(spec, shape)
    hw: tuple[int, int] = (shape[1], shape[2])
    channels = shape[0]
    for layer in expand(parse_spec(spec)):
        p = layer.params
        if layer.kind == "conv":
            hw = conv_output_size(hw, p["k"], p["s"], p["p"], p["d"])  # type: ignore[assignment]
            channels = p["out"]
        elif layer.kind == "convT":
            hw = conv_transpose_output_size(hw, p["k"], p["s"], p["p"], p["op"], p["d"])  # type: ignore[assignment]
            channels = p["out"]
        else:
            hw = pool_output_size(hw, p["k"], p["s"], p["p"], p.get("d", 1), p["ceil"])  # type: ignore[assignment]
    assert output_shape(model, shape) == (channels, *hw)


# ---------------------------------------------------------------- errors


def caret_column(error: SpecError) -> int:
    """Return the 0-based column of the caret in the error's third line."""
    lines = str(error).splitlines()
    assert len(lines) == 3 and lines[1].startswith("  ")
    return lines[2].index("^") - 2


@pytest.mark.parametrize(
    ("spec", "message", "column"),
    [
        ("conv(10,5) -> rleu -> fc(10)", "unknown layer 'rleu'; did you mean 'relu'?", 14),
        ("conv(10,5) -> maxpol(2)", "did you mean 'maxpool'", 14),
        ("conv(10)", "conv(10) is missing argument 'k' (kernel size): conv(out, k, s=1", 0),
        ("fc()", "fc() is missing argument 'out'", 0),
        (
            "conv(10,5,p=foo)",
            "bad value 'foo' for conv argument 'p' (padding): expected an integer >= 0, an HxW pair, 'same' or 'valid'",
            12,
        ),
        ("conv(10,0)", "bad value '0' for conv argument 'k'", 8),
        ("conv(10,5,bias=maybe)", "expected true or false", 15),
        ("dropout(1.5)", "expected a probability in [0, 1)", 8),
        ("conv(10,5,s=0x2)", "bad value '0x2' for conv argument 's'", 12),
        ("(conv(8,3) -> relu * 2", "expected ')' to close the '(' at column 1", 22),
        ("conv(8,3)) -> relu", "unbalanced ')'", 9),
        ("conv(8,3) * 0", "expected a positive integer after '*', got '0'", 12),
        ("conv(8,3) * relu", "expected a repeat count after '*', got 'relu'", 12),
        ("conv(8,3) ->", "expected a layer name or '(', got the end of the spec", 12),
        ("conv(8,3) $ relu", "unexpected character '$'", 10),
        (
            "conv(8,3,q=1)",
            "conv has no argument 'q' (arguments: out, k, s, p, d, groups, bias)",
            9,
        ),
        ("conv(8,3,k=3)", "argument 'k' of conv is given twice", 9),
        ("conv(8 3)", "expected ',' or ')' in the arguments of conv", 7),
        ("conv(8,3) relu", "expected '->' between layers, got 'relu'", 10),
        ("relu(3)", "relu takes no arguments", 5),
        ("leaky_relu(0.1, 3)", "leaky_relu takes at most 1 argument: leaky_relu(a=0.01)", 16),
        ("conv(s=2, 8, 3)", "a positional argument cannot follow a keyword argument", 10),
        ("conv(8,=3)", "expected an argument value for conv, got '='", 7),
        ("()", "empty group", 1),
    ],
)
def test_malformed_specs_point_at_the_bad_token(spec: str, message: str, column: int) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    assert message in str(info.value).splitlines()[0]
    assert caret_column(info.value) == column
    assert str(info.value).splitlines()[1] == f"  {spec}"
    assert isinstance(info.value, NeuralabError)


def test_empty_spec_and_too_many_layers() -> None:
    with pytest.raises(SpecError, match="empty spec"):
        parse_spec("   ")
    with pytest.raises(SpecError, match="expands to 1000000 layers"):
        parse_spec("(conv(8,3) -> relu) * 1000 * 500")


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        (
            "conv(10,5) -> relu -> maxpool(2) -> maxpool(2) * 3 -> maxpool(2)",
            (3, 32, 32),
            "^maxpool\\(2\\) \\(layer 7\\) gets 1x1 input: output would be 0x0; pool kernel 2",
        ),
        (
            "conv(10, 40)",
            (3, 32, 32),
            "conv\\(10, 40\\) \\(layer 1\\) gets 32x32 input: output would be 0x0",
        ),
        ("conv(4, 3x9)", (3, 32, 8), "output would be 30x0; .*padded input width 8"),
        (
            "fc(10) -> conv(3,3)",
            (5,),
            "conv\\(3,3\\) \\(layer 2\\) needs a CxHxW input but gets 10 features",
        ),
        (
            "gap -> fc(3) -> maxpool(2)",
            (4, 5, 5),
            "maxpool\\(2\\) \\(layer 3\\) needs a CxHxW input",
        ),
        (
            "conv(10,3,groups=4)",
            (3, 8, 8),
            "gets 3 channels: groups=4 must divide both in_channels=3",
        ),
        ("maxpool(2,p=2)", (3, 8, 8), "at most half the kernel size"),
        ("convT(4,3,s=2,op=2)", (3, 8, 8), "output_padding 2 must be smaller than the stride 2"),
    ],
)
def test_impossible_shapes_name_the_layer_and_sizes(
    spec: str, shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(SpecError, match=message) as info:
        build_model(spec, shape)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("shape", [(0, 28, 28), (3.0, 8, 8), "3x32x32"])
def test_bad_input_shape(shape: object) -> None:
    with pytest.raises(NeuralabError, match="must be \\(C, H, W\\) for images or \\(features,\\)"):
        build_model("relu", shape)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(3, 32), (1, 2, 3, 4)])
def test_a_spec_takes_images_or_features_and_names_what_takes_any_shape(shape: object) -> None:
    with pytest.raises(NeuralabError, match="package.module:factory takes any shape"):
        build_model("relu", shape)  # type: ignore[arg-type]
