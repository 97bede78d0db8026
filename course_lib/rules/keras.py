"""Keras 3's optimizers, as the torch-convention rules with Keras' placements and defaults.

Keras and torch implement the same algorithms with a few different choices. Where Keras' update
is torch's with ε placed elsewhere, the decay applied differently or a constant fixed, the class
here is the torch rule of :mod:`course_lib.rules` with a class attribute switched and Keras'
defaults; the formula itself lives once, in that rule. Keras' SGD, whose learning rate sits
inside the velocity, is a different formula once the rate changes, and has its own rule; Ftrl
has no torch counterpart (:mod:`course_lib.rules.ftrl`).

============  ================================  ===============================================
Keras         rule here                         difference from the torch rule
============  ================================  ===============================================
SGD           :class:`KerasSGD`                 v ← μv − γg, θ ← θ + v (γ inside the velocity)
RMSprop       :class:`KerasRMSprop` (RMSprop)   ε inside the root; γ inside the momentum buffer
Adagrad       :class:`KerasAdagrad` (Adagrad)   ε inside the root; s starts at 0.1
Adadelta      :class:`KerasAdadelta` (Adadelta) none (only the defaults)
Adam          :class:`KerasAdam` (Adam)         ε added before the bias correction of √v
AdamW         :class:`KerasAdamW` (Adam)        the same, weight_decay 0.004 by default
Adamax        :class:`KerasAdamax` (Adamax)     ε added to u after the max, not to |g| in it
Nadam         :class:`KerasNadam` (NAdam)       momentum schedule 0.96^t (ψ = 1); Π in the
                                                parameters' precision
Ftrl          :class:`~course_lib.rules.Ftrl`   (no torch counterpart)
============  ================================  ===============================================

Hyperparameters keep torch's names here (``lr``, ``betas``, ``eps``, ``alpha``), as every rule
does; :mod:`course_lib.keras_style` takes Keras' argument names (``learning_rate``, ``beta_1``,
``epsilon``, ``rho``) and translates them. In every Keras rule ``weight_decay`` is decoupled
(θ ← θ(1 − γλ) before the update, Keras' only kind) and ``maximize`` does not exist.

Keras also computes its bias corrections 1 − βᵗ in the variables' precision, with β rounded
to it: in float32, β₂ = 0.999 is 0.99900001, which moves 1 − β₂ᵗ by about 1e-5 relative. The
Adam-family rules here do the same (class attribute ``powers_in_param_dtype``); without it,
float32 runs drift from Keras by about 1e-6 relative over 200 steps instead of 1e-7.

What the rules cannot hold is the optimizer-wide part of Keras: one global step counter (and
Nadam's one global Π) instead of one per parameter, and gradient clipping by ``clipnorm``,
``clipvalue`` or ``global_clipnorm``. :class:`course_lib.keras_style.KerasOptimizer` adds those.

>>> import numpy as np
>>> rule = KerasAdam(lr=0.1)
>>> x = np.array([1.0, -2.0]); state = rule.init(x)
>>> rule.step(x, 2 * x, state); x.round(6)     # first step: γ m̂ / (|g| + ε/√(1 − β₂)) ≈ γ
array([ 0.9, -1.9])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.rules.adadelta import Adadelta
from course_lib.rules.adagrad import Adagrad
from course_lib.rules.adam import Adam
from course_lib.rules.adamax import Adamax
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
from course_lib.rules.nadam import NAdam
from course_lib.rules.rmsprop import RMSprop

__all__ = [
    "KerasSGD",
    "KerasRMSprop",
    "KerasAdagrad",
    "KerasAdadelta",
    "KerasAdam",
    "KerasAdamW",
    "KerasAdamax",
    "KerasNadam",
]

#: What every Keras rule fixes: no maximize, and weight decay always decoupled.
_KERAS_FIXED = {"maximize": False, "decoupled_weight_decay": True}


class KerasSGD(Rule):
    r"""Momentum with the learning rate inside the velocity (Keras, cs231n, DL from Scratch).

    The math, in the order the code runs it::

        θ ← θ (1 − γ λ)                  if λ ≠ 0 (decoupled weight decay)
        v ← μ v − γ g
        θ ← θ + v                        (nesterov: θ ← θ + μ v − γ g)

    Symbols: γ is ``lr``, μ is ``momentum``, λ is ``weight_decay``; v is the state entry
    ``velocity`` (starting at 0). Defaults are Keras': ``lr=0.01, momentum=0.0,
    nesterov=False, weight_decay=0``.

    Relation to torch's SGD (b ← μ b + g, θ ← θ − γ b): with a constant γ, v = −γ b at every
    step, so the two trajectories are the same. When γ changes (a schedule), Keras' velocity
    still carries the old γ's steps while torch rescales the whole buffer by the new γ. This is
    therefore a formula of its own, not torch's with a switch.

    >>> import numpy as np
    >>> rule = KerasSGD(lr=0.1, momentum=0.9)
    >>> x = np.array([1.0]); state = rule.init(x)
    >>> rule.step(x, np.array([2.0]), state); rule.step(x, np.array([2.0]), state)
    >>> state["velocity"], x          # v = -0.2, then 0.9 (-0.2) - 0.2
    (array([-0.38]), array([0.42]))
    """

    name = "keras_sgd"
    complex_as_real = False
    defaults = {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0}
    fixed = _KERAS_FIXED

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_interval(hp["momentum"], "momentum", 0.0, 1.0, closed_high=True)
        check_at_least(hp["weight_decay"], "weight_decay")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, _ = unpack(param, hp, self)
        return {"velocity": ops.zeros_like(param)}

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        ops, hp = unpack(param, hp, self)
        lr, momentum = scalar(hp["lr"]), hp["momentum"]
        if hp["weight_decay"] != 0:
            # θ ← θ (1 − γ λ)
            decay_or_l2(param, grad, lr, {**hp, **_KERAS_FIXED}, ops)
        # v ← μ v − γ g
        velocity = ops.add_(ops.mul_(state["velocity"], momentum), grad, alpha=-lr)
        if hp["nesterov"]:
            # θ ← θ + μ v − γ g
            ops.add_(param, velocity, alpha=momentum)
            ops.add_(param, grad, alpha=-lr)
        else:
            # θ ← θ + v
            ops.add_(param, velocity)


class KerasRMSprop(RMSprop):
    r"""Keras' RMSprop: :class:`~course_lib.rules.RMSprop` with ε inside the root and γ inside
    the momentum buffer.

    The math (torch's rule with both switches on)::

        v ← ρ v + (1 − ρ) g²
        d ← √(v + ε)                     (centered: ḡ ← ρ ḡ + (1 − ρ) g; d ← √(v − ḡ² + ε))
        b ← μ b + γ g / d; θ ← θ − b     (μ > 0), else θ ← θ − γ g / d

    Symbols as in RMSprop; Keras calls α ``rho``. Defaults are Keras': ``lr=0.001, alpha=0.9,
    eps=1e-7, momentum=0, centered=False, weight_decay=0`` (decoupled).
    """

    name = "keras_rmsprop"
    eps_inside_root = True
    lr_inside_momentum = True
    defaults = {"lr": 1e-3, "alpha": 0.9, "eps": 1e-7, "weight_decay": 0, "momentum": 0.0,
                "centered": False}
    fixed = _KERAS_FIXED


class KerasAdagrad(Adagrad):
    r"""Keras' Adagrad: :class:`~course_lib.rules.Adagrad` with ε inside the root, s₀ = 0.1.

    The math: s ← s + g², θ ← θ − γ g / √(s + ε). Defaults are Keras': ``lr=0.001,
    initial_accumulator_value=0.1, eps=1e-7, weight_decay=0`` (decoupled); no ``lr_decay``.
    """

    name = "keras_adagrad"
    eps_inside_root = True
    defaults = {"lr": 1e-3, "initial_accumulator_value": 0.1, "eps": 1e-7, "weight_decay": 0}
    fixed = {"lr_decay": 0, **_KERAS_FIXED}


class KerasAdadelta(Adadelta):
    r"""Keras' Adadelta: :class:`~course_lib.rules.Adadelta` itself, with Keras' defaults.

    The formula is torch's (ε inside both roots); only the defaults differ:
    ``lr=0.001, rho=0.95, eps=1e-7, weight_decay=0`` (decoupled), against torch's
    ``lr=1.0, rho=0.9, eps=1e-6``. At lr 0.001 the algorithm moves a thousand times less than
    the paper's (which has no learning rate, i.e. lr = 1).
    """

    name = "keras_adadelta"
    defaults = {"lr": 1e-3, "rho": 0.95, "eps": 1e-7, "weight_decay": 0}
    fixed = _KERAS_FIXED


class KerasAdam(Adam):
    r"""Keras' Adam: :class:`~course_lib.rules.Adam` with ε added before the bias correction.

    Keras writes α_t ← γ √(1 − β₂ᵗ) / (1 − β₁ᵗ); θ ← θ − α_t m / (√v + ε). Dividing numerator
    and denominator by √(1 − β₂ᵗ) gives torch's update with d ← (√v + ε) / √(1 − β₂ᵗ): torch's
    Adam with an ε_t = ε / √(1 − β₂ᵗ) that starts about 32 times larger (t = 1, β₂ = 0.999) and
    shrinks to ε. A different algorithm in the first steps, the same one later.

    Defaults are Keras': ``lr=0.001, betas=(0.9, 0.999), eps=1e-7, amsgrad=False,
    weight_decay=0`` (decoupled: Keras' ``Adam(weight_decay=λ)`` is an AdamW).
    """

    name = "keras_adam"
    eps_before_bias_correction = True
    powers_in_param_dtype = True
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-7, "weight_decay": 0,
                "amsgrad": False}
    fixed = _KERAS_FIXED


class KerasAdamW(KerasAdam):
    r"""Keras' AdamW: :class:`KerasAdam` whose ``weight_decay`` defaults to 0.004 (torch: 0.01)."""

    name = "keras_adamw"
    defaults = {**KerasAdam.defaults, "weight_decay": 0.004}


class KerasAdamax(Adamax):
    r"""Keras' Adamax: :class:`~course_lib.rules.Adamax` with ε added to u after the max.

    The math: m ← m + (1 − β₁)(g − m); u ← max(β₂ u, |g|); θ ← θ − γ/(1 − β₁ᵗ) · m/(u + ε).
    Defaults are Keras': ``lr=0.001, betas=(0.9, 0.999), eps=1e-7, weight_decay=0``.
    """

    name = "keras_adamax"
    eps_outside_max = True
    powers_in_param_dtype = True
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-7, "weight_decay": 0}
    fixed = _KERAS_FIXED


class KerasNadam(NAdam):
    r"""Keras' Nadam: :class:`~course_lib.rules.NAdam` with the momentum schedule 0.96^t.

    torch's μ_t = β₁ (1 − ½ · 0.96^(t ψ)) with ψ = ``momentum_decay`` = 0.004; Keras has
    μ_t = β₁ (1 − ½ · 0.96^t): ψ = 1, fixed. Keras also keeps the product Π of the μ's in the
    parameters' precision (torch: float32). Defaults are Keras': ``lr=0.001,
    betas=(0.9, 0.999), eps=1e-7, weight_decay=0`` (decoupled).
    """

    name = "keras_nadam"
    mu_product_in_param_dtype = True
    powers_in_param_dtype = True
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-7, "weight_decay": 0}
    fixed = {"momentum_decay": 1.0, **_KERAS_FIXED}
