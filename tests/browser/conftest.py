"""One way to get a real browser for every browser test: Debian's chromium, driven by playwright.

Playwright's own browser download (`playwright install`) is never used: the tests launch the
system chromium (`apt-get install chromium`). Where none is installed, every browser test is
skipped with one line saying so.

Fixtures:

* ``browser``: a headless chromium, one per test session (per xdist worker);
* ``offline_page``: a new page whose requests leave the machine only if they go to ``file:`` or
  to ``127.0.0.1``/``localhost``; every other request is aborted and recorded in
  ``page.blocked_requests``, and console errors and uncaught page errors are recorded in
  ``page.console_errors``.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

import pytest

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
#: Flags that keep chromium from calling home on a closed network (see the toolchain notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """The system chromium's path (``$CHROMIUM`` first), or None."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


SKIP_REASON = (
    "browser tests skipped: no chromium found (apt-get install chromium, or set $CHROMIUM)"
)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip(SKIP_REASON)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def is_local(url: str) -> bool:
    """Whether a request stays on this machine: a file, data or blob URL, or the loopback host."""
    parsed = urlparse(url)
    if parsed.scheme in {"file", "data", "blob", "about", "chrome-extension"}:
        return True
    return parsed.scheme in {"http", "https", "ws", "wss"} and parsed.hostname in LOCAL_HOSTS


@pytest.fixture
def offline_page(browser):
    """A 1280×720 page that blocks and records every request leaving the machine."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.blocked_requests = []
    page.console_errors = []

    def route(route_):
        url = route_.request.url
        if is_local(url):
            route_.continue_()
        else:
            page.blocked_requests.append(url)
            route_.abort()

    context.route("**/*", route)
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()
