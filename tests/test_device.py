"""Device names: checked without torch, resolved against what this machine has."""

from __future__ import annotations

import pytest
import torch

from neuralab.device import check_device_name, resolve_device
from neuralab.errors import NeuralabError


def test_device_kinds_are_checked_by_name():
    assert check_device_name(" CPU ") == "cpu"
    assert check_device_name("cuda:1") == "cuda:1"
    for typo in ("cud", "gpu", "cpu0"):
        with pytest.raises(NeuralabError, match=rf"unknown device '{typo}' \(valid: auto, cpu"):
            check_device_name(typo)
        with pytest.raises(NeuralabError, match=rf"unknown device '{typo}'"):
            resolve_device(typo)


def test_devices_are_resolved_against_this_machine():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(NeuralabError, match="CUDA is not available here"):
            resolve_device("cuda")
