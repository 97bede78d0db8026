"""What a static page shows of a notebook's stored outputs: images for widgets, never a widget.

A deck or a web page has no kernel, so a live widget cannot run there. The course's explorer
cells therefore store, in the same output, both a widget view
(``application/vnd.jupyter.widget-view+json``) and a picture of the widget's current state
(``image/png``). :func:`static_outputs` keeps the picture and drops the view, so neither the
decks (nbconvert) nor the site (myst-nb) ever show a widget's text repr
(``interactive(children=...)``) or load the widget manager from a CDN. A widget output without
a picture (an explorer written before that convention) becomes a short note saying where the
explorer runs.

Both builds call this module: ``slides.build`` as an nbconvert preprocessor, the site through
its notebook reader (``site/notebook_reader.py``, myst-nb's ``nb_custom_formats`` hook).
"""

from __future__ import annotations

import nbformat
from nbconvert.preprocessors import Preprocessor

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_KEY = "widgets"
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif")
#: Shown where a widget output stores no picture of itself.
NO_PICTURE_NOTE = (
    '<p class="widget-note"><em>An interactive explorer stands here: run this notebook in '
    "JupyterLab to use it.</em></p>"
)


def static_output(output: dict) -> dict:
    """The output as a static page should show it (a new dict if it held a widget view)."""
    data = output.get("data") or {}
    if WIDGET_VIEW not in data:
        return output
    images = {mime: value for mime, value in data.items() if mime in IMAGE_TYPES}
    shown = dict(output)
    shown["data"] = images or {"text/html": NO_PICTURE_NOTE}
    metadata = output.get("metadata") or {}
    shown["metadata"] = {mime: value for mime, value in metadata.items() if mime in images}
    return nbformat.from_dict(shown)


def static_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Replace every widget output of ``nb`` by its stored picture; drop the widget state.

    Works in place and returns ``nb``.
    """
    nb.metadata.pop(WIDGET_STATE_KEY, None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [static_output(output) for output in cell.get("outputs", [])]
    return nb


class StaticOutputsPreprocessor(Preprocessor):
    """nbconvert preprocessor form of :func:`static_outputs`."""

    def preprocess(self, nb, resources):
        return static_outputs(nb), resources
