"""Browser-test fixtures: the playground server on a thread and Debian's Chromium driven by Playwright.

Playwright's own browser download needs the internet; these tests use the system's Chromium
(``/usr/bin/chromium``, installed by ``scripts/install-system-deps.sh``, or ``$CHROMIUM``). On a
machine without it the tests skip and say why; with ``CI=true`` they fail instead, so CI can never
pass without running them. Screenshots go to ``tests/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1440, "height": 1000}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    """Skip the browser tests with ``reason``, or fail them in CI."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Path:
    from neuralab.web.server import chromium_executable

    executable = chromium_executable()
    if executable is None:
        missing(
            "no Chromium at /usr/bin/chromium or on the PATH (run scripts/install-system-deps.sh)"
        )
    assert executable is not None
    return executable


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed (pip install -e '.[dev]')")
    from neuralab.web.server import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=list(CHROMIUM_ARGS)
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from neuralab.web.server import serve_in_background

    with serve_in_background() as url:
        yield url


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh tab (1440 x 1000) on the server; JavaScript errors fail the test."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    tab.server = server
    yield tab
    context.close()
    assert not errors, f"errors in the page: {errors}"


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot of ``page`` as tests/artifacts/NAME.png (kept for people to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
