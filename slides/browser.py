"""Debian's chromium, driven by playwright: the one place that finds and launches it.

The builds that need a browser (PDF handouts, ``python -m slides.check``) and the browser tests
(``tests/browser/conftest.py``) all use it: the system chromium (``$CHROMIUM`` first), never
``playwright install``, and every request that would leave the machine blocked and recorded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
#: Flags that keep chromium from calling home on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome-extension"}


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


@contextlib.contextmanager
def chromium(path: str | None = None) -> Iterator:
    """A headless chromium (playwright ``Browser``); raises if none is installed."""
    from playwright.sync_api import sync_playwright

    executable = path or find_chromium()
    if executable is None:
        raise FileNotFoundError("no chromium found (apt-get install chromium, or set $CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def is_local(url: str, hosts: frozenset[str] = frozenset()) -> bool:
    """Whether a request stays on this machine: a file, data or blob URL, or one of ``hosts``
    (the loopback names, for a JupyterLab the tests start)."""
    parsed = urlparse(url)
    if parsed.scheme in LOCAL_SCHEMES:
        return True
    return parsed.scheme in {"http", "https", "ws", "wss"} and parsed.hostname in hosts


def offline_page(browser, width: int = 1280, height: int = 720,
                 hosts: frozenset[str] = frozenset()):
    """A new page (in its own context) that aborts every non-local request and records it.

    ``hosts`` are served hosts that count as local (``{"127.0.0.1", "localhost"}`` for a
    JupyterLab on this machine). ``page.blocked_requests`` lists the aborted URLs,
    ``page.console_errors`` the console errors and uncaught exceptions. Close it with
    ``page.context.close()``.
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.blocked_requests = []
    page.console_errors = []

    def route(route_):
        url = route_.request.url
        if is_local(url, hosts):
            route_.continue_()
        else:
            page.blocked_requests.append(url)
            route_.abort()

    context.route("**/*", route)
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page
