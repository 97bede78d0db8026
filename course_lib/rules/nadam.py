"""NAdam: Adam with Nesterov momentum and Dozat's momentum schedule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from course_lib.rules.base import (
    MomentRule,
    State,
    check_at_least,
    decay_or_l2,
    scalar,
    unpack,
)

__all__ = ["NAdam"]


class NAdam(MomentRule):
    r"""NAdam: Adam that looks one momentum step ahead, with a slowly warming momentum.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        t ← t + 1
        g ← −g                                   if maximize
        θ ← θ (1 − γ λ)                          if λ ≠ 0 and decoupled_weight_decay
        g ← g + λ θ                              if λ ≠ 0 otherwise (L2)
        μ_t ← β₁ (1 − ½ · 0.96^(t ψ));   μ_{t+1} ← β₁ (1 − ½ · 0.96^((t+1) ψ))
        Π ← Π · μ_t                              (product of the μ's so far)
        m ← m + (1 − β₁)(g − m)
        v ← β₂ v + (1 − β₂) g²
        d ← √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − γ (1 − μ_t) / (1 − Π) · g / d
        θ ← θ − γ μ_{t+1} / (1 − Π μ_{t+1}) · m / d

    Symbols: γ is ``lr``, (β₁, β₂) is ``betas``, ε is ``eps``, λ is ``weight_decay``, ψ is
    ``momentum_decay``; t, Π, m and v are the state entries ``step``, ``mu_product``,
    ``exp_avg`` and ``exp_avg_sq``.

    Defaults are torch's: ``lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False``.

    Conventions (where sources differ):
        * Π (``mu_product``) is kept in single precision, as torch keeps it (a float32 scalar
          tensor). In float64 this alone moves the trajectory by about 1e-11 relative to a
          double-precision Π; we keep torch's choice so that the two agree. Keras keeps it in
          the parameters' precision (class attribute ``mu_product_in_param_dtype``).
        * The second moment is divided by its bias correction *before* the square root
          (Adam divides after), and ε is added last.
        * Dozat's paper uses 0.96^(t/250), i.e. ψ = 0.004 (torch's default). Keras' Nadam
          uses 0.96^t, which is ψ = 1: its momentum reaches β₁ within a few dozen steps
          (:class:`course_lib.rules.KerasNadam` is this rule with ψ fixed to 1).

    >>> import numpy as np
    >>> rule = NAdam(lr=0.1)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x.round(4)
    array([ 0.8944, -1.8944])

    By hand: at t = 1, d = |g|, μ₁ = 0.9 (1 − ½ 0.96^0.004) ≈ 0.45007 and μ₂ ≈ 0.45015. The
    gradient term moves each coordinate by γ (1 − μ₁)/(1 − μ₁) · g/|g| = 0.1; the momentum term
    by γ μ₂ / (1 − μ₁ μ₂) · m/d = 0.1 · 0.45015 / 0.79740 · 0.1 ≈ 0.00565. In all, 0.10565.
    """

    name = "nadam"
    defaults = {
        "lr": 2e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "momentum_decay": 4e-3,
        "decoupled_weight_decay": False,
        "maximize": False,
    }

    #: Keep Π in the parameter's precision (Keras) instead of float32 (torch).
    mu_product_in_param_dtype: ClassVar[bool] = False

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        super().check(hp)
        check_at_least(hp["momentum_decay"], "momentum_decay")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, _ = unpack(param, hp, self)
        start = (ops.scalar_like(param, 1.0) if self.mu_product_in_param_dtype
                 else ops.scalar_state(1.0))
        return {"mu_product": start, **super().init(param, hp)}

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr = scalar(hp["lr"])
        beta1, beta2 = hp["betas"]
        psi = hp["momentum_decay"]
        if hp["maximize"]:
            grad = -grad
        # t ← t + 1
        state["step"] += 1
        t = ops.item(state["step"])
        bias_correction2 = self.bias_correction(ops, param, beta2, t)
        # θ ← θ (1 − γ λ)  or  g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # μ_t and μ_{t+1}
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))
        if self.powers_in_param_dtype:
            # Keras: 1 − ½·0.96ᵗ and β₁ in the parameter's precision
            mu = ops.in_dtype(param, ops.in_dtype(param, beta1)
                              * (1.0 - 0.5 * (1.0 - ops.one_minus_power(param, 0.96, t * psi))))
            mu_next = ops.in_dtype(param, ops.in_dtype(param, beta1) * (
                1.0 - 0.5 * (1.0 - ops.one_minus_power(param, 0.96, (t + 1) * psi))))
        # Π ← Π μ_t   (single precision, as torch)
        state["mu_product"] *= mu
        mu_product = ops.item(state["mu_product"])
        # m ← m + (1 − β₁)(g − m);  v ← β₂ v + (1 − β₂) g²
        exp_avg = ops.lerp_(state["exp_avg"], grad, 1 - beta1)
        exp_avg_sq = ops.addcmul_(ops.mul_(state["exp_avg_sq"], beta2), grad, grad, 1 - beta2)
        # d ← √(v / (1 − β₂ᵗ)) + ε
        denom = ops.sqrt(exp_avg_sq / bias_correction2)
        denom += hp["eps"]
        # the gradient term, then the momentum term
        ops.addcdiv_(param, grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
        mu_product_next = mu_product * mu_next
        ops.addcdiv_(param, exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
