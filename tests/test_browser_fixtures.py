"""The browser tests skip where Chromium is missing, but never in CI."""

from __future__ import annotations

import pytest
from _pytest.outcomes import Failed, Skipped

from browser_fixtures import missing


def test_without_ci_a_missing_browser_skips_with_the_reason(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(Skipped, match="no Chromium"):
        missing("no Chromium at /usr/bin/chromium")


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_in_ci_a_missing_browser_fails(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(Failed, match="CI=true and no Chromium"):
        missing("no Chromium at /usr/bin/chromium")
