"""Newton's method: step along the Hessian-preconditioned gradient."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from course_lib.rules.base import Rule, State, check_lr, scalar, unpack

__all__ = ["Newton"]


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
            raise TypeError("Newton.step needs the Hessian: step(param, grad, state, hessian=H)")
        ops, hp = unpack(param, hp, self)
        # δ ← H⁻¹ g
        if np.ndim(hessian) == 0:
            direction = grad / hessian
        else:
            direction = ops.solve(hessian, grad)
        # θ ← θ − γ δ
        ops.add_(param, direction, alpha=-scalar(hp["lr"]))
