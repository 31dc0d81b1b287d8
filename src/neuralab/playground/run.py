"""Train one playground network on toy data, recording the course's diagnostics every epoch.

``train_playground(PlaygroundConfig(...))`` builds the data set, the input features, the MLP and
the optimiser, trains for ``epochs`` (or ``iterations`` parameter updates) and returns a
:class:`PlaygroundResult` whose ``history`` has one row per epoch, row 0 being the network at
initialization. Every row is measured on the whole training set with dropout off, after the
epoch's updates: losses, accuracies, the gradient norm ||dJ/dW_l||_F and weight norm ||W_l||_F of
every layer (J = data loss + penalty), dead / saturated fractions and symmetry of every hidden
layer. A NaN or infinite loss stops training and says at which epoch.

The loop is the textbook one (data, forward, loss, backward, step). What it shares with the
batched trainer (:mod:`neuralab.playground.batched`): the resolved :class:`TrainingPlan`, the
targets (:mod:`neuralab.playground.features`), the loss, accuracy and penalty
(:mod:`neuralab.playground.mlp`) and the :class:`Optimizer`, so that both compute exactly the same
numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig, parse_init, validate_config
from neuralab.playground.features import (
    PlaygroundTensors,
    feature_matrix,
    prepare_tensors,
    resolve_features,
)
from neuralab.playground.mlp import (
    DEAD_ACTIVATIONS,
    MLP,
    SATURATING_ACTIVATIONS,
    accuracy_of,
    batch_loss,
    dead_fraction_of,
    layer_gradient_norms,
    layer_weight_norms,
    parse_activations,
    parse_hidden,
    parse_output,
    penalty_of,
    saturated_fraction_of,
    symmetric_of,
)

if TYPE_CHECKING:
    from neuralab.playground.toy_data import ToyDataset


@dataclass
class PlaygroundResult:
    """A trained playground network, its data and the per-epoch history."""

    config: PlaygroundConfig
    model: nn.Module
    data: ToyDataset
    history: list[dict[str, Any]]  # one row per epoch, row 0 = at initialization
    stopped: str | None = None  # e.g. "loss became NaN at epoch 17" when training diverged
    plan: TrainingPlan | None = None  # the resolved task, features, output, loss, batch size
    seconds: float = 0.0  # wall time of the whole call
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
    """Return the toy data set the config names (labels 0/1; the plan converts as needed)."""
    from neuralab.playground.toy_data import make_toy_data

    seed = config.seed if config.data_seed is None else config.data_seed
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


def resolve_log_every(config: PlaygroundConfig, epochs: int | None = None) -> int:
    """Return how many epochs apart summary lines are printed (about 10 lines per run)."""
    if config.log_every > 0:
        return config.log_every
    return max(1, (epochs or config.epochs) // 10)


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


class Optimizer:
    """SGD, SGD with momentum and Adam, written out (the same updates as torch.optim's).

    SGD ``w -= eta g``; momentum ``v = mu v + g``, ``w -= eta v``; Adam ``m = beta1 m +
    (1 - beta1) g``, ``s = beta2 s + (1 - beta2) g^2``, ``w -= eta / (1 - beta1^t) m /
    (sqrt(s) / sqrt(1 - beta2^t) + eps)`` with torch's defaults beta = (0.9, 0.999), eps = 1e-8.
    ``lr`` and ``momentum`` hold one value per parameter tensor: a number, or a tensor that
    broadcasts against it (the batched trainer's per-network values, shape (K, 1, ...)).
    Written out rather than taken from torch.optim so that the batched trainer runs the very same
    arithmetic (and because importing torch.optim costs seconds at start-up); the tests check
    it against torch.optim.
    """

    betas = (0.9, 0.999)
    eps = 1e-8

    def __init__(
        self,
        kind: str,
        params: list[Tensor],
        lr: list[float] | list[Tensor],
        momentum: list[float] | list[Tensor],
    ) -> None:
        self.kind = kind.strip().lower()
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [torch.zeros_like(p) for p in params]
        self.second = [torch.zeros_like(p) for p in params] if self.kind == "adam" else []
        self.steps = 0

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter from its ``.grad``."""
        self.steps += 1
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            g = p.grad
            assert g is not None
            if self.kind == "sgd":
                p.sub_(self.lr[i] * g)
            elif self.kind == "momentum":
                self.velocity[i].mul_(self.momentum[i]).add_(g)
                p.sub_(self.lr[i] * self.velocity[i])
            else:
                self.velocity[i].lerp_(g, 1 - beta1)
                self.second[i].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                step_size = self.lr[i] / (1 - beta1**self.steps)
                root = math.sqrt(1 - beta2**self.steps)
                denominator = (self.second[i].sqrt() / root).add_(self.eps)
                p.sub_(step_size * (self.velocity[i] / denominator))

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


def make_optimizer(model: nn.Module, config: PlaygroundConfig) -> Optimizer:
    """Return the optimiser ``config.optimizer`` (sgd, momentum or adam) over ``model``."""
    params: list[Tensor] = list(model.parameters())
    count = len(params)
    return Optimizer(config.optimizer, params, [config.lr] * count, [config.momentum] * count)


def train_playground(
    config: PlaygroundConfig,
    *,
    data: ToyDataset | None = None,
    progress: bool = False,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> PlaygroundResult:
    """Return the trained network, its data and history for ``config`` (see the module doc).

    ``data`` replaces the data set the config names; ``on_epoch`` is called with every history
    row as it is recorded; ``progress`` shows a progress bar on stderr.
    """
    from neuralab.device import resolve_device

    started = time.perf_counter()
    validate_config(config)
    device = resolve_device(config.device)
    data = load_data(config) if data is None else data
    plan = make_plan(config, data)
    tensors = prepare_tensors(data, plan.features, plan.target, plan.num_classes, device)
    generator = torch.Generator().manual_seed(config.seed)
    model = build_model(plan, config, generator).to(device)
    optimizer = make_optimizer(model, config)
    l1, l2 = config.l1, config.l2

    history: list[dict[str, Any]] = []
    stopped: str | None = None
    steps = 0
    train_seconds = 0.0

    def record(epoch: int) -> dict[str, Any]:
        row: dict[str, Any] = {"epoch": epoch, "steps": steps}
        row["examples"] = plan.examples_after(steps)
        row.update(evaluate(model, plan, tensors, l1, l2))
        row["seconds"] = train_seconds
        history.append(row)
        if on_epoch is not None:
            on_epoch(row)
        return row

    with progress_bar(progress, plan.epochs, f"playground {config.data}") as advance:
        record(0)
        for epoch in range(1, plan.epochs + 1):
            tick = time.perf_counter()
            model.train()
            if config.shuffle:
                order = torch.randperm(plan.n_train, generator=generator).to(device)
            else:
                order = torch.arange(plan.n_train, device=device)
            for start in range(0, plan.n_train, plan.batch_size):
                batch = order[start : start + plan.batch_size]
                trace = model.trace(tensors.x_train[batch])
                loss = batch_loss(trace.logits, trace.output, tensors.t_train[batch], plan.loss)
                if l1 or l2:
                    loss = loss + penalty_of([layer.weight for layer in model.layers()], l1, l2)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                steps += 1
                if steps >= plan.total_steps:
                    break
            train_seconds += time.perf_counter() - tick
            row = record(epoch)
            advance(row)
            if not math.isfinite(row["train_loss"]):
                stopped = divergence_message(row["train_loss"], epoch)
                break
    model.eval()
    return PlaygroundResult(
        config, model, data, history, stopped, plan, time.perf_counter() - started
    )


def divergence_message(loss: float, epoch: int) -> str:
    """Return the one line that says training diverged, and when."""
    what = "NaN" if math.isnan(loss) else "infinite"
    return f"loss became {what} at epoch {epoch}"


def _accuracy(output: Tensor, classes: Tensor | None, plan: TrainingPlan) -> float | None:
    if classes is None:
        return None
    return float(accuracy_of(output, classes, plan.threshold))


def evaluate(
    model: MLP, plan: TrainingPlan, tensors: PlaygroundTensors, l1: float, l2: float
) -> dict[str, Any]:
    """Return one history row (without epoch/steps/seconds) for ``model`` now."""
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
    zs = [z.detach() for z in trace.pre_activations]
    row["dead_fraction"] = [
        float(dead_fraction_of(z)) if name in DEAD_ACTIVATIONS else 0.0
        for z, name in zip(zs, plan.activations, strict=True)
    ]
    row["saturated_fraction"] = [
        float(saturated_fraction_of(z)) if name in SATURATING_ACTIVATIONS else 0.0
        for z, name in zip(zs, plan.activations, strict=True)
    ]
    row["symmetric"] = [
        bool(symmetric_of(layer.weight.detach(), layer.bias.detach()))
        for layer in model.layers()[:-1]
    ]
    model.zero_grad(set_to_none=True)
    return row


class progress_bar:
    """A rich progress bar over epochs on stderr (a no-op when off or not a terminal)."""

    def __init__(self, enabled: bool, total: int, description: str) -> None:
        self.enabled = enabled
        self.total = total
        self.description = description
        self._progress: Any = None

    def __enter__(self) -> Callable[[dict[str, Any]], None]:
        if not self.enabled:
            return lambda row: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from neuralab.console import stderr_console

        console = stderr_console()
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            "loss {task.fields[loss]}",
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._progress.start()
        task = self._progress.add_task(self.description, total=self.total, loss="-")

        def advance(row: dict[str, Any]) -> None:
            self._progress.update(task, advance=1, loss=f"{row['train_loss']:.4f}")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
