"""Check built decks in Chromium: overflowing slides, missing speaker notes, raw math, broken
images, requests that leave the machine, console errors.

    .venv/bin/python -m slides.check dist/slides                  # every deck
    .venv/bin/python -m slides.check dist/slides/06_momentum.html # one deck
    .venv/bin/python -m slides.check dist/slides --screenshots /tmp/shots   # + a PNG per problem

Prints one block per deck and exits 1 if any deck has a problem. Each problem names the slide
as ``#/h/v`` (open ``deck.html#/h/v`` to see it; ``h`` counts slide-level sections from 0,
``v`` the pages below them) and as the page number the deck shows in its corner.

What counts (the browser tests in ``tests/browser/test_slides.py`` assert the same, through
:func:`inspect`):

* **overflow**: a page's content is taller or wider than the 1280x720 slide (measured as
  reveal.js measures it, with every fragment shown and the math typeset), or something on it
  scrolls inside its own box, or a code or output line is cut off at its box's edge
  (a line too long for the slide);
* **no notes**: a slide-level section (a cell with slide type ``slide``) has no speaker notes
  (a ``notes`` cell) on its first page;
* **raw math**: visible text, outside code, still holding ``$``, ``\\(`` or ``\\[``, or a TeX error;
* **image**: an ``<img>`` that did not load (``naturalWidth == 0``).
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys

READY_TIMEOUT_MS = 60_000

#: Steps through every page (all fragments shown), waits for MathJax, measures.
INSPECT_JS = r"""
async () => {
  const R = window.Reveal;
  R.configure({ transition: "none", backgroundTransition: "none" });
  const typeset = () => new Promise((resolve) =>
    window.MathJax && MathJax.Hub ? MathJax.Hub.Queue(() => resolve()) : resolve());
  const frame = () => new Promise((resolve) =>
    requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const visible = (el) => el.checkVisibility({ visibilityProperty: true, opacityProperty: false });
  const title = (el) => {  // the first heading (or text) as written, math as TeX source
    const clone = (el.querySelector("h1, h2, h3, h4, h5") || el).cloneNode(true);
    clone.querySelectorAll(".MathJax_Preview, .MathJax, .MathJax_CHTML, .MathJax_Display, "
      + ".mjx-chtml, .MJX_Assistive_MathML, aside.notes").forEach((e) => e.remove());
    clone.querySelectorAll("script[type^='math/tex']")
      .forEach((s) => s.replaceWith(`$${s.textContent}$`));
    return clone.textContent.replace(/¶/g, "").replace(/\s+/g, " ").trim().slice(0, 70);
  };
  const NOT_PROSE = "pre, code, script, style, textarea, aside.notes, .MathJax, .MathJax_CHTML, "
    + ".MathJax_Display, .MathJax_Preview, .MJX_Assistive_MathML, .mjx-chtml";
  const RAW_MATH = /\$|\\\(|\\\[/;
  const config = R.getConfig();
  const pages = [];
  const slides = R.getSlides();
  for (let index = 0; index < slides.length; index++) {
    const slide = slides[index];
    const { h, v } = R.getIndices(slide);
    R.slide(h, v, 1e6);
    slide.querySelectorAll(".fragment").forEach((f) => f.classList.add("visible"));
    await typeset();
    R.layout();
    await frame();
    const clipped = [];
    for (const el of slide.querySelectorAll("*")) {
      if (el.closest("aside.notes, .MathJax, .MathJax_CHTML, .mjx-chtml")) continue;
      const style = getComputedStyle(el);
      const scrollsX = /auto|scroll/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
      const scrollsY = /auto|scroll/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
      if (scrollsX || scrollsY) {
        clipped.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} scrolls `
          + `(${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`);
      }
      // A code or output line wider than its box, cut off at the box's edge (no scroll bar).
      const cutX = /hidden|clip/.test(style.overflowX) && el.closest(".jp-Cell")
        && el.scrollWidth > el.clientWidth + 1;
      if (cutX) {
        clipped.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} cuts off a line `
          + `(${el.scrollWidth} px wide in ${el.clientWidth} px)`);
      }
    }
    const rawMath = [];
    const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const parent = walker.currentNode.parentElement;
      if (!parent || parent.closest(NOT_PROSE) || !visible(parent)) continue;
      const text = walker.currentNode.textContent;
      if (RAW_MATH.test(text)) rawMath.push(text.replace(/\s+/g, " ").trim().slice(0, 80));
    }
    slide.querySelectorAll(".MathJax_Error, .mjx-merror, merror").forEach((el) =>
      rawMath.push(`TeX error: ${el.textContent.slice(0, 80)}`));
    const brokenImages = [...slide.querySelectorAll("img")]
      .filter((img) => !(img.complete && img.naturalWidth > 0))
      .map((img) => (img.getAttribute("src") || "").slice(0, 60));
    pages.push({
      number: index + 1, h, v, title: title(slide),
      width: slide.scrollWidth, height: slide.scrollHeight,
      clipped, raw_math: rawMath, broken_images: brokenImages,
      images: slide.querySelectorAll("img").length,
    });
  }
  const sections = [...document.querySelectorAll(".reveal .slides > section")].map((top, h) => {
    const first = top.querySelector(":scope > section") || top;
    return { h, title: title(first), has_notes: !!first.querySelector("aside.notes") };
  });
  R.slide(0, 0, 0);
  return { width: config.width, height: config.height, pages, sections };
}
"""


@dataclasses.dataclass
class Page:
    """One page of a deck (a reveal.js ``section`` with no section inside)."""

    number: int  # as the deck shows it, from 1
    h: int
    v: int
    title: str
    width: int
    height: int
    clipped: list[str]
    raw_math: list[str]
    broken_images: list[str]
    images: int

    @property
    def anchor(self) -> str:
        return f"#/{self.h}/{self.v}"

    def label(self) -> str:
        return f"{self.anchor:>8} (page {self.number}) {self.title!r}"


@dataclasses.dataclass
class DeckReport:
    """What :func:`inspect` found in one deck."""

    deck: pathlib.Path
    width: int
    height: int
    pages: list[Page]
    sections: int
    sections_without_notes: list[tuple[int, str]]
    blocked_requests: list[str]
    console_errors: list[str]

    def overflowing(self) -> list[Page]:
        return [p for p in self.pages
                if p.width > self.width or p.height > self.height or p.clipped]

    def raw_math(self) -> list[Page]:
        return [p for p in self.pages if p.raw_math]

    def broken_images(self) -> list[Page]:
        return [p for p in self.pages if p.broken_images]

    def overflow_lines(self) -> list[str]:
        lines = []
        for page in self.overflowing():
            size = f"content {page.width}x{page.height} > {self.width}x{self.height}"
            if page.width <= self.width and page.height <= self.height:
                size = "fits"
            lines.append(f"overflow {page.label()}: {'; '.join([size, *page.clipped])}")
        return lines

    def notes_lines(self) -> list[str]:
        return [f"no notes {f'#/{h}/0':>8} {title!r}" for h, title in self.sections_without_notes]

    def problem_lines(self) -> list[str]:
        lines = [f"request  {url}" for url in self.blocked_requests]
        lines += [f"console  {error}" for error in self.console_errors]
        lines += self.overflow_lines()
        lines += self.notes_lines()
        lines += [f"raw math {p.label()}: {p.raw_math}" for p in self.raw_math()]
        lines += [f"image    {p.label()}: {p.broken_images}" for p in self.broken_images()]
        return lines

    def summary(self) -> str:
        counts = [
            f"{len(self.pages)} pages",
            f"{len(self.overflowing())} overflow",
            f"{len(self.sections_without_notes)} of {self.sections} sections without notes",
            f"{len(self.raw_math())} with raw math",
            f"{len(self.broken_images())} with broken images",
            f"{len(self.blocked_requests)} external requests",
            f"{len(self.console_errors)} console errors",
        ]
        return f"{self.deck.name}: {', '.join(counts)}"


def open_deck(page, deck: pathlib.Path, query: str = "") -> None:
    """Load ``deck`` from disk in ``page`` and wait until reveal.js and MathJax are done."""
    page.goto(deck.resolve().as_uri() + query)
    page.wait_for_function("window.deckReady !== undefined", timeout=READY_TIMEOUT_MS)
    page.evaluate("window.deckReady.then(() => true)")


def inspect(page, deck: pathlib.Path) -> DeckReport:
    """Open ``deck`` in ``page`` (an offline page with ``blocked_requests`` and
    ``console_errors`` lists) and step through every page, every fragment shown."""
    open_deck(page, deck)
    found = page.evaluate(INSPECT_JS)
    return DeckReport(
        deck=deck,
        width=found["width"],
        height=found["height"],
        pages=[Page(**p) for p in found["pages"]],
        sections=len(found["sections"]),
        sections_without_notes=[(s["h"], s["title"]) for s in found["sections"]
                                if not s["has_notes"]],
        blocked_requests=list(page.blocked_requests),
        console_errors=list(page.console_errors),
    )


def screenshot(page, anchor: str, path: pathlib.Path) -> None:
    """A PNG of the page at ``anchor`` (``#/h/v``), every fragment shown."""
    h, v = (int(part) for part in anchor.strip("#/").split("/"))
    page.evaluate(
        """([h, v]) => new Promise((resolve) => {
             Reveal.slide(h, v, 1e6);
             Reveal.getCurrentSlide().querySelectorAll('.fragment')
               .forEach((f) => f.classList.add('visible'));
             const done = () => requestAnimationFrame(() => requestAnimationFrame(resolve));
             window.MathJax ? MathJax.Hub.Queue(done) : done();
           })""",
        [h, v],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def decks_in(paths: list[pathlib.Path]) -> list[pathlib.Path]:
    """The decks named by ``paths`` (folders are searched for ``NN_*.html``)."""
    decks = []
    for path in paths:
        decks += sorted(path.glob("[0-9][0-9]_*.html")) if path.is_dir() else [path]
    return decks


def main(argv: list[str] | None = None) -> int:
    from slides.browser import chromium, offline_page

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=pathlib.Path, help="decks or folders of decks")
    parser.add_argument("--screenshots", type=pathlib.Path,
                        help="save a PNG of every overflowing slide into this folder")
    args = parser.parse_args(argv)
    decks = decks_in(args.paths)
    if not decks:
        parser.error(f"no decks in {args.paths}; build them with `make slides`")
    failed = 0
    with chromium() as browser:
        for deck in decks:
            page = offline_page(browser)
            try:
                report = inspect(page, deck)
                problems = report.problem_lines()
                print(report.summary())
                for line in problems:
                    print(f"  {line}")
                if args.screenshots:
                    for overflow in report.overflowing():
                        name = f"{deck.stem}_{overflow.h}_{overflow.v}.png"
                        screenshot(page, overflow.anchor, args.screenshots / name)
            finally:
                page.context.close()
            failed += bool(problems)
    print(f"{failed} of {len(decks)} decks have problems" if failed else "every deck is clean")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
