"""One network of a browser tab (its config, engine session and what the page was sent), and
the data that networks A and B share."""

from __future__ import annotations

from typing import Any

from neuralab.playground.config import PlaygroundConfig
from neuralab.web.urlstate import config_from_values

DATA_FIELDS = ("data", "n", "noise", "train_ratio", "classes", "data_seed")  # shared by A and B


class Network:
    """One network of a tab: its config, its engine session, and what the page was sent."""

    def __init__(self, name: str, config: PlaygroundConfig, run: int, data: Any = None) -> None:
        from neuralab.playground.session import PlaygroundSession

        self.name = name
        self.config = config
        self.session = PlaygroundSession(config, data=data)
        self.run = run  # a new number for every new session: the page restarts its chart
        self.sent_rows = 0  # history rows already sent
        self.edited = False  # trained with settings or weights the config does not describe

    @property
    def started(self) -> bool:
        return self.session.steps > 0

    def done_message(self) -> str | None:
        """Return why training stopped (stop condition reached), or None while it can go on."""
        session = self.session
        if session.stopped is not None or not session.done:
            return None
        if self.config.iterations > 0 and session.steps >= self.config.iterations:
            return f"done: {session.steps} updates (iterations={self.config.iterations})"
        target = getattr(self.config, "target_loss", 0.0)
        last = session.history[-1].get("test_loss")
        if target and last is not None and last <= target:
            return f"done: test loss {last:.4f} <= {target:g} at epoch {session.epoch}"
        return f"done: {session.epoch} epochs (raise epochs to train on)"


def share_data(a: PlaygroundConfig, b: PlaygroundConfig) -> PlaygroundConfig:
    """Return ``b`` with A's data: the same data set, size, noise, split and data seed.

    When the two seeds differ, B's data seed is set to A's (effective) data seed, so each
    network's config alone regenerates the data both trained on.
    """
    values: dict[str, Any] = {k: getattr(a, k) for k in DATA_FIELDS}
    a_seed = a.seed if a.data_seed is None else a.data_seed
    values["data_seed"] = None if (a.data_seed is None and b.seed == a.seed) else a_seed
    return config_from_values(values, base=b)
