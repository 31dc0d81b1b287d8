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
with the same config: the tests check it. Comparison grids built on this:
:mod:`neuralab.playground.compare`.
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
    penalty_of,
    saturated_fraction_of,
    symmetric_of,
)
from neuralab.playground.optimizer import Optimizer
from neuralab.playground.plan import TrainingPlan, build_model, load_data, make_plan
from neuralab.playground.run import progress_bar
from neuralab.playground.session import PlaygroundResult, divergence_message
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
    starts = [k for k in range(len(names)) if k == 0 or names[k] != names[k - 1]]
    stops = [*starts[1:], len(names)]
    return [(a, b, get_activation(names[a]).function) for a, b in zip(starts, stops, strict=True)]


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
            if (*key, config.classes) not in cache:
                cache[(*key, config.classes)] = load_data(config)
            data = cache[(*key, config.classes)]
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
    x_train = torch.stack([m.tensors.x_train for m in group])  # (K, N, F)
    t_train = torch.stack([m.tensors.t_train for m in group])
    x_test = torch.stack([m.tensors.x_test for m in group])
    t_test = torch.stack([m.tensors.t_test for m in group])
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


def _stack_optional(tensors: Sequence[Tensor | None]) -> Tensor | None:
    present = [t for t in tensors if t is not None]
    return torch.stack(present) if len(present) == len(tensors) else None


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

        def counted_for(key: str, kinds: frozenset[str]) -> list[float]:
            values = layer_list(key, layers - 1)
            return [v if a in kinds else 0.0 for v, a in zip(values, activations, strict=True)]

        return {
            "train_loss": cells["train_loss"],
            "test_loss": cells.get("test_loss"),
            "train_acc": cells.get("train_acc"),
            "test_acc": cells.get("test_acc"),
            "grad_norm": layer_list("grad_norm", layers),
            "weight_norm": layer_list("weight_norm", layers),
            "dead_fraction": counted_for("dead_fraction", DEAD_ACTIVATIONS),
            "saturated_fraction": counted_for("saturated_fraction", SATURATING_ACTIVATIONS),
            "symmetric": [v > 0.5 for v in layer_list("symmetric", layers - 1)],
        }


def _norm(tensor: Tensor | None) -> Tensor:
    assert tensor is not None
    return torch.linalg.vector_norm(tensor.detach(), dim=(-2, -1))
