"""Registry: duplicates refused, aliases, unknown names suggest close ones."""

from __future__ import annotations

import pytest

from neuralab.errors import NeuralabError
from neuralab.registry import Registry


def test_add_get_alias_and_duplicates():
    registry: Registry[int] = Registry("model")
    registry.add("resnet18", 18, aliases=("rn18",))
    assert registry.get("ResNet18") == 18
    assert registry.get("rn18") == 18
    assert "rn18" in registry and registry.names() == ["resnet18"]
    with pytest.raises(ValueError, match="already registered"):
        registry.add("rn18", 1)


def test_unknown_name_suggests():
    registry: Registry[int] = Registry("model")
    registry.add("resnet18", 18)
    registry.add("vgg16", 16)
    with pytest.raises(NeuralabError, match=r"unknown model 'resnt18'; did you mean 'resnet18'"):
        registry.get("resnt18")
