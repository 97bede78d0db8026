r"""Momentum on a quadratic, one eigenvalue at a time: iteration matrices, rates and best settings.

On f(x) = ½ xᵀAx the gradient is Ax, so gradient descent, heavy-ball momentum and Nesterov
momentum are linear maps, and in the eigenbasis of A every coordinate moves on its own. Along an
eigenvector with eigenvalue λ the gradient is g = λx, and torch's momentum (``SGD(lr=η,
momentum=β)``, no dampening) reads::

    b_{t+1} = β b_t + λ x_t          (b_0 = 0, so b_1 = g_0: torch's first-step copy)
    x_{t+1} = x_t − η b_{t+1}  =  (1 − ηλ) x_t − ηβ b_t

which is one 2×2 matrix acting on the pair (x_t, b_t)::

    ⎡x_{t+1}⎤   ⎡1 − ηλ   −ηβ⎤ ⎡x_t⎤
    ⎣b_{t+1}⎦ = ⎣  λ        β ⎦ ⎣b_t⎦        trace T = 1 + β − ηλ,   determinant D = β

Nesterov momentum (``nesterov=True``: x_{t+1} = x_t − η(g_t + β b_{t+1})) gives::

    ⎡1 − ηλ(1 + β)   −ηβ²⎤
    ⎣      λ           β ⎦                   T = (1 + β)(1 − ηλ),      D = β(1 − ηλ)

The eigenvalues μ of the matrix are the roots of μ² − Tμ + D = 0. After many steps the error
along λ shrinks by the larger |μ| per step; over all eigenvalues of A the slowest one sets the
pace: that number is the *spectral radius* ρ, the rate of the method. Gradient descent is β = 0,
with the single factor 1 − ηλ (the other root is 0).

Complex roots (T² < 4D) come in pairs of modulus √D: the error spirals in, and for heavy-ball
momentum the rate is then √β whatever η and λ are. That is why the best setting makes both
extreme eigenvalues sit exactly at the edge of the complex region.

>>> from course_lib import objectives
>>> f = objectives.stretched_bowl()              # 0.1x₁² + 2x₂², eigenvalues 0.2 and 4
>>> spectral_radius(f, lr=0.6)                   # gradient descent: |1 − 0.6·4| = 1.4 > 1
1.4
>>> round(spectral_radius(f, lr=0.6, momentum=0.5), 6)     # both pairs complex: √0.5
0.707107
>>> best = optimal_heavy_ball(f)
>>> round(best.lr, 4), round(best.momentum, 4), round(best.rate, 4)
(0.6679, 0.4026, 0.6345)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from course_lib.checks import finite_real, positive_eigenvalues

__all__ = [
    "Tuning",
    "iteration_matrix",
    "spectral_radius",
    "error_factors",
    "stability_limit",
    "optimal_gd",
    "optimal_heavy_ball",
    "optimal_nesterov",
    "measured_rate",
    "complex_root_band",
    "noise_floor",
]


class Tuning(NamedTuple):
    """A setting of (lr, momentum) and the rate ρ it achieves: the error shrinks ~ρ per step."""

    lr: float
    momentum: float
    rate: float


# -- argument checks -------------------------------------------------------------------------






def _grid(value: Any, name: str, low: float, high: float, closed_high: bool) -> np.ndarray:
    """A float array (any shape) with every entry in [low, high] or [low, high)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}") \
            from error
    inside = (array >= low) & ((array <= high) if closed_high else (array < high))
    if not np.all(np.isfinite(array) & inside):
        bracket = "]" if closed_high else ")"
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}{bracket}, got {value!r}")
    return array


def _lr(lr: Any) -> np.ndarray:
    return _grid(lr, "lr", 0.0, math.inf, closed_high=False)


def _momentum(momentum: Any) -> np.ndarray:
    return _grid(momentum, "momentum", 0.0, 1.0, closed_high=False)


# -- the linear algebra ------------------------------------------------------------------------


def _trace_det(lam: Any, lr: np.ndarray, beta: np.ndarray, nesterov: bool):
    """(T, D) of the iteration matrix; broadcasts over lam, lr and beta."""
    shrink = 1 - lr * lam
    if nesterov:
        return (1 + beta) * shrink, beta * shrink
    return 1 + beta - lr * lam, beta + 0 * shrink


def _root_modulus(trace: np.ndarray, det: np.ndarray) -> np.ndarray:
    """The largest |μ| over the roots of μ² − Tμ + D = 0 (real coefficients), elementwise."""
    disc = trace * trace - 4 * det
    real = (np.abs(trace) + np.sqrt(np.abs(disc))) / 2       # used where disc >= 0
    spiral = np.sqrt(np.abs(det))                              # |μ| = √D where disc < 0
    return np.where(disc >= 0, real, spiral)


def iteration_matrix(eigenvalue: float, lr: float, momentum: float = 0.0, *,
                     nesterov: bool = False) -> np.ndarray:
    r"""The 2×2 matrix M with (x_{t+1}, b_{t+1}) = M (x_t, b_t) along one eigenvalue λ.

    Heavy ball (torch's ``SGD(lr=η, momentum=β)``)::

        M = [[1 − ηλ, −ηβ], [λ, β]]

    Nesterov (``nesterov=True``)::

        M = [[1 − ηλ(1 + β), −ηβ²], [λ, β]]

    Args:
        eigenvalue: λ > 0.
        lr: η >= 0.
        momentum: β in [0, 1).
        nesterov: use Nesterov's matrix.

    >>> iteration_matrix(4.0, lr=0.6, momentum=0.5)
    array([[-1.4, -0.3],
           [ 4. ,  0.5]])
    """
    lam = float(positive_eigenvalues(finite_real(eigenvalue, "eigenvalue"))[0])
    eta = float(_lr(finite_real(lr, "lr")))
    beta = float(_momentum(finite_real(momentum, "momentum")))
    if nesterov:
        return np.array([[1 - eta * lam * (1 + beta), -eta * beta * beta], [lam, beta]])
    return np.array([[1 - eta * lam, -eta * beta], [lam, beta]])


def spectral_radius(eigenvalues: Any, lr: Any, momentum: Any = 0.0, *,
                    nesterov: bool = False) -> float | np.ndarray:
    r"""The rate ρ: the largest |μ| over the iteration matrices of all the eigenvalues.

    ρ < 1 converges (the error shrinks about ρ times per step), ρ > 1 diverges. ``lr`` and
    ``momentum`` may be arrays (they broadcast against each other), so one call fills a heat
    map over a grid of (η, β).

    Args:
        eigenvalues: the eigenvalues of A: a number, a sequence, or a
            :class:`~course_lib.objectives.QuadraticObjective`.
        lr: η >= 0, a number or an array.
        momentum: β in [0, 1), a number or an array (0: gradient descent).
        nesterov: the rate of Nesterov momentum instead of heavy ball.

    Returns:
        A float when ``lr`` and ``momentum`` are numbers, else an array of their broadcast
        shape.

    >>> spectral_radius([1.0, 9.0], lr=0.25, momentum=0.25)            # the best setting, κ = 9
    0.5
    >>> spectral_radius([1.0, 9.0], lr=[0.1, 0.2, 0.3])                  # gradient descent
    array([0.9, 0.8, 1.7])
    """
    lams = positive_eigenvalues(eigenvalues)
    eta, beta = np.broadcast_arrays(_lr(lr), _momentum(momentum))
    trace, det = _trace_det(lams.reshape((-1,) + (1,) * eta.ndim), eta, beta, nesterov)
    radius = _root_modulus(trace, det).max(axis=0)
    return float(radius) if radius.ndim == 0 else radius


def error_factors(eigenvalue: float, lr: float, momentum: float = 0.0, steps: int = 20, *,
                  nesterov: bool = False) -> np.ndarray:
    r"""x_t / x_0 for t = 0, 1, ..., steps along one eigenvalue, from b_0 = 0.

    The first entry of Mᵗ (1, 0). For gradient descent (β = 0) it is (1 − ηλ)ᵗ, the curves of
    d2l's quadratic analysis.

    Args:
        eigenvalue: λ > 0.
        lr: η >= 0.
        momentum: β in [0, 1).
        steps: the number of steps (an integer >= 0).
        nesterov: Nesterov's matrix instead of heavy ball's.

    Returns:
        An array of ``steps + 1`` factors.

    >>> error_factors(10.0, lr=0.1, steps=3)                           # ηλ = 1: gone in one step
    array([1., 0., 0., 0.])
    >>> error_factors(1.0, lr=0.5, momentum=0.5, steps=3)       # b: 0, 1, 1, 0.5
    array([ 1.  ,  0.5 ,  0.  , -0.25])
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    matrix = iteration_matrix(eigenvalue, lr, momentum, nesterov=nesterov)
    state, factors = np.array([1.0, 0.0]), [1.0]
    for _ in range(int(steps)):
        state = matrix @ state
        factors.append(float(state[0]))
    return np.array(factors)


def stability_limit(momentum: float = 0.0, *, nesterov: bool = False) -> float:
    r"""The largest ηλ for which the iteration converges (ρ < 1 for 0 < ηλ below it).

    From the conditions |D| < 1 and |T| < 1 + D on μ² − Tμ + D (both roots inside the unit
    circle)::

        heavy ball:   ηλ < 2(1 + β)
        Nesterov:     ηλ < 2(1 + β) / (1 + 2β)

    β = 0 gives gradient descent's ηλ < 2 in both.

    >>> stability_limit(0.5), stability_limit(0.5, nesterov=True)
    (3.0, 1.5)
    """
    beta = float(_momentum(finite_real(momentum, "momentum")))
    if nesterov:
        return 2 * (1 + beta) / (1 + 2 * beta)
    return 2 * (1 + beta)


def _extremes(eigenvalues: Any) -> tuple[float, float]:
    lams = positive_eigenvalues(eigenvalues)
    return float(lams.min()), float(lams.max())


def optimal_gd(eigenvalues: Any) -> Tuning:
    r"""The fastest gradient descent: η = 2/(λ_min + λ_max), rate (κ − 1)/(κ + 1).

    The factors 1 − ηλ_min and 1 − ηλ_max are then equal and opposite; κ = λ_max/λ_min.

    >>> optimal_gd([1.0, 9.0])
    Tuning(lr=0.2, momentum=0.0, rate=0.8)
    """
    low, high = _extremes(eigenvalues)
    kappa = high / low
    return Tuning(2.0 / (low + high), 0.0, (kappa - 1) / (kappa + 1))


def optimal_heavy_ball(eigenvalues: Any) -> Tuning:
    r"""The fastest heavy-ball momentum (Polyak): rate (√κ − 1)/(√κ + 1).

    ::

        η = (2 / (√λ_min + √λ_max))²,   β = ((√κ − 1)/(√κ + 1))²,   ρ = √β

    With these values the roots for λ_min and for λ_max are double roots (T² = 4D), of moduli
    √β; every eigenvalue in between has complex roots of modulus √β too.

    >>> optimal_heavy_ball([1.0, 9.0])
    Tuning(lr=0.25, momentum=0.25, rate=0.5)
    """
    low, high = _extremes(eigenvalues)
    lo, hi = math.sqrt(low), math.sqrt(high)
    rate = (hi - lo) / (hi + lo)
    return Tuning((2.0 / (lo + hi)) ** 2, rate * rate, rate)


def optimal_nesterov(eigenvalues: Any) -> Tuning:
    r"""The fastest Nesterov momentum on a quadratic: rate 1 − 2/√(3κ + 1).

    Lessard, Recht and Packard (2016), for x_{t+1} = y_t − η∇f(y_t), y_t = x_t + β(x_t −
    x_{t−1}), which has torch's Nesterov characteristic polynomial::

        η = 4 / (3λ_max + λ_min),   β = (√(3κ + 1) − 2) / (√(3κ + 1) + 2)

    >>> optimal_nesterov([1.0, 5.0])                                   # √(3·5 + 1) = 4
    Tuning(lr=0.25, momentum=0.3333333333333333, rate=0.5)
    """
    low, high = _extremes(eigenvalues)
    root = math.sqrt(3 * high / low + 1)
    return Tuning(4.0 / (3 * high + low), (root - 2) / (root + 2), 1 - 2 / root)


def measured_rate(path: Any, minimizer: Any = None, window: int | None = None) -> float:
    r"""The contraction per step a run achieved: (‖e_T‖ / ‖e_{T−w}‖)^(1/w) over its last w steps.

    e_t = x_t − x* is the error after t steps. Late in a run the slowest eigen-direction
    dominates, so this approaches the spectral radius; with complex roots the error spirals
    and the estimate wobbles around it, less so over longer windows.

    Args:
        path: the points, shape (steps + 1, dim), or a
            :class:`~course_lib.trajectories.Trajectory` (its ``points``).
        minimizer: x*; None takes the path's objective's minimizer, else 0.
        window: w, the number of final steps to measure over; None takes half the run.

    >>> round(measured_rate([[4.0], [2.0], [1.0], [0.5]]), 6)
    0.5
    """
    objective = getattr(path, "objective", None)
    points = np.asarray(getattr(path, "points", path), dtype=np.float64)
    if points.ndim == 1:
        points = points[:, None]
    if points.ndim != 2 or len(points) < 2:
        raise ValueError(f"path must hold two or more points, got shape {points.shape}")
    if minimizer is None:
        minimizer = getattr(objective, "minimizer", None)
    target = np.zeros(points.shape[1]) if minimizer is None else np.asarray(minimizer, float)
    steps = len(points) - 1
    window = max(1, steps // 2) if window is None else window
    if isinstance(window, bool) or not isinstance(window, numbers.Integral) or \
            not 1 <= window <= steps:
        raise ValueError(f"window must be an integer in [1, {steps}], got {window!r}")
    errors = np.linalg.norm(points - target, axis=1)
    return float((errors[-1] / errors[-1 - window]) ** (1.0 / window))


def complex_root_band(eigenvalue: float, momentum: Any) -> tuple[Any, Any]:
    r"""The learning rates at which heavy ball's roots along λ are complex: (η_low, η_high).

    The roots of μ² − (1 + β − ηλ)μ + β are complex when (1 + β − ηλ)² < 4β, that is when
    |1 + β − ηλ| < 2√β::

        (1 − √β)² / λ  <  η  <  (1 + √β)² / λ

    Inside the band the error along λ spirals in at the rate √β, whatever η is; outside it the
    roots are real and the larger one sets the rate. At β = 0 the band is empty (both ends are
    1/λ, where gradient descent solves that direction in one step).

    Args:
        eigenvalue: λ > 0.
        momentum: β in [0, 1), a number or an array (the ends are then arrays).

    >>> complex_root_band(1.0, 0.25)          # (1 − 0.5)², (1 + 0.5)²
    (0.25, 2.25)
    """
    lam = float(positive_eigenvalues(finite_real(eigenvalue, "eigenvalue"))[0])
    root = np.sqrt(_momentum(momentum))
    low, high = (1 - root) ** 2 / lam, (1 + root) ** 2 / lam
    if np.ndim(low) == 0:
        return float(low), float(high)
    return low, high


def noise_floor(eigenvalues: Any, lr: float, momentum: float = 0.0, noise: float = 1.0, *,
                nesterov: bool = False) -> float:
    r"""The expected loss E[f] that momentum settles at when every gradient is noisy.

    On f = ½ xᵀAx with gradients g = Ax + σξ (ξ ~ N(0, I), fresh each step), every
    eigencomponent is the pair s = (x, b) of :func:`iteration_matrix` driven by noise::

        heavy ball:   s_{t+1} = M s_t + σ ξ_t (−η, 1)
        Nesterov:     s_{t+1} = M s_t + σ ξ_t (−η(1 + β), 1)

    Its covariance Σ settles where it is a fixed point, Σ = M Σ Mᵀ + σ² u uᵀ (a 2×2 Lyapunov
    equation, solved here as the 4×4 linear system (I − M⊗M) vec Σ = σ² vec(u uᵀ)), and the
    component adds ½ λ Σ_xx to E[f]. With β = 0 this is SGD's floor Σᵢ ησ²/(2(2 − ηλᵢ))
    (:func:`course_lib.conditioning.sgd_noise_floor`).

    Args:
        eigenvalues: the eigenvalues of A (a number, a sequence, or a QuadraticObjective).
        lr: η >= 0.
        momentum: β in [0, 1).
        noise: σ >= 0, the standard deviation of the noise in each coordinate.
        nesterov: Nesterov momentum instead of heavy ball.

    Returns:
        The floor, or ``math.inf`` when the iteration does not converge (ρ >= 1).

    >>> round(noise_floor([2.0, 4.0], lr=0.1), 6)          # SGD on d2l's bowl, σ = 1
    0.059028
    >>> round(noise_floor([1.0], lr=0.1, momentum=0.5), 6)
    0.051724
    """
    lams = positive_eigenvalues(eigenvalues)
    eta = float(_lr(finite_real(lr, "lr")))
    beta = float(_momentum(finite_real(momentum, "momentum")))
    sigma = finite_real(noise, "noise")
    if sigma < 0:
        raise ValueError(f"noise must be >= 0, got {sigma}")
    if spectral_radius(lams, eta, beta, nesterov=nesterov) >= 1:
        return math.inf
    u = np.array([-eta * (1 + beta) if nesterov else -eta, 1.0])
    total = 0.0
    for lam in lams:
        matrix = iteration_matrix(float(lam), eta, beta, nesterov=nesterov)
        covariance = np.linalg.solve(np.eye(4) - np.kron(matrix, matrix),
                                     sigma**2 * np.outer(u, u).reshape(-1)).reshape(2, 2)
        total += 0.5 * float(lam) * covariance[0, 0]
    return float(total)
