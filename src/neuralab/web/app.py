"""The ASGI application of ``neuralab serve``: the page, its static files and one WebSocket per tab.

Routes: ``/`` (the page), ``/static/...`` (its CSS and JavaScript modules, read from the package
once, at start: no request names a path on disk) and ``/ws`` (a tab's session, see
:mod:`neuralab.web.tab`).

Who may connect: requests must name an allowed host (``Host`` header: localhost, 127.0.0.1,
::1, or the address the server was told to bind), which defeats DNS rebinding; a WebSocket
handshake whose ``Origin`` is another site is refused (a page elsewhere cannot drive this
server). Every message is checked (:mod:`neuralab.web.protocol`) and rate-limited; a bad one is
answered with one line the page shows, and nothing a tab sends can end the server or touch
another tab.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from neuralab.web.limits import Limits
from neuralab.web.protocol import ProtocolError, RateLimit, parse_message

log = logging.getLogger("neuralab.web")

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
STRIKES_BEFORE_CLOSE = 200  # messages over the rate before a flooding tab is disconnected


def static_files() -> dict[str, tuple[bytes, str]]:
    """Return every file of the page shipped in the package: relative path -> (bytes, type)."""
    files: dict[str, tuple[bytes, str]] = {}
    root = resources.files("neuralab.web") / "static"

    def walk(folder: Any, prefix: str) -> None:
        for entry in folder.iterdir():
            name = prefix + entry.name
            if entry.is_dir():
                walk(entry, name + "/")
            else:
                suffix = "." + entry.name.rsplit(".", 1)[-1]
                if suffix in CONTENT_TYPES:
                    files[name] = (entry.read_bytes(), CONTENT_TYPES[suffix])

    walk(root, "")
    return files


def host_name(value: str) -> str:
    """Return the host of a ``Host`` header or a URL's netloc, lower case, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def refusal(headers: dict[str, str], allowed_hosts: frozenset[str] | None) -> str | None:
    """Return why a request must be refused (a foreign host or origin), or None to serve it.

    ``allowed_hosts`` None accepts any Host (a server bound to all interfaces); a browser's
    ``Origin`` must still be this very server (scheme-less comparison of host and port).
    """
    host = headers.get("host", "")
    if allowed_hosts is not None and host_name(host) not in allowed_hosts:
        return f"host {host!r} is not served here"
    origin = headers.get("origin")
    if origin is not None:
        netloc = urlsplit(origin).netloc.lower()
        if netloc != host.strip().lower():
            return f"origin {origin!r} is not this server"
    return None


class _GuardHosts:
    """Refuse requests for other hosts (HTTP 400) and WebSockets from other origins (403)."""

    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str] | None) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            if scope["type"] == "http":
                headers.pop("origin", None)  # plain page loads: only the host matters
            reason = refusal(headers, self.allowed_hosts)
            if reason is not None:
                log.warning("refused %s request: %s", scope["type"], reason)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008, "reason": reason})
                else:
                    await PlainTextResponse(f"refused: {reason}\n", status_code=400)(
                        scope, receive, send
                    )
                return
        await self.app(scope, receive, send)


def create_app(
    limits: Limits | None = None, *, hosts: Iterable[str] | None = ("127.0.0.1",)
) -> ASGIApp:
    """Return the ASGI app of the browser playground.

    ``hosts`` are the addresses the server answers to besides localhost (the ``--host`` it
    binds); None (a server on all interfaces) answers to any host name.
    """
    import torch

    from neuralab.web.meta import page_meta

    # networks of a few dozen weights: more torch threads only fight over the GIL (measured:
    # 50 ms instead of 0.7 ms per update on a worker thread with two threads)
    torch.set_num_threads(1)
    limits = limits or Limits()
    # computed now, before the address is printed: it imports the data sets' generators
    # (scikit-learn's, ~2 s), which the first tab would otherwise wait for
    meta = page_meta(limits)
    files = static_files()
    allowed = None if hosts is None else frozenset(LOCAL_HOSTS | {host_name(h) for h in hosts})
    tabs: set[Any] = set()

    async def page(request: Request) -> Response:
        body, content_type = files["index.html"]
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-cache"})

    async def static(request: Request) -> Response:
        entry = files.get(request.path_params["name"])
        if entry is None:
            return PlainTextResponse("not found\n", status_code=404)
        return Response(entry[0], media_type=entry[1], headers={"Cache-Control": "no-cache"})

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        lock = asyncio.Lock()

        async def send(message: dict[str, Any]) -> None:
            text = json.dumps(message, separators=(",", ":"), allow_nan=False)
            async with lock:
                await websocket.send_text(text)

        if len(tabs) >= limits.max_sessions:
            await send(
                {
                    "type": "error",
                    "message": f"the server has {len(tabs)} open tabs, its limit; close one",
                }
            )
            await websocket.close(code=1013)
            return
        await serve_tab(websocket, send, limits, meta, tabs)

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/static/{name:path}", static),
            WebSocketRoute("/ws", socket),
        ],
        middleware=[Middleware(_GuardHosts, allowed_hosts=allowed)],
    )
    app.state.tabs = tabs  # the open tabs (their count is limited; tests watch them close)
    app.state.limits = limits
    return app


async def serve_tab(
    websocket: WebSocket, send: Any, limits: Limits, meta: dict[str, Any], tabs: set[Any]
) -> None:
    """Run one tab: its task trains and draws, this loop reads and checks the page's messages."""
    from neuralab.web.tab import Tab

    tab = Tab(limits, send)
    tabs.add(tab)
    task = asyncio.create_task(tab.run(meta))
    rate = RateLimit(limits.messages_per_second, limits.message_burst)
    strikes = 0
    try:
        while not task.done():
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw: str | bytes = message.get("text") or message.get("bytes") or ""
            if not rate.allow():
                strikes += 1
                if strikes == 1 or strikes % 50 == 0:
                    await send(
                        {
                            "type": "error",
                            "message": "too many messages: slow down (some were ignored)",
                        }
                    )
                if strikes > STRIKES_BEFORE_CLOSE:
                    await websocket.close(code=1008, reason="too many messages")
                    break
                continue
            try:
                command = parse_message(raw, limits)
            except ProtocolError as error:
                await send({"type": "error", "message": str(error)})
                continue
            tab.receive(command)
    except WebSocketDisconnect:
        log.debug("tab socket closed by the browser")
    except Exception:  # noqa: BLE001 - a broken socket ends this tab, never the server
        log.exception("tab socket failed")
    finally:
        # before any await: a server shutting down may cancel this very cleanup
        tab.close()
        tabs.discard(tab)
        task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not isinstance(
                result, asyncio.CancelledError | WebSocketDisconnect
            ):
                log.warning("tab ended with %s: %s", type(result).__name__, result)
