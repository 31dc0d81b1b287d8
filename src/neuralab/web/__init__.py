"""``neuralab serve``: the playground in the browser, a view of the engine over a WebSocket.

- :mod:`~neuralab.web.app`: the ASGI app (page, static files, one WebSocket per tab), host and
  origin checks;
- :mod:`~neuralab.web.tab`: one tab's networks (engine sessions), commands and frames;
- :mod:`~neuralab.web.protocol`: the messages a page may send, checked; :mod:`~neuralab.web.limits`;
- :mod:`~neuralab.web.frames`: what the page draws, computed from a session;
- :mod:`~neuralab.web.urlstate`: a config as a link, command-line flags and config.yaml;
- :mod:`~neuralab.web.presets`: the course's experiments as A | B presets;
- :mod:`~neuralab.web.export`: a trained network as PyTorch code and weights;
- :mod:`~neuralab.web.server`: uvicorn in the foreground or on a thread; the system's Chromium;
- ``static/``: the page (HTML, CSS, JavaScript modules; no build step, nothing fetched).
"""

from neuralab.web.app import create_app
from neuralab.web.limits import Limits

__all__ = ["Limits", "create_app"]
