"""``neuralab summary`` and ``neuralab diagram``: a network's layers, sizes and costs, as text or a figure."""

from __future__ import annotations

from pathlib import Path

import typer

from neuralab.cli._app import app
from neuralab.cli._emit import emit, format_option
from neuralab.report.summary_columns import SUMMARY_COLUMNS

_MODEL_HELP = (
    "The network: a layer spec such as 'conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(10)', "
    "a torchvision model name (resnet18, vgg16, mobilenet_v2, ...; random weights, nothing "
    "downloaded), or package.module:factory for your own code (called without arguments)."
)
_INPUT_HELP = (
    "One input sample without the batch axis: CxHxW for images, e.g. 1x28x28 (MNIST) or "
    "3x224x224 (ImageNet); 784 for a vector, 50x64 for a sequence."
)


_SUMMARY_INPUT_HELP = (
    _INPUT_HELP + " Repeat it for a forward with several inputs, in order (--input 3x32x32 "
    "--input 10); SHAPE:int64 for integer inputs such as token ids (--input 50:int64)."
)


@app.command("summary")
def summary_command(
    model: str = typer.Argument(..., help=_MODEL_HELP, show_default=False, metavar="MODEL"),
    inputs: list[str] = typer.Option(
        ..., "--input", "-i", help=_SUMMARY_INPUT_HELP, show_default=False
    ),
    depth: int | None = typer.Option(
        None,
        "--depth",
        "-d",
        min=1,
        help="Show modules this many levels deep as single rows (their sub-layers folded in); "
        "default: every leaf layer.",
        show_default=False,
    ),
    batch_size: int = typer.Option(
        1,
        "--batch-size",
        "-b",
        min=1,
        help="Samples in the dry forward pass (MACs and memory scale with it).",
    ),
    dtype: str = typer.Option(
        "float32",
        "--dtype",
        help="Floating dtype of the parameters and inputs (float16, bfloat16, float64, ...); "
        "memory is counted in its bytes.",
    ),
    device: str = typer.Option(
        "cpu", "--device", help="Where the forward pass runs: cpu, cuda, cuda:1, mps or auto."
    ),
    mode: str = typer.Option(
        "eval",
        "--mode",
        help="eval (batch norm uses running statistics, dropout off) or train; train changes "
        "what autograd saves for backward, so the memory line.",
    ),
    columns: str | None = typer.Option(
        None,
        "--columns",
        "-c",
        help="Comma-separated columns after the layer's name and type, torchinfo's names: "
        + ", ".join(SUMMARY_COLUMNS)
        + ". Default: output_size, num_params (and trainable when some are frozen), fan_in, "
        "receptive_field, jump, start, mult_adds.",
        show_default=False,
    ),
    hide_recursive: bool = typer.Option(
        False,
        "--hide-recursive",
        help="Leave out the rows of repeated calls of a shared module (their MACs stay in the "
        "total).",
    ),
    output_format: str = format_option(),
    hwc: bool = typer.Option(
        False,
        "--hwc",
        help="Show shapes the course's way, H x W x C (default PyTorch's C x H x W).",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write to this file instead of the terminal.",
        show_default=False,
    ),
) -> None:
    """Print one row per layer: output shape, parameters, fan-in, receptive field, MACs.

    One dry forward pass on zeros records every layer. Columns:

    * params: weights + biases, e.g. conv(M=20, 5x5) on 1 channel: 20 * (5*5*1 + 1) = 520; a
      module called again (shared weights) shows (recursive) and is counted once;
    * fan-in: input connections into one output neuron (bias excluded): k_h * k_w * C_in / groups
      for a conv, in_features for fc, k_h * k_w for pooling;
    * RF / jump / start: receptive field r in input pixels, r_l = r_(l-1) + (k_l - 1) * j_(l-1),
      the jump j_l = j_(l-1) * s_l between neighbouring units and the centre of the first unit;
    * MACs: multiply-accumulates, output elements * fan-in for a conv or fc layer.

    Totals: parameters (trainable), MACs, parameter memory, activation memory of one forward
    pass, and the memory of one training step: inputs + params + gradients + the activations
    autograd saves for backward (optimizer state not included).

    Example: neuralab summary "conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu ->
    fc(10)" --input 1x28x28 --hwc
    """
    from neuralab.arch.model_names import source_kind
    from neuralab.arch.shapes import parse_shape
    from neuralab.arch.summary_names import check_mode, dtype_name
    from neuralab.device import check_device_name

    source_kind(model)  # a mistyped name or spec is refused before torch is imported
    for text in inputs:  # so is a malformed shape or an unknown dtype after its ':'
        shape_text, _, input_dtype = text.strip().partition(":")
        parse_shape(shape_text, what="--input", expected="")
        if input_dtype:
            dtype_name(input_dtype)
    dtype_name(dtype)
    check_mode(mode)
    check_device_name(device)
    from neuralab.paths import output_file
    from neuralab.report.summary_columns import parse_columns

    if output is not None:
        output_file(output, "--output")
    chosen = parse_columns(columns)
    from neuralab.arch.summary_inputs import parse_input
    from neuralab.report.summary_render import summary, summary_tables

    specs = [parse_input(text) for text in inputs]
    result = summary(
        model,
        specs,
        depth=depth,
        batch_size=batch_size,
        dtype=None if dtype == "float32" else dtype,
        device=None if device == "cpu" else device,
        mode=mode,
    )
    emit(
        summary_tables(result, hwc=hwc, columns=chosen, hide_recursive=hide_recursive),
        output_format,
        output=output,
    )


@app.command("diagram")
def diagram_command(
    model: str = typer.Argument(..., help=_MODEL_HELP, show_default=False, metavar="MODEL"),
    input: str = typer.Option(..., "--input", "-i", help=_INPUT_HELP, show_default=False),
    output: Path = typer.Option(
        ..., "--output", "-o", help="The figure: .svg, .png or .pdf.", show_default=False
    ),
    max_blocks: int = typer.Option(
        20,
        "--max-blocks",
        min=3,
        help="Draw at most this many tensors; bigger nets are drawn by stage.",
    ),
) -> None:
    """Draw the network left to right, one block per tensor, labelled with its layer and size.

    Block height and depth grow with the logarithm of H and W, width with the number of channels
    C; flat vectors are bars. Activations, batch norm and dropout are folded into the label of
    the layer before them ('conv 5x5, M=20 + relu'). A network with more tensors than
    --max-blocks is drawn by its stages (e.g. resnet18's layer1..layer4).

    Example: neuralab diagram "conv(20,5) -> relu -> maxpool(2) -> flatten -> fc(100) -> relu ->
    fc(10)" --input 1x28x28 -o cnn.png
    """
    from neuralab.arch.model_names import source_kind
    from neuralab.arch.shapes import parse_shape

    shape = parse_shape(input, what="--input", expected="CxHxW")
    source_kind(model)  # a mistyped name or spec is refused before torch is imported
    from neuralab.report.diagram import check_figure_path, draw_diagram

    check_figure_path(output)
    written = draw_diagram(model, shape, output, max_blocks=max_blocks)
    typer.echo(f"wrote {written}")
