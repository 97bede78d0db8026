"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.rules.base import Rule, State, check_at_least, check_lr, decay_or_l2, scalar, unpack

__all__ = ["SGD"]


class SGD(Rule):
    r"""Gradient descent: step against the gradient, optionally along a running sum of gradients.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        g ← −g                         if maximize
        g ← g + λ θ                    if λ ≠ 0          (L2 penalty, coupled)
        if μ ≠ 0:
            b ← g                      on the first step (a copy; no dampening)
            b ← μ b + (1 − τ) g        on later steps
            g ← g + μ b                if nesterov
            g ← b                      otherwise
        θ ← θ − γ g

    Symbols: γ is ``lr``, μ is ``momentum``, τ is ``dampening``, λ is ``weight_decay``;
    b is the state entry ``momentum_buffer``, which exists only when μ ≠ 0.

    Defaults are torch's: ``lr=1e-3, momentum=0, dampening=0, weight_decay=0,
    nesterov=False, maximize=False``.

    Conventions (where sources differ):
        * torch, d2l and this course keep the learning rate outside the buffer,
          ``b ← μ b + g; θ ← θ − γ b``. Keras and cs231n put it inside,
          ``v ← μ v − γ g; θ ← θ + v``. The two agree while γ is constant and differ
          once a schedule changes it.
        * Dampening is skipped on the first step: the buffer starts as a copy of g.
        * Nesterov needs μ > 0 and τ = 0 (as torch).
        * Complex parameters use complex arithmetic directly, and sparse torch gradients go
          through the same calls as in torch (the buffer becomes sparse; weight decay then
          raises torch's error), so both behave as in torch.optim.SGD.

    >>> import numpy as np
    >>> rule = SGD(lr=0.1, momentum=0.9)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x          # b = g = (2, -4); x - 0.1 b
    array([ 0.8, -1.6])
    >>> rule.step(x, 2 * x, state); x          # b = 0.9 (2, -4) + (1.6, -3.2)
    array([ 0.46, -0.92])
    """

    name = "sgd"
    supports_sparse = True
    complex_as_real = False
    defaults = {
        "lr": 1e-3,
        "momentum": 0,
        "dampening": 0,
        "weight_decay": 0,
        "nesterov": False,
        "maximize": False,
    }

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_at_least(hp["momentum"], "momentum")
        check_at_least(hp["weight_decay"], "weight_decay")
        if hp["nesterov"] and (hp["momentum"] <= 0 or hp["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening "
                f"(nesterov=True needs momentum > 0 and dampening == 0; "
                f"got momentum={hp['momentum']}, dampening={hp['dampening']})"
            )

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr, momentum = scalar(hp["lr"]), hp["momentum"]
        if hp["maximize"]:
            grad = -grad
        # g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # b ← g  (first step: a copy, no dampening)
                buf = state["momentum_buffer"] = ops.clone(grad)
            else:
                # b ← μ b + (1 − τ) g
                ops.add_(ops.mul_(buf, momentum), grad, alpha=1 - hp["dampening"])
            # g ← g + μ b (Nesterov) or g ← b
            grad = ops.add(grad, buf, alpha=momentum) if hp["nesterov"] else buf
        # θ ← θ − γ g
        ops.add_(param, grad, alpha=-lr)
