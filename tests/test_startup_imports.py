"""What each command imports before it answers: the import graph, not the time (benchmarks/startup.py).

Help and every error for a mistyped name or a malformed value are answered before torch is
imported (torch alone takes about 1.5 s); torchvision (3 s more) is imported only for a
torchvision model or data set. Each check runs the command line in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = """
import sys
from neuralab.cli import main
code = main(sys.argv[1:])
print("EXIT", code, "torch" in sys.modules, "torchvision" in sys.modules)
"""


def run(*argv: str) -> tuple[int, bool, bool]:
    """Return (exit code, torch imported, torchvision imported) of ``neuralab ARGV`` in a new process."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], env=env, capture_output=True, text=True, check=False
    )
    last = [line for line in done.stdout.splitlines() if line.startswith("EXIT")]
    assert last, done.stderr
    _, code, torch, vision = last[-1].split()
    return int(code), torch == "True", vision == "True"


def test_importing_the_cli_imports_no_torch():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    check = "import sys, neuralab.cli; assert 'torch' not in sys.modules, 'torch'; assert 'numpy' not in sys.modules, 'numpy'"
    subprocess.run([sys.executable, "-c", check], env=env, check=True)


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("train", "--help"),
        ("summary", "resnt18", "--input", "3x224x224"),
        ("summary", "conv(10,5) -> relu -> maxpol(2)", "--input", "3x32x32"),
        ("diagram", "vgg17", "--input", "3x32x32", "-o", "never.png"),
        ("pool", "[[1,2],[3,4]]", "--op", "mx"),
        ("pool", "[[1,2],[3,x]]"),
        ("padding", "--input", "5x5", "--kernel", "9"),
        ("train", "--model", "cnnn"),
        ("train", "--data", "mnst"),
        ("train", "--augment", "strnog"),
        ("train", "--lr", "abc"),
        ("train", "--recipe", "fastt"),
        ("summary", "conv(10,5)", "--input", "3x22a"),
        ("summary", "conv(10,5)", "--input", "50:int9"),
        ("summary", "conv(10,5)", "--input", "3x32x32", "--dtype", "flaot32"),
        ("summary", "conv(10,5)", "--input", "3x32x32", "--mode", "trian"),
        ("summary", "conv(10,5)", "--input", "3x32x32", "--device", "cud"),
        ("train", "--device", "cud"),
        ("playground", "--device", "gpu"),
        ("activations", "--plot", "relu,sigmoidd"),
        ("perceptron", "fit", "--data", "xr"),
        ("experiment", "initializaton"),
        ("logic", "eval", "--w1", "[[1,x]]", "--w2", "[[1]]"),
        ("logic", "eval", "--w1", "[[1,1]]", "--w2", "[[1,2]]"),
        ("logic", "eval", "--w1", "[[1,1]]", "--w2", "[[1]]", "--activation", "rellu"),
        ("gradients", "--w1", "[[1,x]]"),
        ("gradients", "--x", "1,2,3"),
        ("gradients", "--activation", "rellu"),
        ("gradients", "--loss", "mes"),
        ("logic", "search", "XOR", "--values", "1,x"),
        ("logic", "search", "XR"),
        ("logic", "search", "0110", "--inputs", "3"),
        ("logic", "search", "XOR", "--activation", "rellu"),
        ("perceptron", "scale", "--w1", "[[1,x]]"),
        ("sam-step", "--w", "1,x"),
        ("perceptron", "sigmoid-limit", "--c", "1,y"),
        ("playground", "--data", "spirl"),
        ("playground", "--activation", "rellu"),
        ("playground", "--init", "hee"),
        ("playground", "--features", "x1,x3"),
        ("playground", "--output", "sigmod"),
        ("playground", "--hidden", "8,0"),
        ("playground", "--compare", "lr=abc"),
        ("playground", "--compare", "lrr=0.1,0.2"),
        ("playground", "--compare", "hidden=4,0"),
        ("playground", "--compare", "init=zeros,hee"),
        ("playground", "--compare", "lr=0.1,0.2", "--seeds", "99"),
        ("sam-step", "--loss", "mes"),
        ("translation", "--size", "0"),
        ("conv-matrix", "--input", "3x3", "--kernel", "4"),
        ("translation", "--pool", "0"),
        ("softmax", "3"),
        ("softmax", "1,x"),
        ("softmax", "--dtype", "float16"),
        ("evaluate", "runs/no-such-run"),
        ("predict", "runs/no-such-run", "stop.png"),
        ("export", "runs/no-such-run", "--format", "onnx"),
        ("evaluate", "runs/no-such-run", "--checkpoint", "lats"),
    ],
    ids=lambda argv: " ".join(argv),
)
def test_help_and_bad_input_are_answered_before_torch(argv):
    code, torch, vision = run(*argv)
    assert code in (0, 2)
    assert (code == 0) == (argv[-1] == "--help")
    assert not torch and not vision


def test_a_spec_summary_imports_torch_but_not_torchvision():
    code, torch, vision = run("summary", "conv(20,5) -> relu -> maxpool(2)", "--input", "1x28x28")
    assert (code, torch, vision) == (0, True, False)


def test_a_torchvision_model_imports_torchvision():
    code, torch, vision = run("summary", "resnet18", "--input", "3x64x64", "--format", "json")
    assert (code, torch, vision) == (0, True, True)


def test_a_spec_summary_imports_no_meta_kernels_nor_the_flop_counter():
    # torch's meta kernels (torch._dynamo, sympy: about 1 s) and its FLOP counter (0.1-0.2 s)
    # cost more than the whole summary of a course-sized network that has formulas for all
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    probe = (
        "import sys\nfrom neuralab.cli import main\n"
        "main(['summary', 'conv(20,5) -> relu -> bn -> maxpool(2) -> fc(10)', '--input', '1x28x28'])\n"
        "print('LOADED', *[m for m in ('torch._dynamo', 'sympy', 'torch.utils.flop_counter')"
        " if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "LOADED"
