"""Build one offline reveal.js deck per chapter, and a PDF handout of each, into ``dist/slides/``.

    .venv/bin/python -m slides.build                       # every chapter (what `make slides` runs)
    .venv/bin/python -m slides.build chapters/06_momentum.ipynb --no-pdf   # one deck, quickly

The decks are nbconvert's ``SlidesExporter`` with the template in ``slides/templates/course``;
the notebooks are read as they are committed (no second copy). On the way, cell tags decide what
a lecture shows:

* ``hide-input`` / ``remove-input``: the code is not shown, its output is;
* ``remove-output``: the output is not shown, the code is;
* ``remove-cell``: the cell is left out;
* widget outputs are shown as the picture stored with them (``slides.static_outputs``).

reveal.js, require.js, jQuery and MathJax 2 are installed from npm by ``make slides``
(``slides/package.json``, ``npm ci``) and copied next to the decks into ``assets/``, so the
folder can be copied to a USB stick and opened from disk with no network. The PDF handouts are
Chromium's print of each deck (``slides.handout``).
"""

from __future__ import annotations

import argparse
import html
import pathlib
import shutil
import sys
import time

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

from slides.static_outputs import StaticOutputsPreprocessor

ROOT = pathlib.Path(__file__).resolve().parents[1]
HERE = ROOT / "slides"
NODE_MODULES = HERE / "node_modules"
TEMPLATES = HERE / "templates"
CHAPTERS = ROOT / "chapters"
DEFAULT_OUT = ROOT / "dist" / "slides"

#: Cell tags the decks honour (the site honours the same ones through myst-nb).
HIDE_INPUT_TAGS = ("hide-input", "remove-input")
REMOVE_OUTPUT_TAGS = ("remove-output",)
REMOVE_CELL_TAGS = ("remove-cell",)

#: The slide's size in CSS pixels: a 1280x720 screen shows it at scale 1 (less the margin).
SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720

#: The URLs the decks load, relative to the deck, and what is copied there from node_modules.
ASSETS = "assets"
MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"
URLS = {
    "reveal_url_prefix": f"{ASSETS}/reveal.js",
    "require_js_url": f"{ASSETS}/require.js",
    "jquery_url": f"{ASSETS}/jquery.min.js",
    "mathjax_url": f"{ASSETS}/mathjax/MathJax.js?config={MATHJAX_CONFIG}",
}
#: (source under node_modules, destination under assets/); MathJax 2 only in the parts the
#: CommonHTML output of TeX needs (about 6 MB of its 71 MB).
ASSET_COPIES = [
    ("reveal.js/dist", "reveal.js/dist"),
    ("reveal.js/plugin/notes", "reveal.js/plugin/notes"),
    ("reveal.js/LICENSE", "reveal.js/LICENSE"),
    ("requirejs/require.js", "require.js"),
    ("jquery/dist/jquery.min.js", "jquery.min.js"),
    ("mathjax/MathJax.js", "mathjax/MathJax.js"),
    ("mathjax/LICENSE", "mathjax/LICENSE"),
    (f"mathjax/config/{MATHJAX_CONFIG.split(',')[0]}.js",
     f"mathjax/config/{MATHJAX_CONFIG.split(',')[0]}.js"),
    ("mathjax/config/Safe.js", "mathjax/config/Safe.js"),
    ("mathjax/config/local", "mathjax/config/local"),
    ("mathjax/extensions", "mathjax/extensions"),
    ("mathjax/jax/input/TeX", "mathjax/jax/input/TeX"),
    ("mathjax/jax/element", "mathjax/jax/element"),
    ("mathjax/jax/output/CommonHTML", "mathjax/jax/output/CommonHTML"),
    ("mathjax/jax/output/PreviewHTML", "mathjax/jax/output/PreviewHTML"),
    ("mathjax/fonts/HTML-CSS/TeX/woff", "mathjax/fonts/HTML-CSS/TeX/woff"),
    ("mathjax/localization/en", "mathjax/localization/en"),
]


class MissingAssets(RuntimeError):
    """The npm packages are not installed (``make slides`` runs ``npm ci`` in slides/)."""


def copy_assets(out: pathlib.Path) -> None:
    """Copy reveal.js, require.js, jQuery and MathJax 2 into ``out/assets``."""
    missing = [src for src, _ in ASSET_COPIES if not (NODE_MODULES / src).exists()]
    if missing:
        raise MissingAssets(
            f"missing in {NODE_MODULES}: {', '.join(missing)}; run `make slides` "
            "(or `npm ci --prefix slides`) to install the pinned packages from npm"
        )
    for src, dest in ASSET_COPIES:
        source, target = NODE_MODULES / src, out / ASSETS / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)


def exporter() -> SlidesExporter:
    """nbconvert's slides exporter, configured for offline 1280x720 lecture decks."""
    config = Config()
    config.TagRemovePreprocessor.remove_input_tags = set(HIDE_INPUT_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    config.TagRemovePreprocessor.enabled = True  # one of nbconvert's default preprocessors
    slides = SlidesExporter(
        config=config,
        template_name="course",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        reveal_width=str(SLIDE_WIDTH),
        reveal_height=str(SLIDE_HEIGHT),
        reveal_theme="white",  # "simple", nbconvert's default, imports Google fonts
        reveal_transition="slide",
        **URLS,
    )
    slides.register_preprocessor(StaticOutputsPreprocessor(), enabled=True)
    return slides


def deck_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first markdown heading of the notebook (``# 02 · Gradient descent``)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def export_deck(notebook: pathlib.Path, out: pathlib.Path, slides: SlidesExporter) -> str:
    """Write ``out/<notebook stem>.html``; return the deck's title."""
    nb = nbformat.read(notebook, as_version=4)
    title = deck_title(nb, notebook.stem)
    nb.metadata["title"] = title
    body, _ = slides.from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    (out / f"{notebook.stem}.html").write_text(body, encoding="utf-8")
    return title


def write_index(out: pathlib.Path, decks: list[tuple[str, str]], pdfs: bool) -> None:
    """A plain page listing the decks (and their handouts) for the lecturer."""
    rows = []
    for stem, title in decks:
        pdf = f' · <a href="{stem}.pdf">PDF handout</a>' if pdfs else ""
        rows.append(f'<li><a href="{stem}.html">{html.escape(title)}</a>{pdf}</li>')
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Optimizers from Scratch: lecture decks</title></head>\n<body>\n"
        "<h1>Optimizers from Scratch: lecture decks</h1>\n"
        "<p>Open a deck, press <kbd>S</kbd> for the speaker view (notes and timer), "
        "<kbd>F</kbd> for full screen, <kbd>Esc</kbd> for the overview.</p>\n"
        "<ul>\n" + "\n".join(rows) + "\n</ul>\n</body></html>\n",
        encoding="utf-8",
    )


def inputs_of_every_deck() -> list[pathlib.Path]:
    """The files whose change makes every deck stale: template, build code, asset versions."""
    code = [HERE / name for name in ("build.py", "static_outputs.py", "package-lock.json")]
    return [*sorted(p for p in TEMPLATES.rglob("*") if p.is_file()), *code]


def stale(target: pathlib.Path, *sources: pathlib.Path) -> bool:
    """Whether ``target`` is missing or older than one of ``sources``."""
    return not target.exists() or target.stat().st_mtime < max(s.stat().st_mtime for s in sources)


def build(notebooks: list[pathlib.Path], out: pathlib.Path, pdf: bool = True,
          force: bool = False) -> list[str]:
    """Build the decks (and PDFs) of ``notebooks`` into ``out``; return the deck paths.

    A deck is rebuilt only when it is older than its notebook or than the template and build
    code, a PDF only when it is older than its deck (``force`` rebuilds everything).
    """
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    slides = exporter()
    common = inputs_of_every_deck()
    decks, paths = [], []
    for notebook in notebooks:
        deck = out / f"{notebook.stem}.html"
        if force or stale(deck, notebook, *common):
            title = export_deck(notebook, out, slides)
        else:
            title = deck_title(nbformat.read(notebook, as_version=4), notebook.stem)
        decks.append((notebook.stem, title))
        paths.append(deck)
    if pdf:
        from slides import handout

        printer = [HERE / "handout.py", HERE / "check.py"]
        unprinted = [d for d in paths if force or stale(d.with_suffix(".pdf"), d, *printer)]
        if unprinted:
            handout.print_decks(unprinted)
    write_index(out, decks, pdfs=all(d.with_suffix(".pdf").exists() for d in paths))
    return [str(p) for p in paths]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapter notebooks (default: every chapters/NN_*.ipynb)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF handouts")
    parser.add_argument("--force", action="store_true",
                        help="rebuild every deck and PDF, even those newer than their sources")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    start = time.perf_counter()
    try:
        paths = build(notebooks, args.out, pdf=not args.no_pdf, force=args.force)
    except MissingAssets as error:
        print(f"slides: {error}", file=sys.stderr)
        return 2
    print(f"slides: {len(paths)} decks in {args.out} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
