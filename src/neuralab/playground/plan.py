"""The resolved playground run: data set, :class:`TrainingPlan` and the initialised network.

``make_plan(config, data)`` settles everything ``auto`` leaves open (output, loss, targets),
checks that the choices fit together and fixes the batch schedule; ``build_model`` makes the
MLP of a plan with the config's initialization. The sequential session
(:mod:`neuralab.playground.session`) and the batched trainer (:mod:`neuralab.playground.batched`)
both start from here, so they train the same networks on the same targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig, parse_init
from neuralab.playground.features import resolve_features
from neuralab.playground.mlp import MLP, parse_activations, parse_hidden, parse_output

if TYPE_CHECKING:
    from neuralab.playground.toy_data import ToyDataset


@dataclass(frozen=True)
class TrainingPlan:
    """The resolved run: task, features, layer sizes, output, loss, targets and batch schedule."""

    task: str  # "classification" | "regression"
    num_classes: int  # 0 for regression
    features: tuple[str, ...]  # canonical feature names, one input unit each
    hidden: tuple[int, ...]
    activations: tuple[str, ...]  # canonical, one per hidden layer
    output: str  # sigmoid | tanh | identity | softmax
    loss: str  # mse | bce | ce
    out_features: int
    target: str  # binary01 | binary_pm1 | index | onehot | value
    threshold: float | None  # y > threshold is class 1; None: argmax (softmax)
    init: str
    init_parameters: dict[str, float]
    n_train: int
    n_test: int
    batch_size: int  # resolved: full batch = n_train
    epochs: int
    total_steps: int  # parameter updates in the whole run

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_train / self.batch_size)

    def examples_after(self, steps: int) -> int:
        """Return the per-example gradients computed in the first ``steps`` updates."""
        epochs, rest = divmod(steps, self.steps_per_epoch)
        return epochs * self.n_train + min(rest * self.batch_size, self.n_train)


def _num_classes(data: ToyDataset) -> int:
    if data.task != "classification":
        return 0
    if data.num_classes:
        return int(data.num_classes)
    labels = torch.cat([data.y_train.reshape(-1), data.y_test.reshape(-1)])
    return max(2, int(labels.max()) + 1)


def make_plan(config: PlaygroundConfig, data: ToyDataset) -> TrainingPlan:
    """Return the resolved plan of ``config`` on ``data``; inconsistent choices raise.

    ``auto`` resolves as the TF Playground and the course do: regression -> linear output, mse;
    two classes -> sigmoid output, bce (or tanh output with mse and targets -1/+1); k classes ->
    softmax output, ce.
    """
    task = data.task
    num_classes = _num_classes(data)
    input_dim = 1 if data.x_train.dim() == 1 else int(data.x_train.shape[1])
    requested = tuple(config.features)
    if input_dim == 1 and requested == ("x1", "x2"):
        requested = ("x1",)  # the default features, on 1-D data: only x1 exists
    features = resolve_features(requested, input_dim)
    loss = config.loss.strip().lower()
    output = "auto" if config.output.strip().lower() == "auto" else parse_output(config.output)
    if task == "regression":
        if loss in ("bce", "ce"):
            raise NeuralabError(
                f"loss {loss!r} needs classes; {config.data!r} is regression (use mse)"
            )
        loss = "mse"
        output = "identity" if output == "auto" else output
        if output == "softmax":
            raise NeuralabError(f"output softmax needs classes; {config.data!r} is regression")
    elif num_classes == 2:
        if loss == "auto":
            loss = {"auto": "bce", "sigmoid": "bce", "softmax": "ce"}.get(output, "mse")
        if output == "auto":
            output = {"bce": "sigmoid", "ce": "softmax", "mse": "tanh"}[loss]
    else:
        loss = "ce" if loss == "auto" else loss
        output = "softmax" if output == "auto" else output
        if output != "softmax" or loss == "bce":
            raise NeuralabError(
                f"{config.data!r} has {num_classes} classes: use output softmax with loss ce or mse"
            )
    if loss == "bce" and output != "sigmoid":
        raise NeuralabError(f"loss bce needs output sigmoid, not {output}")
    if loss == "ce" and output != "softmax":
        raise NeuralabError(f"loss ce needs output softmax, not {output}")
    if task == "regression":
        target, threshold = "value", None
    elif output == "softmax":
        target, threshold = ("index" if loss == "ce" else "onehot"), None
    elif output == "sigmoid":
        target, threshold = "binary01", 0.5
    else:
        target, threshold = "binary_pm1", 0.0
    hidden = parse_hidden(config.hidden)
    init, init_parameters = parse_init(config.init)
    n_train, n_test = int(data.x_train.shape[0]), int(data.x_test.shape[0])
    if n_train == 0:
        raise NeuralabError(
            f"the training set is empty (n={config.n}, train_ratio={config.train_ratio})"
        )
    batch_size = n_train if config.batch_size == 0 else min(config.batch_size, n_train)
    steps_per_epoch = math.ceil(n_train / batch_size)
    if config.iterations > 0:
        epochs, total_steps = math.ceil(config.iterations / steps_per_epoch), config.iterations
    else:
        epochs, total_steps = config.epochs, config.epochs * steps_per_epoch
    return TrainingPlan(
        task=task,
        num_classes=num_classes,
        features=features,
        hidden=hidden,
        activations=parse_activations(config.activation, len(hidden)),
        output=output,
        loss=loss,
        out_features=num_classes if output == "softmax" else 1,
        target=target,
        threshold=threshold,
        init=init,
        init_parameters=init_parameters,
        n_train=n_train,
        n_test=n_test,
        batch_size=batch_size,
        epochs=epochs,
        total_steps=total_steps,
    )


def load_data(config: PlaygroundConfig) -> ToyDataset:
    """Return the toy data set the config names (labels 0/1; the plan converts as needed).

    ``csv:PATH`` reads the points of a CSV file (:mod:`neuralab.playground.csv_data`).
    """
    from neuralab.playground.toy_data import make_toy_data

    seed = config.seed if config.data_seed is None else config.data_seed
    if config.data.startswith("csv:"):
        from neuralab.playground.csv_data import read_points_csv

        return read_points_csv(
            config.data, train_ratio=config.train_ratio, seed=seed, order=config.order
        )
    return make_toy_data(
        config.data,
        n=config.n,
        noise=config.noise,
        seed=seed,
        train_ratio=config.train_ratio,
        labels="01",
        order=config.order,
        classes=config.classes,
    )


def build_model(plan: TrainingPlan, config: PlaygroundConfig, generator: torch.Generator) -> MLP:
    """Return the MLP of ``plan``, initialised with ``config.init`` from ``generator``."""
    from neuralab.theory.initialization import init_weights

    model = MLP(
        len(plan.features),
        plan.hidden,
        plan.out_features,
        plan.activations,
        plan.output,
        config.dropout,
    )
    init_weights(
        model, plan.init, bias=config.bias_init, generator=generator, **plan.init_parameters
    )
    model.generator = generator
    return model
