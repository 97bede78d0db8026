"""Every optimization algorithm of the course, written once as an update rule.

A rule is built with torch's keyword names and defaults, and its ``step`` updates numpy arrays,
torch tensors and 2-D demo points alike (see :mod:`course_lib.rules.base`). Keras' optimizers
(:mod:`course_lib.rules.keras`) and d2l's forms (:mod:`course_lib.rules.variants`) are the same
rules with another ε placement or decay switched on, and Keras' defaults.

>>> from course_lib import rules
>>> rule = rules.make("Adam", lr=0.1)
>>> rule.hyperparams["lr"], rule.hyperparams["betas"]
(0.1, (0.9, 0.999))
"""

from __future__ import annotations

import difflib
from typing import Any

from course_lib.rules.adadelta import Adadelta
from course_lib.rules.adagrad import Adagrad
from course_lib.rules.adam import Adam, AdamW
from course_lib.rules.adamax import Adamax
from course_lib.rules.base import Rule, State
from course_lib.rules.ftrl import Ftrl
from course_lib.rules.keras import (
    KerasAdadelta,
    KerasAdagrad,
    KerasAdam,
    KerasAdamax,
    KerasAdamW,
    KerasNadam,
    KerasRMSprop,
    KerasSGD,
)
from course_lib.rules.nadam import NAdam
from course_lib.rules.newton import DiagonalNewton, Newton
from course_lib.rules.radam import RAdam
from course_lib.rules.rmsprop import RMSprop
from course_lib.rules.sgd import SGD
from course_lib.rules.variants import D2LAdagrad, D2LRMSProp
from course_lib.rules.yogi import Yogi

__all__ = [
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "RAdam",
    "Yogi",
    "Newton",
    "DiagonalNewton",
    "Ftrl",
    "KerasSGD",
    "KerasRMSprop",
    "KerasAdagrad",
    "KerasAdadelta",
    "KerasAdam",
    "KerasAdamW",
    "KerasAdamax",
    "KerasNadam",
    "D2LAdagrad",
    "D2LRMSProp",
    "Rule",
    "State",
    "RULES",
    "rule_class",
    "make",
    "suggestion",
]

#: The rules by lower-case name: torch's algorithms, Yogi and Newton, then Keras' (``keras_adam``,
#: ..., ``ftrl``) and d2l's forms (see :mod:`course_lib.rules.keras`, :mod:`~.variants`).
RULES: dict[str, type[Rule]] = {
    cls.name: cls
    for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam, RAdam, Yogi, Newton,
                DiagonalNewton, KerasSGD, KerasRMSprop, KerasAdagrad, KerasAdadelta, KerasAdam,
                KerasAdamW, KerasAdamax, KerasNadam, Ftrl, D2LAdagrad, D2LRMSProp)
}


def rule_class(name: str, choices: tuple[str, ...] | None = None) -> type[Rule]:
    """The rule class called ``name`` (any case); ValueError naming it if there is none."""
    if not isinstance(name, str):
        raise TypeError(f"an optimizer name must be a string, got {name!r}")
    allowed = choices if choices is not None else tuple(RULES)
    key = name.lower()
    if key not in allowed:
        raise ValueError(f"unknown optimizer {name!r}; {suggestion(key, allowed)}choose one of: "
                         f"{', '.join(allowed)}")
    return RULES[key]


def suggestion(word: str, choices: Any) -> str:
    """``"did you mean 'adam'? "`` for the closest of ``choices`` to ``word``, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def make(name: str, **hyperparams: Any) -> Rule:
    """Build the rule called ``name`` (any case) with the given hyperparameters."""
    return rule_class(name)(**hyperparams)
