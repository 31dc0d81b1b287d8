"""Many playground networks trained at once: K same-shaped MLPs as one batched model.

The weights of K networks with the same layer sizes are stacked, W_l of shape (K, out, in), and
every layer is one batched matrix product ``z = b + a W^T`` (``torch.baddbmm``) over all K
networks; the K losses are summed, so one backward pass gives each network exactly its own
gradient (the other networks' losses do not depend on its weights). The optimiser steps are
written out on the stacked tensors with per-network learning rate, momentum and penalties.

What may differ inside one batch: initialization, bias init, seed, activation (networks are
ordered by activation and each layer applies every activation to its contiguous slice), learning
rate, momentum, L1, L2, dropout, and the data set itself (data name, noise, data seed, order) as
long as its shape is the same. Everything that changes shapes or the schedule (layer sizes,
features, n, train ratio, batch size, epochs, optimiser kind, output, loss, shuffling) starts a
new batch: :func:`train_batched` groups the configs by :func:`batch_key`.

Each network uses its own ``torch.Generator`` seeded with its seed, drawing initialization,
shuffling and dropout masks in the order the sequential trainer draws them, so a network trained
in a batch ends equal (to float rounding) to :func:`~neuralab.playground.run.train_playground`
with the same config: the tests check it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from neuralab.playground.config import PlaygroundConfig, validate_config
from neuralab.playground.features import PlaygroundTensors, prepare_tensors
from neuralab.playground.mlp import (
    DEAD_ACTIVATIONS,
    MLP,
    SATURATING_ACTIVATIONS,
    accuracy_of,
    batch_loss,
    dead_fraction_of,
    parse_hidden,
    penalty_of,
    saturated_fraction_of,
    symmetric_of,
)
from neuralab.playground.run import (
    Optimizer,
    PlaygroundResult,
    TrainingPlan,
    build_model,
    divergence_message,
    load_data,
    make_plan,
    progress_bar,
)
from neuralab.theory.activations import get_activation

if TYPE_CHECKING:
    from neuralab.playground.toy_data import ToyDataset


def batch_key(config: PlaygroundConfig, plan: TrainingPlan) -> tuple[Any, ...]:
    """Return what must be equal for two configs to train in one batch (shapes and schedule)."""
    return (
        plan.task,
        plan.num_classes,
        plan.features,
        plan.hidden,
        plan.output,
        plan.loss,
        plan.target,
        plan.n_train,
        plan.n_test,
        plan.batch_size,
        plan.epochs,
        plan.total_steps,
        config.optimizer.strip().lower(),
        config.shuffle,
        config.device,
    )


@dataclass
class _Member:
    """One network of a batch: its config, plan, data and generator."""

    index: int  # position in the caller's list
    config: PlaygroundConfig
    plan: TrainingPlan
    data: ToyDataset
    tensors: PlaygroundTensors
    generator: torch.Generator


class StackedMLP:
    """K MLPs of equal layer sizes as stacked tensors: W_l (K, out, in), b_l (K, out)."""

    def __init__(self, models: Sequence[MLP], device: torch.device) -> None:
        layers = [model.layers() for model in models]
        self.weights = [
            torch.stack([m[i].weight.detach() for m in layers]).to(device).requires_grad_()
            for i in range(len(layers[0]))
        ]
        self.biases = [
            torch.stack([m[i].bias.detach() for m in layers]).to(device).requires_grad_()
            for i in range(len(layers[0]))
        ]
        self.count = len(models)
        # per hidden layer: runs (start, stop, f) of consecutive networks with one activation
        self.segments = [
            _segments([m.activation_names[layer] for m in models])
            for layer in range(len(models[0].activation_names))
        ]
        self.output_function = get_activation(models[0].output_name).function
        rates = torch.tensor([m.dropout_rates for m in models], dtype=torch.float32)
        self.dropout = rates.reshape(self.count, len(models[0].dropout_rates))  # (K, L)
        self.drops = [bool((self.dropout[:, layer] > 0).any()) for layer in range(rates.shape[1])]
        self.generators = [m.generator for m in models]

    def parameters(self) -> list[Tensor]:
        """Return the stacked tensors, weights and biases interleaved layer by layer."""
        return [t for pair in zip(self.weights, self.biases, strict=True) for t in pair]

    def forward(self, x: Tensor, train: bool = False) -> tuple[list[Tensor], Tensor, Tensor]:
        """Return (hidden pre-activations (K, B, H_l), logits (K, B, out), output) for x (K, B, F)."""
        pre_activations = []
        a = x
        for layer, segments in enumerate(self.segments):
            z = torch.baddbmm(self.biases[layer].unsqueeze(1), a, self.weights[layer].mT)
            pre_activations.append(z)
            if len(segments) == 1:
                a = segments[0][2](z)
            else:
                a = torch.cat([f(z[start:stop]) for start, stop, f in segments])
            if train and self.drops[layer]:
                a = self._drop(a, layer)
        logits = torch.baddbmm(self.biases[-1].unsqueeze(1), a, self.weights[-1].mT)
        return pre_activations, logits, self.output_function(logits)

    def _drop(self, a: Tensor, layer: int) -> Tensor:
        # each network draws its own mask from its own generator, exactly as MLP.trace does;
        # networks without dropout draw nothing, so their random streams stay in step too
        masks = []
        for k, generator in enumerate(self.generators):
            p = float(self.dropout[k, layer])
            if p > 0:
                masks.append(torch.rand(a.shape[1:], generator=generator) >= p)
            else:
                masks.append(torch.ones(a.shape[1:], dtype=torch.bool))
        keep = torch.stack(masks).to(a.device, a.dtype)  # (K, B, H)
        scale = (1.0 - self.dropout[:, layer].double()).to(a.device, a.dtype)  # (K,)
        return a * keep / scale.reshape(-1, 1, 1)

    def unstack(self, k: int, model: MLP) -> MLP:
        """Copy network ``k``'s weights into ``model`` (same sizes) and return it."""
        with torch.no_grad():
            for layer, weight, bias in zip(model.layers(), self.weights, self.biases, strict=True):
                layer.weight.copy_(weight[k])
                layer.bias.copy_(bias[k])
        return model


def _segments(names: Sequence[str]) -> list[tuple[int, int, Callable[[Tensor], Tensor]]]:
    runs: list[tuple[int, int, Callable[[Tensor], Tensor]]] = []
    start = 0
    for k in range(1, len(names) + 1):
        if k == len(names) or names[k] != names[start]:
            runs.append((start, k, get_activation(names[start]).function))
            start = k
    return runs


def train_batched(
    configs: Sequence[PlaygroundConfig],
    *,
    datasets: Sequence[ToyDataset | None] | None = None,
    progress: bool = False,
) -> list[PlaygroundResult]:
    """Return one result per config, training every group of same-shaped configs at once.

    ``datasets`` optionally gives each config its data set (None: the one the config names).
    The results come back in the order of ``configs``.
    """
    from neuralab.device import resolve_device

    for config in configs:
        validate_config(config)
    cache: dict[tuple[Any, ...], ToyDataset] = {}
    members: list[_Member] = []
    for index, config in enumerate(configs):
        data = datasets[index] if datasets is not None else None
        if data is None:
            seed = config.seed if config.data_seed is None else config.data_seed
            key = (config.data, config.n, config.noise, seed, config.train_ratio, config.order)
            data = cache.get((*key, config.classes))
            if data is None:
                data = cache.setdefault((*key, config.classes), load_data(config))
        plan = make_plan(config, data)
        device = resolve_device(config.device)
        tensors = prepare_tensors(data, plan.features, plan.target, plan.num_classes, device)
        generator = torch.Generator().manual_seed(config.seed)
        members.append(_Member(index, config, plan, data, tensors, generator))

    groups: dict[tuple[Any, ...], list[_Member]] = {}
    for member in members:
        groups.setdefault(batch_key(member.config, member.plan), []).append(member)
    results: list[PlaygroundResult | None] = [None] * len(configs)
    total_epochs = sum(group[0].plan.epochs for group in groups.values())
    with progress_bar(progress, total_epochs, f"{len(configs)} networks") as advance:
        for number, group in enumerate(groups.values()):
            # contiguous activations let each layer apply one function per slice
            group.sort(key=lambda m: m.plan.activations)
            for member, result in zip(group, _train_group(group, advance), strict=True):
                result.extra.update(group=number, batched=len(group))
                results[member.index] = result
    return [r for r in results if r is not None]


def _train_group(
    group: list[_Member], advance: Callable[[dict[str, Any]], None]
) -> list[PlaygroundResult]:
    """Return the results of training the networks of ``group`` (same batch key) at once."""
    from neuralab.device import resolve_device

    started = time.perf_counter()
    first = group[0]
    plan, device = first.plan, resolve_device(first.config.device)
    models = [build_model(m.plan, m.config, m.generator) for m in group]
    stacked = StackedMLP(models, device)
    count = len(group)

    def column(name: str) -> Tensor:
        return torch.tensor([float(getattr(m.config, name)) for m in group], device=device)

    l1, l2 = column("l1"), column("l2")
    use_penalty = bool((l1 > 0).any() or (l2 > 0).any())
    params = stacked.parameters()

    def per_network(values: Tensor, p: Tensor) -> Tensor:
        return values.reshape(-1, *([1] * (p.dim() - 1))).to(p)  # (K, 1, ...) broadcasts

    optimizer = Optimizer(
        first.config.optimizer,
        params,
        [per_network(column("lr"), p) for p in params],
        [per_network(column("momentum"), p) for p in params],
    )
    x_train = _stack([m.tensors.x_train for m in group])  # (K, N, F)
    t_train = _stack([m.tensors.t_train for m in group])
    x_test = _stack([m.tensors.x_test for m in group])
    t_test = _stack([m.tensors.t_test for m in group])
    c_train = _stack_optional([m.tensors.c_train for m in group])
    c_test = _stack_optional([m.tensors.c_test for m in group])
    rows_of = _Recorder(group, stacked, plan, l1 if use_penalty else None, l2)
    histories: list[list[dict[str, Any]]] = [[] for _ in group]
    stopped: list[str | None] = [None] * count
    snapshots: dict[int, MLP] = {}
    members = torch.arange(count, device=device).unsqueeze(1)  # (K, 1) for gathering batches
    steps, train_seconds = 0, 0.0

    def record(epoch: int) -> None:
        rows = rows_of(x_train, t_train, c_train, x_test, t_test, c_test)
        for k, row in enumerate(rows):
            if stopped[k] is not None:
                continue
            row = {"epoch": epoch, "steps": steps, "examples": plan.examples_after(steps), **row}
            row["seconds"] = train_seconds
            histories[k].append(row)
            if not math.isfinite(row["train_loss"]):
                stopped[k] = divergence_message(row["train_loss"], epoch)
                snapshots[k] = stacked.unstack(k, models[k])

    record(0)
    for epoch in range(1, plan.epochs + 1):
        tick = time.perf_counter()
        if first.config.shuffle:
            order = torch.stack(
                [torch.randperm(plan.n_train, generator=m.generator) for m in group]
            )
            order = order.to(device)  # (K, N)
        else:
            order = torch.arange(plan.n_train, device=device).expand(count, -1)
        for start in range(0, plan.n_train, plan.batch_size):
            batch = order[:, start : start + plan.batch_size]  # (K, B)
            _, logits, output = stacked.forward(x_train[members, batch], train=True)
            loss = batch_loss(logits, output, t_train[members, batch], plan.loss)  # (K,)
            if use_penalty:
                loss = loss + penalty_of(stacked.weights, l1, l2)
            optimizer.zero_grad()
            loss.sum().backward()
            optimizer.step()
            steps += 1
            if steps >= plan.total_steps:
                break
        train_seconds += time.perf_counter() - tick
        record(epoch)
        advance({"train_loss": float("nan")} if not histories[0] else histories[0][-1])
        if all(s is not None for s in stopped):
            break
    seconds = time.perf_counter() - started
    results = []
    for k, member in enumerate(group):
        model = snapshots[k] if k in snapshots else stacked.unstack(k, models[k])
        model.eval()
        results.append(
            PlaygroundResult(
                member.config, model, member.data, histories[k], stopped[k], member.plan, seconds
            )
        )
    return results


def _stack(tensors: Sequence[Tensor]) -> Tensor:
    """Stack per-network tensors; one shared tensor is expanded, not copied."""
    if all(t is tensors[0] for t in tensors):
        return tensors[0].unsqueeze(0).expand(len(tensors), *tensors[0].shape)
    return torch.stack(list(tensors))


def _stack_optional(tensors: Sequence[Tensor | None]) -> Tensor | None:
    present = [t for t in tensors if t is not None]
    return _stack(present) if len(present) == len(tensors) else None


class _Recorder:
    """Computes the history rows of all K networks at once (one transfer to Python per epoch)."""

    def __init__(
        self,
        group: list[_Member],
        stacked: StackedMLP,
        plan: TrainingPlan,
        l1: Tensor | None,
        l2: Tensor,
    ) -> None:
        self.stacked, self.plan, self.l1, self.l2 = stacked, plan, l1, l2
        self.activations = [m.plan.activations for m in group]

    def __call__(
        self,
        x_train: Tensor,
        t_train: Tensor,
        c_train: Tensor | None,
        x_test: Tensor,
        t_test: Tensor,
        c_test: Tensor | None,
    ) -> list[dict[str, Any]]:
        stacked, plan = self.stacked, self.plan
        for p in stacked.parameters():
            p.grad = None
        zs, logits, output = stacked.forward(x_train)
        train_loss = batch_loss(logits, output, t_train, plan.loss)  # (K,)
        objective = train_loss
        if self.l1 is not None:
            objective = objective + penalty_of(stacked.weights, self.l1, self.l2)
        objective.sum().backward()
        with torch.no_grad():
            columns: dict[str, Tensor] = {"train_loss": train_loss.detach()}
            if c_train is not None:
                columns["train_acc"] = accuracy_of(output, c_train, plan.threshold)
            if x_test.shape[1] > 0:
                _, test_logits, test_output = stacked.forward(x_test)
                columns["test_loss"] = batch_loss(test_logits, test_output, t_test, plan.loss)
                if c_test is not None:
                    columns["test_acc"] = accuracy_of(test_output, c_test, plan.threshold)
            per_layer = {
                "grad_norm": [_norm(w.grad) for w in stacked.weights],
                "weight_norm": [_norm(w) for w in stacked.weights],
                "dead_fraction": [dead_fraction_of(z) for z in zs],
                "saturated_fraction": [saturated_fraction_of(z) for z in zs],
                "symmetric": [
                    symmetric_of(w, b).to(torch.float32)
                    for w, b in zip(stacked.weights[:-1], stacked.biases[:-1], strict=True)
                ],
            }
            names = list(columns) + [
                f"{key}:{i}" for key, v in per_layer.items() for i in range(len(v))
            ]
            values = list(columns.values()) + [t for v in per_layer.values() for t in v]
            table = torch.stack([v.to(torch.float32).reshape(-1) for v in values], dim=1).tolist()
        for p in stacked.parameters():
            p.grad = None
        return [self._row(k, dict(zip(names, cells, strict=True))) for k, cells in enumerate(table)]

    def _row(self, k: int, cells: dict[str, float]) -> dict[str, Any]:
        activations = self.activations[k]
        layers = len(self.stacked.weights)

        def layer_list(key: str, count: int) -> list[float]:
            return [cells[f"{key}:{i}"] for i in range(count)]

        return {
            "train_loss": cells["train_loss"],
            "test_loss": cells.get("test_loss"),
            "train_acc": cells.get("train_acc"),
            "test_acc": cells.get("test_acc"),
            "grad_norm": layer_list("grad_norm", layers),
            "weight_norm": layer_list("weight_norm", layers),
            "dead_fraction": [
                v if name in DEAD_ACTIVATIONS else 0.0
                for v, name in zip(
                    layer_list("dead_fraction", layers - 1), activations, strict=True
                )
            ],
            "saturated_fraction": [
                v if name in SATURATING_ACTIVATIONS else 0.0
                for v, name in zip(
                    layer_list("saturated_fraction", layers - 1), activations, strict=True
                )
            ],
            "symmetric": [v > 0.5 for v in layer_list("symmetric", layers - 1)],
        }


def _norm(tensor: Tensor | None) -> Tensor:
    assert tensor is not None
    return torch.linalg.vector_norm(tensor.detach(), dim=(-2, -1))


# -- comparison grids --------------------------------------------------------------------------
MAX_GRID_CELLS = 64  # combinations in one --compare grid
MAX_SEEDS = 20  # seeds per cell
SUMMARY_METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")


@dataclass
class CompareCell:
    """One combination of the grid: its settings, one result per seed, mean and std over seeds."""

    settings: dict[str, Any]  # the varied fields and their values, e.g. {"init": "he"}
    results: list[PlaygroundResult]
    mean: dict[str, float | None]  # final train/test loss and accuracy, dead fraction
    std: dict[str, float | None]
    diverged: int  # seeds whose loss became NaN or infinite

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={show_value(v)}" for k, v in self.settings.items())


@dataclass
class CompareResult:
    """A comparison grid: every combination of the axes, trained over several seeds."""

    base: PlaygroundConfig
    axes: list[tuple[str, list[Any]]]  # (field, values) in the order given
    seeds: list[int]
    cells: list[CompareCell]
    groups: int  # batched models trained (configs of one shape train as one)
    seconds: float

    def rows(self) -> list[dict[str, Any]]:
        """Return one table row per cell: settings, then mean and std of the final metrics."""
        rows = []
        for cell in self.cells:
            row: dict[str, Any] = {k: show_value(v) for k, v in cell.settings.items()}
            for key in (*SUMMARY_METRICS, "dead_fraction"):
                row[key] = cell.mean[key]
                row[f"{key}_std"] = cell.std[key]
            row["diverged"] = cell.diverged
            rows.append(row)
        return rows


def show_value(value: Any) -> str:
    """Return a grid value as the table shows it: (8, 8) -> 8x8, () -> none."""
    if isinstance(value, tuple | list):
        return "x".join(str(v) for v in value) if value else "none"
    return str(value)


def parse_compare(specs: Sequence[str]) -> list[tuple[str, list[Any]]]:
    """Return the grid axes from ``["init=zeros,he", "activation=relu,sigmoid"]``.

    Values are converted to the field's type; inside one value, ``+`` joins list items
    (``hidden=4,8+8`` is (4,) and (8, 8); ``features=x1+x2,x1^2+x2^2``; ``hidden`` also takes 8x8).
    """
    import typing

    from neuralab.config import config_fields, convert_value
    from neuralab.errors import NeuralabError, unknown_name_error

    hints = typing.get_type_hints(PlaygroundConfig)
    axes: list[tuple[str, list[Any]]] = []
    for spec in specs:
        key, sep, text = spec.partition("=")
        name = key.strip().replace("-", "_")
        if not sep or not name or not text.strip():
            raise NeuralabError(f"--compare {spec!r} is not of the form field=value,value,...")
        if name not in config_fields(PlaygroundConfig):
            raise unknown_name_error("field to compare", name, config_fields(PlaygroundConfig))
        if any(name == axis for axis, _ in axes):
            raise NeuralabError(f"--compare names {name!r} twice; give all its values at once")
        values = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                raise NeuralabError(f"--compare {spec!r} has an empty value")
            item = part.replace("+", ",")
            if name == "hidden":
                values.append(parse_hidden("" if item.lower() == "none" else item))
            else:
                values.append(convert_value(item, hints[name], name))
        axes.append((name, values))
    return axes


def grid_configs(
    base: PlaygroundConfig, axes: Sequence[tuple[str, Sequence[Any]]], seeds: int = 1
) -> list[tuple[dict[str, Any], list[PlaygroundConfig]]]:
    """Return every combination of ``axes`` with its configs, one per seed.

    Seeds are ``base.seed``, ``base.seed + 1``, ...; they vary initialization, shuffling and
    dropout, while the data set stays the one of ``base`` (its seed is pinned) unless ``seed``
    or ``data_seed`` is itself an axis.
    """
    import itertools
    from dataclasses import replace

    from neuralab.errors import NeuralabError

    cells = math.prod(len(values) for _, values in axes) if axes else 1
    if cells > MAX_GRID_CELLS:
        sizes = " x ".join(str(len(v)) for _, v in axes)
        raise NeuralabError(
            f"the grid has {sizes} = {cells} cells; at most {MAX_GRID_CELLS} are allowed "
            "(compare fewer values at once)"
        )
    if not 1 <= seeds <= MAX_SEEDS:
        raise NeuralabError(f"seeds={seeds} must be 1..{MAX_SEEDS}")
    data_seed = base.seed if base.data_seed is None else base.data_seed
    names = [name for name, _ in axes]
    grid = []
    for combination in itertools.product(*(values for _, values in axes)):
        settings = dict(zip(names, combination, strict=True))
        cell = replace(base, **settings)
        if "data_seed" not in settings and "seed" not in settings:
            cell = replace(cell, data_seed=data_seed)
        if "seed" in settings:
            runs = [replace(cell, seed=cell.seed + i) for i in range(seeds)]
        else:
            runs = [replace(cell, seed=base.seed + i) for i in range(seeds)]
        grid.append((settings, runs))
    return grid


def compare_grid(
    base: PlaygroundConfig,
    axes: Sequence[tuple[str, Sequence[Any]]],
    *,
    seeds: int = 1,
    progress: bool = False,
) -> CompareResult:
    """Return the comparison grid of ``axes`` around ``base``, trained batched over ``seeds``."""
    started = time.perf_counter()
    grid = grid_configs(base, axes, seeds)
    configs = [config for _, runs in grid for config in runs]
    results = train_batched(configs, progress=progress)
    cells = []
    for number, (settings, _) in enumerate(grid):
        runs = results[number * seeds : (number + 1) * seeds]
        cells.append(_summarise(settings, runs))
    groups = len({(r.extra.get("group")) for r in results})
    return CompareResult(
        base,
        [(name, list(values)) for name, values in axes],
        [base.seed + i for i in range(seeds)],
        cells,
        groups,
        time.perf_counter() - started,
    )


def _summarise(settings: dict[str, Any], runs: list[PlaygroundResult]) -> CompareCell:
    import statistics

    mean: dict[str, float | None] = {}
    std: dict[str, float | None] = {}
    finals = [r.final for r in runs]
    for key in (*SUMMARY_METRICS, "dead_fraction"):
        values: list[float] = []
        for row in finals:
            value = row.get(key)
            if isinstance(value, list):
                value = sum(value) / len(value) if value else 0.0
            if value is not None:
                values.append(float(value))
        if len(values) < len(finals) or not values:
            mean[key] = std[key] = None
            continue
        mean[key] = statistics.fmean(values)
        std[key] = statistics.stdev(values) if len(values) > 1 else 0.0
    if not any(a in DEAD_ACTIVATIONS for r in runs if r.plan for a in r.plan.activations):
        mean["dead_fraction"] = std["dead_fraction"] = None  # no ReLU layer: cannot die
    diverged = sum(r.stopped is not None for r in runs)
    return CompareCell(settings, runs, mean, std, diverged)
