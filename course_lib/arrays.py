"""An optimizer over numpy arrays, built on the same update rules as the torch optimizers.

Two ways to hand it gradients, after the two styles learners meet:

* ``update(params, grads)``: two dicts with the same keys, as the numpy optimizers of
  *Deep Learning from Scratch* and the seed article's ``AdamOptimizer`` take them;
* ``apply_gradients(pairs)``: ``(gradient, variable)`` pairs, as Keras takes them.

The arrays in ``params`` are updated in place, so keep updating the same array objects: the
optimizer's state (moments, step counts) is attached to each array. Every input is checked
before any array or state changes; a mismatch raises an error naming the parameter.

A gradient of None skips its parameter, as torch does: no state is created, its step count
does not advance. Each parameter keeps its own step count (torch's convention; Keras keeps one
global ``iterations`` counter, which is :attr:`ArrayOptimizer.iterations` here).

>>> import numpy as np
>>> from course_lib.arrays import ArrayOptimizer
>>> params = {"w": np.array([1.0, -2.0])}
>>> opt = ArrayOptimizer("sgd", lr=0.1)
>>> opt.update(params, {"w": 2 * params["w"]})
>>> params["w"]
array([ 0.8, -1.6])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from course_lib import rules
from course_lib.rules import Rule, State
from course_lib.rules.base import check_lr

__all__ = ["ArrayOptimizer", "AdamOptimizer"]


class ArrayOptimizer:
    """Updates numpy arrays in place with an update rule.

    Args:
        rule: a rule object (``course_lib.rules.Adam(lr=0.1)``) or a rule name (``"adam"``).
        **hyperparams: hyperparameters with torch's names, replacing the rule's. ``lr`` may be
            a number or a schedule (any function of the update index ``t``, e.g. from
            :mod:`course_lib.schedules`); the t-th call of ``update``/``apply_gradients``
            (counting from 0) uses ``lr(t)``.
    """

    #: Accept gradients that numpy broadcasts to the parameter's shape (a scalar for a (1,)
    #: bias), as numpy code's ``params[key] -= ...`` does; off: shapes must match exactly.
    broadcast_gradients = False

    def __init__(self, rule: Rule | str, **hyperparams: Any) -> None:
        #: The learning-rate schedule, when ``lr`` was given as one.
        self.lr_schedule: Callable[[int], float] | None = None
        if callable(hyperparams.get("lr")):
            self.lr_schedule = hyperparams["lr"]
            hyperparams["lr"] = self._scheduled_lr(0)
        if isinstance(rule, str):
            rule = rules.make(rule, **hyperparams)
        elif isinstance(rule, Rule):
            rule = rule.with_hyperparams(**hyperparams) if hyperparams else rule
        else:
            raise TypeError(f"rule must be a course_lib rule or a name, got {rule!r}")
        if rule.needs_hessian:
            raise TypeError(
                "Newton's method needs a Hessian at every step; run it with "
                "rule.step(x, grad, state, hessian=H) or a trajectory runner instead"
            )
        self.rule: Rule = rule
        #: How many times ``update``/``apply_gradients`` ran (Keras' global step counter).
        self.iterations = 0
        self._slots: dict[int, tuple[np.ndarray, State]] = {}

    @property
    def hyperparams(self) -> Mapping[str, Any]:
        """The rule's hyperparameters (torch's names)."""
        return self.rule.hyperparams

    def state_of(self, array: np.ndarray) -> State:
        """The state the optimizer keeps for ``array`` (empty before its first update)."""
        slot = self._slots.get(id(array))
        return slot[1] if slot is not None and slot[0] is array else {}

    def update(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray | None]
    ) -> None:
        """Update each ``params[name]`` in place with ``grads[name]``; the keys must agree."""
        if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
            raise TypeError("update(params, grads) takes two dicts keyed by parameter name")
        missing = [name for name in params if name not in grads]
        extra = [name for name in grads if name not in params]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"no gradient for {', '.join(map(repr, missing))}")
            if extra:
                parts.append(f"gradients for unknown parameters {', '.join(map(repr, extra))}")
            raise ValueError("params and grads must have the same keys: " + "; ".join(parts))
        pairs = [(grads[name], params[name], f"params[{name!r}]") for name in params]
        self._apply(pairs)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, np.ndarray]]) -> None:
        """Keras-style: update each variable in place from ``(gradient, variable)`` pairs."""
        pairs = []
        for index, pair in enumerate(grads_and_vars):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ValueError(
                    f"apply_gradients takes (gradient, variable) pairs; item {index} is {pair!r}"
                )
            pairs.append((pair[0], pair[1], f"variable {index}"))
        self._apply(pairs)

    def _apply(self, pairs: list[tuple[Any, np.ndarray, str]]) -> None:
        checked = self._checked(pairs)
        hyperparams = self.rule.hyperparams
        if self.lr_schedule is not None:
            hyperparams = {**hyperparams, "lr": self._scheduled_lr(self.iterations)}
        self._step_all(checked, hyperparams)
        self.iterations += 1

    def _slot(self, param: np.ndarray) -> State:
        """The state of ``param``, created on its first update."""
        slot = self._slots.get(id(param))
        if slot is None or slot[0] is not param:
            slot = self._slots[id(param)] = (param, self.rule.init(param))
        return slot[1]

    def _step_all(self, checked: list[tuple[np.ndarray, np.ndarray]],
                  hyperparams: Mapping[str, Any]) -> None:
        """One update of every (gradient, parameter) pair: the rule, parameter by parameter."""
        for grad, param in checked:
            self.rule.step(param, grad, self._slot(param), hyperparams)

    def _checked(self, pairs: list[tuple[Any, np.ndarray, str]]) -> list[tuple[Any, Any]]:
        """The (gradient, parameter) pairs to update, checked before anything changes."""
        checked = []
        seen: set[int] = set()
        for grad, param, label in pairs:
            if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
                raise TypeError(
                    f"{label} must be a floating-point numpy array updated in place, got "
                    f"{type(param).__name__}"
                    + (f" of dtype {param.dtype}" if isinstance(param, np.ndarray) else "")
                )
            if not param.flags.writeable:
                raise ValueError(f"{label} is read-only; the optimizer updates it in place")
            if id(param) in seen:
                raise ValueError(f"{label} appears twice in one update")
            seen.add(id(param))
            if grad is None:
                continue
            grad = np.asarray(grad)
            if self.broadcast_gradients and grad.shape != param.shape:
                try:
                    grad = np.broadcast_to(grad, param.shape)
                except ValueError:
                    pass  # reported below
            if grad.shape != param.shape:
                raise ValueError(
                    f"the gradient for {label} has shape {grad.shape}, "
                    f"but the parameter has shape {param.shape}"
                )
            if not np.issubdtype(grad.dtype, np.number):
                raise TypeError(f"the gradient for {label} is not numeric (dtype {grad.dtype})")
            checked.append((grad.astype(param.dtype, copy=False), param))
        return checked

    def _scheduled_lr(self, t: int) -> float:
        value = self.lr_schedule(t)
        try:
            check_lr(value)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"the lr schedule gave {value!r} at t={t}; it must give numbers >= 0"
            ) from error
        return value

    def __repr__(self) -> str:
        schedule = "" if self.lr_schedule is None else f", lr={self.lr_schedule!r}"
        return f"ArrayOptimizer({self.rule!r}{schedule})"


class AdamOptimizer(ArrayOptimizer):
    """The numpy interface of the seed article's Adam: ``AdamOptimizer(learning_rate, beta1,
    beta2, epsilon).update(params, grads)``, computed by :class:`course_lib.rules.Adam`.

    The article adds ε to √v̂ after the bias correction, which is torch's Adam, so this is
    ``ArrayOptimizer(rules.Adam(lr=learning_rate, betas=(beta1, beta2), eps=epsilon))`` with
    the article's argument names and defaults. As in the article's code, ``params`` may be a new
    dict at each call as long as it holds the same arrays, and a gradient may be anything numpy
    broadcasts to its parameter's shape (the article's bias gradient is a scalar for a (1,)
    array).

    >>> import numpy as np
    >>> b = np.zeros(1)
    >>> opt = AdamOptimizer(learning_rate=0.01)
    >>> opt.update({"b": b}, {"b": np.float64(-2.0)}); b    # first step: lr · sign(−g)
    array([0.01])
    """

    broadcast_gradients = True

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8) -> None:
        super().__init__(rules.Adam(lr=learning_rate, betas=(float(beta1), float(beta2)),
                                    eps=epsilon))
