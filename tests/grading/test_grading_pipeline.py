"""The exercise pipeline end to end: release the masters, grade a class, read the gradebook.

One release of the three pilot sets (``otter assign``, without the Gradescope wheel) serves the
module. The adversarial corpus (``corpus.py``) is graded in one parallel run with short time
limits; each file must get exactly the score it deserves, and the gradebook and the feedback
must say so. The learner's side is checked by running a student notebook in a real kernel.
"""

from __future__ import annotations

import csv
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from corpus import PLANTED, POINTS, SENTINEL, Submission, build, submissions, write_corpus

from course_lib.grading import sandbox
from course_lib.grading.bundles import load_bundles
from course_lib.grading.grade import grade_file, grade_folder, write_results
from course_lib.grading.release import release
from course_lib.grading.session import Limits

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIMITS = Limits(cell_seconds=3.0, call_seconds=2.0, grace_seconds=1.0, total_seconds=60.0)
ABI = sandbox.landlock_abi()
CORPUS = submissions()


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    release(ROOT / "exercises" / "masters", out, only=list(POINTS), root=ROOT, wheel=False, jobs=2)
    return out


@pytest.fixture(scope="module")
def bundles(released):
    return load_bundles(released / "autograder")


@pytest.fixture(scope="module")
def graded(released, bundles, tmp_path_factory):
    """The corpus, graded in one parallel run; the outcomes by file, and the results folder."""
    sentinel = pathlib.Path(SENTINEL)
    sentinel.parent.mkdir(parents=True, exist_ok=True)
    sentinel.write_text("untouched")
    planted = pathlib.Path(np.__file__).parent / PLANTED
    folder = tmp_path_factory.mktemp("submissions")
    chosen = write_corpus(released, folder, [s for s in CORPUS if s.needs_landlock <= ABI])
    outcomes, seed = grade_folder(folder, released / "autograder", jobs=2, limits=LIMITS)
    out = tmp_path_factory.mktemp("grades")
    write_results(outcomes, bundles, out, {"seed": seed, "limits": LIMITS})
    tampered = sentinel.read_text() != "untouched" or planted.exists()
    planted.unlink(missing_ok=True)
    return {"outcomes": {o.file: o for o in outcomes}, "out": out, "chosen": chosen,
            "tampered": tampered}


def test_the_release_has_a_student_notebook_and_a_bundle_per_set(released):
    for name in POINTS:
        student = json.loads((released / "student" / f"{name}.ipynb").read_text())
        assert student["metadata"]["otter"]["assignment_name"] == name
        sources = ["".join(c["source"]) for c in student["cells"]]
        assert not any("BEGIN SOLUTION" in s or "# SOLUTION" in s for s in sources)
        assert any(s.startswith("grader.check(") for s in sources)
        public_tests = student["metadata"]["otter"]["tests"]
        assert all("hidden=True" not in t for t in public_tests.values())
        assert (released / "autograder" / f"{name}-autograder.zip").exists()


def test_points_and_hidden_checks(bundles):
    assert {name: {q.name: q.points for q in b.questions} for name, b in bundles.items()} == POINTS
    for bundle in bundles.values():
        assert len(bundle.questions) >= 4
        for question in bundle.questions:
            # public checks are previews: every point comes from a hidden check
            assert all(c.points == 0 for c in question.cases if not c.hidden)
            assert sum(c.points for c in question.cases if c.hidden) == question.points > 0


def test_every_kind_of_question_is_in_the_pilot(released):
    kinds = set()
    for name in POINTS:
        notebook = json.loads((released / "student" / f"{name}.ipynb").read_text())
        for cell in notebook["cells"]:
            text = "".join(cell["source"])
            if text.startswith("## Question"):
                kinds.add(text.split("(")[1].split(",")[0])
    assert {"implement", "compute", "predict", "diagnose"} <= kinds


@pytest.mark.parametrize("submission", CORPUS, ids=[s.name for s in CORPUS])
def test_each_submission_gets_exactly_the_score_it_deserves(graded, submission: Submission):
    if submission.needs_landlock > ABI:
        pytest.skip(f"this defence needs Landlock ABI {submission.needs_landlock}; "
                    f"the kernel has {ABI}")
    outcome = graded["outcomes"][submission.file]
    context = f"{outcome.status}; notes: {outcome.notes}; failures: " + "; ".join(
        c.message.splitlines()[0] for c in outcome.cases if not c.passed and c.points)
    assert outcome.status.startswith(submission.status), context
    if submission.status.startswith("graded"):
        assert outcome.scores == pytest.approx(submission.expected_scores()), context
    assert outcome.total == pytest.approx(submission.expected_total())


def test_no_submission_wrote_outside_its_scratch_folder(graded):
    if ABI < 1:
        pytest.skip("no Landlock on this kernel")
    assert not graded["tampered"]


def test_the_gradebook_has_a_row_per_file_and_a_column_per_question(graded, bundles):
    with open(graded["out"] / "gradebook.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    questions = [f"{name}/{q.name}" for name in sorted(bundles) for q in bundles[name].questions]
    assert header == ["file", "assignment", *questions, "total", "possible", "status"]
    assert sorted(r[0] for r in body) == sorted(s.file for s in graded["chosen"])
    for row in body:
        record = dict(zip(header, row, strict=True))
        outcome = graded["outcomes"][record["file"]]
        own = [q for q in questions if q.split("/")[0] == outcome.assignment]
        others = [q for q in questions if q not in own]
        assert all(record[q] == "" for q in others)
        if outcome.assignment in bundles:
            assert float(record["total"]) == pytest.approx(sum(float(record[q]) for q in own))
            assert float(record["possible"]) == bundles[outcome.assignment].points
        else:
            assert record["total"] == "0"
        assert record["status"] == outcome.status


def test_every_submission_has_its_feedback(graded):
    feedback = sorted(p.name for p in (graded["out"] / "feedback").glob("*.md"))
    assert feedback == sorted(s.name + ".md" for s in graded["chosen"])
    text = (graded["out"] / "feedback" / "wrong_nesterov.md").read_text()
    assert "## q3: 0 / 4" in text
    assert "after step 1, the momentum buffer should equal the gradient" in text
    assert "Traceback" not in text


def test_the_wrong_nesterov_step_gets_the_useful_message(graded):
    outcome = graded["outcomes"]["wrong_nesterov.ipynb"]
    public = next(c for c in outcome.cases if c.question == "q3" and not c.hidden)
    assert ("after step 1, the momentum buffer should equal the gradient, [-1, -8] (torch copies "
            "it, with no dampening); yours is 0.5 × the gradient, [-0.5, -4]") in public.message
    assert "Hint:" in public.message


def test_blank_answers_get_friendly_messages(graded):
    outcome = graded["outcomes"]["untouched_06.ipynb"]
    messages = [c.message for c in outcome.cases]
    assert all(messages) and not any("Traceback" in m for m in messages)
    assert any("is still `...`" in m for m in messages)
    assert any("returned None" in m and "replace the ..." in m for m in messages)


def test_the_seed_repeats_the_hidden_inputs(released, bundles, tmp_path):
    path = tmp_path / "wrong.ipynb"
    path.write_bytes(build(next(s for s in CORPUS if s.name == "wrong_nesterov"), released))

    def hidden_messages(seed):
        outcome = grade_file(path, bundles, seed=seed, limits=LIMITS)
        return [c.message for c in outcome.cases if c.hidden and not c.passed]

    first = hidden_messages(1)
    assert first == hidden_messages(1)
    assert first != hidden_messages(2)


def test_an_assignment_filter_refuses_other_sets(released, bundles, tmp_path):
    path = tmp_path / "solutions.ipynb"
    path.write_bytes(build(next(s for s in CORPUS if s.name == "solutions_06"), released))
    outcome = grade_file(path, bundles, assignment="02_gradient_descent", limits=LIMITS)
    assert outcome.status == ("not graded: wrong assignment (this is 06_momentum; expected "
                              "02_gradient_descent)")
    assert outcome.total == 0


def test_a_submission_that_kills_its_grader_is_recorded_and_the_batch_goes_on(released,
                                                                                 tmp_path):
    """Without the sandbox's signal scoping a submission can kill the grading process; the
    batch replaces the process, retries the file once, and records it."""
    killer = next(s for s in CORPUS if s.name == "kill_parent")
    folder = tmp_path / "class"
    write_corpus(released, folder, [killer, next(s for s in CORPUS if s.name == "untouched_10")])
    outcomes, _ = grade_folder(folder, released / "autograder", jobs=1,
                               limits=Limits(**{**LIMITS.__dict__, "landlock": False}))
    by_file = {o.file: o for o in outcomes}
    assert by_file["kill_parent.ipynb"].status == "grader error: the grading process stopped twice"
    assert by_file["untouched_10.ipynb"].status == "graded"


def test_a_learner_sees_the_course_messages_in_the_notebook(released, tmp_path):
    """The student notebook in a real kernel: wrong, blank and right answers, via grader.check."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(released / "student" / "06_momentum.ipynb", as_version=4)
    wrong = next(s for s in CORPUS if s.name == "wrong_nesterov").replace["def nesterov_step"]
    for cell in notebook.cells:
        if cell.source.startswith("def nesterov_step"):
            cell.source = wrong
        elif cell.source.startswith("gain_steady"):
            cell.source = "gain_steady = 5.0"
        elif cell.source.startswith("gain_alternating"):
            cell.source = "gain_alternating = 1 / 1.8"
    nbformat.write(notebook, tmp_path / "06_momentum.ipynb")
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = {}
    for cell in notebook.cells:
        if cell.source.startswith("grader.check("):
            question = cell.source.split('"')[1]
            shown[question] = "".join(o.get("data", {}).get("text/plain", o.get("text", ""))
                                      for o in cell.outputs)
    assert shown["q1"].startswith("q1: public checks passed (1 of 1).")
    assert "hidden checks run your answer on new inputs" in shown["q1"]
    assert "after step 1, the momentum buffer should equal the gradient" in shown["q3"]
    assert "yours is 0.5 × the gradient" in shown["q3"]
    assert "returned None" in shown["q2"]
    for text in shown.values():
        assert "Traceback" not in text and "All test cases passed" not in text
        assert "Error at line" not in text


def test_otter_itself_grades_the_bundle(released, tmp_path):
    """The bundle is otter's: ``otter run`` (what Gradescope runs) grades the solutions fully."""
    submission = tmp_path / "06_momentum.ipynb"
    submission.write_bytes(build(next(s for s in CORPUS if s.name == "solutions_06"), released))
    done = subprocess.run([sys.executable, "-m", "otter", "run", "-a",
                           str(released / "autograder" / "06_momentum-autograder.zip"),
                           "-o", str(tmp_path), str(submission)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    scores = {t["name"]: t["score"] for t in results["tests"] if "score" in t}
    assert scores == {"q1": 2, "q2": 3, "q3": 4, "q4": 3}
