"""The gradebook's "review: imports ..." flag: raised by what the learner added, not by what
the released notebook already gave them."""

import json
import pathlib

import pytest

from course_lib.grading.bundles import Bundle
from course_lib.grading.grade import imports_to_review, released_cells


@pytest.mark.parametrize(("source", "flagged"), [
    ("import torch\nstep = torch.optim.Adam", ["torch"]),
    ("from torch.optim import SGD", ["torch"]),
    ("from course_lib import rules", ["course_lib.rules"]),
    ("from course_lib.optim import Adam", ["course_lib.optim"]),
    ("import importlib", ["importlib"]),
    ("m = __import__('torch')", ["__import__"]),
    ("import numpy as np\nfrom course_lib import objectives", []),
    ("def f(:\n    import torch", []),  # unparsable cells are skipped, not fatal
])
def test_imports_that_could_stand_in_for_an_answer_are_flagged(source, flagged):
    assert imports_to_review([source]) == flagged


def released(tmp_path: pathlib.Path, cells: list[str]) -> Bundle:
    (tmp_path / "student").mkdir()
    (tmp_path / "autograder").mkdir()
    notebook = {"cells": [{"cell_type": "code", "source": s} for s in cells]}
    (tmp_path / "student" / "07_adagrad.ipynb").write_text(json.dumps(notebook))
    return Bundle("07_adagrad", (), tmp_path / "autograder" / "07_adagrad-autograder.zip")


def test_a_helper_cell_the_learner_was_given_is_not_flagged(tmp_path):
    helper = ("from course_lib import arrays\n\n"
              "def try_choice(lr):\n    return arrays.get('adagrad')")
    bundle = released(tmp_path, [helper, "def adagrad_step(param, grad, state):\n    ..."])
    given = released_cells(bundle)
    submission = [helper, "def adagrad_step(param, grad, state):\n    return param, state"]
    assert imports_to_review([c for c in submission if c not in given]) == []
    # The same import typed into an answer cell is still flagged.
    cheat = "from course_lib import arrays\ndef adagrad_step(param, grad, state):\n    ..."
    flagged = imports_to_review([c for c in [helper, cheat] if c not in given])
    assert flagged == ["course_lib.arrays"]


def test_without_a_released_notebook_nothing_is_taken_as_given(tmp_path):
    bundle = Bundle("07_adagrad", (), tmp_path / "autograder" / "07_adagrad-autograder.zip")
    assert released_cells(bundle) == frozenset()
