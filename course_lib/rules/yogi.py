"""Yogi: Adam whose second moment moves additively, by the sign of g² − v."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.rules.base import (
    MomentRule,
    State,
    decay_or_l2,
    scalar,
    unpack,
)

__all__ = ["Yogi"]


class Yogi(MomentRule):
    r"""Yogi: like Adam, but v changes by at most (1 − β₂) g² per step, in the direction of g².

    The math, in the order the code runs it, for one parameter θ with gradient g (the form
    d2l's chapter on Adam gives)::

        t ← t + 1
        g ← −g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        m ← m + (1 − β₁)(g − m)
        v ← v + (1 − β₂) · sign(g² − v) · g²
        d ← √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − γ / (1 − β₁ᵗ) · m / d

    Symbols: γ is ``lr``, (β₁, β₂) is ``betas``, ε is ``eps``, λ is ``weight_decay``;
    t, m and v are the state entries ``step``, ``exp_avg`` and ``exp_avg_sq``.

    Defaults: ``lr=1e-2, betas=(0.9, 0.999), eps=1e-3, weight_decay=0, maximize=False``;
    d2l's values (torch has no Yogi).

    Conventions (where sources differ):
        * Adam's v ← v + (1 − β₂)(g² − v) can jump by a large multiple of itself when g² ≫ v;
          Yogi's step has the same sign but a size that does not depend on v.
        * d2l starts v at 0 and bias-corrects it, as here; the paper starts v at a small
          constant (1e-6) without bias correction. The paper's ε = 1e-3 is kept.

    >>> import numpy as np
    >>> rule = Yogi(lr=0.1, eps=0.0)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x             # first step: v = (1 − β₂) g², a step of lr
    array([ 0.9, -1.9])
    """

    name = "yogi"
    defaults = {
        "lr": 1e-2,
        "betas": (0.9, 0.999),
        "eps": 1e-3,
        "weight_decay": 0,
        "maximize": False,
    }

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr = scalar(hp["lr"])
        beta1, beta2 = hp["betas"]
        if hp["maximize"]:
            grad = -grad
        # t ← t + 1
        state["step"] += 1
        t = ops.item(state["step"])
        # g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # m ← m + (1 − β₁)(g − m)
        exp_avg = ops.lerp_(state["exp_avg"], grad, 1 - beta1)
        # v ← v + (1 − β₂) sign(g² − v) g²
        grad_sq = grad * grad
        exp_avg_sq = state["exp_avg_sq"]
        ops.addcmul_(exp_avg_sq, ops.sign(grad_sq - exp_avg_sq), grad_sq, 1 - beta2)
        # d ← √(v / (1 − β₂ᵗ)) + ε
        denom = ops.sqrt(exp_avg_sq / (1 - beta2**t))
        denom += hp["eps"]
        # θ ← θ − γ / (1 − β₁ᵗ) · m / d
        ops.addcdiv_(param, exp_avg, denom, value=-lr / (1 - beta1**t))
