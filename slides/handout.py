"""PDF handouts: Chromium's print of each deck, one page per slide, fragments shown.

reveal.js lays a deck out for print when its URL carries ``?print-pdf``; the course template
waits for MathJax before that layout (``window.deckReady``). Chromium then prints it at the
page size reveal.js sets (the 1280x720 slide plus its margin). The page is offline: a request
that would leave the machine is blocked and fails the print.
"""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import sys

from slides.browser import chromium, find_chromium, offline_page
from slides.check import open_deck

SKIP_LINE = "slides: PDF handouts skipped: no chromium found (apt-get install chromium)"


class PrintError(RuntimeError):
    """A deck could not be printed offline and cleanly."""


def print_deck(browser, deck: pathlib.Path) -> pathlib.Path:
    """Print ``deck`` (an .html) to the .pdf beside it; return the PDF's path."""
    page = offline_page(browser)
    try:
        open_deck(page, deck, "?print-pdf")
        if page.blocked_requests or page.console_errors:
            raise PrintError(
                f"{deck.name}: blocked requests {page.blocked_requests}, "
                f"console errors {page.console_errors}"
            )
        pdf = deck.with_suffix(".pdf")
        # One page per slide: the print layout can leave a blank sheet after the last one.
        pages = page.evaluate("document.querySelectorAll('.pdf-page').length")
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True,
                 page_ranges=f"1-{pages}")
        return pdf
    finally:
        page.context.close()


def _print_with_one_browser(decks: list[pathlib.Path]) -> list[pathlib.Path]:
    with chromium() as browser:
        return [print_deck(browser, deck) for deck in decks]


def print_decks(decks: list[pathlib.Path], workers: int | None = None) -> bool:
    """Print every deck; return False (after one line on stderr) if no chromium is installed.

    Printing is the slow part of ``make slides`` (a few seconds a deck, mostly the typeset
    math), so the decks are shared among ``workers`` processes (default: one per CPU, at
    most 4), each with its own chromium.
    """
    if find_chromium() is None:
        print(SKIP_LINE, file=sys.stderr)
        return False
    workers = max(1, min(workers or os.cpu_count() or 1, 4, len(decks)))
    if workers == 1:
        _print_with_one_browser(decks)
        return True
    shares = [decks[i::workers] for i in range(workers)]
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        for _ in pool.map(_print_with_one_browser, shares):
            pass
    return True
