r"""How the spectrum of a quadratic sets the stability and the speed of gradient descent.

On f(x) = ½ xᵀAx, with A symmetric positive definite, A = Q Λ Qᵀ (eigenvalues λᵢ > 0, the
orthonormal eigenvectors qᵢ the columns of Q), gradient descent with a fixed step η is::

    x ← x − η A x = (I − η A) x

Its minimum is 0, so x is also the error. In the eigen coordinates z = Qᵀx the matrix I − ηA is
diagonal, and every coordinate is a one-dimensional problem of its own::

    zᵢ ← (1 − η λᵢ) zᵢ,        zᵢ(k) = (1 − η λᵢ)ᵏ zᵢ(0)

Hence (:func:`gd_contraction`, :func:`gd_rate`, :func:`stable_lr_limit`)::

    the factors            cᵢ(η) = 1 − η λᵢ
    the rate               ρ(η) = maxᵢ |1 − η λᵢ|,      ‖x(k)‖ ≤ ρ(η)ᵏ ‖x(0)‖
    stable (ρ < 1) iff     0 < η < 2 / λ_max

ρ(η) is smallest where the two extreme factors have equal size, 1 − ηλ_min = ηλ_max − 1, at
η* = 2 / (λ_min + λ_max) (:attr:`course_lib.objectives.QuadraticObjective.optimal_lr`), where
(:func:`optimal_rate`)::

    ρ(η*) = (λ_max − λ_min) / (λ_max + λ_min) = (κ − 1) / (κ + 1),     κ = λ_max / λ_min

To shrink the error by a factor ``tol`` takes k ≥ ln(1/tol) / ln(1/ρ) steps
(:func:`steps_to_tolerance`); at η* that is about (κ/2) ln(1/tol) when κ is large.
:func:`measured_steps` counts the same thing on an actual run, :func:`eigen_coordinates`
gives a run's z, and :func:`rotate` turns a start point with the valley of
:func:`course_lib.objectives.quadratic`.

With noisy gradients g = Ax + σξ, ξ ~ N(0, I) (d2l's SGD demo), each eigencomponent is a
noisy 1-D recursion zᵢ ← (1 − ηλᵢ) zᵢ − ησξᵢ. Its mean follows the noise-free run, and its
second moment obeys E[zᵢ²] ← (1 − ηλᵢ)² E[zᵢ²] + η²σ² (:func:`sgd_expected_loss`). With a
constant η the expected loss does not go to 0 but to a floor (:func:`sgd_noise_floor`)::

    E[f] → Σᵢ ½ λᵢ · ησ² / (λᵢ (2 − ηλᵢ)) = Σᵢ ησ² / (2 (2 − ηλᵢ))

A network's loss is not a quadratic, but near a point its Hessian plays A's part: the
sharpness λ_max of the Hessian sets the step 2/λ_max past which gradient descent is unstable
there. :func:`hessian_top_eigenvalue` estimates it by power iteration on Hessian-vector
products (:func:`hessian_vector_product`), never forming the Hessian.

>>> from course_lib import objectives
>>> q = objectives.quadratic((1.0, 10.0))
>>> gd_contraction(0.15, q.eigenvalues)        # 1 − 0.15·1 and 1 − 0.15·10
array([ 0.85, -0.5 ])
>>> stable_lr_limit(q.eigenvalues)             # 2 / 10
0.2
>>> round(gd_rate(q.optimal_lr, q.eigenvalues), 6), round(optimal_rate(q.condition_number), 6)
(0.818182, 0.818182)
>>> steps_to_tolerance(q.optimal_lr, q.eigenvalues, 1e-6)  # ln(1e6) / ln(11/9) = 68.8...
69
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.checks import finite_real, positive_eigenvalues

__all__ = [
    "PowerIteration",
    "eigen_coordinates",
    "gd_contraction",
    "gd_rate",
    "hessian_top_eigenvalue",
    "hessian_vector_product",
    "measured_steps",
    "optimal_rate",
    "rotate",
    "sgd_expected_loss",
    "sgd_noise_floor",
    "stable_lr_limit",
    "steps_at_rate",
    "steps_to_tolerance",
]


# -- argument checks -------------------------------------------------------------------------




def _lr(lr: Any) -> float:
    lr = finite_real(lr, "lr")
    if lr < 0:
        raise ValueError(f"lr must be >= 0, got {lr}")
    return lr




def _tol(tol: Any) -> float:
    tol = finite_real(tol, "tol")
    if tol <= 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    return tol


# -- the per-eigendirection picture ----------------------------------------------------------


def gd_contraction(lr: float, eigenvalues: Sequence[float]) -> np.ndarray:
    """The factors cᵢ = 1 − η λᵢ that multiply each eigencomponent of the error per step.

    A factor in (0, 1) shrinks its component steadily, one in (−1, 0) shrinks it while
    flipping its sign every step (the zigzag), and |cᵢ| ≥ 1 means that component does not
    shrink (it grows when |cᵢ| > 1).

    Args:
        lr: the step size η (>= 0).
        eigenvalues: λ₁, λ₂, ... of A (all > 0), any number of them.

    Returns:
        The factors, in the order of ``eigenvalues``.

    >>> gd_contraction(0.5, [1.0, 3.0, 4.0])
    array([ 0.5, -0.5, -1. ])
    """
    return 1.0 - _lr(lr) * positive_eigenvalues(eigenvalues)


def gd_rate(lr: float, eigenvalues: Sequence[float]) -> float:
    """The rate ρ(η) = maxᵢ |1 − η λᵢ|: the error shrinks at least this much per step.

    For λ = (1, 10): ρ(0.19) = max(0.81, |−0.9|) = 0.9 and ρ(0.21) = max(0.79, |−1.1|) = 1.1.

    ‖x(k)‖ ≤ ρᵏ ‖x(0)‖ for every start, with equality for a start along the eigenvector
    of the worst factor; gradient descent converges from every start iff ρ < 1.

    Args:
        lr: the step size η (>= 0).
        eigenvalues: λ₁, λ₂, ... of A (all > 0).

    >>> round(gd_rate(0.19, [1.0, 10.0]), 12), round(gd_rate(0.21, [1.0, 10.0]), 12)
    (0.9, 1.1)
    """
    return float(np.max(np.abs(gd_contraction(lr, eigenvalues))))


def stable_lr_limit(eigenvalues: Sequence[float]) -> float:
    """The largest stable step's bound 2 / λ_max: gradient descent converges iff 0 < η < 2/λ_max.

    At η = 2/λ_max exactly, the steepest component flips sign without shrinking (ρ = 1).

    Args:
        eigenvalues: λ₁, λ₂, ... of A (all > 0).

    >>> stable_lr_limit([0.1, 2.0])    # Deep Learning from Scratch's x²/20 + y²
    1.0
    """
    return 2.0 / float(np.max(positive_eigenvalues(eigenvalues)))


def optimal_rate(condition_number: float) -> float:
    """The rate (κ − 1)/(κ + 1) of gradient descent at its best fixed step η* = 2/(λ_min + λ_max).

    It equals ``gd_rate(q.optimal_lr, q.eigenvalues)`` for any quadratic ``q`` with that κ;
    it depends on the spectrum only through κ = λ_max / λ_min.

    Args:
        condition_number: κ (>= 1).

    >>> optimal_rate(1.0), optimal_rate(3.0), optimal_rate(20.0) == 19 / 21
    (0.0, 0.5, True)
    """
    kappa = finite_real(condition_number, "condition_number")
    if kappa < 1:
        raise ValueError(f"condition_number must be >= 1, got {kappa}")
    return (kappa - 1.0) / (kappa + 1.0)


def steps_at_rate(rate: float, tol: float) -> int | float:
    """The fewest steps k with ρᵏ ≤ tol: how long an error shrinking by ``rate`` per step takes
    to fall to ``tol`` times its start.

    k = ⌈ln(1/tol) / ln(1/ρ)⌉; 0 when tol >= 1, 1 when ρ = 0, and ``math.inf`` when ρ >= 1.
    The result is exact: the rounding of the logarithms is corrected by checking ρᵏ.

    Args:
        rate: ρ >= 0, e.g. :func:`gd_rate` or a momentum method's spectral radius.
        tol: the relative distance to reach (> 0), e.g. 1e-6.

    >>> steps_at_rate(0.5, 1e-3), steps_at_rate(0.25, 1e-3), steps_at_rate(1.0, 0.5)
    (10, 5, inf)
    """
    rho = finite_real(rate, "rate")
    if rho < 0:
        raise ValueError(f"rate must be >= 0, got {rho}")
    tol = _tol(tol)
    if tol >= 1:
        return 0
    if rho == 0:
        return 1
    if rho >= 1:
        return math.inf
    k = max(1, math.ceil(math.log(tol) / math.log(rho)))
    while rho**k > tol:
        k += 1
    while k > 1 and rho ** (k - 1) <= tol:
        k -= 1
    return k


def steps_to_tolerance(lr: float, eigenvalues: Sequence[float], tol: float) -> int | float:
    """The fewest steps k that guarantee ‖x(k)‖ ≤ tol ‖x(0)‖ from every start: ρᵏ ≤ tol.

    k = ⌈ln(1/tol) / ln(1/ρ)⌉ with ρ = :func:`gd_rate` (:func:`steps_at_rate`); 0 when
    tol >= 1, 1 when ρ = 0 (one step reaches the minimum), and ``math.inf`` when ρ >= 1 (no
    number of steps is enough). The result is exact: the rounding of the logarithms is
    corrected by checking ρᵏ.

    Args:
        lr: the step size η (>= 0).
        eigenvalues: λ₁, λ₂, ... of A (all > 0).
        tol: the relative distance to reach (> 0), e.g. 1e-6.

    >>> steps_to_tolerance(0.5, [1.0], 1e-3)       # 0.5¹⁰ = 1/1024 ≤ 1e-3 < 0.5⁹
    10
    >>> steps_to_tolerance(0.21, [1.0, 10.0], 1e-3)
    inf
    """
    rho = gd_rate(lr, eigenvalues)
    return steps_at_rate(rho, _tol(tol))


# -- reading actual runs ---------------------------------------------------------------------


def _points(trajectory: Any) -> np.ndarray:
    points = getattr(trajectory, "points", trajectory)
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"expected points of shape (n, dim) with n >= 1, got {arr.shape}")
    return arr


def measured_steps(trajectory: Any, tol: float, minimizer: Sequence[float] | None = None
                   ) -> int | None:
    """The first k with ‖x(k) − x*‖ ≤ tol ‖x(0) − x*‖ in an actual run, or None if never.

    Args:
        trajectory: a :class:`~course_lib.trajectories.Trajectory`, or its points (n, dim).
        tol: the relative distance to reach (> 0).
        minimizer: x*; None takes the trajectory's ``objective.minimizer``, else 0.

    >>> measured_steps([[4.0], [2.0], [1.0], [0.5]], 0.25)
    2
    """
    tol = _tol(tol)
    points = _points(trajectory)
    if minimizer is None:
        objective = getattr(trajectory, "objective", None)
        minimizer = getattr(objective, "minimizer", None)
    target = np.zeros(points.shape[1]) if minimizer is None else np.asarray(minimizer, float)
    with np.errstate(over="ignore", invalid="ignore"):
        distances = np.linalg.norm(points - target, axis=1)
    reached = np.flatnonzero(distances <= tol * distances[0])
    return int(reached[0]) if reached.size else None


def eigen_coordinates(objective: Any, points: Any) -> np.ndarray:
    """The coordinates z = Qᵀx of points in the eigenbasis of a 2-D quadratic's matrix A.

    For :func:`course_lib.objectives.quadratic` with angle θ, column i of the result is the
    component along the eigenvector of ``objective.eigenvalues[i]``: q₁ = (cos θ, sin θ),
    q₂ = (−sin θ, cos θ). Gradient descent multiplies column i by 1 − ηλᵢ each step.

    Args:
        objective: a :class:`~course_lib.objectives.QuadraticObjective`.
        points: a Trajectory, its points (n, 2), or one point (2,).

    >>> from course_lib import objectives
    >>> q = objectives.quadratic((1.0, 10.0), angle=math.pi / 2)
    >>> eigen_coordinates(q, [1.0, 2.0]).round(12)      # q₁ = (0, 1), q₂ = (−1, 0)
    array([ 2., -1.])
    """
    angle = getattr(objective, "angle", None)
    if angle is None or getattr(objective, "eigenvalues", None) is None:
        raise TypeError(f"objective must be a QuadraticObjective, got {objective!r}")
    raw = getattr(points, "points", points)
    arr = np.asarray(raw, dtype=np.float64)
    single = arr.ndim == 1
    arr = np.atleast_2d(arr)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2) or (2,), got {np.shape(raw)}")
    cos, sin = math.cos(angle), math.sin(angle)
    basis = np.array([[cos, -sin], [sin, cos]])   # columns q₁, q₂
    z = arr @ basis
    return z[0] if single else z


def rotate(point: Sequence[float], angle: float) -> np.ndarray:
    """R(θ) p, the point turned by θ radians counter-clockwise about the origin.

    ``quadratic(eigenvalues, angle=θ)`` is the axis-aligned bowl turned by θ, so a run on it
    from ``rotate(s, θ)`` is the aligned run from ``s``, turned, when the method is
    rotation-invariant (gradient descent is; Adagrad, RMSprop and Adam are not).

    Args:
        point: (p₁, p₂).
        angle: θ in radians.

    >>> rotate([1.0, 0.0], math.pi / 2).round(12)
    array([0., 1.])
    """
    theta = finite_real(angle, "angle")
    p = np.asarray(point, dtype=np.float64)
    if p.shape != (2,):
        raise ValueError(f"point must have shape (2,), got {p.shape}")
    cos, sin = math.cos(theta), math.sin(theta)
    return np.array([[cos, -sin], [sin, cos]]) @ p


# -- noisy gradients -----------------------------------------------------------------------------


def _noise(noise: Any) -> float:
    noise = finite_real(noise, "noise")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    return noise


def sgd_noise_floor(lr: float, eigenvalues: Sequence[float], noise: float = 1.0) -> float:
    """The expected loss E[f] that SGD with a constant step settles at: Σᵢ ησ²/(2(2 − ηλᵢ)).

    For f = ½ xᵀAx with gradients g = Ax + σξ, ξ ~ N(0, I): component i has the stationary
    second moment E[zᵢ²] = η²σ² / (1 − (1 − ηλᵢ)²) = ησ² / (λᵢ(2 − ηλᵢ)), and contributes
    ½λᵢE[zᵢ²] to E[f]. For small η the floor is about η σ² d / 4 (d the dimension): halving
    the learning rate halves it.

    Args:
        lr: the constant step size η (0 <= η < 2/λ_max, else there is no floor).
        eigenvalues: λ₁, λ₂, ... of A (all > 0).
        noise: σ, the standard deviation of the noise in each coordinate (>= 0).

    >>> round(sgd_noise_floor(0.1, (2.0, 4.0), 1.0), 6)   # 0.1/3.6 + 0.1/3.2: d2l's bowl
    0.059028
    """
    lr, sigma = _lr(lr), _noise(noise)
    lams = positive_eigenvalues(eigenvalues)
    if lr * lams.max() >= 2:
        raise ValueError(f"lr = {lr} is not below the stability limit {2 / lams.max():g}: "
                         "the expected loss grows without bound")
    return float(np.sum(lr * sigma**2 / (2.0 * (2.0 - lr * lams))))


def sgd_expected_loss(lr: Any, eigenvalues: Sequence[float], start: Sequence[float],
                      steps: int, noise: float = 1.0) -> np.ndarray:
    """E[f(x_k)] for k = 0, ..., steps of SGD with gradients Ax + σξ, computed exactly.

    Per eigencomponent, E[zᵢ²] ← (1 − η_t λᵢ)² E[zᵢ²] + η_t² σ² from E[zᵢ²] = zᵢ(0)², and
    E[f] = Σᵢ ½ λᵢ E[zᵢ²]. Isotropic noise stays isotropic in any orthonormal basis, so this
    holds for a turned quadratic too, with ``start`` in eigen coordinates
    (:func:`eigen_coordinates`); for an axis-aligned one they are the point's coordinates.

    Args:
        lr: a number, or a schedule ``t -> η_t`` of the 0-based update index.
        eigenvalues: λ₁, λ₂, ... of A (all > 0).
        start: the start's eigen coordinates, one per eigenvalue.
        steps: the number of updates (an integer >= 0).
        noise: σ (>= 0).

    Returns:
        Shape ``(steps + 1,)``: the expected loss before the first update and after each.

    >>> sgd_expected_loss(0.5, [1.0], [2.0], 2, noise=0.0)   # ½ · (2 · 0.5ᵏ)²
    array([2.   , 0.5  , 0.125])
    """
    lams = positive_eigenvalues(eigenvalues)
    z0 = np.asarray(start, dtype=np.float64)
    if z0.shape != lams.shape:
        raise ValueError(f"start must have one coordinate per eigenvalue ({lams.size}), "
                         f"got shape {z0.shape}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    sigma = _noise(noise)
    second = z0**2
    out = [0.5 * float(lams @ second)]
    for t in range(int(steps)):
        eta = _lr(lr(t) if callable(lr) else lr)
        second = (1.0 - eta * lams) ** 2 * second + eta**2 * sigma**2
        out.append(0.5 * float(lams @ second))
    return np.array(out)


# -- the sharpness of a network: λ_max by Hessian-vector products ------------------------------


@dataclass(frozen=True)
class PowerIteration:
    """What :func:`hessian_top_eigenvalue` found.

    Attributes:
        eigenvalue: the estimate of λ (the Rayleigh quotient vᵀHv of the last vector).
        vector: the unit eigenvector estimate v, flattened over all parameters (float64).
        estimates: the Rayleigh quotient after each iteration (its convergence).
        converged: whether two successive estimates agreed to ``tol`` (relative).
    """

    eigenvalue: float
    vector: Any
    estimates: tuple[float, ...]
    converged: bool

    @property
    def iterations(self) -> int:
        return len(self.estimates)


def _parameters(params: Any) -> list[Any]:
    import torch

    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise TypeError("params must be a non-empty list of tensors with requires_grad=True")
    return params


def hessian_vector_product(loss: Any, params: Any, vector: Any) -> Any:
    """H v for the Hessian H of ``loss`` with respect to ``params``, without forming H.

    Two backward passes (Pearlmutter's trick): g = ∇loss with its graph kept, then
    H v = ∇(gᵀv). It costs about two gradients, whatever the number of parameters n, where
    forming H would take n of them.

    Args:
        loss: a scalar tensor computed from ``params`` (its graph not yet freed).
        params: the tensors (requires_grad=True) the Hessian is taken over, in order.
        vector: a tensor with as many entries as ``params`` together (flattened in order).

    Returns:
        H v, flattened the same way.
    """
    import torch

    params = _parameters(params)
    total = sum(p.numel() for p in params)
    if not isinstance(vector, torch.Tensor) or vector.numel() != total:
        raise ValueError(f"vector must be a tensor with {total} entries (one per parameter)")
    grads = torch.autograd.grad(loss, params, create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])
    product = torch.autograd.grad(flat @ vector.to(flat.dtype).reshape(-1), params,
                                  allow_unused=True)
    return torch.cat([torch.zeros_like(p).reshape(-1) if h is None else h.reshape(-1)
                      for h, p in zip(product, params, strict=True)])


def hessian_top_eigenvalue(
    loss_fn: Any,
    params: Any,
    *,
    iterations: int = 300,
    tol: float = 1e-8,
    seed: int = 0,
) -> PowerIteration:
    """λ_max of the Hessian of ``loss_fn()`` at the current ``params``, by power iteration.

    The sharpness of a network: the quadratic chapter's stability limit is 2/λ_max. Power
    iteration repeats, from a random unit vector v (seeded)::

        w ← H v                       (hessian_vector_product)
        λ ← vᵀ w                      (the Rayleigh quotient)
        v ← w / ‖w‖

    and stops when two successive λ agree to ``tol`` (relative) or after ``iterations``. It
    converges to the eigenvalue of largest *magnitude*; near a minimum that is λ_max (the
    Hessian is close to positive semi-definite), elsewhere check the sign. Convergence is slow
    when the two largest eigenvalues are close; ``converged`` says whether it finished.

    Args:
        loss_fn: ``() -> scalar tensor``: the loss at the current parameters (e.g. the mean
            loss over the whole training set); it is called once per iteration.
        params: the tensors the Hessian is taken over (``model.parameters()``).
        iterations: the most iterations (an integer >= 1).
        tol: the relative change of λ that counts as converged (> 0).
        seed: the seed of the random start vector.

    >>> import torch
    >>> x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    >>> a = torch.tensor([[3.0, 1.0], [1.0, 3.0]], dtype=torch.float64)  # eigenvalues 2 and 4
    >>> result = hessian_top_eigenvalue(lambda: 0.5 * x @ a @ x, [x])
    >>> round(result.eigenvalue, 8), result.converged
    (4.0, True)
    """
    import torch

    params = _parameters(params)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an integer >= 1, got {iterations!r}")
    tol = _tol(tol)
    dtype = params[0].dtype
    total = sum(p.numel() for p in params)
    generator = torch.Generator().manual_seed(seed)
    vector = torch.randn(total, generator=generator, dtype=torch.float64).to(dtype)
    vector = vector / vector.norm()
    estimates: list[float] = []
    converged = False
    for _ in range(iterations):
        product = hessian_vector_product(loss_fn(), params, vector).detach()
        estimate = float(vector @ product)
        norm = product.norm()
        if not math.isfinite(estimate) or float(norm) == 0.0:
            estimates.append(estimate)
            break
        converged = bool(estimates) and abs(estimate - estimates[-1]) <= tol * abs(estimate)
        estimates.append(estimate)
        vector = product / norm
        if converged:
            break
    return PowerIteration(estimates[-1], vector.to(torch.float64), tuple(estimates), converged)
