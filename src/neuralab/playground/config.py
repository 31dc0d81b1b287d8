"""The configuration of one playground run: :class:`PlaygroundConfig`, every field with its default.

The TF Playground's knobs (data, features, layers, activation, learning rate, regularization,
batch size) and a few more (initialization scheme, order of the data, iterations). A config checks
itself when it is made (:func:`validate_config`), so a bad value is named before anything trains.
This module imports no torch: the command line builds its options from these fields quickly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neuralab.errors import NeuralabError, unknown_name_error

LOSSES = ("mse", "bce", "ce")
OPTIMIZERS = ("sgd", "momentum", "adam")
ORDERS = ("shuffled", "sorted")
MAX_EPOCHS = 100_000
# the one parameter a scheme written as name(value) sets, e.g. constant(0.5), normal(0.1)
_INIT_PARAMETER = {"constant": "c", "normal": "std", "uniform": "a", "scaled": "s"}


@dataclass
class PlaygroundConfig:
    """Everything that defines one playground run (the TF Playground's knobs, and a few more)."""

    data: str = "circle"  # toy data set name
    n: int = 400  # number of examples (train + test)
    noise: float = 0.0  # data noise (as in TF Playground, 0..50 percent for classification)
    train_ratio: float = 0.5  # fraction of the examples used for training
    order: str = "shuffled"  # "shuffled" | "sorted" (all examples of one class first)
    features: tuple[str, ...] = ("x1", "x2")  # of x1, x2, x1^2, x2^2, x1x2, sin_x1, sin_x2
    hidden: tuple[int, ...] = (4, 2)  # hidden layer sizes; () = no hidden layer
    activation: str = "tanh"  # hidden activation (one name, or comma list per layer as a str)
    output: str = "auto"  # sigmoid | tanh | linear | softmax | auto (from loss/task)
    loss: str = "auto"  # mse | bce | ce | auto
    dropout: float = 0.0  # dropout probability after every hidden layer
    init: str = "xavier_uniform"  # any scheme of neuralab.theory.initialization; constant(0.5)
    bias_init: float = 0.0  # every bias starts at this constant (0.01 keeps ReLUs active)
    optimizer: str = "sgd"  # sgd | momentum | adam
    lr: float = 0.03  # learning rate eta
    momentum: float = 0.9  # mu of the momentum optimiser
    batch_size: int = 10  # 0 = full batch (gradient descent), 1 = SGD
    l1: float = 0.0  # L1 penalty lambda_1 * sum |w|  (weights only, not biases)
    l2: float = 0.0  # L2 penalty lambda_2 / 2 * sum w^2  (weights only, not biases)
    shuffle: bool = True  # reshuffle every epoch
    epochs: int = 200  # passes over the training set
    seed: int = 0  # seeds initialization, shuffling and dropout (and the data, see data_seed)
    log_every: int = 0  # 0 = choose automatically
    iterations: int = 0  # > 0: stop after this many parameter updates (overrides epochs)
    target_loss: float = 0.0  # > 0: also stop at the end of the epoch the test loss reaches it
    data_seed: int | None = None  # seed of the data set; None = seed
    classes: int = 3  # number of classes of the multi-class set (blobs)
    device: str = "cpu"  # cpu | cuda | mps | auto (tiny networks are fastest on the CPU)

    def __post_init__(self) -> None:
        validate_config(self)


def parse_init(text: str) -> tuple[str, dict[str, float]]:
    """Return ``(scheme, parameters)`` from ``he``, ``constant(0.5)`` or ``normal:0.1``."""
    from neuralab.theory.initialization import get_init_scheme, list_init_schemes

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
    if name.strip().lower() not in list_init_schemes():
        get_init_scheme(name)  # raises the unknown-name error, with aliases resolved
    return name.strip().lower(), parameters


def validate_config(config: PlaygroundConfig) -> None:
    """Raise :class:`NeuralabError` naming the first bad field of ``config``; else return."""
    from neuralab.device import resolve_device
    from neuralab.playground.features import resolve_features
    from neuralab.playground.mlp import parse_activations, parse_hidden, parse_output

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
    resolve_features(config.features, input_dim=2)
    _check_data_name(config.data)
    resolve_device(config.device)


def _check_data_name(name: str) -> None:
    from neuralab.playground.toy_data import get_toy_data_spec

    if name.startswith("csv:"):  # points from a CSV file, read (and checked) when loaded
        if not name[4:].strip():
            raise NeuralabError("data 'csv:' needs a file: csv:PATH (rows x1,x2,label)")
        return
    get_toy_data_spec(name)  # unknown names raise, listing the valid ones
