"""neuralab's summary next to torchinfo's on the same models: the table of docs/arch-summary.md.

Run ``python tests/summary_comparison.py`` (torchinfo installed) to print the Markdown table;
``tests/test_summary_comparison.py`` checks that the page shows exactly this table (and rewrites
it with ``--update-docs``). Every number comes from running both libraries here, and PyTorch's
own ``FlopCounterMode`` (FLOPs / 2) stands beside the MACs as a neutral judge.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

COURSE_CNN = "conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu -> fc(10)"
ENCODER_DECODER = (
    "conv(16,3,s=2,p=1) -> relu -> conv(32,3,s=2,p=1) -> relu -> "
    "convT(16,3,s=2,p=1,op=1) -> relu -> convT(1,3,s=2,p=1,op=1) -> sigmoid"
)
# (name shown, model source, one sample's shape)
MODELS: list[tuple[str, str, tuple[int, ...]]] = [
    ("course CNN", COURSE_CNN, (1, 28, 28)),
    ("one 3x3 conv applied 3 times", "neuralab.arch.summary_examples:shared_conv", (1, 28, 28)),
    ("encoder-decoder (ConvTranspose2d)", ENCODER_DECODER, (1, 28, 28)),
    ("LSTM over 28 rows, 64 units", "golden_models:row_lstm", (1, 28, 28)),
    ("resnet18", "resnet18", (3, 224, 224)),
    ("mobilenet_v2", "mobilenet_v2", (3, 224, 224)),
]
MB = 1e6  # torchinfo's unit


def _flop_counter_macs(model: nn.Module, shape: tuple[int, ...]) -> int:
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *shape))
    return counter.get_total_flops() // 2


def comparison_rows() -> list[dict[str, object]]:
    """Return one row per model: parameters, MACs and memory by neuralab, torchinfo, PyTorch."""
    import torchinfo

    from neuralab.arch.model_source import load_model
    from neuralab.arch.summary import summary

    rows = []
    for name, source, shape in MODELS:
        torch.manual_seed(0)
        model = load_model(source, shape)
        ours = summary(model, shape)
        theirs = torchinfo.summary(model, input_size=(1, *shape), verbose=0)
        assert ours.memory is not None
        rows.append(
            {
                "model": name,
                "input": "x".join(map(str, shape)),
                "params": ours.total_params,
                "torchinfo_params": theirs.total_params,
                "macs": ours.total_macs,
                "torchinfo_macs": theirs.total_mult_adds,
                "flop_counter_macs": _flop_counter_macs(model, shape),
                "saved": ours.memory.saved_bytes / MB,
                "torchinfo_forward_backward": theirs.total_output_bytes / MB,
                "train_step": ours.memory.total_bytes / MB,
                "torchinfo_total": (
                    theirs.total_input + theirs.total_output_bytes + theirs.total_param_bytes
                )
                / MB,
            }
        )
    return rows


def comparison_markdown() -> str:
    """Return the comparison as a Markdown table (MB = 10^6 bytes, as torchinfo prints them)."""
    header = (
        "| model | input | params (neuralab) | params (torchinfo) | MACs (neuralab) "
        "| MACs (torchinfo) | FLOPs / 2 (PyTorch) | saved activations (neuralab) "
        "| forward/backward size (torchinfo) | training step (neuralab) "
        "| estimated total (torchinfo) |"
    )
    lines = [header, "| :--- | ---: |" + " ---: |" * 9]
    for row in comparison_rows():
        lines.append(
            f"| {row['model']} | {row['input']} | {row['params']:,} | {row['torchinfo_params']:,} "
            f"| {row['macs']:,} | {row['torchinfo_macs']:,} | {row['flop_counter_macs']:,} "
            f"| {row['saved']:.2f} MB | {row['torchinfo_forward_backward']:.2f} MB "
            f"| {row['train_step']:.2f} MB | {row['torchinfo_total']:.2f} MB |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # golden_models
    print(comparison_markdown(), end="")
