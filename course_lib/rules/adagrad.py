"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.rules.base import Rule, State, check_at_least, check_lr, decay_or_l2, scalar, unpack

__all__ = ["Adagrad"]


class Adagrad(Rule):
    r"""Adagrad: divide each coordinate's step by the root of its accumulated squared gradients.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        t ← t + 1
        g ← −g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        γ_t ← γ / (1 + (t − 1) η)                (learning-rate decay)
        s ← s + g²
        θ ← θ − γ_t g / (√s + ε)

    Symbols: γ is ``lr``, η is ``lr_decay``, λ is ``weight_decay``, ε is ``eps``,
    s₀ is ``initial_accumulator_value``; t and s are the state entries ``step`` and ``sum``.

    Defaults are torch's: ``lr=1e-2, lr_decay=0, weight_decay=0,
    initial_accumulator_value=0, eps=1e-10, maximize=False``.

    Conventions (where sources differ):
        * torch adds ε *outside* the square root, ``g / (√s + ε)``, with ε = 1e-10.
          d2l puts it inside, ``g / √(s + ε)``, with ε = 1e-6; Keras also puts it inside
          and starts s at 0.1. The printed digits of the two forms differ.
        * Only Adagrad has ``lr_decay`` in torch; SGD does not take it.
        * torch's optimizer creates the state of every parameter when it is built, from the
          constructor's ``initial_accumulator_value``; a per-group value is ignored.
          :class:`course_lib.optim.Adagrad` does the same.

    >>> import numpy as np
    >>> rule = Adagrad(lr=0.5)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x.round(6)     # each coordinate moves by lr: g/|g| = ±1
    array([ 0.5, -1.5])
    >>> state["sum"]
    array([ 4., 16.])
    """

    name = "adagrad"
    defaults = {
        "lr": 1e-2,
        "lr_decay": 0,
        "weight_decay": 0,
        "initial_accumulator_value": 0,
        "eps": 1e-10,
        "maximize": False,
    }

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_at_least(hp["lr_decay"], "lr_decay")
        check_at_least(hp["weight_decay"], "weight_decay")
        check_at_least(hp["initial_accumulator_value"], "initial_accumulator_value")
        check_at_least(hp["eps"], "eps", "epsilon")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, hp = unpack(param, hp, self)
        return {
            "step": ops.counter(),
            "sum": ops.full_like(param, hp["initial_accumulator_value"]),
        }

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr = scalar(hp["lr"])
        # t ← t + 1
        state["step"] += 1
        t = ops.item(state["step"])
        if hp["maximize"]:
            grad = -grad
        # g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # γ_t ← γ / (1 + (t − 1) η)
        clr = lr / (1 + (t - 1) * hp["lr_decay"])
        # s ← s + g²
        accumulator = ops.addcmul_(state["sum"], grad, grad, value=1)
        # θ ← θ − γ_t g / (√s + ε)
        std = ops.sqrt(accumulator)
        std += hp["eps"]
        ops.addcdiv_(param, grad, std, value=-clr)
