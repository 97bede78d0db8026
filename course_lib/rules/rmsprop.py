"""RMSprop: steps scaled by a leaky average of squared gradients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

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
            d ← √(v − ḡ²) + ε                    (√(v − ḡ² + ε) with ``eps_inside_root``)
        else:
            d ← √v + ε                           (√(v + ε) with ``eps_inside_root``)
        if μ > 0:
            b ← μ b + g / d
            θ ← θ − γ b                          (b ← μ b + γ g / d; θ ← θ − b with
                                                  ``lr_inside_momentum``)
        else:
            θ ← θ − γ g / d

    Symbols: γ is ``lr``, α is ``alpha``, ε is ``eps``, λ is ``weight_decay``, μ is
    ``momentum``; t, v, ḡ and b are the state entries ``step``, ``square_avg``, ``grad_avg``
    (only when ``centered``) and ``momentum_buffer`` (only when μ > 0).

    Defaults are torch's: ``lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False``.

    Conventions (where sources differ):
        * d2l calls α ``gamma`` (its demos use 0.9); Keras calls it ``rho`` (default 0.9).
        * torch adds ε outside the square root; Keras and d2l add it inside, √(v + ε)
          (class attribute ``eps_inside_root``).
        * With momentum, torch keeps γ outside the buffer; Keras puts it inside (class
          attribute ``lr_inside_momentum``): the same path while γ is constant, not once a
          schedule changes it. :class:`course_lib.rules.KerasRMSprop` sets both attributes.
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
    #: ε inside the square root, √(v + ε) (Keras, d2l), instead of torch's √v + ε.
    eps_inside_root: ClassVar[bool] = False
    #: The learning rate inside the momentum buffer (Keras) instead of outside (torch).
    lr_inside_momentum: ClassVar[bool] = False
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
        eps = hp["eps"]
        if hp["centered"]:
            # ḡ ← ḡ + (1 − α)(g − ḡ);  d ← √(v − ḡ²)  (or √(v − ḡ² + ε))
            grad_avg = ops.lerp_(state["grad_avg"], grad, 1 - alpha)
            avg = ops.addcmul(square_avg, grad_avg, grad_avg, value=-1)
            if self.eps_inside_root:
                avg += eps
            avg = ops.sqrt(avg)
        else:
            # d ← √v  (or √(v + ε))
            avg = ops.sqrt(square_avg + eps if self.eps_inside_root else square_avg)
        if not self.eps_inside_root:
            # d ← d + ε
            avg += eps
        if hp["momentum"] > 0:
            buf = ops.mul_(state["momentum_buffer"], hp["momentum"])
            if self.lr_inside_momentum:
                # b ← μ b + γ g / d;  θ ← θ − b
                ops.addcdiv_(buf, grad, avg, value=lr)
                ops.add_(param, buf, alpha=-1)
            else:
                # b ← μ b + g / d;  θ ← θ − γ b
                ops.addcdiv_(buf, grad, avg)
                ops.add_(param, buf, alpha=-lr)
        else:
            # θ ← θ − γ g / d
            ops.addcdiv_(param, grad, avg, value=-lr)
