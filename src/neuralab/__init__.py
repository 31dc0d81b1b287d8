"""neuralab: a neural-networks course made executable.

Compute it, check it, see it, run it: architecture arithmetic (:mod:`neuralab.arch`), the theory
bench (:mod:`neuralab.theory`), the playground on toy 2-D data (:mod:`neuralab.playground`), image
classification (:mod:`neuralab.vision`), sweeps and studies (:mod:`neuralab.studies`) and reports
(:mod:`neuralab.report`).

The public names below are imported on first use, so ``import neuralab`` stays fast and the
command line does not pay for torch before it needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC: dict[str, str] = {
    "NeuralabError": "neuralab.errors",
    "summary": "neuralab.arch.summary",
    "Summary": "neuralab.arch.summary",
    "LayerRow": "neuralab.arch.summary",
    "load_model": "neuralab.arch.model_source",
    "draw_diagram": "neuralab.arch.diagram",
    "SpecError": "neuralab.arch.spec",
    "build_model": "neuralab.arch.spec",
    "parse_spec": "neuralab.arch.spec",
    "spec_layer_names": "neuralab.arch.spec",
    "conv_output_size": "neuralab.arch.shapes",
    "pool_output_size": "neuralab.arch.shapes",
    "conv_transpose_output_size": "neuralab.arch.shapes",
    "conv_params": "neuralab.arch.shapes",
    "linear_params": "neuralab.arch.shapes",
    "conv_fan_in": "neuralab.arch.shapes",
    "receptive_field": "neuralab.arch.receptive",
    "receptive_field_closed_form": "neuralab.arch.receptive",
    "module_receptive_fields": "neuralab.arch.receptive",
    "gradient_receptive_field": "neuralab.arch.receptive",
    "get_activation": "neuralab.theory.activations",
    "list_activations": "neuralab.theory.activations",
    "init_weights": "neuralab.theory.initialization",
    "list_init_schemes": "neuralab.theory.initialization",
    "conv_to_matrix": "neuralab.arch.conv_matrix",
    "conv_parameter_counts": "neuralab.arch.conv_matrix",
    "dense_equivalent": "neuralab.arch.conv_matrix",
    "symbolic_conv_matrix": "neuralab.arch.conv_matrix",
    "parse_matrix": "neuralab.theory.matrices",
    "format_matrix": "neuralab.theory.matrices",
    "pool_steps": "neuralab.theory.pooling",
    "padding_usage": "neuralab.theory.pooling",
    "evaluate_network": "neuralab.theory.boolean",
    "name_boolean_function": "neuralab.theory.boolean",
    "search_weights": "neuralab.theory.boolean",
    "check_candidates": "neuralab.theory.boolean",
    "activation_properties": "neuralab.theory.activation_properties",
    "Perceptron": "neuralab.theory.perceptron",
    "StepNetwork": "neuralab.theory.perceptron",
    "scale_demo": "neuralab.theory.perceptron",
    "sigmoid_limit": "neuralab.theory.perceptron",
    "gradient_report": "neuralab.theory.gradients",
    "PlaygroundConfig": "neuralab.playground.config",
    "PlaygroundResult": "neuralab.playground.session",
    "train_playground": "neuralab.playground.run",
    "train_batched": "neuralab.playground.batched",
    "compare_grid": "neuralab.playground.compare",
    "ToyDataset": "neuralab.playground.toy_data",
    "make_toy_data": "neuralab.playground.toy_data",
    "list_toy_data": "neuralab.playground.toy_data",
    "ExperimentResult": "neuralab.report.result",
    "run_experiment": "neuralab.playground.experiments",
    "list_experiments": "neuralab.playground.experiments",
    "get_dataset": "neuralab.vision.datasets.registry",
    "list_datasets": "neuralab.vision.datasets.registry",
    "split_train_val": "neuralab.vision.splits",
    "DeviceLoader": "neuralab.vision.loader",
    "Normalization": "neuralab.vision.loader",
    "augmentation_preset": "neuralab.vision.augment",
    "TrainConfig": "neuralab.vision.config",
    "TrainResult": "neuralab.vision.train",
    "train": "neuralab.vision.train",
    "train_one_epoch": "neuralab.vision.engine",
    "launch_training": "neuralab.vision.launch",
    "evaluate_run": "neuralab.vision.inference",
    "predict_files": "neuralab.vision.inference",
    "load_checkpoint": "neuralab.vision.checkpoint",
    "lr_factor": "neuralab.vision.schedules",
    "get_model": "neuralab.vision.models.registry",
    "list_models": "neuralab.vision.models.registry",
    "SAM": "neuralab.vision.sam",
    "run_sweep": "neuralab.studies.sweep.runner",
    "SweepSpec": "neuralab.studies.sweep.spec",
    "run_study": "neuralab.studies.study",
    "list_studies": "neuralab.studies.study",
}

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'neuralab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
