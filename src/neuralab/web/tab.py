"""One browser tab's training session: network A (and B), the commands, and the frames it streams.

A :class:`Tab` owns its networks (each an engine
:class:`~neuralab.playground.session.PlaygroundSession` with its own model and random generator)
and one asyncio task, :meth:`Tab.run`, that applies the page's commands in order and, while
playing, trains in short chunks on a worker thread and sends a frame after each. Only that task
touches the sessions, so commands never race the training.

- **Pause within 100 ms**: :meth:`Tab.receive` sets an event the training chunk checks after
  every parameter update, so a chunk stops one update after a pause arrives.
- **Frames at the page's pace**: a frame is sent only while fewer than two are undrawn (the page
  answers ``drawn``); training does not wait for drawing, and every epoch's losses still reach
  the chart (a frame carries all rows not sent before).
- **A | B in lockstep**: each update goes to the network with fewer completed epochs.
- **Independent tabs**: nothing is shared between tabs but the read-only page meta.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig
from neuralab.web import messages
from neuralab.web.limits import Limits, check_config
from neuralab.web.network import DATA_FIELDS, Network, share_data
from neuralab.web.protocol import Command
from neuralab.web.urlstate import (
    TabState,
    changed_fields,
    config_from_values,
    from_query,
    to_query,
)

log = logging.getLogger("neuralab.web")

CHUNK_SECONDS = 0.03  # training between two frames: about 30 frames per second
FRAMES_IN_FLIGHT = 2  # frames sent but not yet drawn by the page
# changes that only say when to stop: the trajectory stays the one the config describes
STOP_FIELDS = frozenset({"epochs", "iterations", "log_every", "target_loss"})

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Tab:
    """The server side of one page (see the module doc)."""

    def __init__(self, limits: Limits, send: Send) -> None:
        self.limits = limits
        self._send = send
        self.nets: list[Network] = []
        self.view: dict[str, bool] = {}
        self.playing = False
        self.interrupt = threading.Event()
        self.commands: asyncio.Queue[Command] = asyncio.Queue()
        self.frame_number = 0
        self.drawn = 0
        self.runs = 0
        self.data_version = 0
        self.upload: tuple[str, str] | None = None  # (file name, CSV text) of uploaded data
        self.notice: str | None = None
        self.closed = False

    # -- called by the socket loop: never blocks ----------------------------------------------
    def receive(self, command: Command) -> None:
        """Take one checked command from the page."""
        if command.type == "drawn":
            self.drawn = max(self.drawn, int(command.args["frame"]))
            return
        if command.type in ("pause", "set", "step", "reset", "preset", "compare", "open", "upload"):
            self.interrupt.set()  # stop the running chunk at its next update
        self.commands.put_nowait(command)

    def close(self) -> None:
        """Stop training at the next update and let the sessions go."""
        self.closed = True
        self.playing = False
        self.interrupt.set()

    # -- the tab's one task ----------------------------------------------------------------------
    async def run(self, meta: dict[str, Any]) -> None:
        """Apply commands in order; while playing, train and stream frames. Ends when closed."""
        from anyio import to_thread

        await self._send({"type": "hello", "meta": meta})
        while not self.closed:
            if self.playing and self.commands.empty():
                self.interrupt.clear()
                show = self.frame_number - self.drawn < FRAMES_IN_FLIGHT
                try:
                    finished, frame = await to_thread.run_sync(self._train_chunk, show)
                except Exception as error:  # noqa: BLE001 - report it, pause, keep the tab
                    log.exception("training failed")
                    self.playing = False
                    await self._send({"type": "error", "message": f"training stopped: {error}"})
                    await self._send({"type": "playing", "playing": False})
                    continue
                if frame is not None:
                    await self._send(frame)
                if finished:
                    self.playing = False
                    await self._send({"type": "playing", "playing": False})
                    await self._send(await to_thread.run_sync(self._frame))
                elif frame is None:
                    await asyncio.sleep(0)  # let the socket loop deliver 'drawn' and commands
                continue
            command = await self.commands.get()
            await self._apply(command)

    async def _apply(self, command: Command) -> None:
        from anyio import to_thread

        try:
            messages = await to_thread.run_sync(self._handle, command)
        except NeuralabError as error:
            messages = [{"type": "error", "message": str(error)}]
        except Exception as error:  # noqa: BLE001 - one bad command must not end the tab
            log.exception("command %s failed", command.type)
            messages = [{"type": "error", "message": f"internal error in {command.type}: {error}"}]
        for message in messages:
            await self._send(message)

    # -- on the worker thread ------------------------------------------------------------------
    def _train_chunk(self, show: bool) -> tuple[bool, dict[str, Any] | None]:
        """Train for about CHUNK_SECONDS (or until interrupted); return (all done, frame)."""
        deadline = time.perf_counter() + CHUNK_SECONDS
        finished = False
        while not self.interrupt.is_set():
            active = [net for net in self.nets if not net.session.done]
            if not active:
                finished = True
                break
            # lockstep: the network with fewer completed epochs (then updates) goes next
            net = min(active, key=lambda n: (n.session.epoch, n.session.steps))
            net.session.step()
            if time.perf_counter() >= deadline:
                break
        return finished, (self._frame() if show and not finished else None)

    def _handle(self, command: Command) -> list[dict[str, Any]]:
        if not self.nets and command.type != "open":
            self._open("")
        handler = getattr(self, f"_on_{command.type}")
        return handler(**command.args)

    def _on_open(self, query: str) -> list[dict[str, Any]]:
        self.playing = False
        try:
            self._open(query)
        except NeuralabError as error:
            self._open("")
            return [
                {"type": "error", "message": f"the link: {error}"},
                *self._state(),
                self._frame(),
            ]
        return [*self._playing(), *self._state(), self._frame()]

    def _open(self, query: str) -> None:
        state = from_query(query)
        self.view = dict(state.view)
        self._build(state.a, state.b)

    def _build(self, a: PlaygroundConfig, b: PlaygroundConfig | None) -> None:
        """Start new sessions for A (and B, which shares A's data); check limits first."""
        if b is not None:
            b = share_data(a, b)
        for config in (a, b):
            if config is not None:
                check_config(config, self.limits)
        nets = [Network("a", a, self._next_run(), self._uploaded_data(a))]
        if b is not None:  # its own copy: B may sort its training set where A does not
            nets.append(Network("b", b, self._next_run(), self._uploaded_data(b)))
        self.nets = nets
        self.data_version += 1

    def _rebuild(self, net: Network, config: PlaygroundConfig) -> None:
        index = self.nets.index(net)
        data = self._uploaded_data(config)
        self.nets[index] = Network(net.name, config, self._next_run(), data)

    def _next_run(self) -> int:
        self.runs += 1
        return self.runs

    def _uploaded_data(self, config: PlaygroundConfig) -> Any:
        """Return the uploaded data set ``config`` names (csv:NAME), or None for generated data.

        The server never reads a path a page names: ``csv:`` data must be the file this tab
        uploaded; anything else is refused.
        """
        if not config.data.startswith("csv:"):
            return None
        name = config.data[len("csv:") :]
        if self.upload is None or self.upload[0] != name:
            raise NeuralabError(
                f"data {config.data!r} is a file uploaded in another session: "
                "upload it again (Upload CSV), or pick a data set"
            )
        from neuralab.playground.csv_data import parse_points_csv

        seed = config.seed if config.data_seed is None else config.data_seed
        return parse_points_csv(
            self.upload[1],
            name=config.data,
            train_ratio=config.train_ratio,
            seed=seed,
            order=config.order,
        )

    def _net(self, name: str) -> Network:
        for net in self.nets:
            if net.name == name:
                return net
        raise NeuralabError("there is no network B: switch on A | B first")

    def _on_set(self, net: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        from neuralab.playground.session import LIVE_FIELDS

        target = self._net(net)
        new = config_from_values(values, base=target.config)
        check_config(new, self.limits)
        changed = set(changed_fields(new, target.config))
        if not changed:
            return self._state()
        if len(self.nets) == 2 and changed & {*DATA_FIELDS, "seed"}:
            if target.name == "b" and changed == {"seed"}:
                self._pause()  # B's own seed: B starts over on A's data
                self._rebuild(target, share_data(self.nets[0].config, new))
            else:  # the shared data (or A's seed, which seeds it) changes: both start over
                a, b = self.nets[0].config, self.nets[1].config
                if target.name == "a":
                    a = new
                else:
                    a = config_from_values({k: getattr(new, k) for k in DATA_FIELDS}, base=a)
                    b = new
                self._pause()
                self._build(a, b)
            return [*self._playing(), *self._state(), self._frame()]
        if target.started and changed <= set(LIVE_FIELDS):
            target.session.update(**{k: getattr(new, k) for k in changed})
            target.config = new
            target.edited = target.edited or not changed <= STOP_FIELDS
            return [*self._state(), self._frame()]
        self._pause()
        if target.started:
            fields = ", ".join(sorted(changed - set(LIVE_FIELDS)))
            self.notice = f"changing {fields} starts network {target.name.upper()} over"
        self._rebuild(target, new)
        return [*self._playing(), *self._state(), self._frame()]

    def _on_play(self) -> list[dict[str, Any]]:
        if all(net.session.done for net in self.nets):
            reasons = {net.session.stopped or net.done_message() for net in self.nets}
            return [{"type": "notice", "message": "; ".join(r for r in reasons if r)}]
        self.playing = True
        return [{"type": "playing", "playing": True}]

    def _on_pause(self) -> list[dict[str, Any]]:
        self._pause()
        return [{"type": "playing", "playing": False}, self._frame()]

    def _pause(self) -> None:
        self.playing = False

    def _playing(self) -> list[dict[str, Any]]:
        return [{"type": "playing", "playing": self.playing}]

    def _on_step(self, unit: str) -> list[dict[str, Any]]:
        self._pause()
        active = [net for net in self.nets if not net.session.done]
        if not active:
            return self._on_play()
        for net in active:
            if unit == "batch":
                net.session.step()
            else:
                net.session.run_epoch()
        return [{"type": "playing", "playing": False}, self._frame()]

    def _on_reset(self) -> list[dict[str, Any]]:
        self._pause()
        self._build(self.nets[0].config, self.nets[1].config if len(self.nets) == 2 else None)
        return [*self._playing(), *self._state(), self._frame()]

    def _on_regenerate(self) -> list[dict[str, Any]]:
        a = config_from_values({"data_seed": random.randrange(100_000)}, base=self.nets[0].config)
        self._pause()
        self._build(a, self.nets[1].config if len(self.nets) == 2 else None)
        return [*self._playing(), *self._state(), self._frame()]

    def _on_compare(self, on: bool) -> list[dict[str, Any]]:
        self._pause()
        if on and len(self.nets) == 1:
            a = self.nets[0]
            self.nets.append(
                Network("b", a.config, self._next_run(), self._uploaded_data(a.config))
            )
        elif not on and len(self.nets) == 2:
            self.nets.pop()
        return [*self._playing(), *self._state(), self._frame()]

    def _on_preset(self, experiment: str, a: str, b: str) -> list[dict[str, Any]]:
        from neuralab.web.presets import preset_pair

        pair = preset_pair(experiment, a or None, b or None)
        self._pause()
        self.upload = None
        self._build(pair.a, pair.b)
        self.notice = f"{pair.experiment}: A = {pair.a_label}, B = {pair.b_label}. Press play."
        return [*self._playing(), *self._state(), self._frame()]

    def _on_weight(
        self, net: str, layer: int, unit: int, source: int, value: float
    ) -> list[dict[str, Any]]:
        target = self._net(net)
        target.session.set_weight(layer, unit, source, value)
        target.edited = True
        return [self._frame()]

    def _on_bias(self, net: str, layer: int, unit: int, value: float) -> list[dict[str, Any]]:
        target = self._net(net)
        target.session.set_bias(layer, unit, value)
        target.edited = True
        return [self._frame()]

    def _on_upload(self, name: str, text: str) -> list[dict[str, Any]]:
        from neuralab.playground.csv_data import clean_file_name, parse_points_csv

        name = clean_file_name(name)
        a = self.nets[0].config
        data = parse_points_csv(text, name=f"csv:{name}", train_ratio=a.train_ratio, seed=0)
        if len(data.x_train) + len(data.x_test) > self.limits.max_points:
            raise NeuralabError(
                f"{name}: {len(data.x_train) + len(data.x_test)} points; "
                f"the browser playground takes at most {self.limits.max_points}"
            )
        self.upload = (name, text)
        values = {"data": f"csv:{name}"}
        self._pause()
        b = self.nets[1].config if len(self.nets) == 2 else None
        self._build(config_from_values(values, base=a), b)
        self.notice = f"{name}: {len(data.x_train)} training and {len(data.x_test)} test points"
        return [*self._playing(), *self._state(), self._frame()]

    def _on_export(self, net: str, what: str) -> list[dict[str, Any]]:
        from neuralab.web.export import export_files

        suffix = f"-{net}" if len(self.nets) == 2 else ""
        files = export_files(self._net(net), what, suffix, self.upload)
        return [{"type": "export", "files": files}]

    def _on_view(self, discretize: bool, hide_test: bool) -> list[dict[str, Any]]:
        self.view = {"discretize": discretize, "hide_test": hide_test}
        return [{"type": "link", "query": self._query()}]

    # -- messages --------------------------------------------------------------------------------
    def _query(self) -> str:
        b = self.nets[1].config if len(self.nets) == 2 else None
        return to_query(TabState(self.nets[0].config, b, self.view))

    def _state(self) -> list[dict[str, Any]]:
        upload = (
            self.upload[0] if self.upload and self.nets[0].config.data.startswith("csv:") else None
        )
        message = messages.state_message(
            self.nets, self.limits, self._query(), self.view, self.data_version, upload, self.notice
        )
        self.notice = None
        return [message]

    def _frame(self) -> dict[str, Any]:
        self.frame_number += 1
        return messages.frame_message(self.nets, self.limits, self.frame_number, self.playing)
