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
           "resolve", "hidden_rng", "public_rng", "grading_seed", "format_value",
           "OWN_OPTIMIZERS", "optimizer_options", "optimizer_groups"]

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


#: The torch.optim classes a learner may rebuild as a torch.optim.Optimizer subclass (the
#: final project): the arguments the class must take, with torch's names and defaults, and
#: the chapter that teaches the algorithm.
OWN_OPTIMIZERS: dict[str, dict[str, Any]] = {
    "SGD": {"arguments": ("lr", "momentum", "dampening", "weight_decay", "nesterov"),
            "chapter": "chapter 06 ('Leaky averages', 'Nesterov momentum', 'Dampening') and "
                       "chapter 12, section 1 (weight decay)"},
    "Adagrad": {"arguments": ("lr", "lr_decay", "weight_decay", "initial_accumulator_value",
                              "eps"),
                "chapter": "chapter 07 ('Where ε goes: d2l, torch and the source article'); "
                           "lr_decay: chapter 12, section 2"},
    "RMSprop": {"arguments": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
                "chapter": "chapter 08 ('From a sum to a leaky average', 'Centered RMSProp', "
                           "'RMSProp with momentum')"},
    "Adadelta": {"arguments": ("lr", "rho", "eps", "weight_decay"),
                 "chapter": "chapter 09 ('Two leaky averages', 'The first step, by hand')"},
    "Adam": {"arguments": ("lr", "betas", "eps", "weight_decay", "amsgrad"),
             "chapter": "chapter 10 ('Two leaky averages', 'Bias correction', 'AMSGrad')"},
    "AdamW": {"arguments": ("lr", "betas", "eps", "weight_decay", "amsgrad"),
              "chapter": "chapter 10 ('AdamW: weight decay is not L2 regularisation', "
                         "'AMSGrad')"},
    "Adamax": {"arguments": ("lr", "betas", "eps", "weight_decay"),
               "chapter": "chapter 10 ('The rest of the family')"},
    "RAdam": {"arguments": ("lr", "betas", "eps", "weight_decay"),
              "chapter": "chapter 10 ('The rest of the family') and chapter 14 ('RAdam's "
                         "built-in warmup')"},
}


def _own_options(name: str, rng: np.random.Generator) -> dict[str, Any]:
    """One option set for ``torch.optim.<name>`` that gives every argument of
    :data:`OWN_OPTIMIZERS` a value (the off/on switches drawn too), stable on
    :func:`quadratics`' problems."""

    def sometimes(low: float, high: float) -> float:
        return float(rng.uniform(low, high)) if rng.random() < 0.6 else 0.0

    def log(low: float, high: float) -> float:
        return Range(low, high, log=True)(rng)

    def betas() -> tuple[float, float]:
        return float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.9999))

    if name == "SGD":
        momentum = float(rng.uniform(0.3, 0.95)) if rng.random() < 0.75 else 0.0
        nesterov = bool(momentum > 0 and rng.random() < 0.5)
        return {"lr": float(rng.uniform(0.02, 0.4)), "momentum": momentum,
                "dampening": 0.0 if nesterov or momentum == 0 else sometimes(0.05, 0.5),
                "weight_decay": sometimes(0.0, 0.1), "nesterov": nesterov}
    if name == "Adagrad":
        return {"lr": log(0.05, 1.0), "lr_decay": log(1e-3, 0.1) if rng.random() < 0.6 else 0.0,
                "weight_decay": sometimes(0.0, 0.1),
                "initial_accumulator_value": sometimes(0.0, 0.5), "eps": log(1e-10, 1e-4)}
    if name == "RMSprop":
        return {"lr": log(1e-3, 0.05), "alpha": float(rng.uniform(0.8, 0.999)),
                "eps": log(1e-10, 1e-4), "weight_decay": sometimes(0.0, 0.1),
                "momentum": sometimes(0.3, 0.9), "centered": bool(rng.random() < 0.5)}
    if name == "Adadelta":
        return {"lr": float(rng.uniform(0.1, 2.0)), "rho": float(rng.uniform(0.8, 0.99)),
                "eps": log(1e-8, 1e-3), "weight_decay": sometimes(0.0, 0.1)}
    if name in ("Adam", "AdamW", "Adamax", "RAdam"):
        options = {"lr": log(1e-3, 0.3), "betas": betas(), "eps": log(1e-10, 1e-3),
                   "weight_decay": (float(rng.uniform(0.0, 0.2)) if name == "AdamW"
                                    else sometimes(0.0, 0.1))}
        if name in ("Adam", "AdamW"):
            options["amsgrad"] = bool(rng.random() < 0.5)
        return options
    raise ValueError(f"name must be one of {', '.join(OWN_OPTIMIZERS)}, got {name!r}")


def optimizer_options(name: str, count: int = 3) -> Draw:
    """``count`` option sets for ``torch.optim.<name>``, one of :data:`OWN_OPTIMIZERS`, each
    setting every argument the learner's class must take.

    >>> sets = optimizer_options("Adam", 2)(np.random.default_rng(0))
    >>> sorted(sets[0]) == sorted(OWN_OPTIMIZERS["Adam"]["arguments"])
    True
    """
    if name not in OWN_OPTIMIZERS:
        raise ValueError(f"name must be one of {', '.join(OWN_OPTIMIZERS)}, got {name!r}")
    return Draw(count, lambda rng: _own_options(name, rng))


def optimizer_groups(name: str) -> Callable[[np.random.Generator, dict[str, Any]],
                                             list[dict[str, Any]]]:
    """Three parameter groups for :func:`course_lib.grading.checks.optimizer_class`: the
    constructor's options, a whole other option set of ``torch.optim.<name>``, and a learning
    rate of its own."""
    if name not in OWN_OPTIMIZERS:
        raise ValueError(f"name must be one of {', '.join(OWN_OPTIMIZERS)}, got {name!r}")

    def groups(rng: np.random.Generator, options: dict[str, Any]) -> list[dict[str, Any]]:
        other = _own_options(name, rng)
        return [{}, other, {"lr": _own_options(name, rng)["lr"]}]

    return groups


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
