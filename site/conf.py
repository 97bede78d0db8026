"""Sphinx configuration of the course website (``make site``; see site/README.md).

Sphinx + myst-nb + sphinx-book-theme render the chapter notebooks with their stored outputs
(never re-executed). Viewing makes no request off the machine: MathJax 3 is a local copy
(``npm ci`` in site/, copied into ``_static/mathjax``), and widget outputs are shown as their
stored picture (``site/notebook_reader.py``), so no widget script is loaded from a CDN.
Speaker notes fold into a closed box.

``site/build.py`` stages the notebooks next to ``index.md`` and runs Sphinx with this file.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import sys

from docutils import nodes
from sphinx import addnodes

SITE = pathlib.Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path.insert(0, str(ROOT))  # slides.static_outputs: widget outputs as on the slides
sys.path.insert(0, str(SITE))  # notebook_reader.py: how the site reads a notebook

project = "Optimizers from Scratch"
author = "the Optimizers from Scratch contributors"
copyright = "the Optimizers from Scratch contributors, MIT licence"  # noqa: A001 (Sphinx's name)

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "exercises/**"]

# --- notebooks: stored outputs only, widgets as their pictures ---------------------------------
nb_execution_mode = "off"
nb_custom_formats = {".ipynb": ["notebook_reader.read_notebook", {}, False]}
nb_ipywidgets_js = {}  # no require.js / widget manager from a CDN
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True  # $$...$$ inside a paragraph or list item, as Jupyter reads it
myst_heading_anchors = 3
# The chapters quote articles verbatim, typos included (an en dash for a minus in a code block):
# pygments then highlights that block leniently, which is fine.
suppress_warnings = ["misc.highlighting_failure"]

# --- math: a local MathJax 3 ---------------------------------------------------------------------
MATHJAX_SOURCE = SITE / "node_modules" / "mathjax" / "es5"
#: What tex-chtml.js loads (input extensions, CommonHTML output and fonts, menu, a11y).
MATHJAX_PARTS = ["tex-chtml.js", "input", "output", "ui", "a11y", "sre", "adaptors"]
mathjax_path = "mathjax/tex-chtml.js"  # relative to _static
# Typeset $...$ everywhere but code, not only where MyST parsed it: the chapters' answers sit in
# raw <details> HTML, which MyST passes through untouched.
myst_update_mathjax = False
mathjax3_config = {
    "tex": {
        "inlineMath": [["\\(", "\\)"], ["$", "$"]],
        "displayMath": [["\\[", "\\]"], ["$$", "$$"]],
        "processEscapes": True,
    },
    "options": {"ignoreHtmlClass": "tex2jax_ignore|mathjax_ignore|highlight"},
}
mathjax4_config = None

# --- pages -------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_static_path: list[str] = []
html_copy_source = True  # the download button offers the notebook itself ...
html_sourcelink_suffix = ""  # ... under its own name (not NN_topic.ipynb.txt)
html_last_updated_fmt = None
html_context = {"default_mode": "light"}  # figures have white backgrounds
# Search results list pages only: their summaries would be fetched, which file:// forbids.
html_show_search_summary = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "search_bar_text": "Search the course...",
    "navigation_with_keys": False,
}

CHAPTERS_DIR = "chapters"
#: exercises/<chapter>.txt lists the chapter's exercise notebooks, staged in exercises/<chapter>/
#: by site/build.py from site/exercises.toml.
EXERCISES_DIR = "exercises"


def chapter_links(app, doctree) -> None:
    """Under a chapter's title: a link to download its notebook, and to its exercises."""
    docname = app.env.docname
    if not docname.startswith(f"{CHAPTERS_DIR}/"):
        return
    stem = docname.split("/", 1)[1]
    links = nodes.paragraph(classes=["chapter-links"])
    links += nodes.Text("Download: ")
    # The notebook as html_copy_source stores it (what the theme's download button offers).
    source = "../" * docname.count("/") + f"_sources/{docname}.ipynb"
    links += nodes.reference("", "", nodes.inline("this notebook", "this notebook"),
                             refuri=source, classes=["download"])
    manifest = pathlib.Path(app.srcdir) / EXERCISES_DIR / f"{stem}.txt"
    if manifest.exists():
        app.env.note_dependency(str(manifest))  # a new exercise list rebuilds the page
        for name in manifest.read_text(encoding="utf-8").split():
            links += nodes.Text(" · ")
            links += download(docname, f"/{EXERCISES_DIR}/{stem}/{name}", f"exercises ({name})")
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        section.insert(1, links)


#: How a chapter's markdown links to its exercises: the learner's copy beside chapters/, which
#: `make lab` writes (chapters/NN_x.ipynb ends with "[Exercises ...](../exercises/NN_x.ipynb)").
EXERCISE_LINK = re.compile(r"^(?:\.\./)+exercises/(?P<stem>[0-9]{2}_[A-Za-z0-9_]+)\.ipynb$")


def exercise_links(app, doctree) -> None:
    """Point a chapter's in-text exercise links at the student notebooks the site ships.

    In JupyterLab the link opens ``exercises/NN_x.ipynb``, the learner's copy; on the site that
    file does not exist, so MyST would leave a dangling reference. The link becomes a download of
    the staged student notebook (``exercises/<stem>/``), or plain text when the chapter has none.
    """
    staged = {}  # notebook name -> the chapter folder it is staged in (a set may sit under
    for manifest in sorted((pathlib.Path(app.srcdir) / EXERCISES_DIR).glob("*.txt")):  # another
        app.env.note_dependency(str(manifest))  # chapter: the final project, under 14)
        for name in manifest.read_text(encoding="utf-8").split():
            staged.setdefault(name, manifest.stem)
    for node in list(doctree.findall(addnodes.pending_xref)):
        match = EXERCISE_LINK.match(node.get("reftarget", ""))
        if not match:
            continue
        name = f"{match['stem']}.ipynb"
        text = node.astext()
        if name in staged:
            target = f"/{EXERCISES_DIR}/{staged[name]}/{name}"
            node.replace_self(download(app.env.docname, target, text))
        else:
            node.replace_self(nodes.inline(text, text))


def download(docname: str, target: str, text: str) -> addnodes.download_reference:
    reference = addnodes.download_reference(
        "", "", reftarget=target, refdoc=docname, refexplicit=True, refdomain="", reftype="download"
    )
    reference += nodes.inline(text, text)
    return reference


def copy_mathjax(app, exception) -> None:
    """Copy the parts of the local MathJax 3 the pages load into ``_static/mathjax``."""
    if exception is not None or app.builder.format != "html":
        return
    missing = [part for part in MATHJAX_PARTS if not (MATHJAX_SOURCE / part).exists()]
    if missing:
        raise FileNotFoundError(
            f"MathJax 3 is missing from {MATHJAX_SOURCE} ({', '.join(missing)}): run `make site`, "
            "which runs `npm ci --prefix site` first"
        )
    target = pathlib.Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = MATHJAX_SOURCE / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)


def keep_outputs_out_of_the_site(app) -> None:
    """myst-nb writes each output image into ``<site>/../jupyter_execute`` before Sphinx copies it
    into ``_images``; put that working folder beside the doctrees (build/site/), not in dist/."""
    folder = pathlib.Path(app.doctreedir).parent / "jupyter_execute"
    app.env.mystnb_config = app.env.mystnb_config.copy(output_folder=str(folder))


def setup(app):
    app.connect("builder-inited", keep_outputs_out_of_the_site, priority=600)  # after myst-nb
    # Before Sphinx's download collector (priority 500) reads the doctree.
    app.connect("doctree-read", chapter_links, priority=400)
    app.connect("doctree-read", exercise_links, priority=400)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
