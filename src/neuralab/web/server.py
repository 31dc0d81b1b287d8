"""Run the browser playground's app under uvicorn: in the foreground (``neuralab serve``) or on a
background thread (tests, benchmarks, notebooks), and find the system's Chromium for headless use.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from neuralab.errors import NeuralabError
from neuralab.web.limits import Limits

ALL_INTERFACES = ("0.0.0.0", "::", "")
# Chromium flags for headless runs on machines without a display, a GPU or the network
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def bind_socket(host: str, port: int) -> socket.socket:
    """Return a listening TCP socket on ``host:port`` (port 0: a free one); a taken port raises."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise NeuralabError(
                f"port {port} on {host} is in use; choose another with --port"
            ) from None
        raise NeuralabError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_server(
    host: str, sock: socket.socket, limits: Limits | None = None, log_level: str = "warning"
):
    """Return a uvicorn ``Server`` of the playground app for a socket bound to ``host``."""
    import uvicorn

    from neuralab.web.app import create_app

    limits = limits or Limits()
    hosts = None if host in ALL_INTERFACES else (host,)
    config = uvicorn.Config(
        create_app(limits, hosts=hosts),
        log_level=log_level,
        ws="websockets-sansio",
        ws_max_size=limits.max_message_bytes + 1024,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        lifespan="off",
    )
    return uvicorn.Server(config)


def address(sock: socket.socket) -> str:
    """Return ``http://host:port/`` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


@contextlib.contextmanager
def serve_in_background(
    limits: Limits | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Run the playground server on a thread; yield its address; stop it on exit."""
    sock = bind_socket(host, port)
    server = make_server(host, sock, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        if not thread.is_alive() or time.monotonic() - started > 30:
            raise RuntimeError("the playground server did not start")
        time.sleep(0.01)
    try:
        yield address(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def chromium_executable() -> Path | None:
    """Return the system's Chromium (``$CHROMIUM``, /usr/bin/chromium, or on the PATH), or None."""
    candidates = [os.environ.get("CHROMIUM", ""), "/usr/bin/chromium", "/usr/bin/chromium-browser"]
    candidates += [
        shutil.which(name) or "" for name in ("chromium", "chromium-browser", "google-chrome")
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None
