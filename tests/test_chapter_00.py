"""The claims of chapters/00_start_here.ipynb, and the course-wide promises made there.

Adam's first step is worked by hand (it moves each coordinate by lr against the sign of its
gradient); the bit-for-bit claim is rerun against torch.optim; the validation claims are
recomputed with course_lib.validation; the links are checked against the files.
"""

import json
import pathlib
import re

import numpy as np
import pytest
import torch

from course_lib import optim, rules, validation

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
NOTEBOOK = CHAPTERS / "00_start_here.ipynb"


def cells():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def markdown():
    """The markdown a learner reads (speaker notes left out)."""
    return ["".join(c["source"]) for c in cells() if c["cell_type"] == "markdown"
            and c["metadata"]["slideshow"]["slide_type"] != "notes"]


# -- a learner-first start ------------------------------------------------------------------


def test_the_notebook_starts_with_what_the_learner_will_be_able_to_do_and_how():
    first, *rest = markdown()
    assert first.startswith("# 00 · Start here")
    assert "What you will be able to do" in first
    how = next(m for m in rest if m.startswith("## How to use the course"))
    for verb in ("**Read**", "**Run**", "**Move the sliders**", "**Do the exercises.**"):
        assert verb in how
    headings = [m.splitlines()[0] for m in markdown() if m.startswith("## ")]
    # the evidence comes after the learner's material, just before the questions
    assert headings.index("## How we know `course_lib` is PyTorch's optimizers") > \
        headings.index("## What the course covers")
    assert headings[-2:] == ["## Check your understanding", "## Summary"]


def test_no_link_points_to_a_file_that_does_not_exist():
    for text in markdown():
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if "://" not in target:
                assert (CHAPTERS / target).exists(), target


def test_the_course_map_links_every_chapter():
    texts = markdown()
    start = next(i for i, m in enumerate(texts) if m.startswith("## What the course covers"))
    end = next(i for i, m in enumerate(texts) if i > start and m.startswith("## "))
    table = "\n".join(texts[start:end])  # the map may span several slides of its section
    linked = re.findall(r"\]\((\d\d_\w+\.ipynb)\)", table)
    assert linked == sorted(p.name for p in CHAPTERS.glob("[01]*.ipynb") if p.name[:2] != "00")


@pytest.mark.parametrize(("chapter", "following"), [
    ("00_start_here", "01_optimization_and_deep_learning"),
    ("01_optimization_and_deep_learning", "02_gradient_descent"),
    ("02_gradient_descent", "03_conditioning"),
    ("03_conditioning", "04_sgd"),
])
def test_chapters_00_to_03_end_with_a_link_to_the_next(chapter, following):
    nb = json.loads((CHAPTERS / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    texts = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    summary = next(t for t in reversed(texts) if t.startswith("## Summary"))
    assert re.search(rf"\[Next: {following[:2]} · [^\]]+\]\({following}\.ipynb\)", summary)
    for text in texts:  # and no heading shows LaTeX source in the table of contents
        for line in text.splitlines():
            if line.startswith("#"):
                assert "$" not in line, (chapter, line)


def test_every_slide_section_is_followed_by_speaker_notes():
    for chapter in ("00_start_here", "01_optimization_and_deep_learning", "02_gradient_descent",
                    "03_conditioning"):
        nb = json.loads((CHAPTERS / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        kinds = [c["metadata"]["slideshow"]["slide_type"] for c in nb["cells"]]
        for i, kind in enumerate(kinds):
            if kind == "slide":
                assert "notes" in kinds[i + 1:i + 4], (chapter, i)



# -- where the exercises live -------------------------------------------------------------------


def test_make_lab_puts_the_learners_copies_in_exercises_once(tmp_path, monkeypatch):
    """Chapter 00: `make lab` puts your own copies in the course's exercises/ folder."""
    from course_lib.grading.__main__ import main

    how_to_use = next(m for m in markdown() if m.startswith("## How to use the course"))
    assert "`make lab` puts your own copies in the course's `exercises/` folder" in \
        " ".join(how_to_use.split())
    lab = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nlab:")[1].split("\n\n")[0]
    assert "-m course_lib.grading workspace" in lab  # with its defaults, from the course folder
    monkeypatch.chdir(tmp_path)
    student = tmp_path / "dist" / "student"
    student.mkdir(parents=True)
    (student / "02_gradient_descent.ipynb").write_text("released", encoding="utf-8")
    assert main(["workspace"]) == 0
    copy = tmp_path / "exercises" / "02_gradient_descent.ipynb"
    assert copy.read_text(encoding="utf-8") == "released"
    copy.write_text("the learner's answers", encoding="utf-8")
    assert main(["workspace"]) == 0  # a second make lab keeps the learner's work
    assert copy.read_text(encoding="utf-8") == "the learner's answers"

# -- one algorithm, written once --------------------------------------------------------------


def test_the_same_adam_rule_on_numpy_and_torch():
    rule = rules.Adam(lr=0.1)
    point = np.array([1.0, -2.0])
    tensor = torch.tensor([1.0, -2.0], dtype=torch.float64)
    point_state, tensor_state = rule.init(point), rule.init(tensor)
    for step in range(1, 4):
        rule.step(point, 2 * point, point_state)
        rule.step(tensor, 2 * tensor, tensor_state)
        if step == 1:
            # m̂ = g, v̂ = g²: the first step is lr · g/|g| (up to eps), by hand
            np.testing.assert_allclose(point, [0.9, -1.9], rtol=1e-9)
        np.testing.assert_allclose(point, tensor.numpy(), rtol=1e-15)


def test_course_lib_adam_is_torch_adam_bit_for_bit_on_the_tiny_network():
    def tiny_network():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))

    inputs = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    targets = inputs[:, :1] * inputs[:, 1:]
    ours, theirs = tiny_network(), tiny_network()
    for net, opt_cls in ((ours, optim.Adam), (theirs, torch.optim.Adam)):
        opt = opt_cls(net.parameters(), lr=0.01)
        for _ in range(100):
            opt.zero_grad()
            ((net(inputs) - targets) ** 2).mean().backward()
            opt.step()
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters(),
                                                  strict=True))


# -- the validation the chapter shows -----------------------------------------------------------


@pytest.fixture(scope="module")
def float32_results():
    return validation.run_validation(problems=["quadratic"], dtypes=(torch.float32,), steps=200)


def test_torch_rows_are_bit_for_bit_except_yogi_and_every_run_passes(float32_results):
    results = float32_results + validation.run_validation(
        algorithms=["sgd", "adam", "yogi"], problems=["quadratic"], dtypes=(torch.float64,),
        steps=200)
    for r in results:
        assert r.passed, r
        if r.implementation == "torch":
            assert (r.max_abs == 0) == (r.algorithm != "yogi"), r
    # "The array rows ... agree to rounding": numpy's arithmetic is not torch's, so every
    # algorithm but SGD deviates somewhere (a single run may still land on torch's bits, as
    # RAdam's decoupled weight decay does on some processors).
    worst_array = {}
    for r in results:
        if r.implementation == "array":
            worst_array[r.algorithm] = max(worst_array.get(r.algorithm, 0.0), r.max_abs)
    assert all(worst > 0 for name, worst in worst_array.items() if name != "sgd"), worst_array
    float64 = [r for r in results if r.dtype == "float64"]
    assert max(r.max_rel for r in float64) < 1e-13  # far below the 1e-10 target


def test_only_rmsprops_numpy_run_leaves_torchs_rtol_and_it_passes_by_the_ulp_control(
        float32_results):
    above = {(r.algorithm, r.implementation) for r in float32_results
             if r.max_rel > validation.FLOAT32_RTOL}
    assert above == {("rmsprop", "array")}
    sensitive = [r for r in float32_results if r.sensitivity is not None]
    assert sensitive and all(r.algorithm == "rmsprop" and r.passed for r in sensitive)
    assert all(r.max_abs <= validation.SENSITIVITY_FACTOR * r.sensitivity for r in sensitive)


@pytest.mark.parametrize(("max_abs", "sensitivity", "deviation", "moved", "within"), [
    (1.6e-5, 5.0e-5, "< 1e-04", "< 1e-04", True),   # two processors' digits, one line
    (3.7e-5, 3.8e-5, "< 1e-04", "< 1e-04", True),
    (2e-3, 1e-5, "< 1e-02", "< 1e-05", False),
])
def test_the_sensitive_run_is_printed_in_orders_of_magnitude(max_abs, sensitivity, deviation,
                                                             moved, within):
    row = validation.Result("rmsprop", "alpha=0.9", "quadratic", "float32", "array", 200,
                            max_abs, max_abs, within, sensitivity)
    line = row.sensitivity_summary()
    assert f"largest deviation {deviation};" in line and f"torch moved {moved} by" in line
    assert line.endswith(f"of that: {within} -> {row.verdict}")
    with pytest.raises(ValueError, match="sensitivity"):
        validation.Result("adam", "defaults", "quadratic", "float32", "array", 200, 0.0, 0.0,
                          True).sensitivity_summary()
    assert validation.FLOAT32_RTOL == 1.3e-6 and validation.FLOAT32_ATOL == 1e-5
