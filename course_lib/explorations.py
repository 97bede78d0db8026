r"""What the interactive explorers show, computed without any widget: one pure function each.

Every explorer of :mod:`course_lib.widgets` is a thin layer over one function here. The
function takes the explorer's slider values and returns a frozen *frame*: every number its
views draw and its read-outs print. The widgets only turn frames into marks, so all of it is
tested without a browser, and the math stays where it lives:

* :func:`conditioning_frame` (chapter 03): gradient descent on an ill-conditioned quadratic
  (:func:`~course_lib.trajectories.run`), its eigencomponents
  (:func:`~course_lib.conditioning.eigen_coordinates`), the rate ρ(η)
  (:func:`~course_lib.conditioning.gd_rate`), the limit 2/λ_max and the best η;
* :func:`momentum_frame` and :func:`momentum_map` (chapter 06): heavy-ball momentum, noisy or
  not, with the spectral radius of :mod:`~course_lib.momentum_analysis`, the bands of complex
  roots, the optimum, and the noise floor;
* :func:`adaptive_frame` (chapters 07-10): any rule on a choice of :data:`SURFACES`, with its
  state (moments, sums) after every step;
* :func:`schedule_training` (chapter 11): a small network trained with any schedule of
  :func:`~course_lib.schedules.warmup_decay`;
* :func:`minibatch_frame` (chapter 05): the noise of minibatch gradients against the batch
  size (:mod:`~course_lib.gradient_noise`).

>>> from course_lib import objectives
>>> frame = conditioning_frame(objectives.quadratic((1.0, 10.0)), (-4.0, 1.5), lr=0.15)
>>> round(frame.rate, 6), frame.limit, round(frame.best_lr, 6)
(0.85, 0.2, 0.181818)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib import conditioning, gradient_noise, momentum_analysis, objectives, trajectories
from course_lib.momentum_analysis import Tuning
from course_lib.trajectories import Trajectory

__all__ = [
    "TOLERANCE",
    "ConditioningFrame",
    "conditioning_frame",
    "MomentumFrame",
    "momentum_frame",
    "MomentumMap",
    "momentum_map",
    "Surface",
    "SURFACES",
    "AdaptiveFrame",
    "adaptive_frame",
    "ScheduleTraining",
    "schedule_training",
    "MinibatchFrame",
    "minibatch_frame",
]

#: The relative distance to the minimum the read-outs count steps to.
TOLERANCE = 1e-6


def _real(value: Any, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a finite number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def _steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    return int(steps)


def _quadratic(objective: Any) -> Any:
    if getattr(objective, "eigenvalues", None) is None or getattr(objective, "angle", None) \
            is None:
        raise TypeError(f"objective must be a QuadraticObjective "
                        f"(objectives.quadratic, bowl, stretched_bowl), got {objective!r}")
    return objective


# -- chapter 03: the learning rate on an ill-conditioned quadratic -----------------------------


@dataclass(frozen=True)
class ConditioningFrame:
    """Gradient descent at one learning rate.

    Attributes:
        lr: η.
        path: the run (:class:`~course_lib.trajectories.Trajectory`).
        errors: |zᵢ(k)|, the size of the error along each eigenvector after k steps, shape
            ``(steps + 1, 2)``, column i for ``eigenvalues[i]``.
        eigenvalues: λ₁, λ₂.
        rate: ρ(η) = maxᵢ |1 − ηλᵢ|.
        limit: 2/λ_max, the largest stable η.
        best_lr: η* = 2/(λ_min + λ_max).
        best_rate: ρ(η*) = (κ − 1)/(κ + 1).
        steps_needed: the steps ρᵏ ≤ :data:`TOLERANCE` takes (``math.inf`` when ρ >= 1).
    """

    lr: float
    path: Trajectory
    errors: np.ndarray
    eigenvalues: tuple[float, float]
    rate: float
    limit: float
    best_lr: float
    best_rate: float
    steps_needed: int | float


def conditioning_frame(objective: Any, start: Sequence[float], lr: float,
                       steps: int = 30) -> ConditioningFrame:
    """Gradient descent with step ``lr`` on a 2-D quadratic, and what its spectrum predicts.

    Args:
        objective: a :class:`~course_lib.objectives.QuadraticObjective`.
        start: the start point.
        lr: η >= 0.
        steps: the number of updates.
    """
    objective = _quadratic(objective)
    lr = _real(lr, "lr", 0.0)
    path = trajectories.run("sgd", objective, start, _steps(steps), lr=lr)
    lams = tuple(float(v) for v in objective.eigenvalues)
    with np.errstate(over="ignore", invalid="ignore"):
        errors = np.abs(conditioning.eigen_coordinates(objective, path.points))
    rate = conditioning.gd_rate(lr, lams)
    return ConditioningFrame(
        lr=lr, path=path, errors=errors, eigenvalues=lams, rate=rate,
        limit=conditioning.stable_lr_limit(lams), best_lr=objective.optimal_lr,
        best_rate=conditioning.optimal_rate(objective.condition_number),
        steps_needed=conditioning.steps_at_rate(rate, TOLERANCE))


# -- chapter 06: momentum ------------------------------------------------------------------------


@dataclass(frozen=True)
class MomentumFrame:
    """Heavy-ball momentum (torch's ``SGD(lr, momentum)``) at one setting.

    Attributes:
        lr, momentum, noise: η, β and σ (the gradient noise per coordinate).
        path: the run (seeded noise).
        errors: |zᵢ(k)| of the run along each eigenvector, shape ``(steps + 1, 2)``.
        predicted: the same without noise, |zᵢ(0)| · |Mᵏ(1, 0)|
            (:func:`~course_lib.momentum_analysis.error_factors`).
        eigenvalues: λ₁, λ₂.
        rate: ρ, the spectral radius of the iteration.
        steps_predicted: the steps ρᵏ ≤ :data:`TOLERANCE` takes (``math.inf`` when ρ >= 1).
        steps_measured: the first step at which the run is within :data:`TOLERANCE` of the
            minimum relative to its start, or None if it never is.
        floor: the expected loss the noisy run settles at
            (:func:`~course_lib.momentum_analysis.noise_floor`; ``math.inf`` when ρ >= 1),
            or None without noise.
        optimum: the best (η, β) for this quadratic and its rate.
    """

    lr: float
    momentum: float
    noise: float
    path: Trajectory
    errors: np.ndarray
    predicted: np.ndarray
    eigenvalues: tuple[float, float]
    rate: float
    steps_predicted: int | float
    steps_measured: int | None
    floor: float | None
    optimum: Tuning


def momentum_frame(objective: Any, start: Sequence[float], lr: float, momentum: float, *,
                   noise: float = 0.0, steps: int = 60, seed: int = 0) -> MomentumFrame:
    """Momentum with step ``lr`` and ``momentum`` on a 2-D quadratic, noisy or not.

    Args:
        objective: a :class:`~course_lib.objectives.QuadraticObjective`.
        start: the start point.
        lr: η >= 0.
        momentum: β in [0, 1).
        noise: σ >= 0, Gaussian noise added to every gradient coordinate (seeded by ``seed``).
        steps: the number of updates.
        seed: the seed of the noise.
    """
    objective = _quadratic(objective)
    lr, beta = _real(lr, "lr", 0.0), _real(momentum, "momentum", 0.0, 1.0)
    if beta >= 1:
        raise ValueError(f"momentum must be below 1, got {momentum!r}")
    sigma = _real(noise, "noise", 0.0)
    steps = _steps(steps)
    path = trajectories.run("sgd", objective, start, steps, lr=lr, momentum=beta,
                            noise=sigma, seed=seed)
    lams = tuple(float(v) for v in objective.eigenvalues)
    z0 = np.abs(conditioning.eigen_coordinates(objective, np.asarray(start, dtype=float)))
    with np.errstate(over="ignore", invalid="ignore"):
        errors = np.abs(conditioning.eigen_coordinates(objective, path.points))
        predicted = np.column_stack([
            z0[i] * np.abs(momentum_analysis.error_factors(lam, lr, beta, steps))
            for i, lam in enumerate(lams)])
    rate = momentum_analysis.spectral_radius(lams, lr, beta)
    floor = momentum_analysis.noise_floor(lams, lr, beta, sigma) if sigma > 0 else None
    return MomentumFrame(
        lr=lr, momentum=beta, noise=sigma, path=path, errors=errors, predicted=predicted,
        eigenvalues=lams, rate=rate,
        steps_predicted=conditioning.steps_at_rate(rate, TOLERANCE),
        steps_measured=conditioning.measured_steps(path, TOLERANCE), floor=floor,
        optimum=momentum_analysis.optimal_heavy_ball(lams))


@dataclass(frozen=True)
class MomentumMap:
    """The rate of heavy-ball momentum over a grid of (η, β), and the curves that divide it.

    Attributes:
        lrs: the η of the grid's columns.
        momenta: the β of its rows.
        rate: ρ(η, β), shape ``(len(momenta), len(lrs))``.
        bands: for each eigenvalue λ, the ends (η_low, η_high) of the band of complex roots at
            every β of ``momenta`` (:func:`~course_lib.momentum_analysis.complex_root_band`).
        limit: the largest stable η at every β, 2(1 + β)/λ_max.
        optimum: the best setting.
        regions: the kind of every grid cell, shape of ``rate``: 0 diverges (ρ >= 1), 1 the
            roots are complex for λ_min and λ_max (ρ = √β), 2 real for λ_min only (the
            shallow direction creeps), 3 real for λ_max only (the steep direction flips
            sign), 4 real for both.
    """

    lrs: np.ndarray
    momenta: np.ndarray
    rate: np.ndarray
    bands: Mapping[float, tuple[np.ndarray, np.ndarray]]
    limit: np.ndarray
    optimum: Tuning
    regions: np.ndarray


def momentum_map(eigenvalues: Sequence[float], lr_max: float, *, momentum_max: float = 0.99,
                 resolution: int = 120) -> MomentumMap:
    """ρ(η, β) on a ``resolution`` × ``resolution`` grid over (0, lr_max] × [0, momentum_max].

    >>> m = momentum_map([0.2, 4.0], 1.0, resolution=5)
    >>> m.rate.shape, round(m.optimum.lr, 4)
    ((5, 5), 0.6679)
    """
    lams = [float(v) for v in eigenvalues]
    lr_max = _real(lr_max, "lr_max", 0.0)
    momentum_max = _real(momentum_max, "momentum_max", 0.0, 1.0)
    if lr_max <= 0 or momentum_max >= 1:
        raise ValueError("lr_max must be > 0 and momentum_max below 1")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    lrs = np.linspace(lr_max / resolution, lr_max, resolution)
    momenta = np.linspace(0.0, momentum_max, resolution)
    rate = momentum_analysis.spectral_radius(lams, lrs[None, :], momenta[:, None])
    bands = {lam: momentum_analysis.complex_root_band(lam, momenta) for lam in lams}
    limit = np.array([momentum_analysis.stability_limit(b) for b in momenta]) / max(lams)
    inside = {lam: (low[:, None] < lrs[None, :]) & (lrs[None, :] < high[:, None])
              for lam, (low, high) in bands.items()}
    shallow, steep = inside[min(lams)], inside[max(lams)]
    regions = np.select([rate >= 1, shallow & steep, ~shallow & steep, shallow & ~steep],
                        [0, 1, 2, 3], default=4)
    return MomentumMap(lrs, momenta, rate, bands, limit,
                       momentum_analysis.optimal_heavy_ball(lams), regions)


# -- chapters 07-10: adaptive methods on a choice of surfaces -----------------------------------


@dataclass(frozen=True)
class Surface:
    """A 2-D test function for the adaptive explorer, with its start point and contour levels."""

    objective: Any
    start: tuple[float, float]
    levels: Any = 20


def _rotated() -> Surface:
    valley = objectives.quadratic((1.0, 10.0), angle=math.pi / 6, name="rotated quadratic")
    return Surface(valley, tuple(float(v) for v in conditioning.rotate([-4.0, 1.5],
                                                                        valley.angle)))


#: The surfaces, by the name the explorer shows: chapter 03's turned valley, d2l's stretched
#: bowl 0.1x₁² + 2x₂² from (−5, −2) (the demo of chapters 06-10), Rosenbrock's banana, the
#: saddle x₁² − x₂² (started just off its ridge), and a basin in a plateau (started where the
#: gradient is tiny).
SURFACES: dict[str, Callable[[], Surface]] = {
    "rotated quadratic": _rotated,
    "stretched bowl": lambda: Surface(objectives.stretched_bowl(), (-5.0, -2.0)),
    "Rosenbrock": lambda: Surface(objectives.rosenbrock(), (-1.5, 2.0),
                                  tuple(np.logspace(-1, 3.3, 14))),
    "saddle": lambda: Surface(objectives.saddle(), (-0.9, 0.02)),
    "plateau": lambda: Surface(objectives.plateau(), (2.0, 1.6)),
}


@dataclass(frozen=True)
class AdaptiveFrame:
    """One rule on one surface.

    Attributes:
        surface: the surface's name.
        rule: the rule's name (``"adam"``).
        hyperparams: the hyperparameters given (torch's names; ``betas`` a pair).
        path: the run, with the rule's state after every step (``path.states``: Adam's
            ``exp_avg`` and ``exp_avg_sq``, Adagrad's ``sum``, ...).
        steps: the update of every step, x_{k+1} − x_k, shape ``(steps, 2)``.
        gradients: the gradient the update was made from, ∇f(x_k), shape ``(steps, 2)``.
        values: f after every step, shape ``(steps + 1,)``.
    """

    surface: str
    rule: str
    hyperparams: Mapping[str, Any]
    path: Trajectory
    steps: np.ndarray
    gradients: np.ndarray
    values: np.ndarray


def adaptive_frame(surface: str, rule: str, steps: int = 100, **hyperparams: Any
                   ) -> AdaptiveFrame:
    """Run ``rule`` (a name of :mod:`course_lib.rules`) on a surface of :data:`SURFACES`.

    >>> frame = adaptive_frame("saddle", "adagrad", steps=3, lr=0.5)
    >>> frame.path.states["sum"][1].round(6).tolist()   # g₀² = (2 · −0.9, −2 · 0.02)²
    [3.24, 0.0016]
    """
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {list(SURFACES)}, got {surface!r}")
    chosen = SURFACES[surface]()
    path = trajectories.run(rule, chosen.objective, chosen.start, _steps(steps),
                            record_state=True, **hyperparams)
    with np.errstate(over="ignore", invalid="ignore"):
        moves = np.diff(path.points, axis=0)
        before = path.points[:-1]
        gradients = np.column_stack(chosen.objective.gradient_field(before[:, 0], before[:, 1]))
        values = np.asarray(chosen.objective.values(path.points), dtype=float)
    return AdaptiveFrame(surface, rule, dict(hyperparams), path, moves, gradients, values)


# -- chapter 11: a schedule, trained ---------------------------------------------------------


@dataclass(frozen=True)
class ScheduleTraining:
    """A small network trained with one schedule.

    Attributes:
        rates: the learning rate of every update, shape ``(updates,)``.
        steps: the number of updates behind every recorded loss (0 at the start).
        loss: the training loss (cross-entropy on all training images) at those points;
            ``inf`` from the first non-finite value on.
        diverged_at: the first update after which the loss was not finite, or None.
    """

    rates: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    diverged_at: int | None


#: The network the schedule explorer trains: the first 1,280 training digits (standardised
#: pixels), a 64-32-10 MLP, SGD with momentum 0.9, minibatches of 128, 6 epochs (60 updates).
SCHEDULE_NETWORK: dict[str, Any] = {"sizes": (64, 32, 10), "momentum": 0.9, "batch_size": 128,
                                    "epochs": 6, "examples": 1280, "seed": 0}


def schedule_updates() -> int:
    """The number of updates :func:`schedule_training` makes (the schedule's length)."""
    spec = SCHEDULE_NETWORK
    return spec["epochs"] * -(-spec["examples"] // spec["batch_size"])


_DIGITS: list[Any] = []


def _digits() -> tuple[Any, Any]:
    if not _DIGITS:
        from course_lib import data

        x, y, _, _ = data.digits().as_tensors()
        x, y = x[:SCHEDULE_NETWORK["examples"]], y[:SCHEDULE_NETWORK["examples"]]
        mean, std = x.mean(dim=0), x.std(dim=0) + 0.1
        _DIGITS.extend([(x - mean) / std, y])
    return _DIGITS[0], _DIGITS[1]


def schedule_training(schedule: Callable[[int], float]) -> ScheduleTraining:
    """Train :data:`SCHEDULE_NETWORK` with ``schedule`` (update t uses ``schedule(t)``).

    The loss is recorded after every update (on all 1,280 training images). The same
    schedule always gives the same numbers: the initial weights and the batches are seeded.
    """
    import torch

    from course_lib import optim, training
    from course_lib.torch_schedules import ScheduledLR

    if not callable(schedule):
        raise TypeError(f"schedule must be a function of the update index, got {schedule!r}")
    x, y = _digits()
    spec = SCHEDULE_NETWORK
    updates = schedule_updates()
    rates = np.array([float(schedule(t)) for t in range(updates)])
    model = training.mlp(list(spec["sizes"]), seed=spec["seed"])
    optimizer = optim.SGD(model.parameters(), lr=rates[0], momentum=spec["momentum"])
    scheduler = ScheduledLR(optimizer, schedule)
    with np.errstate(over="ignore", invalid="ignore"):
        history = training.train(model, optimizer, x, y, epochs=spec["epochs"],
                                 batch_size=spec["batch_size"], record_every=spec["batch_size"],
                                 loss=torch.nn.functional.cross_entropy, scheduler=scheduler,
                                 scheduler_every="batch", seed=spec["seed"], progress=False)
    loss = np.array(history.loss, dtype=float)
    steps = np.round(np.array(history.examples) / spec["batch_size"]).astype(int)
    bad = np.flatnonzero(~np.isfinite(loss))
    diverged = int(steps[bad[0]]) if bad.size else None
    if bad.size:
        loss[bad[0]:] = np.inf
    return ScheduleTraining(rates, steps, loss, diverged)


# -- chapter 05: the batch size against the noise of the gradient --------------------------------


@dataclass(frozen=True)
class MinibatchFrame:
    """Minibatch gradients of chapter 05's linear model at one batch size.

    Attributes:
        batch_size: b.
        examples: N.
        full: ḡ, the full gradient, shape ``(dim,)``.
        samples: minibatch gradients g_B drawn as training draws them, shape ``(count, dim)``.
        noise: E‖g_B − ḡ‖² = σ²/b · (N − b)/(N − 1).
        measured: the mean of ‖g_B − ḡ‖² over ``samples``.
        spread: σ², the spread of the per-example gradients.
        updates_per_epoch: ⌈N / b⌉.
    """

    batch_size: int
    examples: int
    full: np.ndarray
    samples: np.ndarray
    noise: float
    measured: float
    spread: float
    updates_per_epoch: int
    per_example: np.ndarray = field(repr=False)


def minibatch_frame(per_example: Any, batch_size: int, count: int = 200, *,
                    seed: int = 0) -> MinibatchFrame:
    """The noise of minibatch gradients of size ``batch_size`` around the full gradient.

    Args:
        per_example: the per-example gradients gᵢ, shape (N, dim)
            (:func:`~course_lib.gradient_noise.least_squares_gradients`).
        batch_size: b in [1, N].
        count: how many batch gradients to draw.
        seed: the seed of the batches.
    """
    g = np.asarray(per_example, dtype=np.float64)
    samples = gradient_noise.minibatch_gradients(g, batch_size, count, seed=seed)
    full = g.mean(axis=0)
    n = len(g)
    return MinibatchFrame(
        batch_size=int(batch_size), examples=n, full=full, samples=samples,
        noise=gradient_noise.minibatch_noise(g, batch_size),
        measured=float(np.mean(np.sum((samples - full) ** 2, axis=1))),
        spread=gradient_noise.spread(g), updates_per_epoch=-(-n // int(batch_size)),
        per_example=g)
