"""``neuralab serve``: the playground in the browser, trained live by neuralab's engine."""

from __future__ import annotations

import typer

from neuralab.cli._app import app

_HELP = """Open the playground in the browser: watch a network learn, change it while it
trains, share it as a link.

Each browser tab trains its own network with neuralab's engine, the one behind
'neuralab playground': pick a data set and features, add layers and units,
press play, and watch the output heat map, every unit's heat map, the weights,
the loss curves and the diagnostics (gradient norms, dead and saturated units,
symmetry) change epoch by epoch. A | B trains two networks on the same data in
lockstep; the course's experiments are presets. The link holds every setting
(same seed, same numbers); Export gives config.yaml for 'neuralab playground
--config', the model as PyTorch code with its weights, and the figures.

Works offline: every file of the page comes from the package. Listens on
127.0.0.1 (this machine only) unless --host says otherwise.

Examples:

  neuralab serve --open

  neuralab serve --port 8123
"""


@app.command("serve", help=_HELP)
def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every network interface)."
    ),
    port: int = typer.Option(8000, "--port", help="Port to listen on (0: any free port)."),
    open_browser: bool = typer.Option(
        False, "--open", help="Open the page in the default browser."
    ),
) -> None:
    import threading
    import webbrowser

    import torch

    from neuralab.console import stderr_console, stdout_console
    from neuralab.errors import NeuralabError
    from neuralab.web.server import ALL_INTERFACES, address, bind_socket, make_server

    if not 0 <= port <= 65535:
        raise NeuralabError(f"--port {port} must be 0..65535")
    # the playground's matrices are tiny: one thread per process avoids oversubscription
    torch.set_num_threads(1)
    sock = bind_socket(host, port)
    url = address(sock)
    if host in ALL_INTERFACES:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        stderr_console().print(
            f"warning: --host {host or '0.0.0.0'} makes the playground reachable from other "
            "machines; anyone who can reach this port can train networks here (there is no login)",
            style="yellow",
            markup=False,
            highlight=False,
        )
    server = make_server(host, sock)
    stdout_console().print(
        f"neuralab playground on {url}  (Ctrl+C stops it)", markup=False, highlight=False
    )
    if open_browser:
        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
