"""Adadelta: RMSprop whose step size is a leaky average of past step sizes."""

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

__all__ = ["Adadelta"]


class Adadelta(Rule):
    r"""Adadelta: scale the gradient by the ratio of two leaky root-mean-squares.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        t ← t + 1                                (counted, not used)
        g ← −g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        v ← ρ v + (1 − ρ) g²
        Δ ← √(u + ε) / √(v + ε) · g
        u ← ρ u + (1 − ρ) Δ²
        θ ← θ − γ Δ

    Symbols: γ is ``lr``, ρ is ``rho``, ε is ``eps``, λ is ``weight_decay``; t, v and u are the
    state entries ``step``, ``square_avg`` and ``acc_delta``.

    Defaults are torch's: ``lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False``.

    Conventions (where sources differ):
        * The paper has no learning rate: it is γ = 1, torch's default. torch keeps γ so that it
          can be scheduled; Keras' default is γ = 0.001 with ρ = 0.95.
        * ε sits inside both square roots (as in the paper). At the start u = 0, so the first
          steps have size about √ε/√v · |g|: ε sets the initial step size.

    >>> import numpy as np
    >>> rule = Adadelta(rho=0.9, eps=1e-6)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x.round(6)     # Δ ≈ √1e-6 / √(0.1 g²) · g = ±0.00316
    array([ 0.996838, -1.996838])
    """

    name = "adadelta"
    defaults = {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0, "maximize": False}

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_interval(hp["rho"], "rho", 0.0, 1.0, closed_high=True)
        check_at_least(hp["eps"], "eps", "epsilon")
        check_at_least(hp["weight_decay"], "weight_decay")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, _ = unpack(param, hp, self)
        return {
            "step": ops.counter(),
            "square_avg": ops.zeros_like(param),
            "acc_delta": ops.zeros_like(param),
        }

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr, rho, eps = scalar(hp["lr"]), hp["rho"], hp["eps"]
        # t ← t + 1
        state["step"] += 1
        if hp["maximize"]:
            grad = -grad
        # g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # v ← ρ v + (1 − ρ) g²
        square_avg = ops.addcmul_(ops.mul_(state["square_avg"], rho), grad, grad, 1 - rho)
        # Δ ← √(u + ε) / √(v + ε) · g
        std = ops.sqrt(square_avg + eps)
        delta = ops.sqrt(state["acc_delta"] + eps)
        delta /= std
        delta *= grad
        # u ← ρ u + (1 − ρ) Δ²
        ops.addcmul_(ops.mul_(state["acc_delta"], rho), delta, delta, 1 - rho)
        # θ ← θ − γ Δ
        ops.add_(param, delta, alpha=-lr)
