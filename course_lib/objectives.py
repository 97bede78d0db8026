r"""The test functions of the chapters' demos, each with its analytic gradient and Hessian.

Every objective is an :class:`Objective`: a formula written **once**, as a function of the
coordinates and of an array namespace ``xp`` (``numpy`` or ``torch``), together with its
gradient and Hessian written by hand in the same way. Because the formula only uses
operators and ``xp.cos``/``xp.exp``/``xp.tanh``/..., the same code

* evaluates one point (``value``), a batch of 1-D points (``values``) or a meshgrid
  (``value_grid``, for contour plots) with numpy, and
* evaluates a torch tensor, so that the tests can differentiate it with autograd and compare
  with the hand-written gradient and Hessian.

Input convention: a point ``x`` is an array of shape ``(dim,)``. A 1-D objective also takes a
plain number or a 0-d array. ``gradient(x)`` returns shape ``(dim,)`` and ``hessian(x)`` shape
``(dim, dim)``, in ``x``'s floating dtype (float64 for Python numbers and integers). Given a
torch tensor, ``value``, ``gradient`` and ``hessian`` return torch tensors (``value`` stays
differentiable); given anything else they return a Python float / numpy arrays.

Coordinates are called x₁, x₂ (``x1``, ``x2``) throughout; the books' ``(x, y)`` is ``(x1, x2)``.

>>> from course_lib import objectives
>>> f = objectives.get("bowl")                  # x1^2 + 2 x2^2, d2l's gradient-descent demo
>>> f.value([-5.0, -2.0]), f.gradient([-5.0, -2.0])
(33.0, array([-10.,  -8.]))
>>> g = objectives.get("tanh")
>>> round(float(g.gradient(4.0)[0]), 4)         # the vanishing gradient d2l prints
0.0013
"""

from __future__ import annotations

import inspect
import math
import numbers
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "OBJECTIVES",
    "Objective",
    "QuadraticObjective",
    "classify_stationary_point",
    "bowl",
    "cos_pi",
    "cosh",
    "cube",
    "dlfs_bowl",
    "empirical_risk",
    "exp_half",
    "get",
    "half_square",
    "plateau",
    "quadratic",
    "rosenbrock",
    "saddle",
    "shifted_square",
    "square",
    "stretched_bowl",
    "tanh",
    "x_cos",
    "x_cos_pi",
]

PI = math.pi

#: ``expr(xp, *coords)``: the formula, elementwise on arrays or tensors of coordinates.
Expression = Callable[..., Any]


def _is_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


@dataclass(frozen=True, kw_only=True, eq=False)
class Objective:
    r"""A 1-D or 2-D test function with its analytic gradient and Hessian.

    The three expressions take the array namespace first, then one argument per coordinate,
    and work elementwise: ``expr(np, x1, x2)`` on numpy arrays, ``expr(torch, x1, x2)`` on
    tensors. ``grad_expr`` returns a tuple of ``dim`` components, ``hess_expr`` a tuple of
    ``dim`` rows of ``dim`` entries; constant entries may be plain numbers.

    Args:
        name: the registry name (``"bowl"``).
        dim: the number of coordinates, 1 or 2.
        formula: the formula in LaTeX/mathtext, without dollar signs (``"x_1^2 + 2x_2^2"``).
        expr: f(xp, \*coords).
        grad_expr: ∇f(xp, \*coords), a tuple of ``dim`` components.
        hess_expr: ∇²f(xp, \*coords), a tuple of ``dim`` rows.
        minimizer: a known argmin (a tuple of ``dim`` floats), or None if f has none or it
            has no closed form.
        domain: a plotting window, one ``(low, high)`` pair per coordinate.
        params: the parameters the objective was built with (``{"c": 0.471...}``).
    """

    name: str
    dim: int
    formula: str
    expr: Expression = field(repr=False)
    grad_expr: Expression = field(repr=False)
    hess_expr: Expression = field(repr=False)
    minimizer: tuple[float, ...] | None = None
    domain: tuple[tuple[float, float], ...]
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dim not in (1, 2):
            raise ValueError(f"dim must be 1 or 2, got {self.dim!r}")
        if len(self.domain) != self.dim or any(
            len(pair) != 2 or not pair[0] < pair[1] for pair in self.domain
        ):
            raise ValueError(
                f"domain must hold {self.dim} (low, high) pair(s) with low < high, "
                f"got {self.domain!r}"
            )
        if self.minimizer is not None and len(self.minimizer) != self.dim:
            raise ValueError(f"minimizer must have {self.dim} coordinate(s), got {self.minimizer}")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    # -- one point -------------------------------------------------------------------------

    def _point(self, x: Any) -> tuple[Any, tuple[Any, ...], Any]:
        """(namespace, coordinates, template array) of a point; checks its shape."""
        if _is_tensor(x):
            xp, arr = sys.modules["torch"], x
            if not arr.is_floating_point():
                arr = arr.double()
        else:
            xp = np
            if isinstance(x, bool | np.bool_):
                raise TypeError(f"x must be a number or an array of numbers, got {x!r}")
            arr = np.asarray(x)
            if arr.dtype.kind in "biu":
                arr = arr.astype(np.float64)
            elif arr.dtype.kind != "f":
                raise TypeError(f"x must be real numbers, got dtype {arr.dtype}")
        shape = tuple(arr.shape)
        if self.dim == 1 and shape in ((), (1,)):
            return xp, (arr.reshape(()) if shape else arr,), arr
        if shape != (self.dim,):
            allowed = "a number or shape (1,)" if self.dim == 1 else "shape (2,)"
            raise ValueError(
                f"x must be {allowed} for the {self.dim}-D objective {self.name!r}, "
                f"got shape {shape}"
            )
        return xp, tuple(arr[i] for i in range(self.dim)), arr

    def value(self, x: Any) -> Any:
        """f(x) at one point: a float, or a 0-d tensor (differentiable) for a tensor ``x``.

        Args:
            x: the point, shape ``(dim,)`` (a number is fine for a 1-D objective).
        """
        xp, coords, _ = self._point(x)
        out = self.expr(xp, *coords)
        return out if xp is not np else float(out)

    __call__ = value

    def gradient(self, x: Any) -> Any:
        """∇f(x) at one point, shape ``(dim,)`` (a tensor for a tensor ``x``).

        Args:
            x: the point, shape ``(dim,)`` (a number is fine for a 1-D objective).
        """
        xp, coords, arr = self._point(x)
        return self._stack(xp, arr, self.grad_expr(xp, *coords))

    def hessian(self, x: Any) -> Any:
        """∇²f(x) at one point, shape ``(dim, dim)`` (a tensor for a tensor ``x``).

        Args:
            x: the point, shape ``(dim,)`` (a number is fine for a 1-D objective).
        """
        xp, coords, arr = self._point(x)
        rows = self.hess_expr(xp, *coords)
        return self._stack(xp, arr, [self._stack(xp, arr, row) for row in rows])

    @staticmethod
    def _stack(xp: Any, like: Any, parts: Any) -> Any:
        if xp is np:
            return np.array([np.asarray(p, dtype=like.dtype) for p in parts], dtype=like.dtype)
        return xp.stack([xp.as_tensor(p, dtype=like.dtype, device=like.device) for p in parts])

    # -- many points (numpy only) --------------------------------------------------------

    def values(self, points: Any) -> np.ndarray:
        """f at many points at once (for curve plots): a numpy array.

        Args:
            points: for a 1-D objective, an array of any shape, one point per element (the
                result has the same shape); for a 2-D objective, shape ``(..., 2)`` (the
                result has shape ``(...)``).
        """
        pts = np.asarray(points, dtype=np.float64)
        if self.dim == 1:
            return np.broadcast_to(self.expr(np, pts), pts.shape).copy()
        if pts.ndim < 1 or pts.shape[-1] != 2:
            raise ValueError(
                f"points must have shape (..., 2) for the 2-D objective {self.name!r}, "
                f"got {pts.shape}"
            )
        return self.value_grid(pts[..., 0], pts[..., 1])

    def value_grid(self, x1: Any, x2: Any) -> np.ndarray:
        """f on a grid (for contour plots): ``f(x1[i, j], x2[i, j])`` for meshgrid arrays.

        Args:
            x1: first coordinates, e.g. from ``np.meshgrid``.
            x2: second coordinates, broadcastable with ``x1``.
        """
        self._need_2d("value_grid")
        a, b = np.broadcast_arrays(np.asarray(x1, np.float64), np.asarray(x2, np.float64))
        return np.broadcast_to(self.expr(np, a, b), a.shape).copy()

    def gradient_field(self, x1: Any, x2: Any) -> tuple[np.ndarray, np.ndarray]:
        """(∂f/∂x₁, ∂f/∂x₂) on a grid, two arrays shaped like the grid (for quiver plots).

        Args:
            x1: first coordinates, e.g. from ``np.meshgrid``.
            x2: second coordinates, broadcastable with ``x1``.
        """
        self._need_2d("gradient_field")
        a, b = np.broadcast_arrays(np.asarray(x1, np.float64), np.asarray(x2, np.float64))
        g1, g2 = self.grad_expr(np, a, b)
        return np.broadcast_to(g1, a.shape).copy(), np.broadcast_to(g2, a.shape).copy()

    def derivative(self, xs: Any) -> Any:
        """f'(x) of a 1-D objective, elementwise (a float for a number, else an array).

        Args:
            xs: a number or an array of points of any shape.
        """
        return self._elementwise(xs, lambda x: self.grad_expr(np, x)[0], "derivative")

    def second_derivative(self, xs: Any) -> Any:
        """f''(x) of a 1-D objective, elementwise (a float for a number, else an array).

        Args:
            xs: a number or an array of points of any shape.
        """
        return self._elementwise(xs, lambda x: self.hess_expr(np, x)[0][0], "second_derivative")

    def _elementwise(self, xs: Any, fn: Callable[[Any], Any], what: str) -> Any:
        if self.dim != 1:
            raise TypeError(f"{what} is for 1-D objectives; {self.name!r} is 2-D (use gradient)")
        arr = np.asarray(xs, dtype=np.float64)
        out = np.broadcast_to(fn(arr), arr.shape).copy()
        return float(out) if arr.ndim == 0 else out

    def _need_2d(self, what: str) -> None:
        if self.dim != 2:
            raise TypeError(f"{what} is for 2-D objectives; {self.name!r} is 1-D (use values)")

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({self.name!r}, dim={self.dim}{params})"


@dataclass(frozen=True, kw_only=True, eq=False)
class QuadraticObjective(Objective):
    r"""The quadratic f(x) = ½ xᵀAx, with A symmetric positive definite, and its spectrum.

    Args:
        matrix: A, shape (2, 2), read-only.
        eigenvalues: A's eigenvalues (λ₁, λ₂), in the order they were given.
        angle: the angle θ (radians) of λ₁'s eigenvector (cos θ, sin θ).
    """

    matrix: np.ndarray = field(repr=False)
    eigenvalues: tuple[float, float]
    angle: float = 0.0

    @property
    def condition_number(self) -> float:
        """κ = λ_max / λ_min."""
        return max(self.eigenvalues) / min(self.eigenvalues)

    @property
    def optimal_lr(self) -> float:
        """The step size that makes gradient descent converge fastest: 2 / (λ_min + λ_max).

        With it every eigencomponent of the error shrinks at least by (κ − 1)/(κ + 1) per step.
        """
        return 2.0 / (min(self.eigenvalues) + max(self.eigenvalues))

    @property
    def optimal_momentum(self) -> tuple[float, float]:
        r"""(lr, momentum) that make heavy-ball momentum converge fastest (Polyak; Distill).

        For b ← μ b + g, x ← x − γ b (torch's undamped momentum)::

            γ = (2 / (√λ_min + √λ_max))²,   μ = ((√κ − 1) / (√κ + 1))²

        and the error then shrinks by √μ = (√κ − 1)/(√κ + 1) per step.
        """
        lo, hi = math.sqrt(min(self.eigenvalues)), math.sqrt(max(self.eigenvalues))
        return (2.0 / (lo + hi)) ** 2, ((hi - lo) / (hi + lo)) ** 2


# -- argument checks -------------------------------------------------------------------------


def _number(value: Any, name: str, *, positive: bool = False, nonzero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonzero and value == 0:
        raise ValueError(f"{name} must be nonzero, got {value}")
    return value


def _coef(c: float) -> str:
    """A coefficient for a formula: ``0.15\\pi`` when c is a short multiple of π."""
    k = c / PI
    if k != 0 and abs(k - round(k, 4)) < 1e-12:
        k = round(k, 4)
        return r"\pi" if k == 1 else rf"{k:g}\pi"
    return f"{c:.4g}"


# -- 1-D objectives --------------------------------------------------------------------------


def square() -> Objective:
    r"""f(x) = x², d2l's first gradient-descent demo (x₀ = 10; lr 0.2, 0.05, 1.1).

    f'(x) = 2x, f''(x) = 2, minimum at 0. Gradient descent multiplies x by (1 − 2γ) each step.

    >>> square().derivative(10.0)
    20.0
    """
    return Objective(
        name="square", dim=1, formula="x^2",
        expr=lambda xp, x: x * x,
        grad_expr=lambda xp, x: (2 * x,),
        hess_expr=lambda xp, x: ((2.0,),),
        minimizer=(0.0,), domain=((-10.0, 10.0),),
    )


def x_cos(c: float = 0.15 * PI) -> Objective:
    r"""f(x) = x cos(cx), d2l's non-convex gradient-descent and Newton demos (c = 0.15π).

    f'(x) = cos(cx) − cx sin(cx),  f''(x) = −2c sin(cx) − c²x cos(cx).

    It is unbounded below (no global minimum); with c = 0.15π it has a local minimum near
    x ≈ 7.27, where d2l's damped Newton (lr 0.5, x₀ = 10) ends.

    Args:
        c: the frequency (finite, nonzero); the default window is |x| ≤ 1.5π / |c|.

    >>> round(x_cos().derivative(0.0), 6)
    1.0
    """
    c = _number(c, "c", nonzero=True)
    half = 1.5 * PI / abs(c)
    return Objective(
        name="x_cos", dim=1, formula=rf"x\cos({_coef(c)}\,x)",
        expr=lambda xp, x: x * xp.cos(c * x),
        grad_expr=lambda xp, x: (xp.cos(c * x) - c * x * xp.sin(c * x),),
        hess_expr=lambda xp, x: ((-2 * c * xp.sin(c * x) - c * c * x * xp.cos(c * x),),),
        domain=((-half, half),), params={"c": c},
    )


def cosh(c: float = 0.5) -> Objective:
    r"""f(x) = cosh(cx), d2l's convex Newton demo (c = 0.5, x₀ = 10).

    f'(x) = c sinh(cx), f''(x) = c² cosh(cx), minimum at 0.

    Args:
        c: the scale (finite, nonzero); the default window is |x| ≤ 5 / |c|.

    >>> cosh().second_derivative(0.0)
    0.25
    """
    c = _number(c, "c", nonzero=True)
    half = 5.0 / abs(c)
    return Objective(
        name="cosh", dim=1, formula=rf"\cosh({c:g}x)",
        expr=lambda xp, x: xp.cosh(c * x),
        grad_expr=lambda xp, x: (c * xp.sinh(c * x),),
        hess_expr=lambda xp, x: ((c * c * xp.cosh(c * x),),),
        minimizer=(0.0,), domain=((-half, half),), params={"c": c},
    )


def x_cos_pi() -> Objective:
    r"""f(x) = x cos(πx): d2l's "risk" and its local vs global minimum on [−1, 2].

    f'(x) = cos(πx) − πx sin(πx), f''(x) = −2π sin(πx) − π²x cos(πx). Unbounded below; on
    [−1, 2] its lowest point is near x ≈ 1.1 and a local minimum lies near x ≈ −0.3.
    """
    return Objective(
        name="x_cos_pi", dim=1, formula=r"x\cos(\pi x)",
        expr=lambda xp, x: x * xp.cos(PI * x),
        grad_expr=lambda xp, x: (xp.cos(PI * x) - PI * x * xp.sin(PI * x),),
        hess_expr=lambda xp, x: ((-2 * PI * xp.sin(PI * x) - PI * PI * x * xp.cos(PI * x),),),
        domain=((-1.0, 2.0),),
    )


def empirical_risk() -> Objective:
    r"""f(x) = x cos(πx) + 0.2 cos(5πx): d2l's bumpy "empirical risk" next to the risk.

    f'(x) = cos(πx) − πx sin(πx) − π sin(5πx),
    f''(x) = −2π sin(πx) − π²x cos(πx) − 5π² cos(5πx). Plotted on [0.5, 1.5].
    """
    return Objective(
        name="empirical_risk", dim=1, formula=r"x\cos(\pi x) + 0.2\cos(5\pi x)",
        expr=lambda xp, x: x * xp.cos(PI * x) + 0.2 * xp.cos(5 * PI * x),
        grad_expr=lambda xp, x: (
            xp.cos(PI * x) - PI * x * xp.sin(PI * x) - PI * xp.sin(5 * PI * x),
        ),
        hess_expr=lambda xp, x: ((
            -2 * PI * xp.sin(PI * x) - PI * PI * x * xp.cos(PI * x)
            - 5 * PI * PI * xp.cos(5 * PI * x),
        ),),
        domain=((0.5, 1.5),),
    )


def cube() -> Objective:
    r"""f(x) = x³, a saddle point in 1-D: f'(0) = f''(0) = 0 but 0 is no minimum.

    f'(x) = 3x², f''(x) = 6x.
    """
    return Objective(
        name="cube", dim=1, formula="x^3",
        expr=lambda xp, x: x * x * x,
        grad_expr=lambda xp, x: (3 * x * x,),
        hess_expr=lambda xp, x: ((6 * x,),),
        domain=((-2.0, 2.0),),
    )


def tanh() -> Objective:
    r"""f(x) = tanh(x), the vanishing gradient: f'(4) = 1 − tanh²(4) ≈ 0.0013.

    f'(x) = 1 − tanh²(x), f''(x) = −2 tanh(x)(1 − tanh²(x)). Plotted on [−2, 5] as in d2l.
    """
    return Objective(
        name="tanh", dim=1, formula=r"\tanh(x)",
        expr=lambda xp, x: xp.tanh(x),
        grad_expr=lambda xp, x: (1 - xp.tanh(x) ** 2,),
        hess_expr=lambda xp, x: ((-2 * xp.tanh(x) * (1 - xp.tanh(x) ** 2),),),
        domain=((-2.0, 5.0),),
    )


def half_square() -> Objective:
    r"""f(x) = ½x², convex (d2l's convexity plots). f'(x) = x, f''(x) = 1, minimum at 0."""
    return Objective(
        name="half_square", dim=1, formula=r"\frac{1}{2}x^2",
        expr=lambda xp, x: 0.5 * x * x,
        grad_expr=lambda xp, x: (x,),
        hess_expr=lambda xp, x: ((1.0,),),
        minimizer=(0.0,), domain=((-2.0, 2.0),),
    )


def cos_pi() -> Objective:
    r"""f(x) = cos(πx), not convex (d2l's convexity plots).

    f'(x) = −π sin(πx), f''(x) = −π² cos(πx). Minima at every odd integer; ``minimizer`` is 1.
    """
    return Objective(
        name="cos_pi", dim=1, formula=r"\cos(\pi x)",
        expr=lambda xp, x: xp.cos(PI * x),
        grad_expr=lambda xp, x: (-PI * xp.sin(PI * x),),
        hess_expr=lambda xp, x: ((-PI * PI * xp.cos(PI * x),),),
        minimizer=(1.0,), domain=((-2.0, 2.0),),
    )


def exp_half() -> Objective:
    r"""f(x) = exp(x/2), convex without a minimum (d2l's convexity plots).

    f'(x) = ½ exp(x/2), f''(x) = ¼ exp(x/2).
    """
    return Objective(
        name="exp_half", dim=1, formula=r"e^{x/2}",
        expr=lambda xp, x: xp.exp(0.5 * x),
        grad_expr=lambda xp, x: (0.5 * xp.exp(0.5 * x),),
        hess_expr=lambda xp, x: ((0.25 * xp.exp(0.5 * x),),),
        domain=((-2.0, 2.0),),
    )


def shifted_square() -> Objective:
    r"""f(x) = (x − 1)², convex with its minimum at 1. f'(x) = 2(x − 1), f''(x) = 2."""
    return Objective(
        name="shifted_square", dim=1, formula="(x-1)^2",
        expr=lambda xp, x: (x - 1) ** 2,
        grad_expr=lambda xp, x: (2 * (x - 1),),
        hess_expr=lambda xp, x: ((2.0,),),
        minimizer=(1.0,), domain=((-2.0, 2.0),),
    )


# -- 2-D objectives --------------------------------------------------------------------------


def quadratic(
    eigenvalues: tuple[float, float] = (1.0, 10.0),
    angle: float = 0.0,
    *,
    name: str = "quadratic",
    formula: str | None = None,
    domain: tuple[tuple[float, float], tuple[float, float]] = ((-5.0, 5.0), (-5.0, 5.0)),
) -> QuadraticObjective:
    r"""f(x) = ½ xᵀAx with A = R(θ) diag(λ₁, λ₂) R(θ)ᵀ, a (rotated) ill-conditioned bowl.

    R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]], so λ₁'s eigenvector is (cos θ, sin θ). Writing
    A = [[a, b], [b, d]]::

        a = λ₁cos²θ + λ₂sin²θ,  b = (λ₁ − λ₂) cos θ sin θ,  d = λ₁sin²θ + λ₂cos²θ
        f = ½(a x₁² + 2b x₁x₂ + d x₂²),  ∇f = Ax,  ∇²f = A

    The minimum is at 0; the condition number is κ = λ_max/λ_min.

    Args:
        eigenvalues: (λ₁, λ₂), both finite and > 0.
        angle: θ in radians (finite); 0 gives an axis-aligned bowl.
        name: the registry name to report.
        formula: the formula to display (defaults to ``\frac{1}{2}x^\top A x`` with λ and θ).
        domain: the plotting window.

    >>> q = quadratic((1, 100))
    >>> q.condition_number, round(q.optimal_lr, 6)
    (100.0, 0.019802)
    """
    if isinstance(eigenvalues, str) or not hasattr(eigenvalues, "__len__") or len(eigenvalues) != 2:
        raise TypeError(f"eigenvalues must be a pair (lambda1, lambda2), got {eigenvalues!r}")
    lam1 = _number(eigenvalues[0], "eigenvalues[0]", positive=True)
    lam2 = _number(eigenvalues[1], "eigenvalues[1]", positive=True)
    theta = _number(angle, "angle")
    cos, sin = math.cos(theta), math.sin(theta)
    a = lam1 * cos * cos + lam2 * sin * sin
    b = (lam1 - lam2) * cos * sin + 0.0  # + 0.0 turns -0.0 into 0.0
    d = lam1 * sin * sin + lam2 * cos * cos
    matrix = np.array([[a, b], [b, d]])
    matrix.setflags(write=False)
    if formula is None:
        formula = (
            rf"\frac{{1}}{{2}}x^\top A x,\ \lambda = ({lam1:g}, {lam2:g}),\ \theta = {theta:.3g}"
        )
    return QuadraticObjective(
        name=name, dim=2, formula=formula,
        expr=lambda xp, x1, x2: 0.5 * (a * x1 * x1 + 2 * b * x1 * x2 + d * x2 * x2),
        grad_expr=lambda xp, x1, x2: (a * x1 + b * x2, b * x1 + d * x2),
        hess_expr=lambda xp, x1, x2: ((a, b), (b, d)),
        minimizer=(0.0, 0.0), domain=domain,
        params={"eigenvalues": (lam1, lam2), "angle": theta},
        matrix=matrix, eigenvalues=(lam1, lam2), angle=theta,
    )


def bowl() -> QuadraticObjective:
    r"""f(x) = x₁² + 2x₂², d2l's 2-D gradient-descent and SGD demo (from (−5, −2), lr 0.1).

    ∇f = (2x₁, 4x₂), ∇²f = diag(2, 4): the quadratic with eigenvalues (2, 4), κ = 2.
    """
    return quadratic((2.0, 4.0), name="bowl", formula="x_1^2 + 2x_2^2",
                     domain=((-5.5, 1.0), (-3.0, 1.5)))


def stretched_bowl() -> QuadraticObjective:
    r"""f(x) = 0.1x₁² + 2x₂², d2l's momentum, Adagrad and RMSProp demo (from (−5, −2)).

    ∇f = (0.2x₁, 4x₂), ∇²f = diag(0.2, 4), κ = 20: gradient descent diverges along x₂ once
    lr > 2/4 = 0.5 while x₁ still crawls.
    """
    return quadratic((0.2, 4.0), name="stretched_bowl", formula="0.1x_1^2 + 2x_2^2",
                     domain=((-5.5, 1.0), (-3.0, 1.5)))


def dlfs_bowl() -> QuadraticObjective:
    r"""f(x) = x₁²/20 + x₂², *Deep Learning from Scratch*'s comparison (from (−7, 2)).

    The book's f(x, y) with (x, y) = (x₁, x₂). ∇f = (x₁/10, 2x₂), ∇²f = diag(0.1, 2), κ = 20.
    """
    return quadratic((0.1, 2.0), name="dlfs_bowl", formula=r"\frac{x_1^2}{20} + x_2^2",
                     domain=((-10.0, 10.0), (-5.0, 5.0)))


def saddle() -> Objective:
    r"""f(x) = x₁² − x₂², the saddle point at 0 (a minimum along x₁, a maximum along x₂).

    ∇f = (2x₁, −2x₂), ∇²f = diag(2, −2).
    """
    return Objective(
        name="saddle", dim=2, formula="x_1^2 - x_2^2",
        expr=lambda xp, x1, x2: x1 * x1 - x2 * x2,
        grad_expr=lambda xp, x1, x2: (2 * x1, -2 * x2),
        hess_expr=lambda xp, x1, x2: ((2.0, 0.0), (0.0, -2.0)),
        domain=((-1.0, 1.0), (-1.0, 1.0)),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Objective:
    r"""Rosenbrock's banana valley f(x) = (a − x₁)² + b(x₂ − x₁²)², minimum at (a, a²).

    ∇f = (−2(a − x₁) − 4b x₁(x₂ − x₁²),  2b(x₂ − x₁²)),
    ∇²f = [[2 − 4b(x₂ − x₁²) + 8b x₁², −4b x₁], [−4b x₁, 2b]].

    Args:
        a: the minimizer's first coordinate (finite).
        b: the steepness of the valley walls (finite, > 0).

    >>> rosenbrock().value([1.0, 1.0])
    0.0
    """
    a = _number(a, "a")
    b = _number(b, "b", positive=True)
    domain = ((min(-2.0, a - 1), max(2.0, a + 1)), (min(-1.0, a * a - 1), max(3.0, a * a + 1)))
    return Objective(
        name="rosenbrock", dim=2, formula=rf"({a:g} - x_1)^2 + {b:g}(x_2 - x_1^2)^2",
        expr=lambda xp, x1, x2: (a - x1) ** 2 + b * (x2 - x1 * x1) ** 2,
        grad_expr=lambda xp, x1, x2: (
            -2 * (a - x1) - 4 * b * x1 * (x2 - x1 * x1),
            2 * b * (x2 - x1 * x1),
        ),
        hess_expr=lambda xp, x1, x2: (
            (2 - 4 * b * (x2 - x1 * x1) + 8 * b * x1 * x1, -4 * b * x1),
            (-4 * b * x1, 2 * b),
        ),
        minimizer=(a, a * a), domain=domain, params={"a": a, "b": b},
    )


def plateau(width: float = 1.0) -> Objective:
    r"""A Gaussian basin in a flat plateau: f(x) = 1 − exp(−(x₁² + x₂²)/w²).

    Near 0 it is a bowl (f ≈ r²/w² with r = ‖x‖); beyond r ≈ 2w it is nearly flat at 1 and
    the gradient all but vanishes (‖∇f‖ = 2r e^{−r²/w²}/w², about 2e-5 at (2.5w, 2.5w)).
    Plain gradient descent started on the plateau barely moves; methods that normalise the
    step by the gradient's size (Adagrad, RMSProp, Adam) cross it. With e = exp(−r²/w²)::

        ∂f/∂xᵢ = 2xᵢ e / w²,    ∂²f/∂xᵢ∂xⱼ = e (2δᵢⱼ/w² − 4xᵢxⱼ/w⁴)

    Args:
        width: w, the basin's radius scale (finite, > 0); the window is |xᵢ| ≤ 3w.
    """
    w = _number(width, "width", positive=True)
    s = w * w
    shown = r"(x_1^2 + x_2^2)" if s == 1 else rf"(x_1^2 + x_2^2)/{s:g}"

    def hess(xp: Any, x1: Any, x2: Any) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
        e = xp.exp(-(x1 * x1 + x2 * x2) / s)
        off = -4 * x1 * x2 * e / (s * s)
        return (
            (e * (2 / s - 4 * x1 * x1 / (s * s)), off),
            (off, e * (2 / s - 4 * x2 * x2 / (s * s))),
        )

    return Objective(
        name="plateau", dim=2, formula=rf"1 - \exp(-{shown})",
        expr=lambda xp, x1, x2: 1 - xp.exp(-(x1 * x1 + x2 * x2) / s),
        grad_expr=lambda xp, x1, x2: (
            2 * x1 * xp.exp(-(x1 * x1 + x2 * x2) / s) / s,
            2 * x2 * xp.exp(-(x1 * x1 + x2 * x2) / s) / s,
        ),
        hess_expr=hess,
        minimizer=(0.0, 0.0), domain=((-3 * w, 3 * w), (-3 * w, 3 * w)), params={"width": w},
    )


# -- registry ------------------------------------------------------------------------------

#: Every objective by name: the factory that builds it (call it, or use :func:`get`).
OBJECTIVES: dict[str, Callable[..., Objective]] = {
    "square": square,
    "x_cos": x_cos,
    "cosh": cosh,
    "x_cos_pi": x_cos_pi,
    "empirical_risk": empirical_risk,
    "cube": cube,
    "tanh": tanh,
    "half_square": half_square,
    "cos_pi": cos_pi,
    "exp_half": exp_half,
    "shifted_square": shifted_square,
    "bowl": bowl,
    "stretched_bowl": stretched_bowl,
    "dlfs_bowl": dlfs_bowl,
    "saddle": saddle,
    "rosenbrock": rosenbrock,
    "quadratic": quadratic,
    "plateau": plateau,
}


def get(name: str, **params: Any) -> Objective:
    """The objective called ``name``, built with ``params`` (e.g. ``get("x_cos", c=0.5)``).

    Args:
        name: a key of :data:`OBJECTIVES`.
        **params: the factory's parameters; unknown ones raise TypeError.

    >>> get("rosenbrock", b=10).minimizer
    (1.0, 1.0)
    """
    if not isinstance(name, str) or name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}")
    factory = OBJECTIVES[name]
    accepted = [
        p.name for p in inspect.signature(factory).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "no parameters"
        raise TypeError(
            f"objective {name!r} got unexpected parameter(s) {', '.join(unknown)}; it takes {takes}"
        )
    return factory(**params)


def classify_stationary_point(hessian: Any, atol: float = 1e-8) -> tuple[np.ndarray, str]:
    r"""The kind of a stationary point (∇f = 0) from the Hessian's eigenvalues there.

    Eigenvalues of both signs (beyond ``atol``): a saddle point, whatever the others are (f
    rises along one eigenvector and falls along another); otherwise an eigenvalue within
    ``atol`` of 0: the second-order test cannot decide (x³ at 0 is flat to second order but is
    neither a minimum nor a maximum); otherwise all eigenvalues > 0: a minimum, all < 0: a
    maximum.

    Args:
        hessian: ∇²f at the point, a symmetric (dim, dim) array or a number for 1-D.
        atol: how close to 0 an eigenvalue must be to count as 0.

    Returns:
        (the eigenvalues in increasing order, one of "minimum", "maximum", "saddle point",
        "undecided: an eigenvalue is 0").

    >>> classify_stationary_point(saddle().hessian((0.0, 0.0)))
    (array([-2.,  2.]), 'saddle point')
    """
    eigenvalues = np.linalg.eigvalsh(np.atleast_2d(np.asarray(hessian, dtype=np.float64)))
    if np.any(eigenvalues > atol) and np.any(eigenvalues < -atol):
        return eigenvalues, "saddle point"
    if np.any(np.isclose(eigenvalues, 0.0, rtol=0.0, atol=atol)):
        return eigenvalues, "undecided: an eigenvalue is 0"
    if np.all(eigenvalues > 0):
        return eigenvalues, "minimum"
    return eigenvalues, "maximum"
