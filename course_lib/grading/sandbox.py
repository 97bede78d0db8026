"""The grading child: one learner's notebook code, run in a confined process.

The grader never imports or runs a learner's code itself. For each submission it starts this
file as a script (``python -I sandbox.py ...``) and talks to it over two pipes:

1. the child confines itself before it reads any learner code: resource limits (address
   space, CPU seconds, size of files it writes), its own session (so the parent can kill every
   process it starts), and, where the kernel has Landlock, a filesystem and network sandbox
   (read only the Python installation, the site-packages and ``course_lib``; write only its own
   scratch folder; no TCP; no signals to processes outside the sandbox);
2. the parent sends the notebook's code cells; the child runs them one by one in a single
   namespace, each under a soft time limit, and reports which cells raised;
3. the parent then asks for *plain data*: what a name is (a function, a value, missing), the
   value of a name, or the result of calling a learner's function on inputs the parent drew.
   Every answer crosses the pipe as JSON with arrays as base64 bytes (:func:`encode`,
   :func:`decode`); nothing a learner's code builds is ever unpickled or executed by the parent.

This module uses only the standard library and numpy, so that the child needs nothing else
(and it is run by path, without ``course_lib`` on its import path). The parent imports it for
:func:`encode`, :func:`decode` and :func:`plain`, which are pure functions.

The wire format, both directions: JSON values, plus single-key objects for what JSON lacks::

    {"__array__": [dtype, shape, base64]}   a numpy array of a numeric or bool dtype
    {"__tuple__": [...]}                    a tuple
    {"__dict__": [[key, value], ...]}       a dict with string keys
    {"__complex__": [re, im]}               a complex number
    {"__ellipsis__": 1}                     ``...`` (an answer not written yet)
    {"__unsupported__": "type name"}        anything else (the child names its type)
    {"__gradient__": {...}}                 parent to child only: a gradient function (below)
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import json
import math
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["encode", "decode", "plain", "WireError", "QuadraticGradient", "DRIVERS"]

#: numpy dtypes that may cross the pipe.
DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
})
MAX_DEPTH = 16
MAX_ELEMENTS = 5_000_000
MAX_STRING = 20_000


class WireError(ValueError):
    """Data that cannot cross the pipe (too deep, too large, or not well formed)."""


# -- the wire format ------------------------------------------------------------------------------


def _np():
    import numpy

    return numpy


def encode(obj: Any, depth: int = 0) -> Any:
    """``obj`` as JSON-compatible data (see the module docstring); unknown types are named."""
    if depth > MAX_DEPTH:
        raise WireError(f"nested more than {MAX_DEPTH} levels deep")
    if obj is None or type(obj) is bool:
        return obj
    if type(obj) is str:
        return obj[:MAX_STRING]
    if type(obj) is int:
        return obj if abs(obj) < 2**63 else float(obj)
    if type(obj) is float:
        return obj
    if obj is Ellipsis:
        return {"__ellipsis__": 1}
    if type(obj) is complex:
        return {"__complex__": [obj.real, obj.imag]}
    if type(obj) is QuadraticGradient:
        return obj.__wire__()
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in "biufcU":
                return _unsupported(obj)
            return encode(obj.item(), depth + 1)
        if isinstance(obj, np.ndarray):
            return _encode_array(obj)
    if _is_tensor(obj):
        return _encode_array(obj.detach().cpu().numpy())
    if type(obj) is tuple:
        return {"__tuple__": [encode(x, depth + 1) for x in obj]}
    if type(obj) is list:
        return [encode(x, depth + 1) for x in obj]
    if type(obj) is dict:
        if not all(type(k) is str for k in obj):
            return _unsupported(obj, "a dict whose keys are not all strings")
        return {"__dict__": [[k, encode(v, depth + 1)] for k, v in obj.items()]}
    if isinstance(obj, bool | int | float | str | tuple | list | dict):
        # subclasses: take the plain value, so no method of the subclass decides what is sent
        base = next(t for t in (bool, int, float, str, tuple, list, dict) if isinstance(obj, t))
        return encode(base(obj), depth)
    return _unsupported(obj)


def _is_tensor(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "detach")


def _unsupported(obj: Any, what: str | None = None) -> dict[str, str]:
    return {"__unsupported__": what or type(obj).__name__}


def _encode_array(array: Any) -> Any:
    np = _np()
    array = np.asarray(array)
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            return _unsupported(array, "an array of Python objects")
    if array.dtype.name not in DTYPES:
        return _unsupported(array, f"an array of dtype {array.dtype.name}")
    if array.size > MAX_ELEMENTS:
        raise WireError(f"an array of {array.size} elements (at most {MAX_ELEMENTS})")
    data = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")
    return {"__array__": [array.dtype.name, list(array.shape), data]}


def decode(data: Any, depth: int = 0, *, oracles: bool = False) -> Any:
    """Inverse of :func:`encode`. Refuses anything malformed with :class:`WireError`.

    ``oracles`` (child side only) turns ``{"__gradient__": ...}`` into a callable.
    """
    if depth > MAX_DEPTH:
        raise WireError(f"nested more than {MAX_DEPTH} levels deep")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(x, depth + 1, oracles=oracles) for x in data]
    if type(data) is not dict or len(data) != 1:
        raise WireError("a malformed value")
    (tag, value), = data.items()
    if tag == "__array__":
        return _decode_array(value)
    if tag == "__tuple__" and type(value) is list:
        return tuple(decode(x, depth + 1, oracles=oracles) for x in value)
    if tag == "__dict__" and type(value) is list:
        out = {}
        for item in value:
            if type(item) is not list or len(item) != 2 or type(item[0]) is not str:
                raise WireError("a malformed dict")
            out[item[0]] = decode(item[1], depth + 1, oracles=oracles)
        return out
    if tag == "__complex__" and type(value) is list and len(value) == 2:
        return complex(float(value[0]), float(value[1]))
    if tag == "__ellipsis__":
        return Ellipsis
    if tag == "__unsupported__" and type(value) is str:
        return Unsupported(value[:200])
    if tag == "__gradient__" and oracles:
        return QuadraticGradient.from_wire(value)
    raise WireError(f"an unknown tag {tag[:40]!r}")


def _decode_array(value: Any) -> Any:
    np = _np()
    if type(value) is not list or len(value) != 3:
        raise WireError("a malformed array")
    dtype, shape, data = value
    if dtype not in DTYPES or type(shape) is not list or type(data) is not str:
        raise WireError("a malformed array")
    if len(shape) > 32 or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape):
        raise WireError("a malformed array shape")
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise WireError(f"an array of {size} elements (at most {MAX_ELEMENTS})")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    if len(raw) != size * np.dtype(dtype).itemsize:
        raise WireError("an array whose data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


class Unsupported:
    """Stands for a value of a type that does not cross the pipe (the child names the type)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def plain(obj: Any) -> Any:
    """``obj`` as the parent would receive it from the child: the same conversion, in process."""
    return decode(encode(obj))


class QuadraticGradient:
    """The gradient ``x -> H x - b`` of ``f(x) = x'Hx/2 - b'x``, callable, and sent as data.

    A check hands one to a learner's function that takes a gradient function; the child
    rebuilds it from ``H`` and ``b`` (so no code crosses the pipe).
    """

    def __init__(self, hessian: Any, b: Any):
        np = _np()
        self.hessian = np.array(hessian, dtype=np.float64)
        self.b = np.array(b, dtype=np.float64)

    def __call__(self, x: Any) -> Any:
        np = _np()
        return self.hessian @ np.asarray(x, dtype=np.float64) - self.b

    def __wire__(self) -> dict[str, Any]:
        return {"__gradient__": {"H": _encode_array(self.hessian), "b": _encode_array(self.b)}}

    @staticmethod
    def from_wire(value: Any) -> Callable[[Any], Any]:
        """The child's copy: a plain function of x with no attribute holding ``H`` or ``b``.

        A learner's code receives it (a question may ask for λ_max from Hessian-vector
        products alone), so it must not offer the matrix as ``.hessian``. Code that digs
        through the function's closure can still reach it: exercises/README.md lists that
        under what is not defended.
        """
        if type(value) is not dict or set(value) != {"H", "b"}:
            raise WireError("a malformed gradient")
        np = _np()
        hessian, b = decode(value["H"]), decode(value["b"])

        def gradient(x: Any) -> Any:
            return hessian @ np.asarray(x, dtype=np.float64) - b

        return gradient

    def __repr__(self) -> str:
        return f"<gradient of a {self.b.size}-D quadratic>"


# -- drivers: routines the child runs around a learner's object -----------------------------------


def drive_optimizer_class(cls: type, *, hessian: Any, b: Any, start: Any, options: dict[str, Any],
                          steps: int, resume_at: int | None = None,
                          groups: list[dict[str, Any]] | None = None,
                          without_grad: list[list[int]] | None = None,
                          load_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a ``torch.optim.Optimizer`` subclass on ``x'Hx/2 - b'x`` (float64).

    ``options`` are the constructor's keyword arguments. With ``groups`` (a list of option
    overrides), the parameter vector is split into that many tensors, one parameter group
    each. Returns the parameters after every step, and the ``state_dict`` after the last one.
    With ``resume_at=k`` the run stops after step k, saves ``state_dict()``, builds a *new*
    optimizer on copies of the parameters, loads the saved state and continues: a correct
    optimizer's path does not change, and the result also holds the saved state (``saved``).
    ``without_grad`` lists ``[step, group]`` pairs: at that step (1-based) that group's
    parameter has ``.grad = None``, as after ``zero_grad()`` when it took no part in the loss.
    ``load_state`` (a ``state`` as this routine returns it, plain arrays and numbers) is loaded
    with ``load_state_dict`` before the first step: a checkpoint of another class. The grader
    runs this with the learner's class in the child, and with torch's class, as the reference,
    in the grading process.
    """
    import torch

    hessian_t = torch.as_tensor(hessian, dtype=torch.float64)
    b_t = torch.as_tensor(b, dtype=torch.float64)
    pieces = torch.as_tensor(start, dtype=torch.float64).clone().tensor_split(len(groups or [0]))

    def build(parts):
        params = [torch.nn.Parameter(part.detach().clone()) for part in parts]
        if groups:
            return params, cls([{"params": [p], **g}
                                for p, g in zip(params, groups, strict=True)], **options)
        return params, cls(params, **options)

    params, optimizer = build(pieces)
    if load_state is not None:
        optimizer.load_state_dict({"state": _state_from_plain(load_state),
                                   "param_groups": optimizer.state_dict()["param_groups"]})
    skipped = {(int(step), int(group)) for step, group in (without_grad or [])}
    path, result = [], {}
    for step in range(1, steps + 1):
        with torch.no_grad():
            grad = hessian_t @ torch.cat([p.reshape(-1) for p in params]) - b_t
            parts = grad.split([p.numel() for p in params])
            for index, (param, part) in enumerate(zip(params, parts, strict=True)):
                param.grad = (None if (step, index) in skipped
                              else part.reshape(param.shape).clone())
        optimizer.step()
        path.append(torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy())
        if resume_at is not None and step == resume_at:
            saved = optimizer.state_dict()
            result["saved"] = _state_to_plain(saved)
            params, optimizer = build(params)
            optimizer.load_state_dict(saved)
    return {"path": _np().array(path), "state": _state_to_plain(optimizer.state_dict()),
            **result}


def _state_to_plain(state_dict: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for index, entries in state_dict.get("state", {}).items():
        out[str(index)] = {str(k): (v.detach().numpy().copy() if _is_tensor(v) else v)
                           for k, v in entries.items()}
    return out


def _state_from_plain(state: Any) -> dict[int, dict[str, Any]]:
    """The inverse of :func:`_state_to_plain`: arrays become tensors (of their own dtype)."""
    import torch

    np = _np()
    if not isinstance(state, dict):
        raise TypeError(f"a state should be a dict of dicts, not a {type(state).__name__}")
    out: dict[int, dict[str, Any]] = {}
    for index, entries in state.items():
        if not isinstance(entries, dict):
            raise TypeError(f"state[{index}] should be a dict, not a {type(entries).__name__}")
        out[int(index)] = {str(k): torch.as_tensor(np.array(v)) if isinstance(v, np.ndarray)
                           else v for k, v in entries.items()}
    return out


#: Drivers the parent may ask the child to run (``{"op": "drive", "driver": name}``).
DRIVERS: dict[str, Callable[..., Any]] = {"optimizer_class": drive_optimizer_class}


# -- confinement ----------------------------------------------------------------------------------

# Landlock (Linux >= 5.13): an unprivileged process restricts itself and its children.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where there is none."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        version = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def landlock(read_only: list[str], writable: list[str]) -> str:
    """Confine this process: read (and map) only ``read_only``, write only ``writable``.

    Also, where the kernel's ABI allows: no TCP connections or listening sockets (ABI 4), and
    no signals or abstract unix sockets to processes outside the sandbox (ABI 6). Returns a
    short description of what was applied, or why nothing was.
    """
    abi = landlock_abi()
    if abi < 1:
        return "none (this kernel has no Landlock)"
    libc = ctypes.CDLL(None, use_errno=True)
    handled = _FS_ALL_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    handled |= _FS_IOCTL_DEV if abi >= 5 else 0
    attr = _RulesetAttr(handled, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        return f"none (landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())})"
    file_rights = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
    try:
        for path, rights in [(p, _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR) for p in read_only] + \
                            [(p, handled) for p in writable]:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not os.path.isdir(path):
                    rights &= file_rights
                rule = _PathBeneathAttr(rights, fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) < 0:
                    return (f"none (landlock_add_rule failed for {path}: "
                            f"{os.strerror(ctypes.get_errno())})")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
            return "none (prctl(PR_SET_NO_NEW_PRIVS) failed)"
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) < 0:
            return f"none (landlock_restrict_self failed: {os.strerror(ctypes.get_errno())})"
    finally:
        os.close(ruleset)
    parts = ["filesystem"] + (["network"] if abi >= 4 else []) + (["signals"] if abi >= 6 else [])
    return f"landlock ABI {abi}: {', '.join(parts)}"


def limit_resources(memory_mb: int, cpu_seconds: int, output_kb: int) -> None:
    """Address space, CPU time, size of any file written (stdout included), no core dumps."""
    memory = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    size = output_kb * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead


# -- running cells and answering requests ---------------------------------------------------------


class TimeLimit(BaseException):
    """Raised in the child when a cell or a call runs past its soft time limit."""


#: A cell or a call may use its ``seconds`` of CPU time (``SIGPROF``: a busy loop) and
#: ``WALL_FACTOR`` times as many seconds of wall-clock time (``SIGALRM``: a sleep or a blocked
#: read, which use no CPU). Counting CPU time keeps a limit the same on a loaded machine, where
#: importing torch alone can take ten wall-clock seconds while a class is being graded.
WALL_FACTOR = 3.0


def _on_alarm(signum: int, frame: Any) -> None:
    raise TimeLimit()


def _arm(seconds: float) -> None:
    """Start a cell's or a call's two timers: CPU time, and wall-clock time as a backstop."""
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_FACTOR)


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_PROF, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)


class _CappedStream:
    """A text stream that writes to a file descriptor until ``limit`` bytes, then drops."""

    def __init__(self, fd: int, limit: int):
        self.fd, self.limit, self.written, self.dropped = fd, limit, 0, 0

    def write(self, text: str) -> int:
        data = str(text).encode("utf-8", "replace")
        room = self.limit - self.written
        if room > 0:
            chunk = data[:room]
            try:
                os.write(self.fd, chunk)
            except OSError:
                pass
            self.written += len(chunk)
        self.dropped += max(0, len(data) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return "utf-8"


class _NoGrader:
    """``grader`` in the child: the check cells of a notebook do nothing there."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def strip_shell_lines(source: str) -> str:
    """IPython magics and shell escapes (``%...``, ``!...``) are not Python: comment them out."""
    lines = source.split("\n")
    return "\n".join(("# " + line) if line.lstrip().startswith(("%", "!")) else line
                     for line in lines)


def _is_grader_statement(statement: Any) -> bool:
    """The exercise notebook's own plumbing: ``import otter``, the ``Grader`` import,
    ``grader = Grader(...)`` and ``grader.check(...)``. The child skips them (the checks run in
    the grading process, and importing otter would cost seconds per submission)."""
    import ast

    if isinstance(statement, ast.Import):
        return all(a.name.split(".")[0] == "otter" for a in statement.names)
    if isinstance(statement, ast.ImportFrom):
        module = statement.module or ""
        return module.split(".")[0] == "otter" or module == "course_lib.grading.notebook"
    if isinstance(statement, ast.Assign):
        return all(isinstance(t, ast.Name) and t.id == "grader" for t in statement.targets)
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        return (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.value.id == "grader")
    return False


def compile_cell(source: str, index: int) -> Any:
    """A cell's code, without shell lines and the notebook's grader plumbing."""
    import ast

    filename = f"<cell {index + 1}>"
    tree = ast.parse(strip_shell_lines(source), filename)
    tree.body = [s for s in tree.body if not _is_grader_statement(s)]
    return compile(tree, filename, "exec")


def _describe_error(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, TimeLimit):
        return {"ename": "TimeLimit", "evalue": "ran past its time limit"}
    if isinstance(exc, SystemExit):
        return {"ename": "SystemExit", "evalue": f"sys.exit({exc.code!r}) was called"[:300]}
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a learner's exception may fail to print itself
        text = "(its message could not be printed)"
    return {"ename": type(exc).__name__[:80], "evalue": text[:300]}


class Channel:
    """Newline-delimited JSON over two pipe file descriptors."""

    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in, self.fd_out, self.buffer = fd_in, fd_out, b""

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode("utf-8")
        while data:
            written = os.write(self.fd_out, data)
            data = data[written:]

    def receive(self) -> dict[str, Any] | None:
        while b"\n" not in self.buffer:
            chunk = os.read(self.fd_in, 1 << 20)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)


def _run_cells(channel: Channel, namespace: dict[str, Any], cells: list[str], skip: set[int],
               cell_seconds: float) -> list[dict[str, Any]]:
    errors = []
    for index, source in enumerate(cells):
        if index in skip:
            continue
        channel.send({"event": "cell", "index": index})
        try:
            code = compile_cell(source, index)
            _arm(cell_seconds)
            try:
                exec(code, namespace)  # noqa: S102 - this process exists to run the learner's code
            finally:
                _disarm()
        except BaseException as exc:  # noqa: BLE001 - every failure of a cell is reported
            errors.append({"cell": index, **_describe_error(exc)})
    return errors


def _describe(namespace: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in namespace:
        return {"kind": "missing"}
    value = namespace[name]
    try:
        if isinstance(value, type):
            return {"kind": "class", "type": value.__name__[:80]}
        if type(value).__name__ == "module":
            return {"kind": "module"}
        if callable(value) and not _is_tensor(value):
            return {"kind": "function"}
        return {"kind": "value", "value": encode(value)}
    except Exception as exc:  # noqa: BLE001 - too large, too deep, or a learner's odd object
        why = f"a value that cannot be read ({exc})"[:200]
        return {"kind": "value", "value": {"__unsupported__": why}}


def _serve(channel: Channel, namespace: dict[str, Any], call_seconds: float) -> None:
    while True:
        request = channel.receive()
        if request is None or request.get("op") == "exit":
            return
        reply: dict[str, Any] = {"id": request.get("id")}
        try:
            seconds = request.get("seconds")
            _arm(seconds if isinstance(seconds, (int, float)) and seconds > 0 else call_seconds)
            try:
                reply.update(_answer(request, namespace))
            finally:
                _disarm()
        except BaseException as exc:  # noqa: BLE001 - any failure becomes an answer
            reply.update(ok=False, error=_describe_error(exc))
        try:
            channel.send(reply)
        except (TypeError, ValueError) as exc:
            channel.send({"id": request.get("id"), "ok": False,
                          "error": {"ename": "WireError", "evalue": str(exc)[:300]}})


def _answer(request: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "describe":
        return {"ok": True, "names": {n: _describe(namespace, n) for n in request["names"]}}
    if op == "call":
        target = namespace.get(request["name"])
        if target is None or not callable(target):
            return {"ok": False, "error": {"ename": "NameError",
                                            "evalue": f"{request['name']} is not a function"}}
        args = decode(request.get("args", []), oracles=True)
        kwargs = decode(request.get("kwargs", {"__dict__": []}), oracles=True)
        return {"ok": True, "value": encode(target(*args, **kwargs))}
    if op == "drive":
        target = namespace.get(request["name"])
        driver = DRIVERS[request["driver"]]
        kwargs = decode(request.get("kwargs", {"__dict__": []}), oracles=True)
        return {"ok": True, "value": encode(driver(target, **kwargs))}
    return {"ok": False, "error": {"ename": "ProtocolError", "evalue": f"unknown op {op!r}"}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the grading child (started by the grader)")
    parser.add_argument("--fd-in", type=int, required=True)
    parser.add_argument("--fd-out", type=int, required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--cpu-seconds", type=int, default=120)
    parser.add_argument("--output-kb", type=int, default=1024)
    parser.add_argument("--cell-seconds", type=float, default=10.0)
    parser.add_argument("--call-seconds", type=float, default=5.0)
    parser.add_argument("--read", action="append", default=[])
    parser.add_argument("--no-landlock", action="store_true")
    args = parser.parse_args(argv)

    # 1. confine, before any learner code is read
    limit_resources(args.memory_mb, args.cpu_seconds, args.output_kb)
    os.chdir(args.workdir)
    sandbox = ("none (disabled)" if args.no_landlock
               else landlock(args.read, [args.workdir, "/dev/null"]))
    channel = Channel(args.fd_in, args.fd_out)
    import numpy  # noqa: F401 - the wire format needs it; imported before learner code runs

    sys.stdout = sys.stderr = _CappedStream(1, args.output_kb * 1024 // 2)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGPROF, _on_alarm)

    # 2. run the cells
    request = channel.receive()
    if request is None or request.get("op") != "run":
        return 2
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__,
                                 "grader": _NoGrader()}
    started = time.perf_counter()
    errors = _run_cells(channel, namespace, list(request["cells"]), set(request.get("skip", [])),
                        args.cell_seconds)
    channel.send({"event": "done", "errors": errors, "sandbox": sandbox,
                  "seconds": round(time.perf_counter() - started, 3)})

    # 3. answer requests until told to stop
    _serve(channel, namespace, args.call_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
