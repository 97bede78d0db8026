"""RMSprop: steps scaled by a leaky average of squared gradients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.rules.base import (
    Rule,
    State,
    check_at_least,
    check_interval,
    check_lr,
    decay_or_l2,
    scalar,
    unpack,
)

__all__ = ["RMSprop"]


class RMSprop(Rule):
    r"""RMSprop: divide the step by the root of a leaky average of squared gradients.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        t ← t + 1                                (counted, not used)
        g ← −g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        v ← α v + (1 − α) g²
        if centered:
            ḡ ← ḡ + (1 − α)(g − ḡ)               (leaky average of g)
            d ← √(v − ḡ²) + ε
        else:
            d ← √v + ε
        if μ > 0:
            b ← μ b + g / d
            θ ← θ − γ b
        else:
            θ ← θ − γ g / d

    Symbols: γ is ``lr``, α is ``alpha``, ε is ``eps``, λ is ``weight_decay``, μ is
    ``momentum``; t, v, ḡ and b are the state entries ``step``, ``square_avg``, ``grad_avg``
    (only when ``centered``) and ``momentum_buffer`` (only when μ > 0).

    Defaults are torch's: ``lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False``.

    Conventions (where sources differ):
        * d2l calls α ``gamma`` (its demos use 0.9); Keras calls it ``rho`` (default 0.9).
        * torch adds ε outside the square root; Keras adds it inside, √(v + ε).
        * With momentum, torch keeps γ outside the buffer; Keras puts it inside.
        * torch accepts any α ≥ 0; this course also rejects α > 1, which makes v negative.
        * torch creates ``momentum_buffer``/``grad_avg`` only if momentum/centered were on at the
          first step: switching them on later raises KeyError, in torch and here.

    >>> import numpy as np
    >>> rule = RMSprop(lr=0.1, alpha=0.9, eps=0.0)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x.round(6)     # v = 0.1 g², so g/√v = ±√10
    array([ 0.683772, -1.683772])
    """

    name = "rmsprop"
    defaults = {
        "lr": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "weight_decay": 0,
        "momentum": 0,
        "centered": False,
        "maximize": False,
    }

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_at_least(hp["eps"], "eps", "epsilon")
        check_at_least(hp["momentum"], "momentum")
        check_at_least(hp["weight_decay"], "weight_decay")
        check_at_least(hp["alpha"], "alpha")
        check_interval(hp["alpha"], "alpha", 0.0, 1.0, closed_high=True)

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, hp = unpack(param, hp, self)
        state = {"step": ops.counter(), "square_avg": ops.zeros_like(param)}
        if hp["momentum"] > 0:
            state["momentum_buffer"] = ops.zeros_like(param)
        if hp["centered"]:
            state["grad_avg"] = ops.zeros_like(param)
        return state

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr, alpha = scalar(hp["lr"]), hp["alpha"]
        if hp["maximize"]:
            grad = -grad
        # t ← t + 1
        state["step"] += 1
        # g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # v ← α v + (1 − α) g²
        square_avg = ops.addcmul_(ops.mul_(state["square_avg"], alpha), grad, grad, 1 - alpha)
        if hp["centered"]:
            # ḡ ← ḡ + (1 − α)(g − ḡ);  d ← √(v − ḡ²)
            grad_avg = ops.lerp_(state["grad_avg"], grad, 1 - alpha)
            avg = ops.addcmul(square_avg, grad_avg, grad_avg, value=-1)
            avg = ops.sqrt(avg)
        else:
            # d ← √v
            avg = ops.sqrt(square_avg)
        # d ← d + ε
        avg += hp["eps"]
        if hp["momentum"] > 0:
            # b ← μ b + g / d;  θ ← θ − γ b
            buf = ops.addcdiv_(ops.mul_(state["momentum_buffer"], hp["momentum"]), grad, avg)
            ops.add_(param, buf, alpha=-lr)
        else:
            # θ ← θ − γ g / d
            ops.addcdiv_(param, grad, avg, value=-lr)
