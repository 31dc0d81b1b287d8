"""Device names: checked without torch, resolved against what this machine has."""

from __future__ import annotations

import pytest
import torch

from neuralab.device import check_device_available, check_device_name, resolve_device
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
    mps = getattr(torch.backends, "mps", None)
    expected = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if mps is not None and mps.is_available()
        else "cpu"
    )
    assert resolve_device("auto").type == expected  # CUDA, then MPS, then the CPU
    if not torch.cuda.is_available():
        with pytest.raises(NeuralabError, match="CUDA is not available here"):
            resolve_device("cuda")


def test_availability_is_asked_of_torch_only_for_devices_a_machine_may_lack():
    import subprocess
    import sys

    check = (
        "import sys; from neuralab.device import check_device_available as c; "
        "c('auto'); c(' CPU '); print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
    if not torch.cuda.is_available():
        with pytest.raises(NeuralabError, match="CUDA is not available here"):
            check_device_available("cuda")
    with pytest.raises(NeuralabError, match="unknown device 'gpu'"):
        check_device_available("gpu")
