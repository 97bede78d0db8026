"""What the decks and the site show of stored outputs: a widget's picture, never the widget.

The browser tests (tests/browser/) check the built pages; these check the shared rule itself
and run where no chromium is installed.
"""

import importlib.util
import pathlib

import nbformat
import pytest

from slides.static_outputs import NO_PICTURE_NOTE, WIDGET_VIEW, static_output, static_outputs

READER = pathlib.Path(__file__).resolve().parents[1] / "site" / "notebook_reader.py"


def site_reader():
    """site/notebook_reader.py (site/ is a folder of files, not a package: `site` is stdlib's)."""
    spec = importlib.util.spec_from_file_location("notebook_reader", READER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

VIEW = {"model_id": "ab" * 16, "version_major": 2, "version_minor": 0}
REPR = "interactive(children=(FloatSlider(value=0.2),))"


def widget_output(output_type="display_data", **images):
    data = {WIDGET_VIEW: VIEW, "text/plain": REPR, **images}
    extra = {"execution_count": 3} if output_type == "execute_result" else {}
    return nbformat.v4.new_output(output_type, data=data,
                                  metadata={m: {"width": 10} for m in images}, **extra)


@pytest.mark.parametrize("output_type", ["display_data", "execute_result"])
@pytest.mark.parametrize("images", [{"image/png": "iVBORw0KGgo="},
                                    {"image/png": "iVBORw0KGgo=", "image/svg+xml": "<svg/>"}])
def test_a_widget_with_a_picture_shows_only_the_picture(output_type, images):
    shown = static_output(widget_output(output_type, **images))
    assert shown["data"] == images
    assert set(shown["metadata"]) == set(images)
    assert shown["output_type"] == output_type
    nbformat.validator.validate(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("w", outputs=[shown], execution_count=3)]))


def test_a_widget_without_a_picture_shows_a_note():
    shown = static_output(widget_output())
    assert shown["data"] == {"text/html": NO_PICTURE_NOTE}
    assert "JupyterLab" in NO_PICTURE_NOTE


@pytest.mark.parametrize("output", [
    nbformat.v4.new_output("stream", name="stdout", text="lr 0.1\n"),
    nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                 "text/plain": "<Figure>"}),
])
def test_other_outputs_are_left_alone(output):
    assert static_output(output) is output


def test_notebook_loses_its_widget_state_and_views():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("explorer()", execution_count=1,
                                  outputs=[widget_output(**{"image/png": "iVBORw0KGgo="})]),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    text = nbformat.writes(nb)
    reader = site_reader()
    for shown in (static_outputs(nbformat.reads(text, as_version=4)), reader.read_notebook(text)):
        assert "widgets" not in shown.metadata
        assert WIDGET_VIEW not in nbformat.writes(shown) and REPR not in nbformat.writes(shown)
        assert shown.cells[1].outputs[0]["data"] == {"image/png": "iVBORw0KGgo="}


@pytest.mark.parametrize("notes", ["Point at the valley.", "* one\n* two $x^2$\n"])
def test_the_site_folds_speaker_notes_into_a_closed_box(notes):
    reader = site_reader()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title", metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_markdown_cell(notes, metadata={"slideshow": {"slide_type": "notes"}}),
    ])
    shown = reader.read_notebook(nbformat.writes(nb))
    assert shown.cells[0].source == "# Title"
    assert shown.cells[1].source == (
        f'<details class="lecture-notes">\n<summary>{reader.NOTES_TITLE}</summary>\n\n'
        f"{notes.strip()}\n\n</details>\n")
