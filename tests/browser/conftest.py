"""One way to get a real browser for every browser test: Debian's chromium, driven by playwright.

Playwright's own browser download (`playwright install`) is never used: the tests launch the
system chromium (`apt-get install chromium`). Where none is installed, every browser test is
skipped with one line saying so.

Fixtures:

* ``browser``: a headless chromium, one per test session (per xdist worker);
* ``offline_page``: a new page whose requests leave the machine only if they go to ``file:`` or
  to ``127.0.0.1``/``localhost``; every other request is aborted and recorded in
  ``page.blocked_requests``, and console errors and uncaught page errors are recorded in
  ``page.console_errors``;
* ``offline_pages``: a factory of such pages, for module-scoped fixtures (the deck reports);
* ``widget_notebook``: a tiny notebook whose outputs hold what the slide and site builds must
  turn into static pictures (a widget view stored with its PNG, a widget without one, widget
  state in the metadata, ``hide-input`` and ``remove-cell`` tags).
"""

from __future__ import annotations

import types

import pytest

from slides.browser import CHROMIUM_ARGS, find_chromium, offline_page

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


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


@pytest.fixture(name="offline_page")
def offline_page_fixture(browser):
    """A 1280×720 page that blocks and records every request leaving the machine."""
    page = new_offline_page(browser)
    yield page
    page.context.close()


@pytest.fixture(scope="session")
def offline_pages(browser):
    """A factory of offline pages (``offline_pages(width=..., height=...)``) for fixtures wider
    than one test; close each with ``page.context.close()``."""
    return lambda **viewport: new_offline_page(browser, **viewport)


def new_offline_page(browser, width: int = 1280, height: int = 720):
    """The page ``offline_page`` yields, for fixtures of a wider scope; close it with
    ``page.context.close()``. The loopback host counts as local (a JupyterLab the tests start)."""
    return offline_page(browser, width, height, hosts=LOCAL_HOSTS)


#: What the widget fixture's cells hold that no static page may show.
WIDGET_REPR = "interactive(children=(FloatSlider(value=0.2, description='lr'),"
HIDDEN_CODE = "HIDDEN_PLOTTING_CODE = 1"
REMOVED_CODE = "REMOVED_CELL = 1"


def tiny_png(width: int = 40, height: int = 30) -> str:
    """A base64 PNG of a plain orange rectangle (no imaging library needed)."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


@pytest.fixture(scope="session")
def widget_notebook(tmp_path_factory):
    """The widget fixture. ``.path``: ``widget_fixture.ipynb``, with an explorer output
    (widget view + PNG), an old-style one (widget view only), widget state in the metadata, a
    ``hide-input`` and a ``remove-cell`` cell, some math and speaker notes. ``.never_shown``:
    texts no static page may show; ``.shown_code``: the source of the untagged code cell;
    ``.notes``: the speaker notes."""
    nbformat = pytest.importorskip("nbformat")
    view = {"model_id": "0123456789abcdef0123456789abcdef", "version_major": 2,
            "version_minor": 0}
    slide = {"slideshow": {"slide_type": "slide"}}

    def code(source, outputs, tags=(), slide_type="-"):
        cell = nbformat.v4.new_code_cell(source, outputs=outputs, execution_count=None)
        cell.metadata = {"slideshow": {"slide_type": slide_type}, "tags": list(tags)}
        return cell

    def widget_output(with_png):
        data = {"application/vnd.jupyter.widget-view+json": view, "text/plain": WIDGET_REPR}
        if with_png:
            data["image/png"] = tiny_png()
        return nbformat.v4.new_output("display_data", data=data)

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Widget fixture\n\nThe slope is $f'(x) = 2x$.",
                                      metadata=slide),
        nbformat.v4.new_markdown_cell("Point at the explorer.",
                                      metadata={"slideshow": {"slide_type": "notes"}}),
        code(HIDDEN_CODE, [widget_output(with_png=True)], tags=["hide-input"]),
        code("old_explorer()", [widget_output(with_png=False)], slide_type="subslide"),
        code(REMOVED_CODE, [], tags=["remove-cell"]),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {view["model_id"]: {"model_name": "VBoxModel", "state": {}}},
        "version_major": 2, "version_minor": 0}}
    path = tmp_path_factory.mktemp("widget_fixture") / "widget_fixture.ipynb"
    nbformat.write(nb, path)
    return types.SimpleNamespace(path=path, never_shown=[WIDGET_REPR, HIDDEN_CODE, REMOVED_CODE],
                                 shown_code="old_explorer()", notes="Point at the explorer.")

