"""How the website reads a chapter notebook (myst-nb's ``nb_custom_formats`` hook in conf.py).

* Widget outputs become their stored picture, as on the slides (``slides.static_outputs``).
* Speaker notes (markdown cells of slide type ``notes``) are addressed to the lecturer; on the
  site they fold into a closed "Notes for the lecturer" box instead of reading as prose.
"""

from __future__ import annotations

import nbformat

from slides.static_outputs import static_outputs

NOTES_TITLE = "Notes for the lecturer"


def fold_notes(source: str) -> str:
    """Markdown ``source`` inside a closed ``<details>`` box (as the chapters fold answers)."""
    return (f'<details class="lecture-notes">\n<summary>{NOTES_TITLE}</summary>\n\n'
            f"{source.strip()}\n\n</details>\n")


def read_notebook(text: str) -> nbformat.NotebookNode:
    """Parse a stored ``.ipynb`` as the site shows it."""
    nb = static_outputs(nbformat.reads(text, as_version=4))
    for cell in nb.cells:
        notes = cell.metadata.get("slideshow", {}).get("slide_type") == "notes"
        if cell.cell_type == "markdown" and notes and cell.source.strip():
            cell.source = fold_notes(cell.source)
    return nb
