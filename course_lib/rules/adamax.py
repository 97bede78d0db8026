"""Adamax: Adam with the root-mean-square replaced by a decaying maximum."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from course_lib.rules.base import (
    MomentRule,
    State,
    decay_or_l2,
    scalar,
    unpack,
)

__all__ = ["Adamax"]


class Adamax(MomentRule):
    r"""Adamax: Adam's infinity-norm variant; the denominator is a decaying max of |g|.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        t ← t + 1
        g ← −g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        m ← m + (1 − β₁)(g − m)
        u ← max(β₂ u, |g| + ε)                   (max(β₂ u, |g|) with ``eps_outside_max``)
        θ ← θ − γ / (1 − β₁ᵗ) · m / u            (m / (u + ε) with ``eps_outside_max``)

    Symbols: γ is ``lr``, (β₁, β₂) is ``betas``, ε is ``eps``, λ is ``weight_decay``;
    t, m and u are the state entries ``step``, ``exp_avg`` and ``exp_inf``.

    Defaults are torch's: ``lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    maximize=False``.

    Conventions: the paper's update has no ε; torch adds it to |g| inside the max, which keeps
    u > 0. Keras adds it to u in the denominator instead (class attribute ``eps_outside_max``,
    set by :class:`course_lib.rules.KerasAdamax`); the two differ whenever β₂ u wins the max.
    u needs no bias correction (a max does not shrink towards its zero start).

    >>> import numpy as np
    >>> rule = Adamax(lr=0.1)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x.round(6)    # first step: m̂/u = g/|g|
    array([ 0.9, -1.9])
    """

    name = "adamax"
    defaults = {
        "lr": 2e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "maximize": False,
    }
    second_moment = "exp_inf"
    #: ε added to u after the max (Keras) instead of to |g| inside it (torch).
    eps_outside_max: ClassVar[bool] = False

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr = scalar(hp["lr"])
        beta1, beta2 = hp["betas"]
        if hp["maximize"]:
            grad = -grad
        # t ← t + 1
        state["step"] += 1
        # g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # m ← m + (1 − β₁)(g − m)
        exp_avg = ops.lerp_(state["exp_avg"], grad, 1 - beta1)
        norm = ops.abs(grad)
        if self.eps_outside_max:
            # u ← max(β₂ u, |g|);  d ← u + ε
            exp_inf = ops.maximum_(ops.mul_(state["exp_inf"], beta2), norm)
            denom = exp_inf + hp["eps"]
        else:
            # u ← max(β₂ u, |g| + ε);  d ← u
            norm += hp["eps"]
            denom = exp_inf = ops.maximum_(ops.mul_(state["exp_inf"], beta2), norm)
        # θ ← θ − γ / (1 − β₁ᵗ) · m / d
        clr = lr / self.bias_correction(ops, param, beta1, ops.item(state["step"]))
        ops.addcdiv_(param, exp_avg, denom, value=-clr)
