"""Run an update rule on a test function from a start point: d2l's ``train_2d``, generalised.

:func:`run` takes any rule (by name or as an object), any learning rate or schedule, a start
point and a number of steps, and returns the :class:`Trajectory`: every point visited. The rule
is the same object the torch optimizers use, so a 2-D demo and a network are trained by the same
code. :func:`run_torch` runs a ``torch.optim`` optimizer (course_lib's or torch's) on the same
objective with autograd, so a chapter can show both give the same numbers. :func:`run_many`
runs many seeded noisy copies of :func:`run` at once, as the rows of one array, for averages
over runs.

>>> from course_lib import objectives
>>> path = run("sgd", objectives.bowl(), start=(-5.0, -2.0), steps=20, lr=0.1)
>>> report(path)
step 20, x1: -0.057646, x2: -0.000073
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib import rules
from course_lib.rules import Rule
from course_lib.schedules import as_schedule

__all__ = ["REPORT_UNITS", "Trajectory", "TrajectoryBatch", "run", "run_many", "run_torch",
           "report"]

#: The words :func:`report` may count with: "step" (the course), "epoch" (d2l's printouts).
REPORT_UNITS = ("step", "epoch")


@dataclass(frozen=True)
class Trajectory:
    """The points an optimizer visited: ``points[0]`` is the start, ``points[k]`` after k steps.

    Attributes:
        points: shape ``(steps + 1, dim)``.
        objective: what was minimised.
        label: a name for legends (the rule and its learning rate, unless given).
        learning_rates: the learning rate used at each step (length ``steps``).
        states: with ``run(..., record_state=True)``, the rule's state after every step:
            state name (torch's, e.g. ``"exp_avg"``, ``"sum"``) -> shape ``(steps + 1, dim)``,
            row k after k steps (row 0: before the first); NaN where the entry did not exist
            yet (SGD's ``momentum_buffer`` before the first step). Empty otherwise.
    """

    points: np.ndarray
    objective: Any
    label: str
    learning_rates: np.ndarray = field(repr=False)
    states: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def final(self) -> np.ndarray:
        """The last point."""
        return self.points[-1]

    @property
    def values(self) -> np.ndarray:
        """f at every point, shape ``(steps + 1,)``."""
        with np.errstate(over="ignore", invalid="ignore"):
            return np.array([self.objective.value(p) for p in self.points])

    def distance_to(self, point: Sequence[float]) -> np.ndarray:
        """Euclidean distance of every point to ``point`` (e.g. the minimizer)."""
        return np.linalg.norm(self.points - np.asarray(point, dtype=float), axis=1)


def _rule(rule: Rule | str, hyperparams: dict[str, Any]) -> Rule:
    if isinstance(rule, str):
        return rules.make(rule, **hyperparams)
    if isinstance(rule, Rule):
        return rule.with_hyperparams(**hyperparams) if hyperparams else rule
    raise TypeError(f"rule must be a course_lib rule or a rule name, got {rule!r}")


def _start(objective: Any, start: Any) -> np.ndarray:
    x = np.array(start, dtype=np.float64).reshape(-1)
    dim = getattr(objective, "dim", x.size)
    if x.size != dim:
        raise ValueError(f"start must have {dim} coordinate(s) for this objective, got {start!r}")
    return x


def run(
    rule: Rule | str,
    objective: Any,
    start: float | Sequence[float],
    steps: int = 20,
    *,
    lr: float | Callable[[int], float] | None = None,
    noise: float = 0.0,
    seed: int = 0,
    label: str | None = None,
    record_state: bool = False,
    **hyperparams: Any,
) -> Trajectory:
    """Minimise ``objective`` with ``rule`` from ``start`` for ``steps`` updates.

    At step t (0-based) the gradient g = ∇f(x) is computed (plus ``noise`` · N(0, 1) in every
    coordinate, from a generator seeded with ``seed``), and the rule updates x with learning
    rate ``lr(t)``. Newton's method also gets the Hessian ∇²f(x).

    Args:
        rule: a rule object or name (``"momentum"`` is not a name: use ``"sgd"`` with
            ``momentum=0.5``).
        objective: anything with ``gradient(x)`` (and ``hessian(x)`` for Newton, ``value(x)``
            for :attr:`Trajectory.values`), such as :mod:`course_lib.objectives`' functions.
        start: the start point (a number for a 1-D objective).
        steps: the number of updates.
        lr: a number, a schedule ``t -> lr``, or None for the rule's own ``lr``.
        noise: the standard deviation of Gaussian noise added to each gradient coordinate.
        seed: the seed of that noise.
        label: the legend label; by default the rule's name and learning rate.
        record_state: keep the rule's state after every step (:attr:`Trajectory.states`):
            Adam's moments, Adagrad's sum, the momentum buffer.
        **hyperparams: hyperparameters for the rule (torch's names), e.g. ``momentum=0.5``.

    >>> from course_lib import objectives
    >>> path = run("adagrad", objectives.bowl(), (-5.0, -2.0), 2, lr=0.4, record_state=True)
    >>> path.states["sum"]                  # the running sum of squared gradients
    array([[  0.  ,   0.  ],
           [100.  ,  64.  ],
           [184.64, 104.96]])
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    if not isinstance(record_state, bool):
        raise TypeError(f"record_state must be True or False, got {record_state!r}")
    if lr is not None and not callable(lr):
        hyperparams["lr"] = lr
    rule = _rule(rule, hyperparams)
    schedule = as_schedule(lr) if callable(lr) else None
    x = _start(objective, start)
    state = rule.init(x)
    generator = np.random.default_rng(seed)
    points, rates = [x.copy()], []
    history: list[dict[str, np.ndarray]] = [_state_arrays(state, x)] if record_state else []
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is a lesson, not an error
        for t in range(steps):
            grad = np.asarray(objective.gradient(x), dtype=np.float64).reshape(x.shape)
            if noise:
                grad = grad + noise * generator.standard_normal(x.shape)
            hp = rule.hyperparams
            if schedule is not None:
                hp = {**hp, "lr": schedule(t)}
            rates.append(hp["lr"])
            if rule.needs_hessian:
                rule.step(x, grad, state, hp, hessian=objective.hessian(x))
            else:
                rule.step(x, grad, state, hp)
            points.append(x.copy())
            if record_state:
                history.append(_state_arrays(state, x))
    if label is None:
        rate = "schedule" if schedule is not None else f"{rule.hyperparams['lr']:g}"
        label = f"{type(rule).__name__}, lr={rate}"
    states = {}
    if record_state:
        names = list(dict.fromkeys(name for entry in history for name in entry))
        nan = np.full(x.shape, np.nan)
        states = {name: np.array([entry.get(name, nan) for entry in history]) for name in names}
    return Trajectory(np.array(points), objective, label, np.array(rates, dtype=float), states)


def _state_arrays(state: Mapping[str, Any], x: np.ndarray) -> dict[str, np.ndarray]:
    """Copies of the state entries that are arrays shaped like the parameter (not counters)."""
    return {name: np.array(value, dtype=np.float64) for name, value in state.items()
            if isinstance(value, np.ndarray) and value.shape == x.shape}


@dataclass(frozen=True)
class TrajectoryBatch:
    """Many runs of one rule from one start, differing in the seed of their gradient noise.

    Run ``i`` is exactly ``run(..., seed=seeds[i])``: ``batch[i]`` gives it as a
    :class:`Trajectory`.

    Attributes:
        points: shape ``(runs, steps + 1, dim)``; ``points[i, k]`` is run i after k steps.
        objective: what was minimised.
        label: a name for legends.
        learning_rates: the learning rate used at each step (length ``steps``, shared by all).
        seeds: the seed of each run's noise, shape ``(runs,)``.
    """

    points: np.ndarray
    objective: Any
    label: str
    learning_rates: np.ndarray = field(repr=False)
    seeds: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> Trajectory:
        return Trajectory(self.points[index], self.objective,
                          f"{self.label}, seed {int(self.seeds[index])}", self.learning_rates)

    @property
    def steps(self) -> int:
        return self.points.shape[1] - 1

    @property
    def final(self) -> np.ndarray:
        """The last point of every run, shape ``(runs, dim)``."""
        return self.points[:, -1]

    @property
    def values(self) -> np.ndarray:
        """f at every point of every run, shape ``(runs, steps + 1)``."""
        with np.errstate(over="ignore", invalid="ignore"):
            if hasattr(self.objective, "values"):
                points = self.points if self.points.shape[-1] > 1 else self.points[..., 0]
                return np.asarray(self.objective.values(points), dtype=np.float64)
            return np.array([[self.objective.value(p) for p in run] for run in self.points])

    @property
    def mean_values(self) -> np.ndarray:
        """The average of f over the runs after each step, shape ``(steps + 1,)``."""
        return self.values.mean(axis=0)

    def distance_to(self, point: Sequence[float]) -> np.ndarray:
        """Distance of every point to ``point``, shape ``(runs, steps + 1)``."""
        return np.linalg.norm(self.points - np.asarray(point, dtype=float), axis=-1)


def _seeds(seeds: int | Sequence[int]) -> np.ndarray:
    if isinstance(seeds, bool):
        raise TypeError(f"seeds must be a number of runs or a sequence of seeds, got {seeds!r}")
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1 (the number of runs), got {seeds}")
        return np.arange(int(seeds))
    values = np.asarray(list(seeds))
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iu" or \
            np.any(values < 0):
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0, got {seeds!r}")
    return values


def _gradients(objective: Any, x: np.ndarray) -> np.ndarray:
    """∇f at every row of x (shape (runs, dim)), by the same formula as ``gradient(x[i])``."""
    runs, dim = x.shape
    if dim == 2 and hasattr(objective, "gradient_field"):
        g1, g2 = objective.gradient_field(x[:, 0], x[:, 1])
        return np.stack([g1, g2], axis=1)
    if dim == 1 and hasattr(objective, "derivative"):
        return np.asarray(objective.derivative(x[:, 0]), dtype=np.float64).reshape(runs, 1)
    return np.array([np.asarray(objective.gradient(row), dtype=np.float64).reshape(dim)
                     for row in x])


def run_many(
    rule: Rule | str,
    objective: Any,
    start: float | Sequence[float],
    steps: int = 20,
    *,
    seeds: int | Sequence[int] = 100,
    lr: float | Callable[[int], float] | None = None,
    noise: float = 0.0,
    label: str | None = None,
    **hyperparams: Any,
) -> TrajectoryBatch:
    """:func:`run` once per seed, all runs at once: the rows of one array, updated together.

    The rules act on every entry of an array separately, so one ``step`` on an array of shape
    ``(runs, dim)`` moves every run by its own gradient; run i's noise comes from a generator
    seeded with ``seeds[i]``, drawn in the order :func:`run` draws it. So run i is bit for bit
    ``run(rule, objective, start, steps, lr=lr, noise=noise, seed=seeds[i], ...)``, and 2000
    runs cost about as much as a few separate ones.

    Args:
        rule: a rule object or name, as for :func:`run` (Newton's method is not batched: it
            needs one Hessian per run).
        objective: as for :func:`run`; :mod:`course_lib.objectives`' functions compute the
            gradients of all runs in one call.
        start: the start point, shared by all runs, or one start per run (shape
            ``(runs, dim)``).
        steps: the number of updates.
        seeds: the number of runs (seeds 0, 1, ..., n - 1) or the seeds themselves.
        lr: a number, a schedule ``t -> lr``, or None for the rule's own ``lr``.
        noise: the standard deviation of Gaussian noise added to each gradient coordinate.
        label: the legend label; by default the rule's name and learning rate.
        **hyperparams: hyperparameters for the rule (torch's names), e.g. ``momentum=0.5``.

    >>> from course_lib import objectives
    >>> batch = run_many("sgd", objectives.bowl(), (-5.0, -2.0), 50, seeds=3, lr=0.1, noise=1.0)
    >>> batch.points.shape
    (3, 51, 2)
    >>> bool((batch[2].points == run("sgd", objectives.bowl(), (-5.0, -2.0), 50, lr=0.1,
    ...                             noise=1.0, seed=2).points).all())
    True
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    seed_values = _seeds(seeds)
    if lr is not None and not callable(lr):
        hyperparams["lr"] = lr
    rule = _rule(rule, hyperparams)
    if rule.needs_hessian:
        raise ValueError(f"run_many cannot batch {type(rule).__name__}, which needs one Hessian "
                         "per run; use run for each seed")
    schedule = as_schedule(lr) if callable(lr) else None
    runs = len(seed_values)
    given = np.array(start, dtype=np.float64)
    if given.ndim == 2:
        if given.shape[0] != runs:
            raise ValueError(f"start has {given.shape[0]} rows but there are {runs} seeds")
        x = np.array([_start(objective, row) for row in given])
    else:
        x = np.tile(_start(objective, start), (runs, 1))
    dim = x.shape[1]
    draws = None
    if noise:
        draws = np.stack([np.random.default_rng(int(s)).standard_normal((steps, dim))
                          for s in seed_values], axis=1)  # draws[t, i]: run i's noise at step t
    state = rule.init(x)
    points = np.empty((runs, steps + 1, dim))
    points[:, 0] = x
    rates = []
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is a lesson, not an error
        for t in range(steps):
            grad = _gradients(objective, x)
            if draws is not None:
                grad = grad + noise * draws[t]
            hp = rule.hyperparams
            if schedule is not None:
                hp = {**hp, "lr": schedule(t)}
            rates.append(hp["lr"])
            rule.step(x, grad, state, hp)
            points[:, t + 1] = x
    if label is None:
        rate = "schedule" if schedule is not None else f"{rule.hyperparams['lr']:g}"
        label = f"{type(rule).__name__}, lr={rate}"
    return TrajectoryBatch(points, objective, label, np.array(rates, dtype=float), seed_values)


def run_torch(
    make_optimizer: Callable[[list[Any]], Any],
    objective: Any,
    start: float | Sequence[float],
    steps: int = 20,
    *,
    make_scheduler: Callable[[Any], Any] | None = None,
    label: str = "torch",
) -> Trajectory:
    """The same with a torch optimizer: ``make_optimizer([x])`` builds it around a tensor x.

    The gradient comes from autograd through ``objective.value`` on a float64 tensor, so
    this is an independent check of the analytic gradient as well as of the update.
    ``make_scheduler(optimizer)`` may build a learning-rate scheduler (``StepLR``, ...); it is
    stepped after every ``optimizer.step()``, torch's order, so update t uses the scheduler's
    rate for t, as ``run(..., lr=schedule)`` does.

    >>> import torch
    >>> from course_lib import objectives
    >>> path = run_torch(lambda p: torch.optim.SGD(p, lr=0.2), objectives.square(), 10.0, 10)
    >>> report(path)
    step 10, x: 0.060466
    """
    import torch

    x = torch.tensor(_start(objective, start), dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([x])
    scheduler = make_scheduler(optimizer) if make_scheduler is not None else None
    points, rates = [x.detach().numpy().copy()], []
    for _ in range(steps):
        optimizer.zero_grad()
        value = objective.value(x if x.numel() > 1 else x.reshape(()))
        value.backward()
        rates.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        points.append(x.detach().numpy().copy())
    return Trajectory(np.array(points), objective, label, np.array(rates))


def report(trajectory: Trajectory, every: int | None = None, *, unit: str = "step") -> None:
    """Print ``step N, x1: ..., x2: ...`` (6 decimals) after the last step, as d2l's
    ``train_2d`` does.

    d2l counts these updates as epochs and prints ``epoch N``; they are steps (one update each),
    so the course prints ``step N``. Pass ``unit="epoch"`` only where a chapter reproduces d2l's
    printed output and says so. d2l prints the last step only; ``every=k`` also prints every
    k-th step.

    >>> from course_lib import objectives
    >>> path = run("sgd", objectives.bowl(), start=(-5.0, -2.0), steps=20, lr=0.1)
    >>> report(path, unit="epoch")          # d2l's own wording
    epoch 20, x1: -0.057646, x2: -0.000073
    """
    if unit not in REPORT_UNITS:
        raise ValueError(f"unit must be one of {REPORT_UNITS}, got {unit!r}")
    steps = range(1, trajectory.steps + 1)
    chosen = [t for t in steps if every and t % every == 0]
    if trajectory.steps not in chosen:
        chosen.append(trajectory.steps)
    for t in chosen:
        point = trajectory.points[t]
        if point.size == 1:
            print(f"{unit} {t}, x: {float(point[0]):f}")
        else:
            coords = ", ".join(f"x{i + 1}: {float(v):f}" for i, v in enumerate(point))
            print(f"{unit} {t}, {coords}")
