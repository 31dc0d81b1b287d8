"""What one browser tab may ask of the server: :class:`Limits` and the check of a config against them.

The playground's own validation (:func:`neuralab.playground.config.validate_config`) says what is
*valid*; these limits say what a shared server is willing to train and draw for one tab: a network
the page can show (every hidden unit gets a heat map), a data set it can plot, messages it can
parse quickly. Each refusal is one line naming the value and the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig


@dataclass(frozen=True)
class Limits:
    """The largest request one tab may make (a server-wide setting)."""

    max_layers: int = 10  # hidden layers (the course's deep network for vanishing gradients)
    max_neurons: int = 64  # units in one hidden layer (the regularization experiment's 64)
    max_hidden_units: int = 256  # hidden units in all layers together (heat maps drawn per unit)
    max_points: int = 5000  # examples of a data set, generated or uploaded
    max_classes: int = 10  # classes of the blobs data set
    max_epochs: int = 100_000  # the stop condition
    max_upload_bytes: int = 1_000_000  # size of an uploaded CSV file
    max_message_bytes: int = 1_100_000  # one WebSocket message (an upload, JSON-quoted)
    messages_per_second: float = 60.0  # sustained rate of commands from one tab
    message_burst: int = 120  # commands allowed at once before the rate applies
    max_sessions: int = 32  # open tabs (each holds at most two networks)
    grid: int = 80  # output heat map resolution (grid x grid points)
    neuron_grid: int = 20  # resolution of every unit's small heat map


def check_config(config: PlaygroundConfig, limits: Limits) -> None:
    """Raise :class:`NeuralabError` naming the first field of ``config`` over ``limits``."""
    hidden = tuple(config.hidden)
    if len(hidden) > limits.max_layers:
        raise NeuralabError(
            f"hidden={','.join(map(str, hidden))}: {len(hidden)} hidden layers; "
            f"the browser playground draws at most {limits.max_layers}"
        )
    if hidden and max(hidden) > limits.max_neurons:
        raise NeuralabError(
            f"hidden={','.join(map(str, hidden))}: a layer of {max(hidden)} units; "
            f"the browser playground draws at most {limits.max_neurons} per layer"
        )
    if sum(hidden) > limits.max_hidden_units:
        raise NeuralabError(
            f"hidden={','.join(map(str, hidden))}: {sum(hidden)} hidden units in all; "
            f"the browser playground draws at most {limits.max_hidden_units}"
        )
    if config.n > limits.max_points:
        raise NeuralabError(
            f"n={config.n} examples; the browser playground takes at most {limits.max_points}"
        )
    if config.classes > limits.max_classes:
        raise NeuralabError(
            f"classes={config.classes}; the browser playground takes at most {limits.max_classes}"
        )
    if config.epochs > limits.max_epochs:
        raise NeuralabError(
            f"epochs={config.epochs}; the browser playground stops at most at {limits.max_epochs}"
        )
    if config.device.strip().lower() != "cpu":
        raise NeuralabError(
            f"device={config.device!r}: the browser playground trains on the CPU (device=cpu); "
            "its networks are too small for an accelerator to help"
        )
