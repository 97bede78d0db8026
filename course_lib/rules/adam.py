"""Adam and AdamW: bias-corrected leaky averages of the gradient and of its square."""

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

__all__ = ["Adam", "AdamW"]


class Adam(MomentRule):
    r"""Adam: momentum on the gradient, RMSprop scaling, and a correction for their zero start.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        t ← t + 1
        g ← −g                                   if maximize
        θ ← θ (1 − γ λ)                          if λ ≠ 0 and decoupled_weight_decay
        g ← g + λ θ                              if λ ≠ 0 otherwise (L2)
        m ← m + (1 − β₁)(g − m)                  (= β₁ m + (1 − β₁) g)
        v ← β₂ v + (1 − β₂) g²
        v̂ ← max(v̂, v) if amsgrad, else v
        d ← √v̂ / √(1 − β₂ᵗ) + ε                  ((√v̂ + ε) / √(1 − β₂ᵗ) with
                                                  ``eps_before_bias_correction``)
        θ ← θ − γ / (1 − β₁ᵗ) · m / d

    Symbols: γ is ``lr``, (β₁, β₂) is ``betas``, ε is ``eps``, λ is ``weight_decay``;
    t, m, v and v̂ are the state entries ``step``, ``exp_avg``, ``exp_avg_sq`` and
    ``max_exp_avg_sq`` (the last only with ``amsgrad``).

    Defaults are torch's: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    amsgrad=False, maximize=False, decoupled_weight_decay=False``.

    Conventions (where sources differ):
        * t counts this parameter's own updates and is incremented *before* the bias
          corrections, so the first update uses t = 1. A parameter whose gradient is None
          does not advance its t.
        * ε is added *after* the bias correction of √v. Keras adds it before (class attribute
          ``eps_before_bias_correction``, set by :class:`course_lib.rules.KerasAdam`), which
          equals torch's Adam with ε_torch = ε_keras / √(1 − β₂ᵗ): larger in the first steps.
          Deep Learning from Scratch does the same as Keras.
        * ``weight_decay`` is an L2 term added to g (coupled); with
          ``decoupled_weight_decay=True`` (AdamW) it shrinks θ directly. Keras'
          ``weight_decay`` is always decoupled.
        * AMSGrad keeps the maximum of the *uncorrected* v and divides it by √(1 − β₂ᵗ), as
          torch does; the paper has no bias correction.

    >>> import numpy as np
    >>> rule = Adam(lr=0.1)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x.round(6)    # first step: m̂/√v̂ = g/|g|, a step of lr
    array([ 0.9, -1.9])
    """

    name = "adam"
    defaults = {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "amsgrad": False,
        "maximize": False,
        "decoupled_weight_decay": False,
    }

    betas_same_kind = True
    #: Add ε to √v̂ before dividing by √(1 − β₂ᵗ) (Keras) instead of after (torch).
    eps_before_bias_correction: ClassVar[bool] = False

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        state = super().init(param, hp)
        ops, hp = unpack(param, hp, self)
        if hp["amsgrad"]:
            state["max_exp_avg_sq"] = ops.zeros_like(param)
        return state

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr = scalar(hp["lr"])
        beta1, beta2 = (scalar(b) for b in hp["betas"])
        if hp["maximize"]:
            grad = -grad
        # t ← t + 1
        state["step"] += 1
        t = ops.item(state["step"])
        # θ ← θ (1 − γ λ)  or  g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # m ← m + (1 − β₁)(g − m)
        exp_avg = ops.lerp_(state["exp_avg"], grad, 1 - beta1)
        # v ← β₂ v + (1 − β₂) g²
        exp_avg_sq = ops.addcmul_(ops.mul_(state["exp_avg_sq"], beta2), grad, grad, 1 - beta2)
        bias_correction1 = self.bias_correction(ops, param, beta1, t)
        bias_correction2 = self.bias_correction(ops, param, beta2, t)
        step_size = lr / bias_correction1
        # v̂ ← max(v̂, v) with amsgrad
        if hp["amsgrad"]:
            exp_avg_sq = ops.maximum_(state["max_exp_avg_sq"], exp_avg_sq)
        if self.eps_before_bias_correction:
            # d ← (√v̂ + ε) / √(1 − β₂ᵗ)
            denom = ops.sqrt(exp_avg_sq)
            denom += hp["eps"]
            denom /= bias_correction2**0.5
        else:
            # d ← √v̂ / √(1 − β₂ᵗ) + ε
            denom = ops.sqrt(exp_avg_sq) / bias_correction2**0.5
            denom += hp["eps"]
        # θ ← θ − γ / (1 − β₁ᵗ) · m / d
        ops.addcdiv_(param, exp_avg, denom, value=-step_size)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, θ ← θ (1 − γ λ), applied before the update.

    The same math as :class:`Adam` with ``decoupled_weight_decay`` fixed to True, so the decay
    never enters m or v. Defaults are torch's: ``lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=1e-2, amsgrad=False, maximize=False``.

    Conventions: the decay factor is (1 − γ λ) with the *current* learning rate, so a schedule
    on γ also schedules the decay (torch, and Loshchilov & Hutter's paper with its η_t).
    A zero gradient still decays θ; a gradient of None leaves θ untouched.

    >>> import numpy as np
    >>> rule = AdamW(lr=0.1, weight_decay=0.1)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, np.zeros(2), state); x        # zero gradient: only the decay, × 0.99
    array([ 0.99, -1.98])
    """

    name = "adamw"
    defaults = {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 1e-2,
        "amsgrad": False,
        "maximize": False,
    }
    fixed = {"decoupled_weight_decay": True}
