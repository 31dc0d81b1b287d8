"""``neuralab export``: a finished run's model as ONNX, TorchScript or safetensors, checked."""

from __future__ import annotations

from pathlib import Path

import typer

from neuralab.cli._app import app

_EXPORT_HELP = """Write a trained run's model as ONNX, TorchScript or safetensors, and check it.

The model is rebuilt from the run's config.yaml and checkpoint (best.pt or last.pt). ONNX and TorchScript files hold the run's normalisation in front of the model: they take float32 images in [0, 1], N x C x H x W, and return the logits, N x K (class names in the file's metadata). safetensors holds the weights only.

The written file is loaded back (onnxruntime, torch.jit.load, or safetensors into a fresh model), run on the run's test images, and its logits compared with the PyTorch model's: max |logit_export - logit_torch| must be <= 1e-4 * max(1, max |logit_torch|), else the file is not kept. ONNX and safetensors need pip install 'neuralab\\[export]'.

Example:

  neuralab export runs/digits-cnn-20261123-131814 --format onnx
"""


@app.command("export", help=_EXPORT_HELP)
def export_command(
    run_dir: Path = typer.Argument(..., help="A run directory written by neuralab train."),
    export_format: str = typer.Option(
        ..., "--format", "-f", help="onnx, torchscript or safetensors.", show_default=False
    ),
    checkpoint: str = typer.Option("best", "--checkpoint", help="best or last."),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="The file to write (default RUN_DIR/model-CHECKPOINT.onnx, .torchscript.pt or "
        ".safetensors).",
        show_default=False,
    ),
    images: int = typer.Option(
        256, "--images", min=1, help="How many test images the check runs the export on."
    ),
) -> None:
    from neuralab.cli._emit import emit
    from neuralab.paths import output_file
    from neuralab.rundir import trained_checkpoint

    trained_checkpoint(run_dir, checkpoint)  # a mistyped run is answered before torch loads
    if output is not None:  # before the model is rebuilt and exported
        output_file(output, "--output")
    from neuralab.report.export_tables import export_table
    from neuralab.vision.export import export_run

    result = export_run(
        run_dir, format=export_format, checkpoint=checkpoint, output=output, check_images=images
    )
    emit(export_table(result), "table")
