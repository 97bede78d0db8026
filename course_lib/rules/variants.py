"""The same algorithms as d2l, Keras and cs231n write them, where they differ from torch.

The chapters compare these with the torch-convention rules to show, by computation, what each
difference does. Each is the torch rule with a convention switched (the formula lives once, in
the torch rule), except Keras' momentum, which is a formula of its own:

* :class:`KerasSGD`: Keras, cs231n and Deep Learning from Scratch momentum, v ← μv − γg,
  θ ← θ + v (defined in :mod:`course_lib.rules.keras`);
* :class:`KerasAdam`: Keras' Adam (also Deep Learning from Scratch's): torch's Adam with ε added
  to the uncorrected √v (defined in :mod:`course_lib.rules.keras`);
* :class:`D2LAdagrad`: d2l's Adagrad: torch's Adagrad with ε inside the square root;
* :class:`D2LRMSProp`: d2l's RMSProp: torch's RMSprop with ε inside the square root, and torch's
  ``alpha`` called ``gamma``.

The other Keras optimizers (KerasRMSprop, KerasAdagrad, ...) are in :mod:`course_lib.rules.keras`.
Deep Learning from Scratch's AdaGrad, ``θ ← θ − γ g / (√h + 1e-7)``, needs no class: it is torch's
Adagrad with ``eps=1e-7`` (:class:`course_lib.rules.Adagrad`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from course_lib.backend import ops_for
from course_lib.rules.adagrad import Adagrad
from course_lib.rules.base import State, check_at_least, check_interval, check_lr
from course_lib.rules.keras import KerasAdam, KerasSGD
from course_lib.rules.rmsprop import RMSprop

__all__ = ["KerasSGD", "D2LAdagrad", "D2LRMSProp", "KerasAdam"]


class D2LAdagrad(Adagrad):
    r"""Adagrad as d2l writes it: :class:`~course_lib.rules.Adagrad` with ε inside the root.

    The math, in the order the code runs it::

        s ← s + g²
        θ ← θ − γ g / √(s + ε)

    Symbols: γ is ``lr``, ε is ``eps``; s is the state entry ``sum``. Defaults: d2l's demo
    values ``lr=0.1, eps=1e-6`` (no decay, no weight decay, s starts at 0).

    Relation to torch's Adagrad (θ ← θ − γ g / (√s + ε), ε = 1e-10): the same when ε = 0;
    otherwise the printed digits differ (in d2l's 2-D demo, around the 6th decimal).
    """

    name = "d2l_adagrad"
    eps_inside_root = True
    defaults = {"lr": 0.1, "eps": 1e-6}
    fixed = {"lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0,
             "maximize": False}

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        # A state written by hand as {"sum": ...} (d2l keeps no step count) gets one here.
        if "step" not in state:
            state["step"] = ops_for(param).counter()
        super().step(param, grad, state, self._with_fixed(hp))

    def _with_fixed(self, hp: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        return hp if hp is None else {**self.fixed, **hp}


class D2LRMSProp(RMSprop):
    r"""RMSProp as d2l writes it: :class:`~course_lib.rules.RMSprop` with ε inside the root.

    The math, in the order the code runs it::

        s ← γ s + (1 − γ) g²
        θ ← θ − η g / √(s + ε)

    Symbols: η is ``lr``, γ is ``gamma`` (torch's ``alpha``), ε is ``eps``; s is the state entry
    ``square_avg``. Defaults: d2l's demo values ``lr=0.4, gamma=0.9, eps=1e-6``.

    Relation to torch's RMSprop (ε = 1e-8 outside the root): the same when ε = 0.
    """

    name = "d2l_rmsprop"
    eps_inside_root = True
    defaults = {"lr": 0.4, "gamma": 0.9, "eps": 1e-6}
    fixed = {"weight_decay": 0, "momentum": 0, "centered": False, "maximize": False}

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_interval(hp["gamma"], "gamma", 0.0, 1.0, closed_high=True)
        check_at_least(hp["eps"], "eps", "epsilon")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        return super().init(param, self._torch_names(hp))

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        super().step(param, grad, state, self._torch_names(hp))

    def _torch_names(self, hp: Mapping[str, Any] | None) -> Mapping[str, Any]:
        hp = self.hyperparams if hp is None else hp
        return {**self.fixed, **hp, "alpha": hp["gamma"]}
