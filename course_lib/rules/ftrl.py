"""FTRL-Proximal: follow the regularized leader, Keras' optimizer for wide, sparse models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.rules.base import Rule, State, check_at_least, check_lr, decay_or_l2, scalar, unpack

__all__ = ["Ftrl"]


class Ftrl(Rule):
    r"""FTRL-Proximal (McMahan et al., 2013) as Keras 3 writes it; torch has no counterpart.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        θ ← θ (1 − γ λ_w)                        if λ_w ≠ 0 (Keras' decoupled weight_decay)
        λ₂' ← λ₂ + β / (2γ)
        g' ← g + 2 λ_s θ                          (shrinkage: an L2 penalty on the loss)
        n' ← n + g²
        z ← z + g' − (n'^(−p) − n^(−p)) / γ · θ
        q ← n'^(−p) / γ + 2 λ₂'
        θ ← (clip(z, −λ₁, λ₁) − z) / q            (0 wherever |z| ≤ λ₁: L1 makes zeros)
        n ← n'

    Symbols: γ is ``lr``, p is ``learning_rate_power`` (−½: per-coordinate steps shrinking like
    1/√n, as Adagrad's), λ₁, λ₂ and λ_s are ``l1_regularization_strength``,
    ``l2_regularization_strength`` and ``l2_shrinkage_regularization_strength``, β is ``beta``,
    λ_w is ``weight_decay``; n and z are the state entries ``accumulator`` (starting at
    ``initial_accumulator_value``) and ``linear`` (starting at 0).

    Defaults are Keras': ``lr=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
    l1_regularization_strength=0, l2_regularization_strength=0,
    l2_shrinkage_regularization_strength=0, beta=0, weight_decay=0``.

    Conventions: θ is not moved by a step; it is *recomputed* from z and n, the closed-form
    minimiser of the linearised losses so far plus the regularizers. With λ₁ = λ₂ = β = 0 and
    p = −½ this is Adagrad-like: θ = −γ z / √n.

    >>> import numpy as np
    >>> rule = Ftrl(lr=0.1, initial_accumulator_value=0.0)
    >>> x = np.array([1.0, -2.0]); state = rule.init(x)
    >>> rule.step(x, 2 * x, state); x      # z = g − √(g²)/γ · θ = g − 10 |g| θ; θ = −γ z/|g|
    array([ 0.9, -1.9])
    """

    name = "ftrl"
    defaults = {
        "lr": 1e-3,
        "learning_rate_power": -0.5,
        "initial_accumulator_value": 0.1,
        "l1_regularization_strength": 0.0,
        "l2_regularization_strength": 0.0,
        "l2_shrinkage_regularization_strength": 0.0,
        "beta": 0.0,
        "weight_decay": 0,
    }
    fixed = {"decoupled_weight_decay": True}

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        if hp["lr"] == 0:
            raise ValueError("Invalid learning rate: 0 (Ftrl divides by lr: lr must be > 0)")
        check_at_least(hp["initial_accumulator_value"], "initial_accumulator_value")
        if not hp["learning_rate_power"] <= 0:
            raise ValueError(
                f"Invalid learning_rate_power value: {hp['learning_rate_power']} "
                "(learning_rate_power must be <= 0)"
            )
        for name in ("l1_regularization_strength", "l2_regularization_strength",
                     "l2_shrinkage_regularization_strength", "beta", "weight_decay"):
            check_at_least(hp[name], name)

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, hp = unpack(param, hp, self)
        return {
            "accumulator": ops.full_like(param, hp["initial_accumulator_value"]),
            "linear": ops.zeros_like(param),
        }

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr = scalar(hp["lr"])
        power = -hp["learning_rate_power"]
        l1 = hp["l1_regularization_strength"]
        # θ ← θ (1 − γ λ_w)
        decay_or_l2(param, grad, lr, hp, ops)
        # λ₂' ← λ₂ + β / (2γ)
        l2 = hp["l2_regularization_strength"] + hp["beta"] / (2.0 * lr)
        # g' ← g + 2 λ_s θ
        shrunk = grad + (2 * hp["l2_shrinkage_regularization_strength"]) * param
        # n' ← n + g²
        accumulator = state["accumulator"]
        new_accumulator = accumulator + grad * grad
        # z ← z + g' − (n'^(−p) − n^(−p)) / γ · θ
        sigma = (new_accumulator**power - accumulator**power) / lr
        ops.add_(state["linear"], shrunk - sigma * param)
        # q ← n'^(−p) / γ + 2 λ₂';  θ ← (clip(z, −λ₁, λ₁) − z) / q
        quadratic = new_accumulator**power / lr + 2 * l2
        linear = state["linear"]
        clipped = ops.clamp_(ops.clone(linear), -l1, l1)
        param[...] = (clipped - linear) / quadratic
        # n ← n'
        state["accumulator"] = new_accumulator
