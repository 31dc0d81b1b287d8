"""neuralab: a neural-networks course made executable.

Compute it, check it, see it, run it: architecture arithmetic (:mod:`neuralab.arch`), the theory
bench (:mod:`neuralab.theory`), the playground on toy 2-D data (:mod:`neuralab.playground`), image
classification (:mod:`neuralab.vision`), sweeps and studies (:mod:`neuralab.studies`) and reports
(:mod:`neuralab.report`).

The public names below are imported on first use, so ``import neuralab`` stays fast and the
command line does not pay for torch before it needs it. Type checkers read the same names, with
their real signatures, from the ``TYPE_CHECKING`` imports (``name as name``: an explicit
re-export; the package ships ``py.typed``); ``tests/test_public_api.py`` keeps both lists equal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the same names with their real signatures, for type checkers (no torch here)
    from neuralab.arch.conv_matrix import conv_parameter_counts as conv_parameter_counts
    from neuralab.arch.conv_matrix import conv_to_matrix as conv_to_matrix
    from neuralab.arch.conv_matrix import dense_equivalent as dense_equivalent
    from neuralab.arch.conv_matrix import symbolic_conv_matrix as symbolic_conv_matrix
    from neuralab.arch.model_source import load_model as load_model
    from neuralab.arch.receptive import receptive_field as receptive_field
    from neuralab.arch.receptive import receptive_field_closed_form as receptive_field_closed_form
    from neuralab.arch.receptive_gradient import (
        gradient_receptive_field as gradient_receptive_field,
    )
    from neuralab.arch.receptive_graph import module_receptive_fields as module_receptive_fields
    from neuralab.arch.shapes import conv_fan_in as conv_fan_in
    from neuralab.arch.shapes import conv_output_size as conv_output_size
    from neuralab.arch.shapes import conv_params as conv_params
    from neuralab.arch.shapes import conv_transpose_output_size as conv_transpose_output_size
    from neuralab.arch.shapes import linear_params as linear_params
    from neuralab.arch.shapes import pool_output_size as pool_output_size
    from neuralab.arch.spec import SpecError as SpecError
    from neuralab.arch.spec import build_model as build_model
    from neuralab.arch.spec import parse_spec as parse_spec
    from neuralab.arch.spec import spec_layer_names as spec_layer_names
    from neuralab.arch.summary import LayerRow as LayerRow
    from neuralab.arch.summary import Summary as Summary
    from neuralab.errors import NeuralabError as NeuralabError
    from neuralab.playground.batched import train_batched as train_batched
    from neuralab.playground.compare import compare_grid as compare_grid
    from neuralab.playground.config import PlaygroundConfig as PlaygroundConfig
    from neuralab.playground.experiments import list_experiments as list_experiments
    from neuralab.playground.experiments import run_experiment as run_experiment
    from neuralab.playground.run import train_playground as train_playground
    from neuralab.playground.session import PlaygroundResult as PlaygroundResult
    from neuralab.playground.toy_data import ToyDataset as ToyDataset
    from neuralab.playground.toy_data import list_toy_data as list_toy_data
    from neuralab.playground.toy_data import make_toy_data as make_toy_data
    from neuralab.report.diagram import draw_diagram as draw_diagram
    from neuralab.report.result import ExperimentResult as ExperimentResult
    from neuralab.report.summary_render import summary as summary
    from neuralab.studies.study import list_studies as list_studies
    from neuralab.studies.study import run_study as run_study
    from neuralab.studies.sweep.runner import run_sweep as run_sweep
    from neuralab.studies.sweep.spec import SweepSpec as SweepSpec
    from neuralab.theory.activation_properties import activation_properties as activation_properties
    from neuralab.theory.activations import get_activation as get_activation
    from neuralab.theory.activations import list_activations as list_activations
    from neuralab.theory.boolean import evaluate_network as evaluate_network
    from neuralab.theory.boolean import name_boolean_function as name_boolean_function
    from neuralab.theory.boolean_search import check_candidates as check_candidates
    from neuralab.theory.boolean_search import search_weights as search_weights
    from neuralab.theory.gradients import gradient_report as gradient_report
    from neuralab.theory.initialization import init_weights as init_weights
    from neuralab.theory.initialization import list_init_schemes as list_init_schemes
    from neuralab.theory.matrices import format_matrix as format_matrix
    from neuralab.theory.matrices import parse_matrix as parse_matrix
    from neuralab.theory.perceptron import Perceptron as Perceptron
    from neuralab.theory.pooling import padding_usage as padding_usage
    from neuralab.theory.pooling import pool_steps as pool_steps
    from neuralab.theory.step_network import StepNetwork as StepNetwork
    from neuralab.theory.step_network import scale_demo as scale_demo
    from neuralab.theory.step_network import sigmoid_limit as sigmoid_limit
    from neuralab.vision.augment import augmentation_preset as augmentation_preset
    from neuralab.vision.checkpoint import load_checkpoint as load_checkpoint
    from neuralab.vision.config import TrainConfig as TrainConfig
    from neuralab.vision.datasets.registry import get_dataset as get_dataset
    from neuralab.vision.datasets.registry import list_datasets as list_datasets
    from neuralab.vision.engine import train_one_epoch as train_one_epoch
    from neuralab.vision.export import export_run as export_run
    from neuralab.vision.inference import evaluate_run as evaluate_run
    from neuralab.vision.inference import predict_files as predict_files
    from neuralab.vision.launch import launch_training as launch_training
    from neuralab.vision.loader import DeviceLoader as DeviceLoader
    from neuralab.vision.loader import Normalization as Normalization
    from neuralab.vision.models.registry import get_model as get_model
    from neuralab.vision.models.registry import list_models as list_models
    from neuralab.vision.sam import SAM as SAM
    from neuralab.vision.schedules import lr_factor as lr_factor
    from neuralab.vision.splits import split_train_val as split_train_val
    from neuralab.vision.train import TrainResult as TrainResult
    from neuralab.vision.train import train as train

# public name -> module that defines it
_PUBLIC: dict[str, str] = {
    "NeuralabError": "neuralab.errors",
    "summary": "neuralab.report.summary_render",
    "Summary": "neuralab.arch.summary",
    "LayerRow": "neuralab.arch.summary",
    "load_model": "neuralab.arch.model_source",
    "draw_diagram": "neuralab.report.diagram",
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
    "module_receptive_fields": "neuralab.arch.receptive_graph",
    "gradient_receptive_field": "neuralab.arch.receptive_gradient",
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
    "search_weights": "neuralab.theory.boolean_search",
    "check_candidates": "neuralab.theory.boolean_search",
    "activation_properties": "neuralab.theory.activation_properties",
    "Perceptron": "neuralab.theory.perceptron",
    "StepNetwork": "neuralab.theory.step_network",
    "scale_demo": "neuralab.theory.step_network",
    "sigmoid_limit": "neuralab.theory.step_network",
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
    "export_run": "neuralab.vision.export",
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
