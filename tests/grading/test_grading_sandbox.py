"""The child process a submission runs in: the wire format, the limits, the sandbox."""

from __future__ import annotations

import base64
import json
import pathlib

import numpy as np
import pytest
import torch

from course_lib.grading import sandbox
from course_lib.grading.release import workspace
from course_lib.grading.session import ChildStopped, LearnerError, Limits, RemoteFunction, Session

FAST = Limits(cell_seconds=1.0, call_seconds=1.0, grace_seconds=1.0, total_seconds=40.0)


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, float("inf"), "text", ..., 1 + 2j, (1, (2.0, "a")), [1, [2, None]],
    {"step": 3, "exp_avg": np.arange(3.0)}, np.float32(1.5), np.int64(7),
])
def test_plain_values_cross_the_pipe_unchanged(value):
    out = sandbox.decode(json.loads(json.dumps(sandbox.encode(value))))
    if isinstance(value, dict):
        assert out["step"] == 3
        np.testing.assert_array_equal(out["exp_avg"], value["exp_avg"])
    else:
        assert out == value or (out is value)


@pytest.mark.parametrize("array", [np.arange(6.0).reshape(2, 3), np.array([True, False]),
                                   np.zeros((0, 2)), np.arange(4, dtype=np.int32)])
def test_arrays_keep_dtype_and_shape(array):
    out = sandbox.decode(json.loads(json.dumps(sandbox.encode(array))))
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)


def test_tensors_arrive_as_arrays_and_other_objects_by_name():
    out = sandbox.plain(torch.tensor([1.0, 2.0], dtype=torch.float64))
    np.testing.assert_array_equal(out, [1.0, 2.0])
    assert isinstance(sandbox.plain(object()), sandbox.Unsupported)
    assert sandbox.plain({1: 2}).type_name == "a dict whose keys are not all strings"


@pytest.mark.parametrize("data", [
    {"__array__": ["object", [1], ""]},
    {"__array__": ["float64", [3], base64.b64encode(b"12345678").decode()]},
    {"__array__": ["float64", [10**9], ""]},
    {"__pickle__": "gASV"},
    {"a": 1, "b": 2},
    {"__gradient__": {"H": 1, "b": 2}},
])
def test_malformed_data_is_refused(data):
    with pytest.raises(sandbox.WireError):
        sandbox.decode(data)


def test_a_gradient_function_is_rebuilt_from_data_in_the_child():
    gradient = sandbox.QuadraticGradient(np.diag([2.0, 4.0]), [1.0, 0.0])
    rebuilt = sandbox.decode(json.loads(json.dumps(sandbox.encode(gradient))), oracles=True)
    np.testing.assert_array_equal(rebuilt(np.ones(2)), gradient(np.ones(2)))
    # The learner's copy offers no attribute with the matrix (exercise 03 asks for λ_max from
    # Hessian-vector products alone).
    assert not any(isinstance(getattr(rebuilt, name, None), np.ndarray) for name in dir(rebuilt))


def test_cells_run_in_order_and_errors_are_recorded():
    cells = ["x = 1", "raise ValueError('boom')", "%matplotlib inline\ny = x + 1",
             "import sys\nsys.exit(2)", "grader.check('q1')\nz = y + 1"]
    with Session(cells, FAST) as session:
        session.start()
        assert session.describe(["x", "y", "z"]) == {
            name: {"kind": "value", "value": value} for name, value in [("x", 1), ("y", 2),
                                                                        ("z", 3)]}
        assert [(e["cell"], e["ename"]) for e in session.cell_errors] == [
            (1, "ValueError"), (3, "SystemExit")]


def test_a_cell_that_kills_the_process_is_skipped_on_restart():
    cells = ["a = 1", "import os\nos._exit(3)", "b = 2"]
    with Session(cells, FAST) as session:
        session.start()
        assert session.skip == {1}
        assert session.describe(["a", "b"])["b"] == {"kind": "value", "value": 2}
        assert "cell 2 exited" in session.notes[0]


def test_a_call_past_its_time_limit_is_stopped():
    cells = ["def slow():\n    while True:\n        pass\n",
             "def stubborn():\n    import signal\n    for name in ('SIGALRM', 'SIGPROF'):\n"
             "        signal.signal(getattr(signal, name), signal.SIG_IGN)\n"
             "    while True:\n        pass\n",
             "def quick(x):\n    return 2 * x\n"]
    with Session(cells, FAST) as session:
        session.start()
        with pytest.raises(LearnerError, match=r"time limit \(1 s of CPU time\)"):
            RemoteFunction(session, "slow")()
        with pytest.raises(ChildStopped, match="time limit"):
            RemoteFunction(session, "stubborn")()
        assert RemoteFunction(session, "quick")(np.ones(2)).tolist() == [2.0, 2.0]
        assert session.restarts == 1


def test_a_limit_counts_cpu_time_and_stops_a_long_wait_by_the_clock():
    """A loaded machine stretches wall-clock time, not CPU time: a cell that waits 1.5 x its
    limit without computing still runs; one that sleeps on is stopped at WALL_FACTOR x."""
    cells = ["import time\nstarted = time.monotonic()\ntime.sleep(1.5)\nwaited = True",
             "time.sleep(10**6)", "after = True"]
    with Session(cells, FAST) as session:
        session.start()
        values = session.describe(["waited", "after"])
    assert values["waited"]["value"] is True and values["after"]["value"] is True
    assert [(e["cell"], e["ename"]) for e in session.cell_errors] == [(1, "TimeLimit")]


def test_memory_and_output_are_bounded():
    cells = ["import numpy as np\nbig = np.ones((10**5, 10**5))",
             "for _ in range(10**5):\n    print('x' * 100)", "done = True"]
    with Session(cells, Limits(memory_mb=1024, cell_seconds=5.0)) as session:
        session.start()
        assert session.cell_errors[0]["ename"] in ("MemoryError", "_ArrayMemoryError")
        assert session.describe(["done"])["done"]["value"] is True
    assert len(session.output_tail) <= 2000


@pytest.mark.skipif(sandbox.landlock_abi() < 1, reason="this kernel has no Landlock")
def test_the_sandbox_hides_files_and_keeps_writes_inside(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the answer")
    cells = [f"try:\n    leaked = open({str(secret)!r}).read()\nexcept OSError as e:\n"
             "    leaked = type(e).__name__",
             f"try:\n    open({str(tmp_path / 'new.txt')!r}, 'w').write('x')\n    wrote = True\n"
             "except OSError:\n    wrote = False",
             "open('scratch.txt', 'w').write('mine')\nmine = open('scratch.txt').read()"]
    with Session(cells, FAST) as session:
        session.start()
        values = session.describe(["leaked", "wrote", "mine"])
        assert session.sandbox.startswith("landlock")
    assert values["leaked"]["value"] == "PermissionError"
    assert values["wrote"]["value"] is False and not (tmp_path / "new.txt").exists()
    assert values["mine"]["value"] == "mine"


def test_the_workspace_copies_once_and_never_overwrites(tmp_path):
    student, exercises = tmp_path / "student", tmp_path / "exercises"
    student.mkdir()
    (student / "06_momentum.ipynb").write_text("released")
    assert workspace(student, exercises) == ["06_momentum.ipynb"]
    (exercises / "06_momentum.ipynb").write_text("my work")
    (student / "06_momentum.ipynb").write_text("released again")
    assert workspace(student, exercises) == []
    assert (exercises / "06_momentum.ipynb").read_text() == "my work"


def test_make_lab_opens_the_start_page_with_the_exercises_in_reach():
    makefile = (pathlib.Path(__file__).resolve().parents[2] / "Makefile").read_text()
    lab = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "course_lib.grading workspace" in lab
    assert "--ServerApp.root_dir=. chapters/00_start_here.ipynb" in lab
