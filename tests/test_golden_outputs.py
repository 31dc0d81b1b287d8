"""Golden outputs: what `summary` and the theory bench print, compared with tests/golden/.

As torchinfo does: a change in any printed number (a parameter count, a MAC total, a receptive
field, a derivative) shows as a diff against a file a person has read and checked. Each file is
the stdout of one command line, run in this process 120 columns wide without colour (trailing
spaces dropped). After an intended change, ``pytest tests/test_golden_outputs.py
--update-golden`` rewrites the files; review ``git diff tests/golden`` before committing.

Checked by hand in the files: the course CNN's 520 / 288,100 / 1,010 parameters and fan-in 2,880;
resnet18's 11,689,512 parameters, 1,814,073,344 MACs and receptive field 435 at layer4; the
LSTM's 4 * (64 * (28 + 64) + 2 * 64) = 24,064 parameters and 28 steps * 23,552 = 659,456 MACs;
the first transposed convolution's 32 * 16 * 9 + 16 = 4,624 parameters and
32 * 7 * 7 * 16 * 9 = 225,792 MACs.
"""

from __future__ import annotations

import difflib
import shlex
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"

COURSE_CNN = "conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)"
ENCODER_DECODER = (
    "conv(16,3,s=2,p=1) -> relu -> conv(32,3,s=2,p=1) -> relu -> "
    "convT(16,3,s=2,p=1,op=1) -> relu -> convT(1,3,s=2,p=1,op=1) -> sigmoid"
)

# file name -> the command line (after "neuralab") whose stdout it holds
CASES: dict[str, str] = {
    "summary-course-cnn.txt": f"summary '{COURSE_CNN}' --input 1x28x28 --hwc",
    "summary-course-cnn.json": f"summary '{COURSE_CNN}' --input 1x28x28 -f json",
    "summary-resnet18.txt": "summary resnet18 --input 3x224x224",
    "summary-resnet18-depth2.md": "summary resnet18 --input 3x224x224 --depth 2 -f markdown",
    "summary-vgg11.txt": "summary vgg11 --input 3x224x224",
    "summary-mobilenet_v2.txt": "summary mobilenet_v2 --input 3x224x224",
    "summary-lstm.txt": "summary golden_models:row_lstm --input 1x28x28",
    "summary-lstm.json": "summary golden_models:row_lstm --input 1x28x28 -f json",
    "summary-encoder-decoder.txt": f"summary '{ENCODER_DECODER}' --input 1x28x28",
    "summary-encoder-decoder.json": f"summary '{ENCODER_DECODER}' --input 1x28x28 -f json",
    "conv-matrix-symbolic.txt": "conv-matrix --input 3x3 --kernel 2x2 --symbolic",
    "conv-matrix-symbolic-stride2-padding1.txt": (
        "conv-matrix --input 4x4 --kernel 3 --stride 2 --padding 1 --symbolic"
    ),
    "conv-matrix-numeric.txt": "conv-matrix --input 3x3 --kernel 2x2 --weights '1,2;3,4' --no-bias",
    "conv-matrix-counts.txt": (
        "conv-matrix --input 3x64x64 --kernel 3 --padding 1 --out-channels 64"
    ),
    "pool-max.txt": "pool --op max --size 2 --stride 2 '[[1,0,2,3],[1,0,4,5],[-1,2,0,0],[3,3,0,1]]'",
    "pool-avg-padding1.txt": (
        "pool --op avg --size 3 --stride 2 --padding 1 '1 1 0 2; 1 1 2 0; 3 1 -1 1; 0 0 1 1'"
    ),
    "padding.txt": "padding --input 5x5 --kernel 3",
    "padding-1.txt": "padding --input 5x5 --kernel 3 --padding 1",
    "logic-eval-xor.txt": "logic eval --w1 '[[-1,1],[1,-1]]' --w2 '[[1,1]]'",
    "logic-eval-majority.txt": (
        "logic eval --w1 '[[1,1,1]]' --w2 '[[1]]' --b1 '[-1.5]' --activation step"
    ),
    "logic-search-or.txt": "logic search OR --values -1,0,1 --hidden 2",
    "activations.md": "activations --format markdown",
    "activations.txt": "activations",
    "gradients-relu-mse.txt": (
        "gradients --w1 '[[-1,1],[1,-1]]' --w2 '[[1,1]]' --x 1,0 --y 1 --loss mse --activation relu"
    ),
    "gradients-sigmoid-mse.md": (
        "gradients --x 1,0 --y 0 --b1 0,0 --b2 0 --loss mse --activation sigmoid --format markdown"
    ),
    "gradients-tanh-bce.txt": (
        "gradients --x 1,1 --y 1 --b1 0.5,-0.5 --b2 0.1 --loss bce --activation tanh"
    ),
    "perceptron-fit-and.txt": "perceptron fit --data and",
    "perceptron-fit-xor.txt": "perceptron fit --max-iter 6",
    "perceptron-scale.md": "perceptron scale --format markdown",
    "perceptron-sigmoid-limit.md": "perceptron sigmoid-limit --format markdown",
}


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal the golden files were written in: 120 columns, no colour."""
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(name: str, run_cli, terminal: None, request: pytest.FixtureRequest) -> None:
    result = run_cli(*shlex.split(CASES[name]))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    printed = _lines(result.stdout)
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        if not path.exists() or _lines(path.read_text(encoding="utf-8")) != printed:
            path.write_text("\n".join(printed) + "\n", encoding="utf-8")
            pytest.skip(f"rewrote {path.relative_to(GOLDEN.parent.parent)}: review the diff")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run pytest {__file__} --update-golden", pytrace=False)
    expected = _lines(path.read_text(encoding="utf-8"))
    if printed != expected:
        diff = difflib.unified_diff(
            expected, printed, f"tests/golden/{name}", f"neuralab {CASES[name]}", lineterm=""
        )
        pytest.fail("\n".join(diff), pytrace=False)


def test_every_golden_file_has_a_case() -> None:
    """A golden file without a command line would never be compared: none is left over."""
    assert sorted(path.name for path in GOLDEN.iterdir()) == sorted(CASES)
