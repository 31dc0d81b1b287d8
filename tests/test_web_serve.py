"""``neuralab serve`` through the real entry point: the address, --open, the warning, a taken port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen(
        [sys.executable, "-m", "neuralab", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_serve_prints_the_address_and_serves_the_page():
    process = start("--port", "0")
    try:
        line = process.stdout.readline()
        assert line.startswith("neuralab playground on http://127.0.0.1:")
        url = line.split()[3]
        with urllib.request.urlopen(url, timeout=20) as response:
            assert b"<title>neuralab playground</title>" in response.read()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert "warning" not in process.stderr.read()


def test_all_interfaces_print_a_warning():
    process = start("--host", "0.0.0.0", "--port", "0")
    try:
        line = process.stdout.readline()
        assert line.startswith("neuralab playground on http://127.0.0.1:")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    warning = process.stderr.read()
    assert "warning: --host 0.0.0.0 makes the playground reachable from other machines" in warning


def test_open_opens_the_address_in_the_browser(tmp_path):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"  # $BROWSER: what webbrowser.open runs with the address
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}.part && mv {opened}.part {opened}\n')
    browser.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(SRC), "BROWSER": str(browser)}
    process = subprocess.Popen(
        [sys.executable, "-m", "neuralab", "serve", "--port", "0", "--open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = process.stdout.readline().split()[3]
        deadline = time.monotonic() + 30
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert opened.read_text().strip() == url


def test_a_taken_port_is_one_line(run_cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"neuralab: error: port {port} on 127.0.0.1 is in use; choose another with --port"
    )


def test_a_connection_dropped_mid_training_leaves_the_server_serving():
    import json

    from websockets.sync.client import connect

    from neuralab.web.server import serve_in_background

    with serve_in_background() as url:
        ws_url = url.replace("http", "ws") + "ws"
        origin = url.rstrip("/")
        with connect(ws_url, origin=origin) as dropped:
            assert json.loads(dropped.recv(timeout=30))["type"] == "hello"
            dropped.send(json.dumps({"type": "open", "query": "n=100&hidden=4&epochs=100000"}))
            dropped.send(json.dumps({"type": "play"}))
            frames = 0
            while frames < 3:
                message = json.loads(dropped.recv(timeout=30))
                if message["type"] == "frame":
                    frames += 1
                    dropped.send(json.dumps({"type": "drawn", "frame": message["frame"]}))
            dropped.socket.close()  # no closing handshake: the tab just vanished
        with connect(ws_url, origin=origin) as fresh:
            assert json.loads(fresh.recv(timeout=30))["type"] == "hello"
            fresh.send(json.dumps({"type": "open", "query": ""}))
            kinds = {json.loads(fresh.recv(timeout=30))["type"] for _ in range(3)}
        assert "frame" in kinds
        with urllib.request.urlopen(url, timeout=20) as response:
            assert response.status == 200
