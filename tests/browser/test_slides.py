"""The lecture decks in a real browser: offline, typeset, complete, fitting a 1280x720 screen.

Reads the decks ``make slides`` built in ``dist/slides/`` (``make test`` builds them first).
Each deck is opened from disk with every non-local request blocked, and stepped through page
by page with every fragment shown (``slides.check.inspect``, which ``python -m slides.check``
also runs); a screenshot of its first slide goes to ``dist/screenshots/slides/``.
"""

from __future__ import annotations

import pathlib
import re

import pytest

from slides import build as slides_build
from slides import check

ROOT = pathlib.Path(__file__).resolve().parents[2]
DECKS = ROOT / "dist" / "slides"
SHOTS = ROOT / "dist" / "screenshots" / "slides"
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
STEMS = [path.stem for path in CHAPTERS]
FIX = "python -m slides.check dist/slides"  # what a chapter author runs to see the same list


def deck_path(stem: str) -> pathlib.Path:
    deck = DECKS / f"{stem}.html"
    if not deck.exists():
        pytest.fail(f"{deck} missing: build the decks with `make slides`")
    return deck


@pytest.fixture(scope="module")
def report(offline_pages):
    """``report(stem)``: the deck's :class:`slides.check.DeckReport`, computed once."""
    reports = {}

    def get(stem: str) -> check.DeckReport:
        if stem not in reports:
            page = offline_pages()
            try:
                reports[stem] = check.inspect(page, deck_path(stem))
                check.screenshot(page, "#/0/0", SHOTS / f"{stem}.png")
            finally:
                page.context.close()
        return reports[stem]

    return get


def lines(found: list[str]) -> str:
    return "\n".join(found)


@pytest.mark.parametrize("stem", STEMS)
def test_deck_is_built_from_the_current_notebook(chromium_path, stem):
    notebook = ROOT / "chapters" / f"{stem}.ipynb"
    deck = deck_path(stem)
    assert deck.stat().st_mtime >= notebook.stat().st_mtime, (
        f"{deck.name} is older than {notebook.name}: rebuild with `make slides`")


@pytest.mark.parametrize("stem", STEMS)
def test_deck_opens_offline_without_console_errors(report, stem):
    found = report(stem)
    assert not found.blocked_requests, f"requests that left the machine: {found.blocked_requests}"
    assert not found.console_errors, f"console errors: {found.console_errors}"
    assert found.pages, "no slides"
    assert (SHOTS / f"{stem}.png").stat().st_size > 0


@pytest.mark.parametrize("stem", STEMS)
def test_math_is_typeset(report, stem):
    found = report(stem)
    raw = [f"{page.label()}: {page.raw_math}" for page in found.raw_math()]
    assert not raw, f"raw TeX in visible text ({FIX}):\n{lines(raw)}"


@pytest.mark.parametrize("stem", STEMS)
def test_every_image_loads(report, stem):
    found = report(stem)
    broken = [f"{page.label()}: {page.broken_images}" for page in found.broken_images()]
    assert not broken, f"images that did not load:\n{lines(broken)}"
    if figures_in(ROOT / "chapters" / f"{stem}.ipynb"):
        assert sum(page.images for page in found.pages) > 0, "the chapter's figures are missing"


@pytest.mark.parametrize("stem", STEMS)
def test_no_slide_overflows_the_screen(report, stem):
    found = report(stem)
    overflow = found.overflow_lines()
    assert not overflow, (
        f"{len(overflow)} of {len(found.pages)} slides do not fit {found.width}x{found.height} "
        f"(split them with a subslide, or tag plotting cells hide-input; {FIX}):\n"
        f"{lines(overflow)}")


@pytest.mark.parametrize("stem", STEMS)
def test_every_section_has_speaker_notes(report, stem):
    found = report(stem)
    missing = found.notes_lines()
    assert not missing, (
        f"{len(missing)} of {found.sections} slide-level sections have no speaker notes on "
        f"their first page (add a markdown cell of slide type 'notes'; {FIX}):\n{lines(missing)}")


@pytest.mark.parametrize("stem", STEMS)
def test_pdf_handout_has_a_page_per_slide(report, stem):
    pdf = DECKS / f"{stem}.pdf"
    assert pdf.exists(), f"{pdf} missing: `make slides` prints it with chromium"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert pdf.stat().st_mtime >= deck_path(stem).stat().st_mtime, "PDF older than its deck"
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert pages == len(report(stem).pages)


def test_index_lists_every_deck_and_handout(chromium_path):
    index = (DECKS / "index.html").read_text(encoding="utf-8")
    for stem in STEMS:
        assert f'href="{stem}.html"' in index and f'href="{stem}.pdf"' in index


def figures_in(notebook: pathlib.Path) -> bool:
    """Whether a lecture shows an image output of this notebook (not skipped or removed)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        shown = cell.metadata.get("slideshow", {}).get("slide_type") not in {"skip", "notes"}
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "code" and shown and not tags & {"remove-cell", "remove-output"}:
            if any("image/png" in out.get("data", {}) for out in cell.outputs):
                return True
    return False


def test_widgets_and_tags_in_a_deck(widget_notebook, offline_page, tmp_path):
    """A widget output shows its stored PNG; no widget repr, no widget script; tags apply."""
    [deck] = slides_build.build([widget_notebook.path], tmp_path, pdf=False)
    html = pathlib.Path(deck).read_text(encoding="utf-8")
    assert "widget-view+json" not in html and "widget-state+json" not in html
    assert "html-manager" not in html and "embed-amd" not in html
    found = check.inspect(offline_page, pathlib.Path(deck))
    assert not found.blocked_requests and not found.console_errors
    assert [page.images for page in found.pages] == [1, 0]
    assert not found.broken_images() and not found.raw_math()
    assert not found.sections_without_notes
    text = offline_page.evaluate("document.querySelector('.reveal .slides').textContent")
    assert "run this notebook in JupyterLab" in text  # the widget stored without a picture
    for hidden in widget_notebook.never_shown:
        assert hidden not in text
    assert widget_notebook.shown_code in text


def test_speaker_view_shows_the_notes_offline(widget_notebook, offline_page, tmp_path):
    """Pressing S opens reveal.js's speaker view (notes, timer, next slide) from disk."""
    [deck] = slides_build.build([widget_notebook.path], tmp_path, pdf=False)
    check.open_deck(offline_page, pathlib.Path(deck))
    with offline_page.context.expect_page() as popup:
        offline_page.keyboard.press("s")
    speaker = popup.value
    speaker.wait_for_function(
        "(notes) => (document.querySelector('.speaker-controls-notes') || {}).innerText"
        "?.includes(notes)", arg=widget_notebook.notes, timeout=check.READY_TIMEOUT_MS)
    assert not offline_page.blocked_requests and not offline_page.console_errors
