"""The two messages a tab streams to its page: ``state`` (settings, plan, data) and ``frame``.

``state`` is sent when the networks are built or rebuilt: each network's config, the command
line that trains it, its plan (task, layers, sizes, steps) and the data picture. ``frame`` is
sent after each chunk of training: per network the epoch, the metrics, the chart rows not sent
before, the output and neuron pictures, and the weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralab.config import config_to_dict
from neuralab.web import frames
from neuralab.web.limits import Limits
from neuralab.web.network import Network
from neuralab.web.urlstate import to_command


def state_message(
    nets: Sequence[Network],
    limits: Limits,
    query: str,
    view: dict[str, Any],
    data_version: int,
    uploaded: str | None,
    notice: str | None,
) -> dict[str, Any]:
    """Return the ``state`` message of a tab's networks (A, or A and B)."""
    from neuralab.playground.session import LIVE_FIELDS, plot_extent

    first = nets[0].session
    extent = plot_extent(first.data)
    data = frames.data_picture(
        first.data,
        list(frames.usable_features(first.data)),
        extent,
        limits.neuron_grid,
        version=data_version,
        uploaded=uploaded,
    )
    described = []
    for net in nets:
        plan = net.session.plan
        described.append(
            {
                "id": net.name,
                "run": net.run,
                "config": config_to_dict(net.config),
                "command": to_command(net.config),
                "edited": net.edited,
                "plan": {
                    "task": plan.task,
                    "num_classes": plan.num_classes,
                    "features": list(plan.features),
                    "hidden": list(plan.hidden),
                    "activations": list(plan.activations),
                    "output": plan.output,
                    "loss": plan.loss,
                    "out_features": plan.out_features,
                    "n_train": plan.n_train,
                    "n_test": plan.n_test,
                    "batch_size": plan.batch_size,
                    "epochs": plan.epochs,
                    "total_steps": plan.total_steps,
                },
                "live_fields": sorted(LIVE_FIELDS),
            }
        )
    return {
        "type": "state",
        "query": query,
        "compare": len(nets) == 2,
        "view": view,
        "data": data,
        "nets": described,
        "notice": notice,
    }


def frame_message(
    nets: Sequence[Network], limits: Limits, frame_number: int, playing: bool
) -> dict[str, Any]:
    """Return frame ``frame_number``: each network's progress, the chart rows it has not sent
    yet (then marked sent), its pictures and its weights."""
    from neuralab.playground.session import plot_extent

    extent = plot_extent(nets[0].session.data)
    described = []
    for net in nets:
        session = net.session
        history = session.history
        weights, biases = frames.parameters_of(session)
        described.append(
            {
                "id": net.name,
                "run": net.run,
                "epoch": session.epoch,
                "steps": session.steps,
                "examples": session.examples,
                "stopped": session.stopped,
                "done": net.done_message(),
                "metrics": frames.metrics_of(history[-1]),
                "rows": [frames.chart_row(row) for row in history[net.sent_rows :]],
                "output": frames.output_picture(session, limits.grid, extent),
                "neurons": frames.neuron_pictures(session, limits.neuron_grid, extent),
                "neuron_grid": limits.neuron_grid,
                "weights": weights,
                "biases": biases,
            }
        )
        net.sent_rows = len(history)
    return {"type": "frame", "frame": frame_number, "playing": playing, "nets": described}
