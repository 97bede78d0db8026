"""The same algorithms as other sources write them, where they differ from torch.

The chapters compare these with the torch-convention rules to show, by computation, what each
difference does. Each class says which source it follows and how it relates to torch's rule:

* :class:`KerasSGD`: Keras, cs231n and Deep Learning from Scratch momentum, v ← μv − γg, θ ← θ + v;
* :class:`D2LAdagrad`: d2l's Adagrad, ε inside the square root;
* :class:`D2LRMSProp`: d2l's RMSProp, ε inside the square root, γ (``gamma``) = torch's alpha;
* :class:`KerasAdam`: Keras' Adam (also Deep Learning from Scratch's): the bias correction
  folded into the step size, ε added to the uncorrected √v.

Deep Learning from Scratch's AdaGrad, ``θ ← θ − γ g / (√h + 1e-7)``, needs no class: it is torch's
Adagrad with ``eps=1e-7`` (:class:`course_lib.rules.Adagrad`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.rules.base import (
    Rule,
    State,
    check_at_least,
    check_betas,
    check_interval,
    check_lr,
    scalar,
    unpack,
)

__all__ = ["KerasSGD", "D2LAdagrad", "D2LRMSProp", "KerasAdam"]


class KerasSGD(Rule):
    r"""Momentum with the learning rate inside the velocity (Keras, cs231n, DL from Scratch).

    The math, in the order the code runs it::

        v ← μ v − γ g
        θ ← θ + v                        (nesterov: θ ← θ + μ v − γ g)

    Symbols: γ is ``lr``, μ is ``momentum``; v is the state entry ``velocity`` (starting at 0).
    Defaults are Keras': ``lr=0.01, momentum=0.0, nesterov=False``.

    Relation to torch's SGD (b ← μ b + g, θ ← θ − γ b): with a constant γ, v = −γ b at every
    step, so the two trajectories are the same. When γ changes (a schedule), Keras' velocity
    still carries the old γ's steps while torch rescales the whole buffer by the new γ.

    >>> import numpy as np
    >>> rule = KerasSGD(lr=0.1, momentum=0.9)
    >>> x = np.array([1.0]); state = rule.init(x)
    >>> rule.step(x, np.array([2.0]), state); rule.step(x, np.array([2.0]), state)
    >>> state["velocity"], x          # v = -0.2, then 0.9 (-0.2) - 0.2
    (array([-0.38]), array([0.42]))
    """

    name = "keras_sgd"
    defaults = {"lr": 0.01, "momentum": 0.0, "nesterov": False}

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_interval(hp["momentum"], "momentum", 0.0, 1.0, closed_high=True)

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, _ = unpack(param, hp, self)
        return {"velocity": ops.zeros_like(param)}

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr, momentum = scalar(hp["lr"]), hp["momentum"]
        # v ← μ v − γ g
        velocity = ops.add_(ops.mul_(state["velocity"], momentum), grad, alpha=-lr)
        if hp["nesterov"]:
            # θ ← θ + μ v − γ g
            ops.add_(param, velocity, alpha=momentum)
            ops.add_(param, grad, alpha=-lr)
        else:
            # θ ← θ + v
            ops.add_(param, velocity)


class D2LAdagrad(Rule):
    r"""Adagrad as d2l writes it: ε inside the square root.

    The math, in the order the code runs it::

        s ← s + g²
        θ ← θ − γ g / √(s + ε)

    Symbols: γ is ``lr``, ε is ``eps``; s is the state entry ``sum``. Defaults: d2l's demo
    values ``lr=0.1, eps=1e-6``.

    Relation to torch's Adagrad (θ ← θ − γ g / (√s + ε), ε = 1e-10): the same when ε = 0;
    otherwise the printed digits differ (in d2l's 2-D demo, around the 6th decimal).
    """

    name = "d2l_adagrad"
    defaults = {"lr": 0.1, "eps": 1e-6}

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_at_least(hp["eps"], "eps", "epsilon")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, _ = unpack(param, hp, self)
        return {"sum": ops.zeros_like(param)}

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        # s ← s + g²
        accumulator = ops.addcmul_(state["sum"], grad, grad, value=1)
        # θ ← θ − γ g / √(s + ε)
        ops.addcdiv_(param, grad, ops.sqrt(accumulator + hp["eps"]), value=-scalar(hp["lr"]))


class D2LRMSProp(Rule):
    r"""RMSProp as d2l writes it: ε inside the square root, the decay called γ (``gamma``).

    The math, in the order the code runs it::

        s ← γ s + (1 − γ) g²
        θ ← θ − η g / √(s + ε)

    Symbols: η is ``lr``, γ is ``gamma`` (torch's ``alpha``), ε is ``eps``; s is the state entry
    ``square_avg``. Defaults: d2l's demo values ``lr=0.4, gamma=0.9, eps=1e-6``.

    Relation to torch's RMSprop (ε = 1e-8 outside the root): the same when ε = 0.
    """

    name = "d2l_rmsprop"
    defaults = {"lr": 0.4, "gamma": 0.9, "eps": 1e-6}

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_interval(hp["gamma"], "gamma", 0.0, 1.0, closed_high=True)
        check_at_least(hp["eps"], "eps", "epsilon")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, _ = unpack(param, hp, self)
        return {"square_avg": ops.zeros_like(param)}

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        gamma = hp["gamma"]
        # s ← γ s + (1 − γ) g²
        square_avg = ops.addcmul_(ops.mul_(state["square_avg"], gamma), grad, grad, 1 - gamma)
        # θ ← θ − η g / √(s + ε)
        ops.addcdiv_(param, grad, ops.sqrt(square_avg + hp["eps"]), value=-scalar(hp["lr"]))


class KerasAdam(Rule):
    r"""Adam as Keras (and Deep Learning from Scratch) computes it: ε before the bias correction.

    The math, in the order the code runs it::

        t ← t + 1
        α_t ← γ √(1 − β₂ᵗ) / (1 − β₁ᵗ)
        m ← m + (1 − β₁)(g − m)
        v ← v + (1 − β₂)(g² − v)
        θ ← θ − α_t m / (√v + ε)

    Symbols: γ is ``lr``, (β₁, β₂) is ``betas``, ε is ``eps``; t, m, v are the state entries
    ``step``, ``exp_avg``, ``exp_avg_sq``. Defaults are Keras': ``lr=0.001, betas=(0.9, 0.999),
    eps=1e-7``.

    Relation to torch's Adam: dividing numerator and denominator by √(1 − β₂ᵗ) gives torch's
    update θ ← θ − γ/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε_t) with ε_t = ε / √(1 − β₂ᵗ). So Keras'
    Adam is torch's Adam with an ε that starts about 32 times larger (t = 1, β₂ = 0.999) and
    shrinks to ε: a different algorithm in the first steps, the same one later.
    """

    name = "keras_adam"
    defaults = {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7}

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_betas(hp["betas"])
        check_at_least(hp["eps"], "eps", "epsilon")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, _ = unpack(param, hp, self)
        return {
            "step": ops.counter(),
            "exp_avg": ops.zeros_like(param),
            "exp_avg_sq": ops.zeros_like(param),
        }

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        beta1, beta2 = hp["betas"]
        # t ← t + 1;  α_t ← γ √(1 − β₂ᵗ) / (1 − β₁ᵗ)
        state["step"] += 1
        t = ops.item(state["step"])
        alpha = scalar(hp["lr"]) * (1 - beta2**t) ** 0.5 / (1 - beta1**t)
        # m ← m + (1 − β₁)(g − m);  v ← v + (1 − β₂)(g² − v)
        exp_avg = ops.lerp_(state["exp_avg"], grad, 1 - beta1)
        exp_avg_sq = ops.lerp_(state["exp_avg_sq"], grad * grad, 1 - beta2)
        # θ ← θ − α_t m / (√v + ε)
        denom = ops.sqrt(exp_avg_sq)
        denom += hp["eps"]
        ops.addcdiv_(param, exp_avg, denom, value=-alpha)
