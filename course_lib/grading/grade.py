"""Grade a folder of submissions: every ``*.ipynb`` gets a row in the gradebook, whatever it holds.

For one file (:func:`grade_file`):

1. read it (size limit), parse it as a notebook, and find its exercise set from the
   ``assignment_name`` otter wrote into its metadata (else from its file name);
2. start a :class:`~course_lib.grading.session.Session` that runs its code cells in a confined
   child process;
3. run every test case of the set's bundle, public and hidden, here in the grading process:
   learner functions are proxies into the child, values are plain data, hidden inputs are
   drawn from a seed derived from the run's seed, and references run in this process;
4. score: each test case's points if it passes (public cases carry 0 points; all points come
   from hidden checks, so an answer fitted to the public inputs earns nothing).

For a folder (:func:`grade_folder`): files are graded in parallel by worker processes (one per
core by default). A worker that dies or stalls is replaced; the file it held is retried once,
then recorded as ungradable. The gradebook (``gradebook.csv``) has one row per file, one column
per question of every set, the total, the points possible and a status; ``feedback/`` holds one
Markdown file per submission; ``run.json`` records the seed, the limits and the sandbox.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import hashlib
import json
import multiprocessing
import os
import pathlib
import secrets
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from course_lib.grading.bundles import Bundle, load_bundles
from course_lib.grading.sandbox import strip_shell_lines
from course_lib.grading.session import Limits

__all__ = ["Outcome", "grade_file", "grade_folder", "write_gradebook", "find_submissions"]

DEFAULT_LIMITS = Limits()
MAX_BYTES = 20 * 2**20
MAX_SOURCE = 5 * 2**20
REVIEW_MODULES = ("torch", "keras", "importlib")
REVIEW_LIBRARY = ("rules", "optim", "arrays", "validation", "articles", "schedules",
                  "torch_schedules", "d2l_schedulers", "trajectories")


@dataclass
class CaseOutcome:
    question: str
    label: str
    hidden: bool
    points: float
    passed: bool
    message: str = ""


@dataclass
class Outcome:
    """The grading of one submission file."""

    file: str
    assignment: str | None
    status: str
    scores: dict[str, float] = field(default_factory=dict)
    possible: float = 0.0
    cases: list[CaseOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(self.scores.values()), 6)


def find_submissions(folder: pathlib.Path) -> list[pathlib.Path]:
    """Every ``*.ipynb`` under ``folder`` (checkpoints excluded), sorted."""
    folder = pathlib.Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts and p.is_file())


# -- one file -------------------------------------------------------------------------------------


def _read_notebook(path: pathlib.Path) -> tuple[Any, str | None]:
    """The notebook, or None and why it cannot be graded."""
    import nbformat

    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, f"not graded: cannot read the file ({exc.strerror})"
    if size == 0:
        return None, "not graded: empty file"
    if size > MAX_BYTES:
        return None, f"not graded: file too large ({size / 2**20:.0f} MB; at most 20 MB)"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None, "not graded: not a notebook (not UTF-8 text)"
    if not text.strip():
        return None, "not graded: empty file"
    try:
        data = json.loads(text)
    except ValueError as exc:
        return None, f"not graded: not a notebook (invalid JSON: {exc.msg} at line {exc.lineno})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not graded: not a notebook (the JSON has no list of cells)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. cells without ids: a learner's tool's doing
            notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds on bad input
        return None, f"not graded: not a notebook ({type(exc).__name__})"
    return notebook, None


def _assignment_of(notebook: Any, path: pathlib.Path, bundles: dict[str, Bundle]
                   ) -> tuple[str | None, str | None]:
    """The set's name from the notebook's otter metadata, or failing that from the file name."""
    meta = notebook.get("metadata", {})
    otter_meta = meta.get("otter") if isinstance(meta, dict) else None
    name = otter_meta.get("assignment_name") if isinstance(otter_meta, dict) else None
    if isinstance(name, str) and name:
        return name, None
    matches = [set_name for set_name in bundles if set_name in path.name]
    if len(matches) == 1:
        return matches[0], "its set was recognised by its file name (no otter metadata)"
    return None, None


def _code_cells(notebook: Any) -> list[str]:
    cells = []
    for cell in notebook.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append(source if isinstance(source, str) else "")
    return cells


def imports_to_review(cells: list[str]) -> list[str]:
    """What a submission imports that could stand in for its own answer (read, never run).

    torch, keras, importlib, ``__import__``, and course_lib's optimizers and schedules: an
    implement answer that calls them passes the checks without being the learner's own rule.
    The grader flags them in the status for a person to look at; it does not take points.
    """
    found = set()
    for source in cells:
        try:
            tree = ast.parse(strip_shell_lines(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Name) and node.id == "__import__":
                found.add("__import__")
            for module in names:
                parts = module.split(".")
                if parts[0] in REVIEW_MODULES:
                    found.add(parts[0])
                elif parts[0] == "course_lib" and len(parts) > 1 and parts[1] in REVIEW_LIBRARY:
                    found.add(f"course_lib.{parts[1]}")
    return sorted(found)


def released_cells(bundle: Bundle) -> frozenset[str]:
    """The code cells of the set's student notebook, as released beside its bundle.

    ``make release`` writes ``dist/student/<set>.ipynb`` next to ``dist/autograder/``. A
    submission's cell that is still exactly one of these was given to the learner (a helper that
    imports ``course_lib`` to run an experiment, say), so its imports are no reason to review.
    """
    student = bundle.path.parent.parent / "student" / f"{bundle.assignment}.ipynb"
    try:
        return frozenset(_code_cells(json.loads(student.read_text(encoding="utf-8"))))
    except (OSError, ValueError):
        return frozenset()


def _case_seed(seed: int, *parts: str) -> int:
    digest = hashlib.sha256("|".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def grade_file(path: pathlib.Path, bundles: dict[str, Bundle], *, name: str | None = None,
               limits: Limits = DEFAULT_LIMITS, seed: int = 0, assignment: str | None = None,
               scratch: str | None = None) -> Outcome:
    """Grade one submission against its set's bundle (see the module docstring)."""
    from course_lib.grading import checks
    from course_lib.grading.inputs import grading_seed
    from course_lib.grading.session import ChildStopped, RemoteClass, RemoteFunction, Session

    started = time.perf_counter()
    label = name or path.name
    notebook, problem = _read_notebook(path)
    if problem:
        return Outcome(label, None, problem, seconds=time.perf_counter() - started)
    set_name, how = _assignment_of(notebook, path, bundles)
    if assignment is not None and set_name != assignment:
        what = f"this is {set_name}" if set_name else "it names no exercise set"
        return Outcome(label, set_name, f"not graded: wrong assignment ({what}; "
                                        f"expected {assignment})")
    if set_name not in bundles:
        why = (f"'{set_name}' is not an exercise set of this course" if set_name
               else "not an exercise notebook of this course (no assignment name)")
        return Outcome(label, set_name, f"not graded: wrong assignment ({why})")
    bundle = bundles[set_name]
    outcome = Outcome(label, set_name, "graded", possible=bundle.points,
                      scores={q.name: 0.0 for q in bundle.questions})
    if how:
        outcome.notes.append(how)
    cells = _code_cells(notebook)
    if sum(len(c) for c in cells) > MAX_SOURCE:
        outcome.status = "not graded: its code is larger than 5 MB"
        return outcome
    given = released_cells(bundle)
    review = imports_to_review([c for c in cells if c not in given])

    session = Session(cells, limits, scratch=scratch)
    env: dict[str, Any] = {}
    try:
        try:
            session.start()
            described = session.describe(bundle.parameters)
        except ChildStopped as exc:
            outcome.notes.append(f"the notebook could not be run to the end: {exc}")
            described = {}
        for param in bundle.parameters:
            entry = described.get(param, {"kind": "missing"})
            kind = entry.get("kind")
            env[param] = (RemoteFunction(session, param) if kind == "function"
                          else RemoteClass(session, param) if kind == "class"
                          else entry.get("value") if kind == "value" else None)
        for question in bundle.questions:
            for case in question.cases:
                kwargs = {p: env.get(p) for p in case.parameters}
                case_seed = _case_seed(seed, label, set_name, question.name, case.name)
                try:
                    with grading_seed(case_seed):
                        case.function(**kwargs)
                    passed, message = True, ""
                except (checks.CheckFailed, AssertionError) as exc:
                    passed, message = False, str(exc) or "this check failed"
                except Exception as exc:  # noqa: BLE001 - a check must never stop the grading
                    passed = False
                    message = f"the check could not run ({type(exc).__name__}: {exc})"
                outcome.cases.append(CaseOutcome(question.name, case.label, case.hidden,
                                                 case.points, passed, message))
                if passed:
                    outcome.scores[question.name] += case.points
    finally:
        session.close()
    outcome.notes += [f"cell {e.get('cell', 0) + 1} raised {e.get('ename')}: {e.get('evalue')}"
                      for e in session.cell_errors]
    outcome.notes += session.notes
    if not session.sandbox.startswith("landlock"):
        outcome.notes.append(f"sandbox: {session.sandbox}")
    if review:
        outcome.status += f"; review: imports {', '.join(review)}"
        outcome.notes.append(f"the notebook imports {', '.join(review)}: implement answers "
                             "should be the learner's own numpy code (look at them)")
    outcome.seconds = time.perf_counter() - started
    outcome.scores = {k: round(v, 6) for k, v in outcome.scores.items()}
    return outcome


# -- a folder, in parallel ------------------------------------------------------------------------


def _worker(conn: Any, bundle_dir: str, limits: Limits, seed: int, assignment: str | None,
            scratch: str | None) -> None:
    """A grading process: load the bundles once, then grade the files it is sent."""
    import torch

    torch.set_num_threads(1)
    bundles = load_bundles(bundle_dir)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        path, name = task
        try:
            outcome = grade_file(pathlib.Path(path), bundles, name=name, limits=limits, seed=seed,
                                 assignment=assignment, scratch=scratch)
        except Exception as exc:  # noqa: BLE001 - never lose a submission
            outcome = Outcome(name, None, f"grader error: {type(exc).__name__}: {exc}"[:300])
        conn.send(outcome)


@dataclass
class _Slot:
    process: Any
    conn: Any
    task: tuple[str, str] | None = None
    since: float = 0.0


def grade_folder(submissions: pathlib.Path, bundle_dir: pathlib.Path, *, jobs: int | None = None,
                 limits: Limits = DEFAULT_LIMITS, seed: int | None = None,
                 assignment: str | None = None, scratch: str | None = None,
                 progress: Any = None) -> tuple[list[Outcome], int]:
    """Grade every submission under ``submissions``; returns the outcomes (in file order) and
    the run's seed."""
    seed = secrets.randbits(63) if seed is None else seed
    root = pathlib.Path(submissions)
    files = find_submissions(root)
    names = {str(p): (p.relative_to(root).as_posix() if root.is_dir() else p.name) for p in files}
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))
    context = multiprocessing.get_context("spawn")
    queue = deque((str(p), names[str(p)]) for p in files)
    strikes: dict[str, int] = {}
    results: dict[str, Outcome] = {}
    hard_limit = limits.total_seconds + 180.0

    def start() -> _Slot:
        parent, child = context.Pipe()
        process = context.Process(target=_worker, daemon=True,
                                  args=(child, str(bundle_dir), limits, seed, assignment, scratch))
        process.start()
        child.close()
        return _Slot(process, parent)

    slots = [start() for _ in range(jobs)]
    try:
        while queue or any(s.task for s in slots):
            for slot in slots:
                if slot.task is None and queue:
                    slot.task, slot.since = queue.popleft(), time.monotonic()
                    slot.conn.send(slot.task)
            busy = [s for s in slots if s.task]
            ready = wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=5)
            for index, slot in enumerate(slots):
                if slot.task is None:
                    continue
                path, name = slot.task
                lost = None
                if slot.conn in ready:
                    try:
                        results[path] = slot.conn.recv()
                        slot.task = None
                        if progress:
                            progress(results[path], len(results), len(files))
                        continue
                    except (EOFError, OSError):
                        lost = "the grading process stopped"
                elif not slot.process.is_alive():
                    lost = "the grading process stopped"
                elif time.monotonic() - slot.since > hard_limit:
                    lost = f"grading took longer than {hard_limit:.0f} s"
                if lost:
                    slot.process.kill()
                    slot.process.join(5)
                    strikes[path] = strikes.get(path, 0) + 1
                    if strikes[path] >= 2:
                        results[path] = Outcome(name, None, f"grader error: {lost} twice")
                        if progress:
                            progress(results[path], len(results), len(files))
                    else:
                        queue.appendleft((path, name))
                    slots[index] = start()
    finally:
        for slot in slots:
            try:
                slot.conn.send(None)
            except (OSError, ValueError):
                pass
        for slot in slots:
            slot.process.join(10)
            if slot.process.is_alive():
                slot.process.kill()
    return [results[str(p)] for p in files], seed


# -- writing the results --------------------------------------------------------------------------


def columns(bundles: dict[str, Bundle]) -> list[str]:
    """The gradebook's question columns: ``<set>/<question>`` for every set, in order."""
    return [f"{name}/{q.name}" for name in sorted(bundles) for q in bundles[name].questions]


def write_gradebook(outcomes: list[Outcome], bundles: dict[str, Bundle],
                    path: pathlib.Path) -> None:
    """One row per submission file; blank cells for questions of other sets."""
    question_columns = columns(bundles)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "assignment", *question_columns, "total", "possible", "status"])
        for outcome in outcomes:
            row = [outcome.file, outcome.assignment or ""]
            for column in question_columns:
                set_name, question = column.split("/", 1)
                if outcome.assignment == set_name and question in outcome.scores:
                    row.append(_number(outcome.scores[question]))
                elif outcome.assignment == set_name and set_name in bundles:
                    row.append("0")
                else:
                    row.append("")
            row += [_number(outcome.total), _number(outcome.possible), outcome.status]
            writer.writerow(row)


def _number(value: float) -> str:
    return f"{value:g}"


def feedback_text(outcome: Outcome) -> str:
    """The learner's feedback for one submission, as Markdown."""
    lines = [f"# Feedback: {outcome.file}", "",
             f"- exercise set: {outcome.assignment or 'unknown'}",
             f"- score: {_number(outcome.total)} / {_number(outcome.possible)}",
             f"- status: {outcome.status}", ""]
    by_question: dict[str, list[CaseOutcome]] = {}
    for case in outcome.cases:
        by_question.setdefault(case.question, []).append(case)
    for question, cases in by_question.items():
        possible = sum(c.points for c in cases)
        lines += [f"## {question}: {_number(outcome.scores.get(question, 0))} / "
                  f"{_number(possible)}", ""]
        for case in cases:
            kind = "hidden check" if case.hidden else "public check"
            mark = "passed" if case.passed else "FAILED"
            lines.append(f"- {kind} '{case.label}' ({_number(case.points)} pt): {mark}")
            if case.message:
                lines += ["", "  ```", *("  " + m for m in case.message.splitlines()), "  ```"]
        lines.append("")
    if outcome.notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in outcome.notes] + [""]
    return "\n".join(lines)


def feedback_name(file: str) -> str:
    """A file name for ``file``'s feedback (sub-folders flattened)."""
    stem = file[:-len(".ipynb")] if file.endswith(".ipynb") else file
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem.replace("/", "__"))
    return (safe or "submission") + ".md"


def write_results(outcomes: list[Outcome], bundles: dict[str, Bundle], out: pathlib.Path,
                  run_info: dict[str, Any]) -> None:
    """``gradebook.csv``, ``feedback/*.md`` and ``run.json`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    write_gradebook(outcomes, bundles, out / "gradebook.csv")
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for old in feedback.glob("*.md"):
        old.unlink()
    used: set[str] = set()
    for outcome in outcomes:
        name = feedback_name(outcome.file)
        while name in used:
            name = name[:-3] + "_.md"
        used.add(name)
        (feedback / name).write_text(feedback_text(outcome), encoding="utf-8")
    info = dict(run_info)
    info["submissions"] = len(outcomes)
    info["limits"] = dataclasses.asdict(info.get("limits", Limits()))
    (out / "run.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
