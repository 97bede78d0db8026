"""Every chapter is a lesson and a deck: structure, metadata, stored outputs, no downloads.

nbval (run by `make test` over chapters/) re-executes each notebook and compares the outputs;
these tests check what nbval does not.
"""

import json
import pathlib
import re

import pytest

CHAPTERS = pathlib.Path(__file__).resolve().parents[1] / "chapters"
NOTEBOOKS = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
DOWNLOADS = re.compile(r"urlretrieve|requests\.get|urlopen|d2l\.download|download\s*=\s*True")
# ASCII control characters other than tab and newline: what a TeX command becomes when it is
# written into a source through a Python string that is not raw ("\beta" -> backspace + "eta").
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_chapters():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_lesson_structure(path):
    cells = load(path)["cells"]
    assert cells[0]["cell_type"] == "markdown"
    assert "learning goals" in "".join(cells[0]["source"]).lower()
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "## Check your understanding" in markdown
    assert "## Summary" in markdown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_cell_has_slide_metadata(path):
    cells = load(path)["cells"]
    for index, cell in enumerate(cells):
        slide_type = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        assert slide_type in SLIDE_TYPES, f"cell {index} has no slide_type"
    assert cells[0]["metadata"]["slideshow"]["slide_type"] == "slide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_executed_in_order_with_stored_outputs_and_no_errors(path):
    code = [c for c in load(path)["cells"] if c["cell_type"] == "code" and "".join(c["source"])]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "run top to bottom in a fresh kernel"
    assert any(c["outputs"] for c in code)
    for cell in code:
        assert all(o["output_type"] != "error" for o in cell["outputs"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_uses_course_lib_and_downloads_nothing(path):
    source = "\n".join("".join(c["source"]) for c in load(path)["cells"]
                       if c["cell_type"] == "code")
    assert "course_lib" in source
    assert not DOWNLOADS.search(source)
    assert path.stat().st_size < 2_000_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_control_characters_in_sources(path):
    found = []
    for index, cell in enumerate(load(path)["cells"]):
        source = "".join(cell["source"])
        for match in CONTROL_CHARACTERS.finditer(source):
            context = source[max(0, match.start() - 20):match.end() + 20]
            found.append(f"cell {index}: {match.group()!r} in {context!r}")
    assert not found, f"control characters (TeX through a non-raw string?): {'; '.join(found)}"


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_explorer_cell_stores_its_picture_and_shows_its_call(path):
    """A widget cell stores, in one output, the widget view and a PNG of it (what a reader who
    has not run it, a deck and the site show); nbval ignores its output; its one call stays
    visible (no hide-input) on a page of its own, so the picture is not squeezed below prose."""
    for index, cell in enumerate(load(path)["cells"]):
        outputs = [o for o in cell.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
        if not outputs:
            continue
        assert all("image/png" in o["data"] for o in outputs), f"cell {index}: no picture"
        assert len(cell["outputs"]) == 1, f"cell {index}: the picture is not the widget's own"
        tags = cell["metadata"].get("tags", [])
        assert "nbval-ignore-output" in tags and "hide-input" not in tags, f"cell {index}: {tags}"
        page = cell["metadata"]["slideshow"]["slide_type"]
        if page == "-":  # continues a page that holds at most a one-line lead-in
            lead = load(path)["cells"][index - 1]
            assert lead["cell_type"] == "markdown" and len("".join(lead["source"])) <= 200
            assert lead["metadata"]["slideshow"]["slide_type"] in {"slide", "subslide"}
        else:
            assert page in {"slide", "subslide"}, f"cell {index}: {page}"


def chapter_end(path):
    """The markdown of a chapter from its Summary on (speaker notes left out)."""
    texts = ["".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "markdown"
             and c["metadata"]["slideshow"]["slide_type"] != "notes"]
    summary = max(i for i, text in enumerate(texts) if text.startswith("## Summary"))
    return "\n\n".join(texts[summary:])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_chapter_ends_with_a_working_link_to_the_next(path):
    """The next chapter (the last one links back to the start), to a notebook that exists."""
    position = NOTEBOOKS.index(path)
    following = NOTEBOOKS[(position + 1) % len(NOTEBOOKS)]
    end = chapter_end(path)
    word = "Next" if position + 1 < len(NOTEBOOKS) else "Back to the start"
    assert re.findall(rf"\[{word}: [^\]]+\]\(([^)]+)\)", end) == [following.name]


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=[p.name for p in NOTEBOOKS[1:]])
def test_every_chapter_after_00_links_its_own_exercises_before_the_next_chapter(path):
    """After the summary, a link to the learner's copy of the chapter's set (make lab puts it in
    exercises/ under the chapter's name, released from the master of that name)."""
    end = chapter_end(path)
    linked = re.findall(r"\[Exercises for this chapter\]\(\.\./exercises/(\w+)\.ipynb\)", end)
    assert linked == [path.stem]
    next_link = re.search(r"\[(Next|Back to the start): ", end).start()
    assert end.index("[Exercises for this chapter]") < next_link
    assert (CHAPTERS.parent / "exercises" / "masters" / path.name).exists()


def test_the_last_chapter_links_the_final_project():
    end = chapter_end(NOTEBOOKS[-1])
    project = re.findall(r"\]\(\.\./exercises/(15_\w+)\.ipynb\)", end)
    assert project == ["15_build_your_own_optimizer"]
    assert (CHAPTERS.parent / "exercises" / "masters" / f"{project[0]}.ipynb").exists()
