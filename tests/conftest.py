"""Fixtures shared by several test files."""
from __future__ import annotations

import os
import shutil

import pytest

#: how the browser tests start Chromium (no background traffic on this closed network)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def chromium_path() -> str | None:
    """Debian's Chromium, or None when it is not installed."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium (fresh profile) for the whole session; skipped without chromium.

    Playwright's sync API runs an event loop for as long as it is open, so every browser test
    shares this one instance instead of starting its own.
    """
    executable = chromium_path()
    if executable is None:
        pytest.skip("browser tests need Debian's chromium (/usr/bin/chromium): "
                    "`apt-get install chromium` (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable,
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()
