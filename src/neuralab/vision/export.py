"""Exporting a finished run's model (ONNX, TorchScript, safetensors), each export checked by running it.

The model is rebuilt from the run's checkpoint by :func:`neuralab.vision.inference.load_trained_run`
(the same path ``evaluate`` and ``predict`` take), then written in one of three formats:

* ``onnx``: the graph from ``torch.onnx.export`` (the dynamo exporter), any batch size;
* ``torchscript``: ``torch.jit.trace`` of the model, loadable without neuralab's code;
* ``safetensors``: the weights only (``state_dict``), loaded into a fresh model that neuralab
  builds from the run's config (:func:`neuralab.vision.run.build_model`).

ONNX and TorchScript files hold the run's normalisation in front of the model, so they take what
any image library gives: float32 images scaled to [0, 1], N x C x H x W, and return the logits,
N x K (class names in the file's metadata). safetensors holds the weights as trained: feed them
normalised images (the statistics are in its metadata).

The check: the exported file is loaded back (onnxruntime, ``torch.jit.load``, safetensors'
``load_file`` into a fresh model) and run on the run's test images; its logits are compared with
the PyTorch model's. It passes when max |logit_export - logit_torch| <= 1e-4 * max(1, max
|logit_torch|) (float32 rounding of a few reordered sums; the same kernels give 0). The file is
written atomically and only kept when its check passes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import torch
from torch import nn

from neuralab.atomic import atomic_path
from neuralab.config import config_to_dict
from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.vision.inference import load_trained_run
from neuralab.vision.loader import Normalization
from neuralab.vision.run import Run, build_model

ExportFormat = Literal["onnx", "torchscript", "safetensors"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
SUFFIXES = {"onnx": ".onnx", "torchscript": ".torchscript.pt", "safetensors": ".safetensors"}
RELATIVE_TOLERANCE = 1e-4  # of max(1, max |logit|)
_NEEDS = {"onnx": ("onnx", "onnxscript"), "safetensors": ("safetensors",), "torchscript": ()}


@dataclass(frozen=True)
class ExportCheck:
    """How the exported file was run and how close its logits are to the PyTorch model's."""

    runtime: str  # what ran it: "onnxruntime 1.20.1", "torch.jit.load", "safetensors.load_file"
    images: int  # test images compared
    max_abs_diff: float  # max |logit_export - logit_torch| over images and classes
    tolerance: float  # 1e-4 * max(1, max |logit_torch|)
    top1_agreement: float  # fraction of images whose top class is the same

    @property
    def passed(self) -> bool:
        """Return whether the largest difference is within the tolerance."""
        return self.max_abs_diff <= self.tolerance


@dataclass(frozen=True)
class ExportResult:
    """One exported model: where it went, what it takes and returns, and its check."""

    run_dir: str
    format: str  # onnx | torchscript | safetensors
    checkpoint: str  # best | last
    path: str
    size_bytes: int
    takes: str  # what the file's model takes as input
    returns: str  # what it returns
    check: ExportCheck | None  # None: no runtime to run it (onnxruntime not installed)
    skipped: str = ""  # why it was not checked


class NormalizedModel(nn.Module):
    """The run's normalisation, then its model: float images in [0, 1] -> logits.

    ``per_channel``: x' = (x - mu_c) / sigma_c; ``per_image``: x' = (x - mean(x)) /
    max(std(x), 1 / sqrt(C H W)); ``none``: x' = x (as :class:`~neuralab.vision.loader.Normalization`).
    """

    def __init__(self, normalization: Normalization, model: nn.Module) -> None:
        super().__init__()
        self.mode = normalization.mode
        channels = 1 if normalization.mean is None else normalization.mean.numel()
        mean = normalization.mean if normalization.mean is not None else torch.zeros(channels)
        std = normalization.std if normalization.std is not None else torch.ones(channels)
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", mean.float().view(1, -1, 1, 1).clone())
        self.register_buffer("std", std.float().view(1, -1, 1, 1).clone())
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images
        if self.mode == "per_channel":
            x = (x - self.mean) / self.std
        elif self.mode == "per_image":
            flat = x.flatten(1)
            centred = flat - flat.mean(dim=1, keepdim=True)
            std = centred.square().mean(dim=1, keepdim=True).sqrt()
            std = std.clamp(min=1.0 / float(flat.shape[1]) ** 0.5)
            x = (centred / std).view_as(x)
        return self.model(x)


def _check_packages(export_format: str) -> None:
    for package in _NEEDS[export_format]:
        if importlib.util.find_spec(package) is None:
            raise NeuralabError(
                f"--format {export_format} needs the {package!r} package, which is not "
                "installed: pip install 'neuralab[export]'"
            )


def default_export_path(run_dir: str | os.PathLike[str], export_format: str, which: str) -> Path:
    """Return ``RUN_DIR/model-best.onnx`` (``.torchscript.pt``, ``.safetensors``)."""
    return Path(run_dir) / f"model-{which}{SUFFIXES[export_format]}"


def _metadata(run: Run) -> dict[str, str]:
    """Return what a user of the file needs, as strings: classes, input shape, normalisation."""
    return {
        "producer": "neuralab",
        "model": run.config.model,
        "classes": json.dumps(run.inputs.classes),
        "input_shape": json.dumps(list(run.inputs.input_shape)),
        "normalization": json.dumps(run.inputs.normalization.to_dict()),
        "config": json.dumps(config_to_dict(run.config), default=str),
    }


def _test_images(run: Run, count: int) -> torch.Tensor:
    """Return up to ``count`` test images as float32 in [0, 1], (N, C, H, W)."""
    images, _ = run.split("test")
    return images[:count].to(torch.float32).div(255.0).contiguous()


def export_run(
    run_dir: str | os.PathLike[str],
    *,
    format: str,
    checkpoint: str = "best",
    output: str | os.PathLike[str] | None = None,
    check_images: int = 256,
) -> ExportResult:
    """Return the :class:`ExportResult` of writing a run's model as ``format`` and checking it.

    ``format``: onnx, torchscript or safetensors; ``checkpoint``: best or last; ``output``:
    the file (default ``RUN_DIR/model-best.onnx`` ...). The check runs the written file on the
    first ``check_images`` test images and compares its logits with the PyTorch model's; a file
    whose check fails is not kept (one error line says by how much it differs).
    """
    if format not in EXPORT_FORMATS:
        raise unknown_name_error("export format", format, EXPORT_FORMATS)
    if check_images < 1:
        raise NeuralabError(f"check images {check_images} must be >= 1")
    _check_packages(format)
    run = load_trained_run(run_dir, which=checkpoint, device="cpu")
    model = run.model.to(memory_format=torch.contiguous_format).eval()
    images = _test_images(run, check_images)
    with torch.inference_mode():
        reference = model(run.inputs.normalization(images)).float()  # (N, K)
    target = (
        Path(output) if output is not None else default_export_path(run_dir, format, checkpoint)
    )
    if target.is_dir():
        raise NeuralabError(f"output {str(target)!r} is a folder; give a file name")
    channels, height, width = run.inputs.input_shape
    takes = f"float32 images in [0, 1], N x {channels} x {height} x {width}"
    returns = f"logits, N x {len(run.inputs.classes)}"
    skipped = ""
    with atomic_path(target) as temporary:
        if format == "onnx":
            _write_onnx(NormalizedModel(run.inputs.normalization, model), images, temporary, run)
            logits, runtime = _run_onnx(temporary, images)
            if logits is None:
                skipped = "onnxruntime is not installed: pip install 'neuralab[export]'"
        elif format == "torchscript":
            _write_torchscript(
                NormalizedModel(run.inputs.normalization, model), images, temporary, run
            )
            logits, runtime = _run_torchscript(temporary, images), "torch.jit.load"
        else:
            takes = (
                f"normalised images, N x {channels} x {height} x {width} (statistics in metadata)"
            )
            _write_safetensors(model, temporary, run)
            logits = _run_safetensors(temporary, run, images)
            runtime = "safetensors.load_file"
        check = None if logits is None else _compare(logits, reference, runtime)
        if check is not None and not check.passed:
            raise NeuralabError(
                f"the {format} export differs from the PyTorch model by {check.max_abs_diff:.3g} "
                f"(tolerance {check.tolerance:.3g}) on {check.images} test images; not written"
            )
    return ExportResult(
        run_dir=str(run_dir),
        format=format,
        checkpoint=checkpoint,
        path=str(target),
        size_bytes=target.stat().st_size,
        takes=takes,
        returns=returns,
        check=check,
        skipped=skipped,
    )


def _compare(logits: torch.Tensor, reference: torch.Tensor, runtime: str) -> ExportCheck:
    if logits.shape != reference.shape:
        raise NeuralabError(
            f"the export returns logits of shape {tuple(logits.shape)}, "
            f"the PyTorch model {tuple(reference.shape)}"
        )
    difference = (logits.float() - reference).abs().max().item()
    scale = max(1.0, reference.abs().max().item())
    agreement = (logits.argmax(1) == reference.argmax(1)).float().mean().item()
    return ExportCheck(
        runtime=runtime,
        images=int(reference.shape[0]),
        max_abs_diff=float(difference),
        tolerance=RELATIVE_TOLERANCE * scale,
        top1_agreement=float(agreement),
    )


def _write_onnx(model: nn.Module, images: torch.Tensor, path: Path, run: Run) -> None:
    import onnx

    # the exporter reports its progress on stdout; the command prints its own table
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                model,
                (images[:1],),
                str(path),
                dynamo=True,
                external_data=False,  # one file, renamed into place atomically
                input_names=["images"],
                output_names=["logits"],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
            )
        except Exception as error:  # noqa: BLE001 (the exporter's failures are many)
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise NeuralabError(
                f"torch.onnx.export cannot export model {run.config.model!r}: "
                f"{type(error).__name__}: {first_line[:200]}"
            ) from None
    graph = onnx.load(str(path))
    for key, value in _metadata(run).items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(graph, str(path))


def _run_onnx(path: Path, images: torch.Tensor) -> tuple[torch.Tensor | None, str]:
    if importlib.util.find_spec("onnxruntime") is None:
        return None, ""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    (logits, *_) = session.run(None, {name: images.numpy()})
    return torch.from_numpy(logits), f"onnxruntime {onnxruntime.__version__}"


def _write_torchscript(model: nn.Module, images: torch.Tensor, path: Path, run: Run) -> None:
    # torch.jit is deprecated in favour of torch.export, but still what many deployments load
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            traced = torch.jit.trace(model, images[:1])
        except Exception as error:  # noqa: BLE001 (tracing failures are many)
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise NeuralabError(
                f"torch.jit.trace cannot trace model {run.config.model!r}: "
                f"{type(error).__name__}: {first_line[:200]}"
            ) from None
        extra = {"neuralab.json": json.dumps(_metadata(run))}
        torch.jit.save(traced, str(path), _extra_files=extra)


def _run_torchscript(path: Path, images: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        loaded = torch.jit.load(str(path), map_location="cpu")
        return loaded(images).float()


def _write_safetensors(model: nn.Module, path: Path, run: Run) -> None:
    from safetensors.torch import save_file

    # contiguous copies: safetensors refuses views and channels_last strides
    weights = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(weights, str(path), metadata=_metadata(run))


def _run_safetensors(path: Path, run: Run, images: torch.Tensor) -> torch.Tensor:
    from safetensors.torch import load_file

    fresh = build_model(run.config, run.inputs, torch.device("cpu"), restored=True)
    try:
        fresh.load_state_dict(load_file(str(path)))
    except RuntimeError as error:
        raise NeuralabError(f"the safetensors file does not fit the run's model: {error}") from None
    fresh.eval()
    with torch.inference_mode():
        return fresh(run.inputs.normalization(images)).float()


__all__ = [
    "EXPORT_FORMATS",
    "ExportCheck",
    "ExportResult",
    "NormalizedModel",
    "default_export_path",
    "export_run",
]
