"""RAdam: Adam whose adaptive step is switched on only once its variance is tame."""

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

__all__ = ["RAdam"]


class RAdam(MomentRule):
    r"""RAdam (rectified Adam): momentum SGD for the first steps, then a rectified Adam step.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        t ← t + 1
        g ← −g                                   if maximize
        θ ← θ (1 − γ λ)                          if λ ≠ 0 and decoupled_weight_decay
        g ← g + λ θ                              if λ ≠ 0 otherwise (L2)
        m ← m + (1 − β₁)(g − m)
        v ← β₂ v + (1 − β₂) g²
        m̂ ← m / (1 − β₁ᵗ)
        ρ_∞ ← 2 / (1 − β₂) − 1;   ρ_t ← ρ_∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)
        if ρ_t > 5:
            r ← √((ρ_t − 4)(ρ_t − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_t))
            θ ← θ − m̂ · γ · √(1 − β₂ᵗ) / (√v + ε) · r
        else:
            θ ← θ − m̂ · γ

    Symbols: γ is ``lr``, (β₁, β₂) is ``betas``, ε is ``eps``, λ is ``weight_decay``;
    t, m and v are the state entries ``step``, ``exp_avg`` and ``exp_avg_sq``.

    Defaults are torch's: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, maximize=False``.

    Conventions: ε is added to the *uncorrected* √v (Adam adds it after correction). With the
    default β₂ the first rectified step is t = 6; before it the update is plain momentum.

    >>> import numpy as np
    >>> rule = RAdam(lr=0.1)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x             # t = 1: m̂ = g, θ ← θ − γ g
    array([ 0.8, -1.6])
    """

    name = "radam"
    defaults = {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "decoupled_weight_decay": False,
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
        # θ ← θ (1 − γ λ)  or  g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # m ← m + (1 − β₁)(g − m);  v ← β₂ v + (1 − β₂) g²
        exp_avg = ops.lerp_(state["exp_avg"], grad, 1 - beta1)
        exp_avg_sq = ops.addcmul_(ops.mul_(state["exp_avg_sq"], beta2), grad, grad, 1 - beta2)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        # m̂ ← m / (1 − β₁ᵗ)
        corrected_exp_avg = exp_avg / bias_correction1
        # ρ_∞ and ρ_t: the length of the approximated simple moving average
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
        if rho_t > 5.0:
            rect = (
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
            root = ops.sqrt(exp_avg_sq)
            root += hp["eps"]
            adaptive_lr = (bias_correction2**0.5) / root
            # θ ← θ − m̂ γ √(1 − β₂ᵗ) / (√v + ε) r
            ops.add_(param, corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
        else:
            # θ ← θ − m̂ γ
            ops.add_(param, corrected_exp_avg * lr, alpha=-1.0)
