"""Summary inputs: several inputs, keyword arguments, input_data, dtypes, devices, modes, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuralab.arch.summary import summary
from neuralab.arch.summary_inputs import InputSpec, input_specs, parse_input
from neuralab.arch.summary_names import DTYPE_ALIASES, DTYPE_NAMES, FLOAT_DTYPES, dtype_name
from neuralab.errors import NeuralabError


class ImageAndFeatures(nn.Module):
    """An image through a conv, a feature vector through a linear layer, summed, then a head."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)  # 8 * (3*3*3 + 1) = 224 parameters
        self.features = nn.Linear(10, 8)  # 88
        self.head = nn.Linear(8, 2)  # 18

    def forward(self, image, features, scale=1.0, mask=None):
        h = self.conv(image).mean((2, 3)) + self.features(features)
        if mask is not None:
            h = h * mask
        return self.head(h * scale)


class Tokens(nn.Module):
    """Token ids -> embedding -> mean -> linear: needs integer inputs."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.fc = nn.Linear(16, 4)

    def forward(self, ids):
        return self.fc(self.embed(ids).mean(1))


def test_input_specs_read_one_or_several_shapes():
    assert input_specs((3, 32, 32)) == (InputSpec((3, 32, 32)),)
    assert input_specs("3x32x32") == (InputSpec((3, 32, 32)),)
    assert input_specs(784) == (InputSpec((784,)),)
    assert input_specs([(3, 32, 32), (10,)]) == (InputSpec((3, 32, 32)), InputSpec((10,)))
    assert input_specs(["3x32x32", "50:long"]) == (
        InputSpec((3, 32, 32)),
        InputSpec((50,), "int64"),
    )
    assert str(parse_input("50:int64")) == "50:int64"
    with pytest.raises(NeuralabError, match="unknown dtype 'int9'"):
        parse_input("50:int9")


def test_the_torch_free_dtype_names_are_torchs():
    for name in (*DTYPE_NAMES, *DTYPE_ALIASES):
        assert isinstance(getattr(torch, name), torch.dtype)
        assert getattr(torch, name) == getattr(torch, dtype_name(name))
    assert {n for n in DTYPE_NAMES if getattr(torch, n).is_floating_point} == set(FLOAT_DTYPES)
    with pytest.raises(NeuralabError, match="unknown dtype 'flaot32'; did you mean 'float32'"):
        dtype_name("flaot32")


def test_two_inputs_by_shape():
    model = ImageAndFeatures()
    result = summary(model, [(3, 8, 8), (10,)])
    rows = {row.name: row for row in result.rows}
    assert result.input_shapes == ((3, 8, 8), (10,))
    assert rows["conv"].output_shape == (8, 6, 6) and rows["conv"].receptive_field == (3, 3)
    assert rows["features"].input_shape == (10,) and rows["features"].params == 88
    assert result.total_params == 224 + 88 + 18
    assert result.memory is not None
    assert result.memory.input_bytes == (3 * 8 * 8 + 10) * 4


def test_input_data_and_keyword_arguments_reach_forward():
    model = ImageAndFeatures()
    image, features = torch.zeros(2, 3, 8, 8), torch.zeros(2, 10)
    mask = torch.ones(2, 8)
    by_data = summary(model, input_data=(image, features), mask=mask, scale=2.0)
    by_dict = summary(model, input_data={"image": image, "features": features, "mask": mask})
    assert by_data.batch_size == by_dict.batch_size == 2
    assert [row.macs for row in by_data.rows] == [row.macs for row in by_dict.rows]
    assert by_data.rows[0].macs == 2 * 8 * 6 * 6 * 27  # batch 2, 8x6x6 outputs, fan-in 27


def test_integer_inputs_for_an_embedding():
    result = summary(Tokens(), "12:int64", batch_size=3)
    embed, fc = result.rows
    assert embed.output_shape == (12, 16) and embed.params == 1_600
    assert fc.macs == 3 * 4 * 16


def test_a_forward_that_takes_two_inputs_given_one_is_one_line():
    with pytest.raises(NeuralabError) as caught:
        summary(ImageAndFeatures(), (3, 8, 8))
    message = str(caught.value)
    assert message.startswith(
        "ImageAndFeatures.forward(image, features, scale=1.0, mask=None) cannot take "
        "1 input: 3x8x8 (missing a required argument: 'features')"
    )
    assert "--input 3x32x32 --input 10" in message and "\n" not in message
    with pytest.raises(NeuralabError, match="unexpected keyword argument 'colour'"):
        summary(ImageAndFeatures(), [(3, 8, 8), (10,)], colour=1)


def test_wrong_second_input_is_one_line():
    with pytest.raises(NeuralabError, match="expects 10 input features but gets 7"):
        summary(ImageAndFeatures(), [(3, 8, 8), (7,)])


def test_input_shape_or_input_data_exactly_one():
    with pytest.raises(NeuralabError, match="exactly one of them"):
        summary(nn.Linear(2, 2))
    with pytest.raises(NeuralabError, match="exactly one of them"):
        summary(nn.Linear(2, 2), (2,), input_data=torch.zeros(1, 2))
    with pytest.raises(NeuralabError, match="input_data holds no tensor"):
        summary(nn.Linear(2, 2), input_data="2")


def test_dtype_places_a_copy_and_memory_is_in_its_bytes():
    model = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 2))
    half = summary(model, (10,), dtype="float64")
    assert half.dtype == "float64" and half.param_bytes == (110 + 22) * 8
    assert next(model.parameters()).dtype == torch.float32  # the caller's model is untouched
    with pytest.raises(NeuralabError, match="not a floating type"):
        summary(model, (10,), dtype="int64")
    with pytest.raises(NeuralabError, match="unknown dtype 'float8'"):
        summary(model, (10,), dtype="float8")


def test_bfloat16_on_the_cpu():
    result = summary("conv(4,3) -> relu -> flatten -> fc(2)", (1, 8, 8), dtype="bfloat16")
    assert result.dtype == "bfloat16" and result.param_bytes == result.total_params * 2


def test_device_is_resolved():
    result = summary(nn.Linear(3, 3), (3,), device="cpu")
    assert result.device == "cpu"
    with pytest.raises(NeuralabError):
        summary(nn.Linear(3, 3), (3,), device="tpu")


def test_train_mode_uses_batch_statistics_and_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    model.eval()
    before = model[1].running_mean.clone()
    result = summary(model, (4,), mode="train", batch_size=4)
    assert result.mode == "train"
    assert not model.training and torch.equal(model[1].running_mean, before)
    with pytest.raises(NeuralabError, match="needs a batch of 2 or more"):
        summary(model, (4,), mode="train")
    with pytest.raises(NeuralabError, match="mode 'test' is not one of eval, train"):
        summary(model, (4,), mode="test")


def test_an_unbatched_argument_is_passed_whole():
    """A per-channel scale of shape (8,) is no batch: the receptive-field pass keeps it whole."""

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x, scale):
            return self.conv(x) * scale.view(1, -1, 1, 1)

    result = summary(Scaled(), input_data=(torch.zeros(4, 3, 8, 8), torch.ones(8)))
    (row,) = result.rows
    assert row.receptive_field == (3, 3) and result.batch_size == 4
