"""A playground network that trains in small steps: the one engine of the CLI and the browser.

``PlaygroundSession(config)`` owns the data, the resolved plan, the tensors, the MLP, the
optimiser, the random generator and the history. ``step()`` makes one parameter update;
``run_epoch()`` trains to the end of the current epoch. When an epoch ends, its history row is
recorded: measured on the whole training set with dropout off, after the epoch's updates, it holds
the losses, accuracies, the gradient norm ||dJ/dW_l||_F and weight norm ||W_l||_F of every layer
(J = data loss + penalty), and the dead / saturated fractions and symmetry of every hidden layer.
Row 0 is the network at initialization. A NaN or infinite loss stops training and says at which
epoch (``stopped``).

Random numbers are drawn from one generator seeded with ``config.seed``, in a fixed order: the
initial weights, then per epoch the permutation of the training set (at the epoch's first step)
and the dropout masks of each step. Looking at the network (``output_grid``, ``neuron_grids``,
``evaluate``, ``weights``) draws none and changes nothing, so a config and a seed give the same
numbers however the training is sliced: :func:`neuralab.playground.run.train_playground` is a loop
over ``run_epoch``.

Settings that change while training (:data:`LIVE_FIELDS`), as in TF Playground, where changing
anything else starts over: ``lr``, ``momentum``, ``l1``, ``l2`` and ``dropout`` from the next step,
``epochs``, ``iterations`` and ``target_loss`` (the stop conditions) at once, ``batch_size`` and
``shuffle`` from the next epoch; ``log_every`` only concerns printing.

Speed (``benchmarks/playground_session.py``): the matrices are tiny, so a process that steps
sessions should run torch on one thread (``torch.set_num_threads(1)``, which gives the same
numbers): on the 2-core machine, busy, the default network (500 points, hidden 4,4, batch 10)
trains 74 epochs/s on one thread against 17 on two, and both grids at 50 x 50 take 0.2 ms.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig, validate_config
from neuralab.playground.features import PlaygroundTensors, feature_matrix, prepare_tensors
from neuralab.playground.mlp import (
    MLP,
    accuracy_of,
    batch_loss,
    diagnostics_of,
    layer_gradient_norms,
    layer_weight_norms,
    penalty_of,
)
from neuralab.playground.optimizer import make_optimizer
from neuralab.playground.plan import TrainingPlan, build_model, load_data, make_plan
from neuralab.theory.activations import get_activation

if TYPE_CHECKING:
    from neuralab.playground.toy_data import ToyDataset

# field -> when a change takes effect (every other field needs a new session)
LIVE_FIELDS = {
    "lr": "next step",
    "momentum": "next step",
    "l1": "next step",
    "l2": "next step",
    "dropout": "next step",
    "epochs": "now",
    "iterations": "now",
    "target_loss": "now",
    "log_every": "now",
    "batch_size": "next epoch",
    "shuffle": "next epoch",
}


@dataclass
class PlaygroundResult:
    """A trained playground network, its data and the per-epoch history."""

    config: PlaygroundConfig
    model: nn.Module
    data: ToyDataset
    history: list[dict[str, Any]]  # one row per epoch, row 0 = at initialization
    stopped: str | None = None  # e.g. "loss became NaN at epoch 17" when training diverged
    plan: TrainingPlan | None = None  # the resolved task, features, output, loss, batch size
    seconds: float = 0.0  # wall time from the start to the result
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> dict[str, Any]:
        """Return the last recorded row of the history."""
        return self.history[-1]

    def predict(self, x: Tensor) -> Tensor:
        """Return the network's output g(z) (N, out) on raw inputs ``x`` (N, D)."""
        assert self.plan is not None
        parameter = next(self.model.parameters())
        inputs = feature_matrix(x.to(parameter.dtype), self.plan.features).to(parameter.device)
        self.model.eval()
        with torch.no_grad():
            return self.model(inputs).cpu()


class PlaygroundSession:
    """One playground network on its data, trained step by step (see the module doc)."""

    def __init__(self, config: PlaygroundConfig, *, data: ToyDataset | None = None) -> None:
        from neuralab.device import resolve_device

        self._started = time.perf_counter()
        validate_config(config)
        self.config = config
        self.device = resolve_device(config.device)
        self.data = load_data(config) if data is None else data
        self.plan = make_plan(config, self.data)
        plan = self.plan
        self.tensors = prepare_tensors(
            self.data, plan.features, plan.target, plan.num_classes, self.device
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.model = build_model(plan, config, self.generator).to(self.device)
        self.optimizer = make_optimizer(self.model, config)
        self.history: list[dict[str, Any]] = []
        self.stopped: str | None = None  # the divergence message, once the loss is not finite
        self.steps = 0  # parameter updates made
        self.epoch = 0  # epochs completed
        self.examples = 0  # per-example gradients computed
        self.train_seconds = 0.0  # time spent in step(), without looking at the network
        self._order: Tensor | None = None  # this epoch's order of the training set; None: between
        self._cursor = 0  # where the next batch starts in _order
        self._replan = False  # a batch-size or shuffle change waits for the next epoch
        self._version = 0  # counts changes of the weights, so a grid is computed once per state
        self._grids: tuple[tuple[Any, ...], list[Tensor]] | None = None
        self._grid_inputs: dict[tuple[int, float], Tensor] = {}
        self._record()

    # -- training ------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """Return whether a stop condition (epochs, iterations, target test loss) is reached or
        training diverged."""
        if self.stopped is not None:
            return True
        target, test_loss = self.config.target_loss, self.history[-1]["test_loss"]
        if target > 0 and test_loss is not None and test_loss <= target:
            return True
        if self.config.iterations > 0:
            return self.steps >= self.config.iterations
        return self.epoch >= self.config.epochs

    def step(self) -> dict[str, Any] | None:
        """Make one parameter update; return the epoch's history row if it ended the epoch."""
        if self.done:
            raise NeuralabError(self.stopped or f"training is done after {self.epoch} epochs")
        tick = time.perf_counter()
        plan, model, tensors = self.plan, self.model, self.tensors
        if self._order is None:  # the epoch starts
            if self._replan:
                self.plan = plan = make_plan(self.config, self.data)
                self._replan = False
            if self.config.shuffle:
                order = torch.randperm(plan.n_train, generator=self.generator)
                self._order = order.to(self.device)
            else:
                self._order = torch.arange(plan.n_train, device=self.device)
            self._cursor = 0
        batch = self._order[self._cursor : self._cursor + plan.batch_size]
        model.train()
        trace = model.trace(tensors.x_train[batch])
        loss = batch_loss(trace.logits, trace.output, tensors.t_train[batch], plan.loss)
        l1, l2 = self.config.l1, self.config.l2
        if l1 or l2:
            loss = loss + penalty_of([layer.weight for layer in model.layers()], l1, l2)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        self.examples += int(batch.shape[0])
        self._cursor += plan.batch_size
        self._version += 1
        self.train_seconds += time.perf_counter() - tick
        iterations = self.config.iterations
        if self._cursor >= plan.n_train or (iterations > 0 and self.steps >= iterations):
            return self._end_epoch()
        return None

    def run_epoch(self) -> dict[str, Any]:
        """Train to the end of the current epoch; return its history row."""
        while True:
            row = self.step()
            if row is not None:
                return row

    def _end_epoch(self) -> dict[str, Any]:
        self.epoch += 1
        self._order = None
        row = self._record()
        if not math.isfinite(row["train_loss"]):
            self.stopped = divergence_message(row["train_loss"], self.epoch)
        return row

    def _record(self) -> dict[str, Any]:
        row = self.evaluate()
        self.history.append(row)
        return row

    def evaluate(self) -> dict[str, Any]:
        """Return the history row of the network as it is now (recorded only at epoch ends)."""
        row: dict[str, Any] = {"epoch": self.epoch, "steps": self.steps, "examples": self.examples}
        row.update(history_row(self.model, self.plan, self.tensors, self.config.l1, self.config.l2))
        row["seconds"] = self.train_seconds
        return row

    def result(self) -> PlaygroundResult:
        """Return the network, its data and the history so far as a :class:`PlaygroundResult`."""
        self.model.eval()
        seconds = time.perf_counter() - self._started
        return PlaygroundResult(
            self.config, self.model, self.data, list(self.history), self.stopped, self.plan, seconds
        )

    # -- live changes --------------------------------------------------------------------------
    def update(self, **changes: Any) -> None:
        """Change settings of :data:`LIVE_FIELDS` while training (when: see the module doc).

        The new config is validated first, so a bad value raises and changes nothing.
        """
        fixed = sorted(set(changes) - set(LIVE_FIELDS))
        if fixed:
            raise NeuralabError(
                f"{', '.join(fixed)} cannot change while training (start a new session); "
                f"these can: {', '.join(LIVE_FIELDS)}"
            )
        self.config = replace(self.config, **changes)
        count = len(self.optimizer.params)
        self.optimizer.lr = [self.config.lr] * count
        self.optimizer.momentum = [self.config.momentum] * count
        if "dropout" in changes:
            self.model.dropout_rates = (self.config.dropout,) * len(self.plan.hidden)
        if self._order is None:
            self.plan = make_plan(self.config, self.data)
        else:
            self._replan = True

    def weights(self) -> list[list[list[float]]]:
        """Return every layer's W_l (out, in) as nested lists: hidden layers, then the output."""
        return [layer.weight.detach().cpu().tolist() for layer in self.model.layers()]

    def biases(self) -> list[list[float]]:
        """Return every layer's b_l (out,) as lists: hidden layers, then the output."""
        return [layer.bias.detach().cpu().tolist() for layer in self.model.layers()]

    def set_weight(self, layer: int, i: int, j: int, value: float) -> None:
        """Set W_layer[i, j], the weight from unit j of the layer below to unit i of ``layer``."""
        weight = self._layer(layer).weight
        self._check_index("unit", i, weight.shape[0], layer)
        self._check_index("input", j, weight.shape[1], layer)
        self._assign(weight, (i, j), value)

    def set_bias(self, layer: int, i: int, value: float) -> None:
        """Set b_layer[i], the bias of unit i of ``layer``."""
        bias = self._layer(layer).bias
        self._check_index("unit", i, bias.shape[0], layer)
        self._assign(bias, (i,), value)

    def _layer(self, layer: int) -> nn.Linear:
        layers = self.model.layers()
        if not 0 <= layer < len(layers):
            raise NeuralabError(f"layer {layer} does not exist (0..{len(layers) - 1})")
        return layers[layer]

    @staticmethod
    def _check_index(what: str, index: int, size: int, layer: int) -> None:
        if not 0 <= index < size:
            raise NeuralabError(f"{what} {index} does not exist in layer {layer} (0..{size - 1})")

    def _assign(self, tensor: Tensor, index: tuple[int, ...], value: float) -> None:
        if not math.isfinite(value):
            raise NeuralabError(f"value {value} must be a finite number")
        with torch.no_grad():
            tensor[index] = value
        self._version += 1

    # -- what a live view shows ------------------------------------------------------------------
    def output_grid(self, resolution: int = 50, extent: float | None = None) -> Tensor:
        """Return the network's output g(z) on a grid of inputs: (out, R, R), or (out, R) in 1-D.

        The grid covers [-extent, extent] in x1 (columns, left to right) and in x2 (rows, top to
        bottom: row 0 is x2 = +extent, as an image is drawn); ``extent`` defaults to
        :func:`plot_extent` of the data. 1-D data gives the curve over x1 alone.
        """
        return self._grid(resolution, extent)[-1]

    def neuron_grids(self, resolution: int = 50, extent: float | None = None) -> list[Tensor]:
        """Return every hidden neuron's activation a = f(z) on the grid: (H_l, R, R) per layer."""
        return self._grid(resolution, extent)[:-1]

    def _grid(self, resolution: int, extent: float | None) -> list[Tensor]:
        side = plot_extent(self.data) if extent is None else float(extent)
        if not 2 <= resolution <= 1000 or not side > 0:
            raise NeuralabError(
                f"grid resolution={resolution} must be 2..1000 and extent={side} positive"
            )
        key = (resolution, side, self._version)
        if self._grids is not None and self._grids[0] == key:
            return self._grids[1]
        inputs = self._grid_inputs.get((resolution, side))
        if inputs is None:
            inputs = self._grid_inputs[(resolution, side)] = self._make_grid_inputs(
                resolution, side
            )
        shape = (resolution,) if self._one_dimensional else (resolution, resolution)
        self.model.eval()
        with torch.inference_mode():
            trace = self.model.trace(inputs)
            grids = [
                get_activation(name).function(z).T.reshape(-1, *shape).cpu()
                for z, name in zip(trace.pre_activations, self.plan.activations, strict=True)
            ]
            grids.append(trace.output.T.reshape(-1, *shape).cpu())
        self._grids = (key, grids)
        return grids

    @property
    def _one_dimensional(self) -> bool:
        return self.data.x_train.dim() == 1 or self.data.x_train.shape[1] == 1

    def _make_grid_inputs(self, resolution: int, side: float) -> Tensor:
        axis = torch.linspace(-side, side, resolution)
        if self._one_dimensional:
            points = axis.unsqueeze(1)
        else:
            rows, columns = torch.meshgrid(axis.flip(0), axis, indexing="ij")
            points = torch.stack([columns.reshape(-1), rows.reshape(-1)], dim=1)
        return feature_matrix(points, self.plan.features).to(self.device)


def plot_extent(data: ToyDataset) -> float:
    """Return half the side of the square a picture of ``data`` shows: max |x| + 10 %, rounded up."""
    limit = float(data.x_all.abs().max()) if data.x_all.numel() else 6.0
    return float(max(1.0, math.ceil(limit * 1.1)))


def divergence_message(loss: float, epoch: int) -> str:
    """Return the one line that says training diverged, and when."""
    what = "NaN" if math.isnan(loss) else "infinite"
    return f"loss became {what} at epoch {epoch}"


def _accuracy(output: Tensor, classes: Tensor | None, plan: TrainingPlan) -> float | None:
    if classes is None:
        return None
    return float(accuracy_of(output, classes, plan.threshold))


def history_row(
    model: MLP, plan: TrainingPlan, tensors: PlaygroundTensors, l1: float, l2: float
) -> dict[str, Any]:
    """Return one history row (without epoch, steps, examples, seconds) for ``model`` now.

    Losses and accuracies on the training and the test set, ||dJ/dW_l||_F (a full-batch gradient
    of J = data loss + penalty, left zeroed afterwards), ||W_l||_F and the hidden diagnostics.
    """
    model.eval()
    model.zero_grad(set_to_none=True)
    trace = model.trace(tensors.x_train)
    train_loss = batch_loss(trace.logits, trace.output, tensors.t_train, plan.loss)
    weights = [layer.weight for layer in model.layers()]
    objective = train_loss + penalty_of(weights, l1, l2) if (l1 or l2) else train_loss
    objective.backward()
    row: dict[str, Any] = {"train_loss": float(train_loss.detach())}
    row["test_loss"] = None
    row["train_acc"] = _accuracy(trace.output.detach(), tensors.c_train, plan)
    row["test_acc"] = None
    if tensors.x_test.shape[0] > 0:
        with torch.no_grad():
            test = model.trace(tensors.x_test)
            row["test_loss"] = float(
                batch_loss(test.logits, test.output, tensors.t_test, plan.loss)
            )
            row["test_acc"] = _accuracy(test.output, tensors.c_test, plan)
    row["grad_norm"] = layer_gradient_norms(model)
    row["weight_norm"] = layer_weight_norms(model)
    row.update(diagnostics_of(trace.pre_activations, plan.activations, model.layers()[:-1]))
    model.zero_grad(set_to_none=True)
    return row
