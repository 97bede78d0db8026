r"""Choosing the step size along a direction, and scaling the gradient by the Hessian's diagonal.

Gradient descent with a fixed learning rate must pick one step for the whole run. A *line
search* picks a step at every iterate instead, by looking at f along the search direction d:

* :func:`backtracking` (Armijo): start from ``lr0`` and shrink the step until f has dropped by
  at least a fraction ``c`` of what its slope promised;
* :func:`exact_quadratic_step`: the step that minimises f(x + αd) exactly when f is quadratic
  (for any other f, the minimiser of its second-order model along d);
* :func:`run`: steepest descent, d = −∇f(x), with either of them; it returns a
  :class:`~course_lib.trajectories.Trajectory` whose ``learning_rates`` are the chosen steps.

:class:`DiagonalNewton` is the other cure for a badly scaled problem: it divides each coordinate
of the gradient by the matching diagonal entry of the Hessian (Jacobi preconditioning), a
per-coordinate learning rate. It is a rule, so :func:`course_lib.trajectories.run` runs it and
hands it the Hessian, as it does for :class:`~course_lib.rules.Newton`.
:func:`preconditioned_hessian` shows what it does to the problem: the Hessian it effectively
sees, D^{-1/2} H D^{-1/2}, and so the condition number that decides the speed.

>>> import numpy as np
>>> from course_lib import objectives
>>> f = objectives.stretched_bowl()              # 0.1 x1² + 2 x2², Hessian diag(0.2, 4)
>>> x = np.array([-5.0, -2.0]); g = f.gradient(x)
>>> round(exact_quadratic_step(f.hessian(x), g, -g), 6)  # gᵀg / gᵀHg = 65 / 256.2
0.253708
>>> backtracking(f, x, -g, lr0=1.0, shrink=0.5)  # α = 1 overshoots along x2; 0.5 is enough
0.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from course_lib.rules.newton import DiagonalNewton
from course_lib.trajectories import Trajectory

__all__ = [
    "DiagonalNewton",
    "backtracking",
    "exact_quadratic_step",
    "preconditioned_hessian",
    "run",
    "sufficient_decrease",
]


# -- argument checks -------------------------------------------------------------------------


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)


def _fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return float(value)


def _vector(value: Any, name: str) -> np.ndarray:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be numbers, got {value!r}")
    try:
        arr = np.array(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be numbers, got {value!r}") from error
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def _pair(x: Any, direction: Any) -> tuple[np.ndarray, np.ndarray]:
    x, d = _vector(x, "x"), _vector(direction, "direction")
    if x.shape != d.shape:
        raise ValueError(f"direction must have the shape of x, {x.shape}, got {d.shape}")
    return x, d


def _matrix(hessian: Any, size: int) -> np.ndarray:
    h = np.array(hessian, dtype=np.float64)
    if h.ndim == 0:
        h = h.reshape(1, 1)
    if h.shape != (size, size):
        raise ValueError(f"hessian must have shape ({size}, {size}), got {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError("hessian must be finite")
    return h


# -- step sizes ------------------------------------------------------------------------------


def sufficient_decrease(
    objective: Any, x: Any, direction: Any, step: float, c: float = 1e-4
) -> bool:
    r"""Whether the step α along d passes Armijo's test: f(x + αd) ≤ f(x) + c α ∇f(x)ᵀd.

    The right-hand side is the tangent line at x with its slope ∇f(x)ᵀd (< 0 for a descent
    direction) scaled down by c: the step must deliver at least the fraction c of the decrease
    that the slope promises. A value of f that is nan fails the test.

    Args:
        objective: anything with ``value(x)`` and ``gradient(x)``.
        x: the current point.
        direction: the search direction d (same shape as x).
        step: α, finite and > 0.
        c: Armijo's constant, in (0, 1).
    """
    x, d = _pair(x, direction)
    alpha, c = _positive(step, "step"), _fraction(c, "c")
    slope = float(np.dot(np.asarray(objective.gradient(x), dtype=np.float64).reshape(-1), d))
    with np.errstate(over="ignore", invalid="ignore"):
        new = float(objective.value(x + alpha * d))
    return bool(new <= float(objective.value(x)) + c * alpha * slope)


def backtracking(
    objective: Any,
    x: Any,
    direction: Any,
    lr0: float = 1.0,
    shrink: float = 0.5,
    c: float = 1e-4,
    max_trials: int = 60,
) -> float:
    r"""The first step α = lr0 · shrinkᵏ (k = 0, 1, 2, ...) that passes Armijo's test.

    The math, in the order the code runs it, with ρ = ``shrink``::

        f₀ ← f(x),  s ← ∇f(x)ᵀd            (s < 0: d must point downhill)
        α ← lr0
        while not f(x + αd) ≤ f₀ + c α s:   (sufficient decrease; nan counts as failing)
            α ← ρ α
        return α

    Because d points downhill, f(x + αd) ≈ f₀ + α s for small α, which beats f₀ + c α s when
    c < 1: the loop ends after finitely many shrinks for any smooth f.

    Args:
        objective: anything with ``value(x)`` and ``gradient(x)``.
        x: the current point.
        direction: the search direction d, with ∇f(x)ᵀd < 0 (e.g. −∇f(x)).
        lr0: the first step tried (finite, > 0).
        shrink: ρ, the factor applied after each failure, in (0, 1).
        c: Armijo's constant, in (0, 1); 1e-4 is the textbook choice (Nocedal and Wright).
        max_trials: how many steps to try before giving up (an integer >= 1).

    Raises:
        ValueError: for a bad argument, or a direction that does not point downhill.
        RuntimeError: if no step passes within ``max_trials`` tries.

    >>> from course_lib import objectives
    >>> backtracking(objectives.square(), 10.0, -20.0)   # f = x²: α = 1 lands on −10, fails
    0.5
    """
    x, d = _pair(x, direction)
    lr0, shrink, c = _positive(lr0, "lr0"), _fraction(shrink, "shrink"), _fraction(c, "c")
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
        raise ValueError(f"max_trials must be an integer >= 1, got {max_trials!r}")
    # f₀ ← f(x),  s ← ∇f(x)ᵀd
    f0 = float(objective.value(x))
    slope = float(np.dot(np.asarray(objective.gradient(x), dtype=np.float64).reshape(-1), d))
    if not slope < 0:
        raise ValueError(
            f"direction must point downhill (gradient · direction < 0), got slope {slope!r}"
        )
    # α ← lr0; shrink until f(x + αd) ≤ f₀ + c α s
    alpha = lr0
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_trials):
            if float(objective.value(x + alpha * d)) <= f0 + c * alpha * slope:
                return alpha
            alpha *= shrink
    raise RuntimeError(
        f"no step passed Armijo's test in {max_trials} tries (last tried {alpha / shrink:g})"
    )


def exact_quadratic_step(hessian: Any, gradient: Any, direction: Any) -> float:
    r"""The step α* that minimises the quadratic model of f along d: α* = −gᵀd / dᵀHd.

    Along the line, f(x + αd) = f(x) + α gᵀd + ½ α² dᵀHd exactly when f is quadratic with
    Hessian H (and is f's second-order Taylor model otherwise). Setting the derivative in α to
    zero gives, in the order the code computes it::

        s ← gᵀd                 (the slope along d)
        q ← dᵀHd                (the curvature along d; must be > 0)
        α* ← −s / q

    For steepest descent, d = −g, this is α* = gᵀg / gᵀHg: one over the curvature along g.

    Args:
        hessian: H, shape (n, n) (a number for n = 1).
        gradient: g = ∇f(x), shape (n,).
        direction: d, shape (n,).

    Raises:
        ValueError: if the shapes disagree, or dᵀHd ≤ 0 (the model has no minimum along d).

    >>> exact_quadratic_step([[2.0, 0.0], [0.0, 4.0]], [2.0, 4.0], [-2.0, -4.0])  # 20 / 72
    0.2777777777777778
    """
    g, d = _vector(gradient, "gradient"), _vector(direction, "direction")
    if g.shape != d.shape:
        raise ValueError(f"direction must have the shape of gradient, {g.shape}, got {d.shape}")
    h = _matrix(hessian, g.size)
    # s ← gᵀd,  q ← dᵀHd
    slope = float(g @ d)
    curvature = float(d @ h @ d)
    if not curvature > 0:
        raise ValueError(
            f"the curvature along direction, dᵀHd = {curvature:g}, must be > 0 "
            "(otherwise f has no minimum along the line)"
        )
    # α* ← −s / q
    return -slope / curvature


# -- steepest descent with a line search -----------------------------------------------------


def run(
    objective: Any,
    start: float | Sequence[float],
    steps: int = 20,
    *,
    method: Literal["backtracking", "exact"] = "backtracking",
    lr0: float = 1.0,
    shrink: float = 0.5,
    c: float = 1e-4,
    label: str | None = None,
) -> Trajectory:
    r"""Steepest descent with a line search at every step: x ← x − α_t ∇f(x).

    At each step::

        g ← ∇f(x);  d ← −g
        α ← backtracking(f, x, d, lr0, shrink, c)        if method == "backtracking"
        α ← exact_quadratic_step(∇²f(x), g, d)           if method == "exact"
        x ← x + α d

    A point where g = 0 exactly is a stationary point: the run stays there (α recorded as 0).
    ``method="exact"`` is exact for quadratics; on other functions it is the step to the
    minimum of the second-order model along d and needs positive curvature along g.

    Args:
        objective: anything with ``value``, ``gradient`` (and ``hessian`` for "exact").
        start: the start point (a number for a 1-D objective).
        steps: the number of updates (an integer >= 0).
        method: "backtracking" (Armijo) or "exact".
        lr0: backtracking's first trial step.
        shrink: backtracking's shrink factor ρ.
        c: Armijo's constant.
        label: the legend label; by default the method's name.

    Returns:
        A :class:`~course_lib.trajectories.Trajectory`; its ``learning_rates`` hold α_t.

    >>> from course_lib import objectives, trajectories
    >>> path = run(objectives.bowl(), (-5.0, -2.0), 1, method="exact")
    >>> round(float(path.learning_rates[0]), 6)   # g = (−10, −8): gᵀg / gᵀHg = 164 / 456
    0.359649
    >>> trajectories.report(path)          # (−5, −2) + α (10, 8)
    step 1, x1: -1.403509, x2: 0.877193
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if method not in ("backtracking", "exact"):
        raise ValueError(f"method must be 'backtracking' or 'exact', got {method!r}")
    # Check the backtracking settings once, before the first step.
    _positive(lr0, "lr0")
    _fraction(shrink, "shrink")
    _fraction(c, "c")
    x = _vector(start, "start")
    dim = getattr(objective, "dim", x.size)
    if x.size != dim:
        raise ValueError(f"start must have {dim} coordinate(s) for this objective, got {start!r}")
    points, rates = [x.copy()], []
    for _ in range(steps):
        g = np.asarray(objective.gradient(x), dtype=np.float64).reshape(-1)
        d = -g
        if not np.any(g):
            alpha = 0.0
        elif method == "backtracking":
            alpha = backtracking(objective, x, d, lr0=lr0, shrink=shrink, c=c)
        else:
            alpha = exact_quadratic_step(objective.hessian(x), g, d)
        x = x + alpha * d
        points.append(x.copy())
        rates.append(alpha)
    if label is None:
        label = "exact line search" if method == "exact" else f"backtracking, lr0={lr0:g}"
    return Trajectory(np.array(points), objective, label, np.array(rates, dtype=float))


# -- diagonal preconditioning ----------------------------------------------------------------


def preconditioned_hessian(hessian: Any) -> np.ndarray:
    r"""The Hessian that descent preconditioned by D = diag(H) sees: D^{-1/2} H D^{-1/2}.

    Scaling the gradient by D⁻¹ is plain gradient descent in the variables z = D^{1/2} x, where
    f has the Hessian D^{-1/2} H D^{-1/2}: its entries are H_ij / √(H_ii H_jj), so its diagonal
    is all ones. When H is diagonal the result is the identity (condition number 1); when H is
    far from diagonal it can stay as badly conditioned as H.

    Args:
        hessian: H, a square matrix with a positive diagonal.

    Raises:
        ValueError: if H is not square or a diagonal entry is ≤ 0.

    >>> preconditioned_hessian([[0.2, 0.0], [0.0, 4.0]])
    array([[1., 0.],
           [0., 1.]])
    """
    h = np.array(hessian, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or h.size == 0:
        raise ValueError(f"hessian must be a square matrix, got shape {h.shape}")
    diagonal = np.diagonal(h)
    if not np.all(diagonal > 0):
        raise ValueError(f"the diagonal of hessian must be > 0, got {diagonal}")
    # D^{-1/2} H D^{-1/2}: entry (i, j) is H_ij / √(H_ii H_jj) (exactly 1 on the diagonal)
    return h / np.sqrt(np.outer(diagonal, diagonal))
