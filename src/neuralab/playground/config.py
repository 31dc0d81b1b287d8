"""The configuration of one playground run: :class:`PlaygroundConfig`, every field with its default.

The TF Playground's knobs (data, features, layers, activation, learning rate, regularization,
batch size) and a few more (initialization scheme, order of the data, iterations). A config checks
itself when it is made (:func:`validate_config`), so a bad value is named before anything trains.
This module imports no torch: the command line builds its options from these fields quickly.
"""

from __future__ import annotations

import itertools
import math
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from neuralab.config import option
from neuralab.errors import NeuralabError, unknown_name_error
from neuralab.limits import check_memory

LossName = Literal["mse", "bce", "ce"]
OptimizerName = Literal["sgd", "momentum", "adam"]
OrderName = Literal["shuffled", "sorted"]
LOSSES: tuple[str, ...] = typing.get_args(LossName)
OPTIMIZERS: tuple[str, ...] = typing.get_args(OptimizerName)
ORDERS: tuple[str, ...] = typing.get_args(OrderName)
MAX_EPOCHS = 100_000
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes 64 bits; seed + i must fit too
# the one parameter a scheme written as name(value) sets, e.g. constant(0.5), normal(0.1)
_INIT_PARAMETER = {"constant": "c", "normal": "std", "uniform": "a", "scaled": "s"}
_DATA, _NETWORK, _TRAINING = "Data", "Network", "Training"


@dataclass
class PlaygroundConfig:
    """Everything that defines one playground run (the TF Playground's knobs, and a few more)."""

    data: str = option(
        "circle",
        help="Toy data set: circle, xor, gauss, spiral, moons, blobs, plane, multi-gauss, curve; "
        "or csv:PATH (rows x1,x2,label)",
        group=_DATA,
    )
    n: int = option(400, help="Number of examples (train + test)", group=_DATA)
    noise: float = option(
        0.0,
        help="Noise in percent, as TF Playground's slider (0..50 for classification)",
        group=_DATA,
    )
    train_ratio: float = option(0.5, help="Fraction of the examples used for training", group=_DATA)
    order: OrderName = option(
        "shuffled",
        help="Order of the training set: sorted puts all of one class first",
        group=_DATA,
    )
    features: tuple[str, ...] = option(
        ("x1", "x2"),
        help="Input features of x1, x2, x1^2, x2^2, x1x2, sin_x1, sin_x2",
        group=_DATA,
    )
    hidden: tuple[int, ...] = option(
        (4, 2), help="Hidden layer sizes, e.g. 8,8 ('' = no hidden layer)", group=_NETWORK
    )
    activation: str = option(
        "tanh", help="Hidden activation, or one per layer: relu,tanh", group=_NETWORK
    )
    output: str = option(
        "auto",
        help="Output activation: sigmoid, tanh, linear, softmax, auto (from the loss and task)",
        group=_NETWORK,
    )
    loss: str = option(
        "auto", help="Loss (auto: from the task)", choices=(*LOSSES, "auto"), group=_NETWORK
    )
    dropout: float = option(
        0.0, help="Dropout probability after every hidden layer", group=_NETWORK
    )
    init: str = option(
        "xavier_uniform",
        help="Weight init, any scheme of neuralab.theory.initialization: he, xavier, zeros, "
        "small, large, constant(0.5), normal(0.1), ...",
        group=_NETWORK,
    )
    bias_init: float = option(
        0.0, help="Constant every bias starts at (0.01 keeps ReLUs alive)", group=_NETWORK
    )
    optimizer: str = option("sgd", help="Optimiser", choices=OPTIMIZERS, group=_TRAINING)
    lr: float = option(0.03, help="Learning rate eta", group=_TRAINING)
    momentum: float = option(0.9, help="Momentum mu of the momentum optimiser", group=_TRAINING)
    batch_size: int = option(
        10,
        help="Examples per update: 0 = full batch (gradient descent), 1 = SGD",
        group=_TRAINING,
    )
    l1: float = option(
        0.0, help="L1 penalty lambda_1 * sum |w| (weights only, not biases)", group=_TRAINING
    )
    l2: float = option(
        0.0, help="L2 penalty lambda_2 / 2 * sum w^2 (weights only, not biases)", group=_TRAINING
    )
    shuffle: bool = option(True, help="Reshuffle the training set every epoch", group=_TRAINING)
    epochs: int = option(200, help="Passes over the training set", group=_TRAINING)
    seed: int = option(
        0,
        help="Seed of initialization, shuffling, dropout (and the data, see --data-seed)",
        group=_TRAINING,
    )
    log_every: int = option(
        0, help="Print a line every k epochs (0: about 10 lines)", group=_TRAINING
    )
    iterations: int = option(
        0, help="Stop after this many updates instead (0: run the epochs)", group=_TRAINING
    )
    target_loss: float = option(
        0.0,
        help="Also stop at the end of the epoch where the test loss reaches this (0: off)",
        group=_TRAINING,
    )
    data_seed: int | None = option(None, help="Seed of the data set (none: --seed)", group=_DATA)
    classes: int = option(3, help="Number of classes of the multi-class set (blobs)", group=_DATA)
    device: str = option(
        "cpu",
        help="cpu, cuda, mps or auto (tiny networks are fastest on the CPU)",
        group=_TRAINING,
    )

    def __post_init__(self) -> None:
        validate_config(self)


def parse_init(text: str) -> tuple[str, dict[str, float]]:
    """Return ``(scheme, parameters)`` from ``he``, ``constant(0.5)`` or ``normal:0.1``."""
    from neuralab.theory.init_names import INIT_SCHEME_ALIASES, checked_init_scheme

    name, _, rest = text.strip().replace(":", "(", 1).partition("(")
    parameters: dict[str, float] = {}
    value = rest.rstrip(")").strip()
    if value:
        key = _INIT_PARAMETER.get(name.strip().lower())
        if key is None:
            raise NeuralabError(
                f"initialization {text!r}: only {', '.join(_INIT_PARAMETER)} take a value"
            )
        try:
            parameters[key] = float(value)
        except ValueError:
            raise NeuralabError(f"initialization {text!r}: {value!r} is not a number") from None
    if name.strip().lower() not in INIT_SCHEME_ALIASES:
        checked_init_scheme(name)  # raises the unknown-name error, with aliases resolved
    return name.strip().lower(), parameters


def validate_config(config: PlaygroundConfig) -> None:
    """Raise :class:`NeuralabError` naming the first bad field of ``config``; else return."""
    from neuralab.playground.names import (
        parse_activations,
        parse_hidden,
        parse_output,
        resolve_features,
    )

    checks = [
        (config.n >= 4, f"n={config.n} must be at least 4"),
        (0 <= config.noise <= 100, f"noise={config.noise} must be a percentage 0..100"),
        (config.classes >= 2, f"classes={config.classes} must be at least 2"),
        (0 < config.train_ratio <= 1, f"train_ratio={config.train_ratio} must be in (0, 1]"),
        (0 <= config.dropout < 1, f"dropout={config.dropout} must be in [0, 1)"),
        (config.lr > 0 and math.isfinite(config.lr), f"lr={config.lr} must be > 0"),
        (0 <= config.momentum < 1, f"momentum={config.momentum} must be in [0, 1)"),
        (config.batch_size >= 0, f"batch_size={config.batch_size} must be >= 0 (0 = full)"),
        (config.l1 >= 0 and config.l2 >= 0, f"l1={config.l1}, l2={config.l2} must be >= 0"),
        (1 <= config.epochs <= MAX_EPOCHS, f"epochs={config.epochs} must be 1..{MAX_EPOCHS}"),
        (config.iterations >= 0, f"iterations={config.iterations} must be >= 0"),
        (config.log_every >= 0, f"log_every={config.log_every} must be >= 0"),
        (0 <= config.seed <= MAX_SEED, f"seed={config.seed} must be an integer 0..{MAX_SEED}"),
        (
            config.data_seed is None or 0 <= config.data_seed <= MAX_SEED,
            f"data_seed={config.data_seed} must be an integer 0..{MAX_SEED} (or none)",
        ),
        (math.isfinite(config.bias_init), f"bias_init={config.bias_init} must be finite"),
        (
            config.target_loss >= 0 and math.isfinite(config.target_loss),
            f"target_loss={config.target_loss} must be >= 0 (0 = no target)",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise NeuralabError(message)
    if config.order not in ORDERS:
        raise unknown_name_error("order", config.order, ORDERS)
    if config.optimizer.strip().lower() not in OPTIMIZERS:
        raise unknown_name_error("optimizer", config.optimizer, OPTIMIZERS)
    if config.loss.strip().lower() not in (*LOSSES, "auto"):
        raise unknown_name_error("loss", config.loss, (*LOSSES, "auto"))
    if config.output.strip().lower() != "auto":
        parse_output(config.output)
    hidden = parse_hidden(config.hidden)
    parse_activations(config.activation, len(hidden))
    parse_init(config.init)
    features = resolve_features(config.features, input_dim=2)
    _check_data_name(config.data)
    check_memory(
        memory_estimate(config.n, len(features), hidden, config.classes),
        f"a playground of n={config.n:,} points and hidden layers "
        f"{','.join(map(str, hidden)) or 'none'}",
    )
    # last: asking torch what devices there are costs its import (every name above is
    # checked without it, so a typo is answered at once; auto and cpu need no asking)
    from neuralab.device import check_device_available

    check_device_available(config.device)


def memory_estimate(n: int, features: int, hidden: Sequence[int], classes: int) -> int:
    """Return the bytes a run needs, roughly: float32 data, weights (with gradients and Adam's
    two moments), and the activations of a full batch forward and backward pass.

    4 (n (2 + f + 1) + 4 P + 3 n (sum(hidden) + K)), P = sum of fan_in x fan_out + biases.
    """
    sizes = [features, *hidden, classes]
    parameters = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    return 4 * (n * (2 + features + 1) + 4 * parameters + 3 * n * (sum(hidden) + classes))


def _check_data_name(name: str) -> None:
    from neuralab.playground.names import checked_toy_data

    if name.startswith("csv:"):  # points from a CSV file, read (and checked) when loaded
        if not name[4:].strip():
            raise NeuralabError("data 'csv:' needs a file: csv:PATH (rows x1,x2,label)")
        return
    checked_toy_data(name)  # unknown names raise, listing the valid ones
