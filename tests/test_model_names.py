"""Model sources classified and checked without torch: the static torchvision name table."""

from __future__ import annotations

import pytest

from neuralab.arch.model_names import TORCHVISION_MODELS, source_kind
from neuralab.errors import NeuralabError


def test_the_static_table_is_torchvisions_own_list():
    torchvision = pytest.importorskip("torchvision")
    assert list(TORCHVISION_MODELS) == sorted(
        torchvision.models.list_models(module=torchvision.models)
    )


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("resnet18", "torchvision"),
        ("  vgg16 ", "torchvision"),
        ("conv(20,5) -> relu -> maxpool(2)", "spec"),
        ("relu", "spec"),
        ("mypackage.models:small_cnn", "factory"),
    ],
)
def test_source_kind(source, kind):
    assert source_kind(source) == kind


def test_a_mistyped_torchvision_name_gets_the_closest_names():
    with pytest.raises(NeuralabError, match=r"unknown model 'resnt18'; did you mean 'resnet18'"):
        source_kind("resnt18")


def test_a_mistyped_spec_layer_is_refused_with_its_column():
    with pytest.raises(NeuralabError, match=r"column 15: unknown layer 'maxpol'"):
        source_kind("conv(10,5) -> maxpol(2)")


def test_an_empty_source_is_refused():
    with pytest.raises(NeuralabError, match="the model is empty"):
        source_kind("  ")
