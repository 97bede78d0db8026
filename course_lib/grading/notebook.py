"""``grader`` in an exercise notebook: otter's ``Notebook``, with the course's messages.

The first code cell of every exercise set is::

    from course_lib.grading.notebook import Grader
    grader = Grader("06_momentum.ipynb")

``grader.check("q3")`` runs the public checks of question q3 (stored in the notebook's
metadata by ``otter assign``) exactly as ``otter.Notebook.check`` does, so ``otter run`` and
Gradescope record them as usual. Only what the learner sees changes:

* all public checks pass: "q3: public checks passed (2 of 2)", and a reminder that the hidden
  checks run on new inputs when the work is graded (never "all tests passed");
* some fail: each failure's own message (what is wrong, the expected value, the learner's,
  and a hint), without otter's "Error at line ..." framing or a traceback.
"""

from __future__ import annotations

import html
import inspect
import re
from dataclasses import dataclass
from typing import Any

from course_lib.grading._otter import otter

__all__ = ["Grader", "PublicResult", "failure_message"]

_FRAMING = re.compile(r"^❌ Test case failed\nError at line \d+ in test [^\n]*:\n(?:  [^\n]*\n)*",
                      re.S)


def failure_message(otter_message: str) -> str:
    """The learner-facing text of a failed otter test case: our check's own message."""
    text = _FRAMING.sub("", otter_message or "", count=1).strip()
    match = re.match(r"^(\w+): (.*)$", text, re.S)
    if match and match.group(1) in ("CheckFailed", "AssertionError"):
        return match.group(2).strip()
    if match:
        return (f"the check could not run ({match.group(1)}: {match.group(2).strip()}). "
                "If your answer looks right, tell your instructor.")
    return text or "this check failed."


@dataclass
class CaseResult:
    name: str
    passed: bool
    message: str


class PublicResult:
    """What ``grader.check`` shows: public checks only, in the course's words."""

    def __init__(self, question: str, cases: list[CaseResult], error: str | None = None):
        self.question, self.cases, self.error = question, cases, error

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.cases)

    def lines(self) -> list[str]:
        if self.error:
            return [f"{self.question}: {self.error}"]
        total = len(self.cases)
        if self.passed:
            return [f"{self.question}: public checks passed ({total} of {total}).",
                    "These are a preview: when your work is graded, hidden checks run your "
                    "answer on new inputs."]
        failed = [c for c in self.cases if not c.passed]
        out = [f"{self.question}: {len(failed)} of {total} public checks failed."]
        out += [f"\n✗ {c.message}" for c in failed]
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#b42318"
        body = "".join(f"<pre style='white-space: pre-wrap; margin: 0.3em 0'>{html.escape(line)}"
                       "</pre>" for line in self.lines())
        return f"<div style='border-left: 4px solid {color}; padding-left: 0.6em'>{body}</div>"


class Grader(otter.Notebook):
    """otter's ``Notebook`` whose ``check`` reports in the course's words (see module doc)."""

    def check(self, question: str, global_env: dict[str, Any] | None = None) -> PublicResult:
        if global_env is None:
            global_env = inspect.currentframe().f_back.f_globals
        try:
            result = super().check(question, global_env)
        except FileNotFoundError:
            return PublicResult(question, [], error=(
                "its checks were not found. Open this notebook from the exercises folder "
                "(make lab) and keep its file name, which the checks are stored under."))
        cases = [CaseResult(r.test_case.name, r.passed,
                            "" if r.passed else failure_message(r.message))
                 for r in result.test_case_results if not r.test_case.hidden]
        return PublicResult(question, cases)
