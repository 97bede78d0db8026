"""Newton's method: step along the Hessian-preconditioned gradient."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from course_lib.backend import is_torch_tensor
from course_lib.rules.base import Rule, State, check_lr, scalar, unpack

__all__ = ["Newton", "DiagonalNewton"]


class Newton(Rule):
    r"""Newton's method: θ ← θ − γ H⁻¹ g, with H the Hessian of the objective at θ.

    The math, in the order the code runs it, for a parameter θ with gradient g and Hessian H::

        δ ← H⁻¹ g               (a linear solve; g / H for one coordinate)
        θ ← θ − γ δ

    Symbols: γ is ``lr`` (1 is the pure Newton step; less damps it). The Hessian is passed to
    :meth:`step` as ``hessian``: a square matrix for a vector θ, or a number for a scalar θ.

    Newton's step jumps to the stationary point of the local quadratic model. On a convex
    quadratic that is the minimum, reached in one step with γ = 1. Where H is not positive
    definite the stationary point can be a maximum or a saddle, and the step goes there:
    the gradient-descent chapter shows this on f(x) = x cos(cx).

    >>> import numpy as np
    >>> rule = Newton()
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> hessian = np.diag([2.0, 4.0])                   # f = x1² + 2 x2²
    >>> rule.step(x, np.array([2.0, -8.0]), state, hessian=hessian); x
    array([0., 0.])
    """

    name = "newton"
    defaults = {"lr": 1.0}
    needs_hessian = True

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])

    def direction(self, grad: Any, hessian: Any, ops: Any) -> Any:
        """δ = H⁻¹ g (a linear solve; g / H for one coordinate)."""
        if np.ndim(hessian) == 0:
            return grad / hessian
        return ops.solve(hessian, grad)

    def step(
        self,
        param: Any,
        grad: Any,
        state: State,
        hp: Mapping[str, Any] | None = None,
        *,
        hessian: Any = None,
    ):
        if hessian is None:
            raise TypeError(
                f"{type(self).__name__}.step needs the Hessian: "
                "step(param, grad, state, hessian=H)"
            )
        ops, hp = unpack(param, hp, self)
        # δ ← H⁻¹ g
        direction = self.direction(grad, hessian, ops)
        # θ ← θ − γ δ
        ops.add_(param, direction, alpha=-scalar(hp["lr"]))


class DiagonalNewton(Newton):
    r"""Gradient descent preconditioned by the Hessian's diagonal: θ ← θ − γ g / diag(H).

    The math, in the order the code runs it, for a parameter θ with gradient g and Hessian H::

        D ← diag(H)             (the diagonal entries H_ii; must all be > 0)
        θ ← θ − γ g / D         (coordinate i moves by γ g_i / H_ii)

    Symbols: γ is ``lr``. Each coordinate gets its own learning rate γ / H_ii, the inverse of
    the curvature along its axis (Jacobi preconditioning). On a quadratic with a diagonal
    Hessian this is Newton's method (γ = 1 reaches the minimum in one step); with off-diagonal
    entries it is not, and it helps only as much as
    :func:`course_lib.line_search.preconditioned_hessian` says. Where some H_ii ≤ 0 the step
    would point uphill along that axis, so it raises ValueError.

    >>> import numpy as np
    >>> rule = DiagonalNewton()
    >>> x = np.array([-5.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, np.array([-1.0, -8.0]), state, hessian=np.diag([0.2, 4.0])); x
    array([0., 0.])
    """

    name = "diagonal_newton"

    def direction(self, grad: Any, hessian: Any, ops: Any) -> Any:
        """δ = g / diag(H), elementwise."""
        # D ← diag(H)
        diagonal = hessian if np.ndim(hessian) == 0 else hessian.diagonal()
        positive = (diagonal > 0).all() if is_torch_tensor(diagonal) else np.all(diagonal > 0)
        if not bool(positive):
            raise ValueError(f"DiagonalNewton needs a positive Hessian diagonal, got {diagonal!r}")
        return grad / diagonal
