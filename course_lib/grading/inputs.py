"""The inputs checks run a learner's answer on: fixed public ones, and hidden ones drawn at grading.

Public checks use fixed inputs (usually the chapter's own example), so a learner sees the same
result every time. Hidden checks draw theirs when the check runs, from :func:`hidden_rng`:

* in ``make grade`` the grader seeds it per submission and test case from the run's seed
  (printed in ``dist/grades/run.json``; ``--seed`` repeats a run exactly);
* anywhere else (a master run by nbval, ``otter run``), it is seeded from the operating
  system's entropy, so no file anywhere holds the inputs, or the answers to them.

A :class:`Draw` is a recipe (how many, and how to make one from a generator); a check resolves
it with :func:`resolve`. :func:`draw` makes option sets (with :func:`uniform`,
:func:`log_uniform`, :func:`one_of`), :func:`quadratics` random quadratic problems;
:class:`Quadratic` is one problem, ``f(x) = x'Hx/2 - b'x``.
"""

from __future__ import annotations

import contextlib
import contextvars
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.grading.sandbox import QuadraticGradient

__all__ = ["Draw", "draw", "uniform", "log_uniform", "one_of", "quadratics", "Quadratic",
           "resolve", "hidden_rng", "public_rng", "grading_seed", "format_value"]

_SEED: contextvars.ContextVar[int | None] = contextvars.ContextVar("grading_seed", default=None)


@contextlib.contextmanager
def grading_seed(seed: int | None) -> Iterator[None]:
    """Within the block, :func:`hidden_rng` is seeded with ``seed`` (the grader's, per check)."""
    token = _SEED.set(seed)
    try:
        yield
    finally:
        _SEED.reset(token)


def hidden_rng() -> np.random.Generator:
    """The generator hidden checks draw from: the grader's seed, or fresh entropy."""
    seed = _SEED.get()
    return np.random.default_rng(secrets.randbits(128) if seed is None else seed)


def public_rng() -> np.random.Generator:
    """The generator public checks draw from: always the same inputs."""
    return np.random.default_rng(20260101)


@dataclass(frozen=True)
class Draw:
    """``count`` inputs, each made by ``make(rng)`` when a check runs."""

    count: int
    make: Callable[[np.random.Generator], Any]

    def __call__(self, rng: np.random.Generator) -> list[Any]:
        return [self.make(rng) for _ in range(self.count)]


def resolve(spec: Any, rng: np.random.Generator | None = None) -> list[Any]:
    """A list of inputs from ``spec``: a :class:`Draw` (drawn now), or a list of inputs and
    draws (each draw expanded in place), or one input."""
    if isinstance(spec, Draw):
        return spec(rng if rng is not None else hidden_rng())
    if isinstance(spec, Sequence) and not isinstance(spec, str | bytes):
        out = []
        for item in spec:
            out += resolve(item, rng) if isinstance(item, Draw) else [item]
        return out
    return [spec]


@dataclass(frozen=True)
class Range:
    """A number drawn uniformly (or log-uniformly) from ``[low, high]`` by :func:`draw`."""

    low: float
    high: float
    log: bool = False

    def __call__(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(np.exp(rng.uniform(np.log(self.low), np.log(self.high))))
        return float(rng.uniform(self.low, self.high))


def uniform(low: float, high: float) -> Range:
    """A number drawn uniformly from ``[low, high]``."""
    return Range(low, high)


def log_uniform(low: float, high: float) -> Range:
    """A number drawn log-uniformly from ``[low, high]`` (learning rates, epsilons)."""
    return Range(low, high, log=True)


def one_of(*values: Any) -> Callable[[np.random.Generator], Any]:
    """One of ``values``, chosen at random."""
    return lambda rng: values[int(rng.integers(len(values)))]


def draw(count: int = 3, **options: Any) -> Draw:
    """``count`` option sets; an option given as a callable of the generator (:func:`uniform`,
    :func:`log_uniform`, :func:`one_of`, a lambda) is drawn when the check runs, anything else
    is fixed.

    >>> sets = draw(2, lr=uniform(0.1, 0.2), betas=(0.9, 0.999))(np.random.default_rng(0))
    >>> [round(s["lr"], 3) for s in sets], sets[0]["betas"]
    ([0.164, 0.127], (0.9, 0.999))
    """

    def make(rng: np.random.Generator) -> dict[str, Any]:
        return {name: value(rng) if callable(value) else value for name, value in options.items()}

    return Draw(count, make)


@dataclass(frozen=True)
class Quadratic:
    """``f(x) = x'Hx/2 - b'x`` from ``start``: the problems rules are checked on."""

    hessian: np.ndarray
    b: np.ndarray
    start: np.ndarray
    label: str

    @classmethod
    def from_objective(cls, objective: Any, start: Sequence[float], label: str) -> Quadratic:
        """A quadratic of :mod:`course_lib.objectives` (its Hessian is constant)."""
        start = np.atleast_1d(np.asarray(start, dtype=np.float64))
        hessian = np.atleast_2d(np.asarray(objective.hessian(start), dtype=np.float64))
        b = -np.atleast_1d(np.asarray(objective.gradient(np.zeros_like(start)), dtype=np.float64))
        return cls(hessian, b, start, label)

    @property
    def dim(self) -> int:
        return self.start.size

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return self.hessian @ np.asarray(x, dtype=np.float64) - self.b

    def gradient_function(self) -> QuadraticGradient:
        """The gradient as a function a learner's code can call (it crosses the pipe as data)."""
        return QuadraticGradient(self.hessian, self.b)

    def __str__(self) -> str:
        return self.label


def quadratics(count: int = 3, dims: tuple[int, int] = (2, 4),
               condition: tuple[float, float] = (2.0, 30.0), largest: float = 1.0,
               scale: float = 1.0) -> Draw:
    """``count`` random quadratics: a random rotation, eigenvalues in ``[largest/κ, largest]``
    with κ drawn from ``condition``, random ``b`` and start; gradients scaled by ``scale``."""

    def make(rng: np.random.Generator) -> Quadratic:
        dim = int(rng.integers(dims[0], dims[1] + 1))
        kappa = float(rng.uniform(*condition))
        rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        eigenvalues = largest * np.exp(rng.uniform(-np.log(kappa), 0.0, dim))
        eigenvalues[0], eigenvalues[-1] = largest, largest / kappa
        hessian = scale * (rotation * eigenvalues) @ rotation.T
        hessian = (hessian + hessian.T) / 2
        b = scale * rng.standard_normal(dim)
        start = rng.uniform(-3.0, 3.0, dim)
        label = (f"a random {dim}-D quadratic (eigenvalues {scale * largest / kappa:.3g} to "
                 f"{scale * largest:.3g}) from {format_value(start)}")
        return Quadratic(hessian, b, start, label)

    return Draw(count, make)


def format_value(value: Any, digits: int = 6) -> str:
    """A short, rounded rendering of a number or an array for messages."""
    if value is None:
        return "None"
    if value is Ellipsis:
        return "..."
    if isinstance(value, bool | str):
        return repr(value)
    if isinstance(value, int | float | np.floating | np.integer):
        return f"{float(value):.{digits}g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={format_value(v, digits)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list) and not _numeric(value):
        inner = ", ".join(format_value(v, digits) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return f"<{type(value).__name__}>"
    if array.ndim == 0:
        return f"{float(array):.{digits}g}"
    flat = array.reshape(-1)
    shown = ", ".join(f"{v:.{digits}g}" for v in flat[:4])
    more = f", ... ({flat.size} numbers)" if flat.size > 4 else ""
    return f"[{shown}{more}]"


def _numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True
