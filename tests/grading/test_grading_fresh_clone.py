"""``make release`` and ``make grade`` on a fresh copy of the repository.

The copy holds exactly the files git tracks (what a clone of this work gets), none of the
outputs lying around here. It runs with this checkout's virtual environment (``VENV=...``,
whose set-up make is told not to redo) and imports the copy's own ``course_lib``.
"""

from __future__ import annotations

import csv
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from corpus import build, submissions

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV = pathlib.Path(sys.prefix)


def _tracked_copy(target: pathlib.Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None,
                    reason="needs make and git")
def test_release_and_grade_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "course"
    _tracked_copy(clone)
    assert not (clone / "dist").exists()
    env = {**os.environ, "PYTHONPATH": str(clone)}
    make = ["make", "-C", str(clone), f"VENV={VENV}", "-o", f"{VENV}/.installed"]

    done = subprocess.run([*make, "release"], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    bundles = sorted(p.name for p in (clone / "dist" / "autograder").glob("*-autograder.zip"))
    masters = sorted(p.stem for p in (clone / "exercises" / "masters").glob("*.ipynb"))
    assert bundles == [f"{m}-autograder.zip" for m in masters]
    assert sorted(p.stem for p in (clone / "dist" / "student").glob("*.ipynb")) == masters

    chosen = [s for s in submissions()
              if s.name in ("solutions_06", "untouched_10", "invalid_json", "wrong_assignment")]
    folder = tmp_path / "handed in"
    folder.mkdir()
    for submission in chosen:
        (folder / submission.file).write_bytes(build(submission, clone / "dist"))
    done = subprocess.run([*make, "grade", f"SUBMISSIONS={folder}"], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with open(clone / "dist" / "grades" / "gradebook.csv", newline="") as f:
        rows = {row["file"]: row for row in csv.DictReader(f)}
    assert sorted(rows) == sorted(s.file for s in chosen)
    for submission in chosen:
        row = rows[submission.file]
        assert row["status"].startswith(submission.status)
        assert float(row["total"]) == submission.expected_total()
    assert len(list((clone / "dist" / "grades" / "feedback").glob("*.md"))) == len(chosen)
