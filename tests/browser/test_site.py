"""The course website in a real browser: offline, typeset, complete, linked and searchable.

Reads the site ``make site`` built in ``dist/site/`` (``make test`` builds it first). Every page
is opened from disk with every non-local request blocked; a screenshot of each goes to
``dist/screenshots/site/``.
"""

from __future__ import annotations

import functools
import pathlib
import re
import subprocess
import sys
import tomllib
from urllib.parse import unquote, urlparse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = ROOT / "dist" / "site"
SHOTS = ROOT / "dist" / "screenshots" / "site"
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
PAGES = ["index.html", "search.html", "genindex.html"] + [
    f"chapters/{path.stem}.html" for path in CHAPTERS
]
ADAM_CHAPTER = "chapters/10_adam.html"
#: chapter -> the file names of the exercise notebooks its page must link to
EXERCISES = {
    chapter: [pathlib.PurePath(f).name for f in ([files] if isinstance(files, str) else files)]
    for chapter, files in tomllib.loads(
        (ROOT / "site" / "exercises.toml").read_text(encoding="utf-8")).get("exercises", {}).items()
}
READY_TIMEOUT_MS = 60_000

#: Waits for MathJax and every image; opens every <details> (answers, hidden code); returns
#: visible text still holding TeX, images that failed, and every link's resolved URL.
INSPECT_JS = r"""
async () => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  if (window.MathJax && MathJax.startup) {
    await MathJax.startup.promise;
    if (MathJax.typesetPromise) await MathJax.typesetPromise();
  }
  const images = [...document.images];
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.complete ? null : new Promise((resolve) => {
    img.addEventListener("load", resolve); img.addEventListener("error", resolve);
  })));
  const NOT_PROSE = "pre, code, kbd, script, style, textarea, mjx-container, mjx-assistive-mml";
  const RAW_MATH = /\$|\\\(|\\\[|\\[a-zA-Z]{2,}/;
  const rawMath = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent || parent.closest(NOT_PROSE)) continue;
    if (!parent.checkVisibility({ visibilityProperty: true })) continue;
    const text = walker.currentNode.textContent;
    if (RAW_MATH.test(text)) rawMath.push(text.replace(/\s+/g, " ").trim().slice(0, 100));
  }
  document.querySelectorAll("mjx-merror").forEach((el) =>
    rawMath.push(`TeX error: ${el.textContent.slice(0, 80)}`));
  return {
    rawMath,
    images: images.length,
    brokenImages: images.filter((img) => !(img.complete && img.naturalWidth > 0))
      .map((img) => img.getAttribute("src")),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    text: document.querySelector("main, article, body").innerText,
  };
}
"""


def page_path(rel: str, site: pathlib.Path = SITE) -> pathlib.Path:
    path = site / rel
    if not path.exists():
        pytest.fail(f"{path} missing: build the site with `make site`")
    return path


@pytest.fixture(scope="module")
def inspect(offline_pages):
    """``inspect(rel)``: what INSPECT_JS found on the page (plus requests and console errors)."""
    found = {}

    def get(rel: str, site: pathlib.Path = SITE) -> dict:
        key = (site, rel)
        if key not in found:
            page = offline_pages(width=1280, height=900)
            try:
                page.goto(page_path(rel, site).as_uri())
                if site == SITE:  # as a reader first sees it, math typeset
                    page.evaluate("window.MathJax && MathJax.startup ? "
                                  "MathJax.startup.promise.then(() => true) : true")
                    shot = SHOTS / rel.replace("/", "_").replace(".html", ".png")
                    shot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shot))
                result = page.evaluate(INSPECT_JS)
                result["blocked"] = list(page.blocked_requests)
                result["console"] = list(page.console_errors)
                found[key] = result
            finally:
                page.context.close()
        return found[key]

    return get


@pytest.mark.parametrize("rel", PAGES)
def test_page_loads_offline_without_console_errors(inspect, rel):
    found = inspect(rel)
    assert not found["blocked"], f"requests that left the machine: {found['blocked']}"
    assert not found["console"], f"console errors: {found['console']}"


@pytest.mark.parametrize("rel", PAGES)
def test_math_is_typeset(inspect, rel):
    raw = inspect(rel)["rawMath"]
    assert not raw, "raw TeX in visible text:\n" + "\n".join(raw)


@pytest.mark.parametrize("rel", PAGES)
def test_every_image_loads(inspect, rel):
    found = inspect(rel)
    assert not found["brokenImages"], f"images that did not load: {found['brokenImages']}"
    if rel.startswith("chapters/") and rel != "chapters/00_start_here.html":
        assert found["images"] > 0, "the chapter's figures are missing"


@functools.cache
def anchors(path: pathlib.Path) -> frozenset[str]:
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))


def broken_links(links: list[str]) -> list[str]:
    """The file: links whose file, or whose #anchor in an HTML file, does not exist."""
    broken = []
    for link in links:
        url = urlparse(link)
        if url.scheme != "file":
            continue
        target = pathlib.Path(unquote(url.path))
        if not target.is_file():
            broken.append(f"{link} (no such file)")
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in anchors(
                target):
            broken.append(f"{link} (no such anchor)")
    return broken


@pytest.mark.parametrize("rel", PAGES)
def test_every_internal_link_resolves(inspect, rel):
    links = inspect(rel)["links"]
    assert not broken_links(links), "\n".join(broken_links(links))
    if rel.startswith("chapters/"):  # the download links under the title
        notebook = f"_sources/{rel.removesuffix('.html')}.ipynb"
        assert any(link.endswith(notebook) for link in links), f"no link to {notebook}"
        for exercise in EXERCISES.get(pathlib.PurePath(rel).stem, []):
            assert any(link.endswith(f"/{exercise}") for link in links), f"no link to {exercise}"


def test_navigation_reaches_every_chapter(inspect):
    links = {urlparse(link).path for link in inspect("index.html")["links"]}
    for chapter in CHAPTERS:
        assert str(SITE / "chapters" / f"{chapter.stem}.html") in links


def test_search_for_adam_finds_the_adam_chapter(offline_pages):
    page = offline_pages(width=1280, height=900)
    try:
        page.goto(page_path("search.html").as_uri() + "?q=Adam")
        page.wait_for_selector("ul.search li a", timeout=READY_TIMEOUT_MS)
        results = page.eval_on_selector_all("ul.search li a", "links => links.map(a => a.href)")
        assert not page.blocked_requests and not page.console_errors
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "search_adam.png"))
    finally:
        page.context.close()
    assert results[0].endswith(ADAM_CHAPTER), results[:5]


def test_widgets_tags_and_exercise_links_on_a_page(widget_notebook, inspect, tmp_path):
    """A widget output shows its stored PNG; no widget repr or script; hidden code is collapsed,
    removed code absent; the exercises hook puts a working link under the title."""
    exercise = tmp_path / "widget_fixture_exercises.ipynb"
    exercise.write_text(widget_notebook.path.read_text(encoding="utf-8"), encoding="utf-8")
    mapping = tmp_path / "exercises.toml"
    mapping.write_text(f'[exercises]\nwidget_fixture = ["{exercise}"]\n', encoding="utf-8")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, str(ROOT / "site" / "build.py"), str(widget_notebook.path),
         "--out", str(site), "--work", str(tmp_path / "work"), "--exercises", str(mapping)],
        check=True, cwd=ROOT, timeout=600,
    )
    rel = "chapters/widget_fixture.html"
    html = (site / rel).read_text(encoding="utf-8")
    for script in ("widget-view+json", "widget-state+json", "html-manager", "require.js"):
        assert script not in html
    assert widget_notebook.never_shown[-1] not in html  # the removed cell
    hidden = re.search(r'<details class="[^"]*hide above-input">(.*?)</details>', html, re.S)
    assert hidden and widget_notebook.never_shown[1].split()[0] in hidden.group(1)  # collapsed
    found = inspect(rel, site)
    assert not found["blocked"] and not found["console"] and not found["rawMath"]
    assert found["images"] == 1 and not found["brokenImages"]
    assert not broken_links(found["links"])
    assert any(link.endswith("widget_fixture_exercises.ipynb") for link in found["links"])
    assert "run this notebook in JupyterLab" in found["text"]
    assert widget_notebook.never_shown[0] not in found["text"]  # the widget's repr
    assert widget_notebook.shown_code in found["text"]
    notes = re.search(r'<details class="[^"]*lecture-notes[^"]*">(.*?)</details>', html, re.S)
    assert notes and widget_notebook.notes in notes.group(1)  # speaker notes, folded
