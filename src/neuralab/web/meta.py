"""What the page may offer, sent once when it connects: every choice comes from the engine's tables.

Data sets (with a thumbnail of their points), features, activations, initialization schemes,
losses, optimizers, orders, the config's fields and defaults, the server's limits and the
course's presets. The page builds its menus from this, so it cannot offer a name the engine
does not know.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from neuralab.config import config_to_dict
from neuralab.playground.config import LOSSES, OPTIMIZERS, ORDERS, PlaygroundConfig
from neuralab.web.limits import Limits

THUMBNAIL_POINTS = 160
# TF Playground's order first, then the sets added for the course
DATA_ORDER = ("circle", "xor", "gauss", "spiral", "moons", "blobs", "plane", "multi-gauss", "curve")


def _thumbnail(name: str) -> dict[str, Any]:
    from neuralab.playground.toy_data import get_toy_data_spec, make_toy_data

    spec = get_toy_data_spec(name)
    data = make_toy_data(
        name, n=THUMBNAIL_POINTS if spec.input_dim == 2 else 60, seed=0, train_ratio=1.0
    )
    x = data.x_train.reshape(len(data.x_train), -1)
    y = data.y_train.reshape(-1).float()
    extent = float(x.abs().max()) * 1.1
    if spec.input_dim == 1:
        pad = 0.1 * float(y.max() - y.min())
        domain = [-extent, extent, float(y.min()) - pad, float(y.max()) + pad]
    else:
        domain = [-extent, extent, -extent, extent]
    scale = float(y.abs().max()) if spec.task == "regression" else 1.0
    points = [
        [round(v, 3) for v in p] + [round(float(t), 3)]
        for p, t in zip(x.tolist(), y.tolist(), strict=True)
    ]
    return {"domain": domain, "train": points, "target_scale": scale}


@functools.lru_cache(maxsize=4)
def page_meta(limits: Limits) -> dict[str, Any]:
    """Return the choices, defaults, limits and presets the page builds its controls from."""
    from neuralab.playground.features import list_features
    from neuralab.playground.toy_data import get_toy_data_spec, list_toy_data
    from neuralab.theory.activations import list_activations
    from neuralab.theory.initialization import list_init_schemes
    from neuralab.web.presets import presets_meta
    from neuralab.web.urlstate import field_names

    names = [n for n in DATA_ORDER if n in list_toy_data()]
    names += [n for n in list_toy_data() if n not in names]
    datasets = []
    for name in names:
        spec = get_toy_data_spec(name)
        datasets.append(
            {
                "name": name,
                "task": spec.task,
                "description": spec.description,
                "input_dim": spec.input_dim,
                "thumbnail": _thumbnail(name),
            }
        )
    schemes = [s for s in list_init_schemes() if s != "zero"]  # "zero" is an alias of "zeros"
    return {
        "datasets": datasets,
        "features": list_features(),
        "hidden_activations": [a for a in list_activations() if a != "softmax"],
        "outputs": ["auto", "sigmoid", "tanh", "linear", "softmax"],
        "losses": ["auto", *LOSSES],
        "optimizers": list(OPTIMIZERS),
        "orders": list(ORDERS),
        "inits": [*schemes, "constant(0.5)", "normal(0.1)", "uniform(0.5)", "scaled(0.01)"],
        "fields": field_names(),
        "defaults": config_to_dict(PlaygroundConfig()),
        "limits": dataclasses.asdict(limits),
        "presets": presets_meta(),
    }
