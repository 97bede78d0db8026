"""Grading bundles: the questions, points and checks of each exercise set, read from otter's zip.

``make release`` turns each master notebook into ``dist/autograder/<set>-autograder.zip`` with
``otter assign``. The zip is what Gradescope imports; it is also what ``make grade`` reads: its
``otter_config.json`` names the set, and ``tests/<question>.py`` holds the question's public and
hidden test cases (otter's exception-based format), parsed here with otter's own parser.
"""

from __future__ import annotations

import json
import pathlib
import re
import zipfile
from dataclasses import dataclass
from typing import Any

__all__ = ["Case", "Question", "Bundle", "load_bundle", "load_bundles", "BUNDLE_SUFFIX"]

BUNDLE_SUFFIX = "-autograder.zip"


@dataclass(frozen=True)
class Case:
    """One test case: a function of the learner's answers (named by its parameters)."""

    name: str
    label: str
    hidden: bool
    points: float
    function: Any
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    name: str
    cases: tuple[Case, ...]

    @property
    def points(self) -> float:
        return float(sum(c.points for c in self.cases))


@dataclass(frozen=True)
class Bundle:
    """One exercise set: its name (otter's ``assignment_name``) and questions, in order."""

    assignment: str
    questions: tuple[Question, ...]
    path: pathlib.Path

    @property
    def points(self) -> float:
        return float(sum(q.points for q in self.questions))

    @property
    def parameters(self) -> list[str]:
        """Every learner name some check reads."""
        return sorted({p for q in self.questions for c in q.cases for p in c.parameters})


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def load_bundle(path: pathlib.Path | str) -> Bundle:
    """Read one ``<set>-autograder.zip``."""
    from course_lib.grading._otter import ExceptionTestFile

    path = pathlib.Path(path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("otter_config.json"))
        sources = {pathlib.PurePosixPath(n).stem: archive.read(n).decode("utf-8")
                   for n in archive.namelist()
                   if n.startswith("tests/") and n.endswith(".py")}
    assignment = config.get("assignment_name") or path.name.removesuffix(BUNDLE_SUFFIX)
    questions = []
    for name in sorted(sources, key=_natural):
        test_file = ExceptionTestFile.from_string(sources[name],
                                                  path=f"{path.name}:tests/{name}.py")
        cases = []
        for case in test_file.test_cases:
            body = case.body
            function_name = getattr(body.test_func, "__name__", case.name)
            label = function_name.removeprefix("test_").replace("_", " ")
            cases.append(Case(case.name, label, bool(case.hidden), float(case.points or 0.0),
                              body.test_func, tuple(body._get_func_params())))
        questions.append(Question(test_file.name, tuple(cases)))
    return Bundle(assignment, tuple(questions), path)


def load_bundles(folder: pathlib.Path | str) -> dict[str, Bundle]:
    """Every bundle in ``folder`` (``dist/autograder``), by set name."""
    bundles = [load_bundle(p) for p in sorted(pathlib.Path(folder).glob(f"*{BUNDLE_SUFFIX}"))]
    return {b.assignment: b for b in bundles}
