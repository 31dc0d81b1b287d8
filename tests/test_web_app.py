"""The playground server through the ASGI test client: pages, host and origin checks, and tab
sessions over the WebSocket (train, pause, resume, change settings, close; errors; independence)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from neuralab.playground.config import PlaygroundConfig  # noqa: E402
from neuralab.playground.run import train_playground  # noqa: E402
from neuralab.web.app import create_app, refusal  # noqa: E402
from neuralab.web.limits import Limits  # noqa: E402
from neuralab.web.urlstate import from_yaml  # noqa: E402

ORIGIN = "http://127.0.0.1:8000"
SMALL = "n=100&hidden=4&epochs=100000"  # a tiny network that never stops by itself


@pytest.fixture
def app():
    return create_app(Limits())


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url=ORIGIN) as client:
        yield client


class Page:
    """A fake page: the messages it received, and helpers that wait for the next of a kind."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.hello = ws.receive_json()
        assert self.hello["type"] == "hello"
        self.state: dict[str, Any] = {}
        self.frame: dict[str, Any] = {}
        self.errors: list[str] = []
        self.notices: list[str] = []
        self.files: list[dict[str, str]] = []
        self.playing = False

    def send(self, **message: Any) -> None:
        self.ws.send_json(message)

    def next(self) -> dict[str, Any]:
        message = self.ws.receive_json()
        kind = message["type"]
        if kind == "state":
            self.state = message
        elif kind == "frame":
            self.frame = message
            self.send(type="drawn", frame=message["frame"])  # as the page does after drawing
        elif kind == "error":
            self.errors.append(message["message"])
        elif kind == "notice":
            self.notices.append(message["message"])
        elif kind == "playing":
            self.playing = message["playing"]
        elif kind == "export":
            self.files = message["files"]
        return message

    def until(self, done: Callable[[dict[str, Any]], bool], limit: int = 2000) -> dict[str, Any]:
        for _ in range(limit):
            message = self.next()
            if done(message):
                return message
        raise AssertionError(f"no such message in {limit}")

    def open(self, query: str = SMALL) -> None:
        self.send(type="open", query=query)
        self.until(lambda m: m["type"] == "frame")

    def epoch(self, net: int = 0) -> int:
        return self.frame["nets"][net]["epoch"]

    def play_until_epoch(self, epoch: int) -> None:
        self.send(type="play")
        self.until(lambda m: m["type"] == "frame" and m["nets"][0]["epoch"] >= epoch)

    def pause(self) -> float:
        started = time.perf_counter()
        self.send(type="pause")
        self.until(lambda m: m["type"] == "playing" and not m["playing"])
        seconds = time.perf_counter() - started
        self.until(lambda m: m["type"] == "frame")
        return seconds


@contextmanager
def page(client: TestClient, origin: str | None = ORIGIN) -> Iterator[Page]:
    headers = {} if origin is None else {"origin": origin}
    with client.websocket_connect(f"{ORIGIN.replace('http', 'ws')}/ws", headers=headers) as ws:
        yield Page(ws)


# -- the page and who may load it ------------------------------------------------------------
def test_the_page_and_its_modules_come_from_the_package(client):
    html = client.get("/")
    assert html.status_code == 200 and "<title>neuralab playground</title>" in html.text
    for name in ("static/style.css", "static/js/main.js", "static/js/network.js"):
        assert name in html.text or name.startswith("static/js/n")
        assert client.get("/" + name).status_code == 200
    assert client.get("/static/js/main.js").headers["content-type"].startswith("text/javascript")
    assert "https://" not in html.text  # nothing fetched from elsewhere


@pytest.mark.parametrize(
    "path", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/js/../../tab.py", "/etc/passwd"]
)
def test_no_path_reaches_the_disk(client, path):
    assert client.get(path).status_code == 404


def test_other_hosts_are_refused_dns_rebinding(app):
    with TestClient(app, base_url="http://evil.example:8000") as client:
        response = client.get("/")
    assert response.status_code == 400 and "evil.example" in response.text


def test_refusal_rules():
    local = frozenset({"127.0.0.1", "localhost", "::1"})
    assert refusal({"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"}, local) is None
    assert refusal({"host": "[::1]:8000", "origin": "http://[::1]:8000"}, local) is None
    assert refusal({"host": "localhost:8000"}, local) is None  # not a browser: no origin
    assert "origin" in refusal({"host": "127.0.0.1:8000", "origin": "http://evil.example"}, local)
    assert "origin" in refusal({"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:9999"}, local)
    assert "host" in refusal({"host": "evil.example:8000"}, local)
    assert refusal({"host": "my-laptop:8000", "origin": "http://my-laptop:8000"}, None) is None


def test_a_websocket_from_another_origin_is_refused(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(
            "ws://127.0.0.1:8000/ws", headers={"origin": "http://evil.example"}
        ):
            pass
    assert refused.value.code == 1008


# -- a tab's session -----------------------------------------------------------------------------
def test_hello_offers_the_engines_choices(client):
    with page(client) as tab:
        meta = tab.hello["meta"]
    assert [d["name"] for d in meta["datasets"]][:4] == ["circle", "xor", "gauss", "spiral"]
    assert "softmax" not in meta["hidden_activations"] and "relu" in meta["hidden_activations"]
    assert meta["features"] == ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]
    assert {p["name"] for p in meta["presets"]} >= {"initialization", "shuffling", "zero-init"}
    assert meta["defaults"]["lr"] == PlaygroundConfig().lr


def test_the_choices_are_computed_when_the_server_starts_not_by_the_first_tab(monkeypatch):
    # computing them imports the data generators (seconds): the first page must not wait
    import neuralab.web.meta

    computed: list[Limits] = []
    real = neuralab.web.meta.page_meta
    monkeypatch.setattr(
        neuralab.web.meta, "page_meta", lambda limits: computed.append(limits) or real(limits)
    )
    app = create_app(Limits())
    assert computed == [Limits()]
    with TestClient(app, base_url=ORIGIN) as client, page(client) as tab:
        assert tab.hello["meta"]["limits"]["max_layers"] == Limits().max_layers
    assert len(computed) == 1


def test_a_session_trains_pauses_resumes_changes_a_setting_and_closes(app, client):
    with page(client) as tab:
        tab.open()
        assert tab.state["query"] == SMALL and tab.epoch() == 0
        tab.play_until_epoch(5)
        assert (
            tab.pause() < 1.0
        )  # the pause is answered at once (the 100 ms is measured in the benchmark)
        paused = tab.epoch()
        tab.send(type="step", unit="batch")  # nothing trains by itself while paused
        tab.until(lambda m: m["type"] == "frame")
        assert tab.frame["nets"][0]["epoch"] in (paused, paused + 1)
        run = tab.frame["nets"][0]["run"]
        tab.send(type="set", net="a", values={"lr": 0.1})  # live: the same network trains on
        tab.until(lambda m: m["type"] == "frame")
        assert tab.state["nets"][0]["config"]["lr"] == 0.1 and tab.frame["nets"][0]["run"] == run
        assert tab.state["nets"][0]["edited"] and "lr=0.1" in tab.state["query"]
        tab.play_until_epoch(paused + 3)
        tab.pause()
        tab.send(type="set", net="a", values={"activation": "relu"})  # a new network
        tab.until(lambda m: m["type"] == "frame")
        assert tab.frame["nets"][0]["run"] > run and tab.epoch() == 0
        assert tab.state["nets"][0]["plan"]["activations"] == ["relu"]
        assert any("starts network A over" in n for n in [tab.state.get("notice") or ""])
        assert len(app.state.tabs) == 1
    deadline = time.monotonic() + 5
    while app.state.tabs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not app.state.tabs  # the tab's session is gone with its socket


def test_every_data_set_of_the_page_trains_and_is_drawn(client):
    with page(client) as tab:
        names = [d["name"] for d in tab.hello["meta"]["datasets"]]
        drawn = {}
        for name in names:
            tab.open(f"data={name}&n=60&hidden=3&classes=3")
            tab.send(type="step", unit="epoch")
            tab.until(lambda m: m["type"] == "frame" and m["nets"][0]["epoch"] == 1)
            net = tab.frame["nets"][0]
            assert net["metrics"]["test_loss"] is not None, name
            drawn[name] = (net["output"]["kind"], "classes" in net["output"])
    assert set(names) >= {"circle", "xor", "gauss", "spiral", "moons", "blobs", "plane", "curve"}
    assert drawn["blobs"] == ("map", True)  # 3 classes: the winning class per cell
    assert drawn["circle"] == drawn["plane"] == ("map", False)
    assert drawn["curve"] == ("curve", False)  # 1-D regression: the curve y(x)


def test_frames_carry_every_epoch_for_the_chart(client):
    with page(client) as tab:
        tab.open()
        rows: list[list[Any]] = list(tab.frame["nets"][0]["rows"])  # row 0: at initialization
        tab.send(type="play")
        tab.until(
            lambda m: (
                m["type"] == "frame" and (rows.extend(m["nets"][0]["rows"]) or rows[-1][0] >= 30)
            )
        )
        tab.pause()
        rows.extend(tab.frame["nets"][0]["rows"])
    epochs = [row[0] for row in rows]
    assert epochs == list(range(len(epochs)))  # row 0 (initialization) and every epoch, once


def test_page_numbers_are_the_engines_numbers(client):
    """A link with a seed gives exactly train_playground's history, whatever the slicing."""
    query = "data=xor&n=120&hidden=5,3&activation=relu&init=he_normal&lr=0.05&seed=7&epochs=6"
    with page(client) as tab:
        tab.open(query)
        tab.send(type="play")
        tab.until(lambda m: m["type"] == "playing" and not m["playing"])  # stops after 6 epochs
        tab.until(lambda m: m["type"] == "frame")
        metrics = tab.frame["nets"][0]["metrics"]
        assert tab.frame["nets"][0]["done"].startswith("done: 6 epochs")
    expected = train_playground(
        PlaygroundConfig(
            data="xor",
            n=120,
            hidden=(5, 3),
            activation="relu",
            init="he_normal",
            lr=0.05,
            seed=7,
            epochs=6,
        )
    ).history[-1]
    assert metrics["epoch"] == 6
    assert (
        metrics["train_loss"] == expected["train_loss"]
        and metrics["test_loss"] == expected["test_loss"]
    )
    assert metrics["grad_norm"] == expected["grad_norm"]


def test_bad_messages_and_limits_are_answered_with_one_line(client):
    with page(client) as tab:
        tab.open()
        tab.ws.send_text("{not json")
        tab.send(type="set", net="a", values={"hidden": [4] * 11})
        tab.send(type="set", net="a", values={"lr": -1})
        tab.send(type="set", net="a", values={"activation": "relux"})
        tab.send(type="set", net="b", values={"lr": 0.1})
        tab.send(type="weight", net="a", layer=7, unit=0, source=0, value=1.0)
        tab.send(type="upload", name="points.csv", text="x1,x2,label\n1,2,zebra\n")
        tab.send(type="open", query="lrr=1")
        tab.send(type="set", net="a", values={"seed": 10**30})  # torch takes 64 bits
        tab.until(lambda m: len(tab.errors) >= 9)
        tab.ws.send_text("[" * 200_000)  # within the size limit, too deep for the parser
        tab.until(lambda m: len(tab.errors) >= 10)
        tab.open()  # the tab still works
    assert tab.errors[0] == "message is not JSON"
    assert "11 hidden layers" in tab.errors[1]
    assert "lr=-1" in tab.errors[2]
    assert "relux" in tab.errors[3]
    assert "no network B" in tab.errors[4]
    assert "layer 7 does not exist" in tab.errors[5]
    assert "line 2: 'zebra' is not a number" in tab.errors[6]
    assert "did you mean 'lr'" in tab.errors[7]
    assert tab.errors[8] == f"seed={10**30} must be an integer 0..{2**63 - 1}"
    assert tab.errors[9] == "message is nested too deeply to be a command"
    assert all("\n" not in e and "Traceback" not in e for e in tab.errors)


def test_a_flood_of_messages_is_throttled(client):
    with page(client) as tab:
        for _ in range(Limits().message_burst + 40):
            tab.ws.send_text(json.dumps({"type": "view", "discretize": True, "hide_test": False}))
        tab.until(lambda m: m["type"] == "error")
    assert "too many messages" in tab.errors[0]


def test_two_tabs_are_independent(client):
    with page(client) as one, page(client) as two:
        one.open("data=circle&n=100&hidden=4&seed=1&epochs=100000")
        two.open("data=circle&n=100&hidden=4&seed=1&epochs=100000")
        one.play_until_epoch(3)
        one.pause()
        two.play_until_epoch(one.epoch() + 5)
        one.send(type="step", unit="epoch")
        one.until(lambda m: m["type"] == "frame")
        two.pause()
        assert one.epoch() == one.frame["nets"][0]["rows"][-1][0]
        # the same seed gives the same numbers in both tabs: one.epoch() is behind two's
        two_history = {row[0]: row for row in two.frame["nets"][0]["rows"]}
        one_row = one.frame["nets"][0]["rows"][-1]
        if one_row[0] in two_history:
            assert two_history[one_row[0]] == one_row
        assert two.epoch() > one.epoch()


def test_compare_trains_a_and_b_in_lockstep_on_the_same_data(client):
    with page(client) as tab:
        tab.open(SMALL + "&seed=3")
        tab.send(type="compare", on=True)
        tab.until(lambda m: m["type"] == "frame" and len(m["nets"]) == 2)
        assert tab.state["compare"] and tab.state["query"].endswith("&ab=1")
        tab.send(type="set", net="b", values={"seed": 4, "init": "small"})
        tab.until(lambda m: m["type"] == "frame")
        b = tab.state["nets"][1]["config"]
        assert b["init"] == "small" and b["seed"] == 4 and b["data_seed"] == 3  # A's data
        tab.play_until_epoch(6)
        tab.pause()
        a_epoch, b_epoch = (net["epoch"] for net in tab.frame["nets"])
        assert abs(a_epoch - b_epoch) <= 1
        tab.send(type="compare", on=False)
        tab.until(lambda m: m["type"] == "frame" and len(m["nets"]) == 1)


def test_presets_load_the_experiments_runs(client):
    from neuralab.playground.experiments.initialization import (
        InitializationConfig,
        playground_config,
    )

    with page(client) as tab:
        tab.open()
        tab.send(type="preset", experiment="initialization", a="", b="")
        tab.until(lambda m: m["type"] == "frame" and len(m["nets"]) == 2)
        a, b = (net["config"] for net in tab.state["nets"])
        assert "initialization" in tab.state["notice"]
        tab.send(type="preset", experiment="initialization", a="relu, init small", b="nope")
        tab.until(lambda m: m["type"] == "error")
    expected = InitializationConfig()
    assert from_yaml(json.dumps(a)) == playground_config(expected, "relu", "small")  # first poor
    assert from_yaml(json.dumps(b)) == playground_config(expected, "relu", expected.proper)
    assert "unknown case of initialization 'nope'" in tab.errors[0]


def test_editing_a_weight_and_a_bias(client):
    import base64

    import numpy as np

    with page(client) as tab:
        tab.open()
        tab.send(type="weight", net="a", layer=0, unit=2, source=1, value=1.5)
        tab.until(lambda m: m["type"] == "frame")
        tab.send(type="bias", net="a", layer=1, unit=0, value=-0.25)
        tab.until(lambda m: m["type"] == "frame")
        net = tab.frame["nets"][0]
    weights = np.frombuffer(base64.b64decode(net["weights"][0]), dtype="<f4").reshape(4, 2)
    biases = np.frombuffer(base64.b64decode(net["biases"][1]), dtype="<f4")
    assert weights[2, 1] == 1.5 and biases[0] == -0.25


def test_upload_a_csv_and_export_its_config(client, tmp_path):
    lines = ["x1,x2,label"] + [
        f"{x / 10:.2f},{(x % 7) / 3:.2f},{int(x % 2)}" for x in range(-30, 30)
    ]
    with page(client) as tab:
        tab.open()
        tab.send(type="upload", name="../my points.csv", text="\n".join(lines))
        tab.until(lambda m: m["type"] == "frame")
        assert tab.state["nets"][0]["config"]["data"] == "csv:my_points.csv"
        assert tab.state["data"]["uploaded"] == "my_points.csv"
        assert len(tab.state["data"]["train"]) == 30
        assert "30 training and 30 test points" in tab.state["notice"]
        tab.send(type="export", net="a", what="config")
        tab.until(lambda m: m["type"] == "export")
    names = [f["name"] for f in tab.files]
    assert names == ["config.yaml", "my_points.csv"]
    assert from_yaml(tab.files[0]["text"]).data == "csv:my_points.csv"


def test_regenerate_draws_new_data_and_view_switches_ride_in_the_link(client):
    with page(client) as tab:
        tab.open()
        first = tab.state["data"]["train"]
        tab.send(type="regenerate")
        tab.until(lambda m: m["type"] == "frame")
        seed = tab.state["nets"][0]["config"]["data_seed"]
        assert seed is not None and f"data_seed={seed}" in tab.state["query"]
        assert tab.state["data"]["train"] != first
        tab.send(type="view", discretize=True, hide_test=True)
        link = tab.until(lambda m: m["type"] == "link")
    assert link["query"].endswith("&discretize=1&hide_test=1")


def test_a_tab_that_vanishes_mid_training_harms_no_other(app, client):
    with page(client) as survivor:
        survivor.open()
        survivor.play_until_epoch(2)
        with page(client) as doomed:
            doomed.open()
            doomed.play_until_epoch(2)
            assert len(app.state.tabs) == 2
        # the socket closed while its network trained: the other tab trains on
        before = survivor.epoch()
        survivor.until(lambda m: m["type"] == "frame" and m["nets"][0]["epoch"] >= before + 5)
        survivor.pause()
        assert len(app.state.tabs) == 1
        assert not survivor.errors


def test_no_message_makes_the_server_read_a_path(client, monkeypatch):
    import neuralab.playground.csv_data as csv_data

    def forbidden(*args, **kwargs):
        raise AssertionError("the server read a file a page named")

    monkeypatch.setattr(csv_data, "read_points_csv", forbidden)
    with page(client) as tab:
        tab.open("data=csv:/etc/passwd")
        tab.send(type="set", net="a", values={"data": "csv:../../etc/passwd"})
        tab.until(lambda m: len(tab.errors) >= 2)
        assert tab.state["nets"][0]["config"]["data"] == "circle"  # the defaults instead
    assert all("uploaded in another session" in e for e in tab.errors)
    assert not any("root" in e for e in tab.errors)


def test_the_number_of_tabs_is_limited(app):
    from starlette.websockets import WebSocketDisconnect

    small = create_app(Limits(max_sessions=1))
    with TestClient(small, base_url=ORIGIN) as client, page(client) as first:
        first.open()
        with client.websocket_connect("ws://127.0.0.1:8000/ws", headers={"origin": ORIGIN}) as ws:
            message = ws.receive_json()
            assert message["type"] == "error" and "1 open tabs, its limit" in message["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 1013
