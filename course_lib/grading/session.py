"""One submission's child process, seen from the grader: start it, feed it cells, ask for data.

:class:`Session` starts :mod:`course_lib.grading.sandbox` as a separate Python process, sends
it the notebook's code cells, and then answers the checks' questions by asking the child:
``describe`` (what is this name?), ``call`` (call this learner function on these inputs) and
``drive`` (run a learner's class through a routine of the sandbox). Every answer is decoded
from plain data; the grader never unpickles or executes anything the child sends.

Limits (:class:`Limits`) are enforced twice: softly inside the child (a timer per cell and per
call, so one runaway cell costs only itself) and hard from here (a deadline on every read,
after which the child's whole process group is killed). A cell that kills or hangs the child
is skipped when the child is restarted, so the other answers are still graded.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import select
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from course_lib.grading import sandbox

__all__ = ["Limits", "Session", "RemoteFunction", "RemoteClass", "LearnerError", "ChildStopped",
           "sandbox_read_paths"]

SANDBOX_SCRIPT = pathlib.Path(sandbox.__file__).resolve()
MAX_LINE = 64 * 2**20


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Times in seconds.

    ``cell_seconds`` and ``call_seconds`` count the child's CPU time, so a loaded machine does
    not cut a cell short; a cell or call that waits without computing (a sleep, a blocked
    read) is stopped after ``sandbox.WALL_FACTOR`` times as many wall-clock seconds, and one
    that ignores both signals is killed ``grace_seconds`` later. ``total_seconds`` is
    wall-clock time for the whole submission.
    """

    memory_mb: int = 2048
    cpu_seconds: int = 120
    output_kb: int = 1024
    cell_seconds: float = 10.0
    call_seconds: float = 5.0
    grace_seconds: float = 3.0
    total_seconds: float = 150.0
    restarts: int = 3
    landlock: bool = True


class LearnerError(Exception):
    """The learner's code raised (or ran past its soft time limit) while answering a call."""


class ChildStopped(Exception):
    """The child is gone: it exited, was killed at a hard deadline, or broke the protocol."""


def sandbox_read_paths() -> list[str]:
    """What the child may read: the Python installation, site-packages, course_lib, the OS."""
    import course_lib

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             *site.getsitepackages(),
             *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")),
             str(pathlib.Path(course_lib.__file__).resolve().parent),
             "/usr", "/lib", "/lib64", "/lib32", "/etc", "/proc", "/sys", "/dev", "/opt/conda"}
    return sorted({os.path.realpath(p) for p in paths if os.path.exists(p)})


def exposed(secrets: list[pathlib.Path | str]) -> list[str]:
    """Which of ``secrets`` the child could read anyway (they lie under an allowed path)."""
    allowed = [pathlib.Path(p) for p in sandbox_read_paths()]
    out = []
    for secret in secrets:
        path = pathlib.Path(os.path.realpath(secret))
        if any(path == a or a in path.parents for a in allowed):
            out.append(str(secret))
    return out


@dataclass
class Session:
    """A learner's notebook code, running in a confined child process."""

    cells: list[str]
    limits: Limits = field(default_factory=Limits)
    scratch: str | None = None

    def __post_init__(self) -> None:
        self.skip: set[int] = set()
        self.notes: list[str] = []
        self.cell_errors: list[dict[str, Any]] = []
        self.sandbox = "not started"
        self.output_tail = ""
        self.restarts = 0
        self._proc: subprocess.Popen | None = None
        self._workdir: str | None = None
        self._buffer = b""
        self._next_id = 0
        self._current_cell: int | None = None
        self._started = False
        self._deadline = time.monotonic() + self.limits.total_seconds

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the cells; restart without a cell that kills or hangs the child."""
        self._started = True
        while True:
            self._launch()
            try:
                self._run_cells()
                return
            except ChildStopped as why:
                index = self._current_cell
                self._kill()
                if index is None:
                    raise
                self.skip.add(index)
                self.notes.append(f"cell {index + 1} {why}; it was skipped")
                if not self._may_restart():
                    raise ChildStopped(f"cell {index + 1} {why}") from None

    def _may_restart(self) -> bool:
        if self.restarts >= self.limits.restarts or self._remaining() <= 1.0:
            return False
        self.restarts += 1
        return True

    def _launch(self) -> None:
        self._workdir = tempfile.mkdtemp(prefix="grading-", dir=self.scratch)
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        limits = self.limits
        command = [
            sys.executable, "-I", str(SANDBOX_SCRIPT),
            "--fd-in", str(to_child_r), "--fd-out", str(from_child_w),
            "--workdir", self._workdir, "--memory-mb", str(limits.memory_mb),
            "--cpu-seconds", str(limits.cpu_seconds), "--output-kb", str(limits.output_kb),
            "--cell-seconds", str(limits.cell_seconds), "--call-seconds", str(limits.call_seconds),
        ]
        command += [f"--read={path}" for path in sandbox_read_paths()]
        if not limits.landlock:
            command.append("--no-landlock")
        env = {"PATH": "/usr/bin:/bin", "HOME": self._workdir, "TMPDIR": self._workdir,
               "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": self._workdir,
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "KERAS_BACKEND": "torch"}
        output = open(os.path.join(self._workdir, "output.txt"), "wb")  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                pass_fds=(to_child_r, from_child_w), cwd=self._workdir, env=env,
                start_new_session=True)
        finally:
            output.close()
            os.close(to_child_r)
            os.close(from_child_w)
        self._to_child, self._from_child = to_child_w, from_child_r
        os.set_blocking(self._to_child, False)
        self._buffer = b""
        self._current_cell = None

    def _run_cells(self) -> None:
        self._send({"op": "run", "cells": self.cells, "skip": sorted(self.skip)})
        soft = self.limits.cell_seconds * sandbox.WALL_FACTOR + self.limits.grace_seconds
        cell_deadline = time.monotonic() + soft + 5.0  # start-up: Python, numpy, the sandbox
        while True:
            message = self._receive(cell_deadline, "ran past its time limit")
            if message.get("event") == "cell":
                index = message.get("index")
                self._current_cell = index if isinstance(index, int) else None
                cell_deadline = time.monotonic() + soft
            elif message.get("event") == "done":
                self._current_cell = None
                errors = message.get("errors")
                self.cell_errors = [e for e in errors if isinstance(e, dict)] \
                    if isinstance(errors, list) else []
                self.sandbox = str(message.get("sandbox", "unknown"))[:200]
                return

    def close(self) -> None:
        """Stop the child, keep the tail of its output, remove its scratch folder."""
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._send({"op": "exit"}, timeout=0.5)
        self._kill()

    def _kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
            self._proc = None
            for fd in (self._to_child, self._from_child):
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self._workdir is not None:
            path = os.path.join(self._workdir, "output.txt")
            with contextlib.suppress(OSError), open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 2000))
                self.output_tail = f.read().decode("utf-8", "replace")
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- requests --------------------------------------------------------------------------------

    def describe(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """What each name is in the learner's namespace (values decoded)."""
        reply = self._request({"op": "describe", "names": list(names)},
                              self.limits.call_seconds, "describe")
        out = {}
        raw = reply.get("names") if isinstance(reply.get("names"), dict) else {}
        for name in names:
            entry = raw.get(name)
            if not isinstance(entry, dict) or entry.get("kind") not in (
                    "missing", "class", "module", "function", "value"):
                out[name] = {"kind": "missing"}
                continue
            if entry["kind"] == "value":
                try:
                    entry = {"kind": "value", "value": sandbox.decode(entry.get("value"))}
                except (sandbox.WireError, ValueError, TypeError):
                    entry = {"kind": "value", "value": sandbox.Unsupported("unreadable value")}
            out[name] = entry
        return out

    def call(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        """``name(*args, **kwargs)`` in the child; the result as plain data."""
        reply = self._request({"op": "call", "name": name, "args": sandbox.encode(list(args)),
                               "kwargs": sandbox.encode(dict(kwargs))},
                              self.limits.call_seconds, name)
        return self._value(reply, name)

    def drive(self, driver: str, name: str, kwargs: dict[str, Any], seconds: float) -> Any:
        """Run one of the sandbox's :data:`~course_lib.grading.sandbox.DRIVERS` on ``name``."""
        reply = self._request({"op": "drive", "driver": driver, "name": name,
                               "kwargs": sandbox.encode(dict(kwargs))}, seconds, name)
        return self._value(reply, name, seconds)

    def _value(self, reply: dict[str, Any], name: str, seconds: float | None = None) -> Any:
        if not reply.get("ok"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            ename = str(error.get("ename", "Error"))[:80]
            evalue = str(error.get("evalue", ""))[:300]
            if ename == "TimeLimit":
                limit = self.limits.call_seconds if seconds is None else seconds
                raise LearnerError(f"ran past its time limit ({limit:g} s of CPU time)")
            raise LearnerError(f"raised {ename}: {evalue}" if evalue else f"raised {ename}")
        try:
            return sandbox.decode(reply.get("value"))
        except (sandbox.WireError, ValueError, TypeError) as exc:
            raise LearnerError(f"returned something the grader cannot read ({exc})") from None

    def _request(self, message: dict[str, Any], seconds: float, what: str) -> dict[str, Any]:
        self._ensure_running()
        self._next_id += 1
        message = {"id": self._next_id, "seconds": seconds, **message}
        deadline = time.monotonic() + seconds * sandbox.WALL_FACTOR + self.limits.grace_seconds
        try:
            self._send(message, timeout=seconds)
            while True:
                reply = self._receive(deadline, f"{what} ran past its time limit "
                                                 f"({seconds:g} s) and was stopped")
                if reply.get("id") == self._next_id:
                    return reply
        except ChildStopped:
            self._kill()
            raise

    def _ensure_running(self) -> None:
        if not self._started:
            self.start()
            return
        if self._proc is not None and self._proc.poll() is None:
            return
        self._kill()
        if not self._may_restart():
            raise ChildStopped("the submission's process stopped and could not be restarted")
        self.notes.append("the submission's process stopped; it was restarted")
        self.start()

    # -- the pipe ----------------------------------------------------------------------------------

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _send(self, message: dict[str, Any], timeout: float | None = None) -> None:
        data = (json.dumps(message) + "\n").encode("utf-8")
        deadline = time.monotonic() + (timeout if timeout is not None else 30.0)
        while data:
            wait = min(deadline, self._deadline) - time.monotonic()
            if wait <= 0:
                raise ChildStopped("did not read its input in time")
            _, ready, _ = select.select([], [self._to_child], [], wait)
            if not ready:
                continue
            try:
                written = os.write(self._to_child, data)
            except BlockingIOError:
                continue
            except OSError:
                raise ChildStopped("stopped (its input was closed)") from None
            data = data[written:]

    def _receive(self, deadline: float, late: str) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            wait = min(deadline, self._deadline) - time.monotonic()
            if wait <= 0:
                if self._remaining() <= 0:
                    raise ChildStopped(
                        f"used up the time limit for a whole submission "
                        f"({self.limits.total_seconds:g} s)")
                raise ChildStopped(late)
            ready, _, _ = select.select([self._from_child], [], [], wait)
            if not ready:
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                code = self._proc.wait(timeout=5) if self._proc else None
                raise ChildStopped(_exit_reason(code))
            self._buffer += chunk
            if len(self._buffer) > MAX_LINE:
                raise ChildStopped("sent more data than the grader accepts")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            raise ChildStopped("wrote something unreadable into the grader's channel") from None
        if not isinstance(message, dict):
            raise ChildStopped("wrote something unreadable into the grader's channel")
        return message


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "stopped"
    if code < 0:
        name = {signal.SIGKILL: "killed (SIGKILL: memory or CPU limit?)",
                signal.SIGXCPU: "stopped at the CPU time limit",
                signal.SIGSEGV: "crashed (segmentation fault)",
                signal.SIGABRT: "aborted"}.get(-code, f"killed by signal {-code}")
        return name
    return f"exited (exit status {code}, e.g. os._exit or sys.exit outside a cell)"


class RemoteFunction:
    """A learner's function living in the child: calling it sends the inputs over the pipe."""

    def __init__(self, session: Session, name: str):
        self.session, self.name = session, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.session.call(self.name, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.name}>"


class RemoteClass:
    """A learner's class living in the child; checks run it through a sandbox driver."""

    def __init__(self, session: Session, name: str):
        self.session, self.name = session, name

    def __repr__(self) -> str:
        return f"<your class {self.name}>"
