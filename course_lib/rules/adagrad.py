"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from course_lib.rules.base import Rule, State, check_at_least, check_lr, decay_or_l2, scalar, unpack

__all__ = ["Adagrad"]


class Adagrad(Rule):
    r"""Adagrad: divide each coordinate's step by the root of its accumulated squared gradients.

    The math, in the order the code runs it, for one parameter θ with gradient g::

        t ← t + 1
        g ← −g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        γ_t ← γ / (1 + (t − 1) δ)                (learning-rate decay)
        s ← s + g²
        θ ← θ − γ_t g / (√s + ε)                 (√(s + ε) with ``eps_inside_root``)

    Symbols: γ is ``lr``, δ is ``lr_decay``, λ is ``weight_decay``, ε is ``eps``,
    s₀ is ``initial_accumulator_value``; t and s are the state entries ``step`` and ``sum``.
    (torch's documentation writes the decay as η; the chapters keep η for the learning rate,
    so the decay is δ here.)

    Defaults are torch's: ``lr=1e-2, lr_decay=0, weight_decay=0,
    initial_accumulator_value=0, eps=1e-10, maximize=False``.

    Sparse gradients (torch tensors): as torch, only the entries the gradient touches change.
    The gradient is coalesced, s gains g² at those entries, and θ moves there by
    γ_t g / (√s + ε); weight decay cannot be combined with them (RuntimeError, as torch).

    Conventions (where sources differ):
        * torch adds ε *outside* the square root, ``g / (√s + ε)``, with ε = 1e-10.
          d2l puts it inside, ``g / √(s + ε)``, with ε = 1e-6; Keras also puts it inside
          and starts s at 0.1. The printed digits of the two forms differ. The class attribute
          ``eps_inside_root`` selects the placement: :class:`course_lib.rules.KerasAdagrad` and
          :class:`course_lib.rules.D2LAdagrad` are this rule with ε inside.
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
    supports_sparse = True
    #: ε inside the square root, √(s + ε) (Keras, d2l), instead of torch's √s + ε.
    eps_inside_root: ClassVar[bool] = False
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
        sparse = ops.is_sparse(grad)
        if sparse and hp["weight_decay"] != 0:
            # torch's error, raised here before the state changes
            raise RuntimeError("weight_decay option is not compatible with sparse gradients "
                               "(Adagrad: use weight_decay=0 with sparse gradients)")
        # t ← t + 1
        state["step"] += 1
        t = ops.item(state["step"])
        if hp["maximize"]:
            grad = -grad
        # g ← g + λ θ
        grad = decay_or_l2(param, grad, lr, hp, ops)
        # γ_t ← γ / (1 + (t − 1) δ)
        clr = lr / (1 + (t - 1) * hp["lr_decay"])
        eps = hp["eps"]
        if sparse:
            # the same update on the entries the gradient touches (torch's sparse path)
            grad = ops.coalesce(grad)
            values = ops.sparse_values(grad)
            # s ← s + g²
            state["sum"].add_(ops.sparse_like(grad, values.pow(2)))
            root = ops.sparse_values(ops.sparse_mask(state["sum"], grad))
            # θ ← θ − γ_t g / (√s + ε)
            root = (root + eps).sqrt_() if self.eps_inside_root else root.sqrt_().add_(eps)
            ops.add_(param, ops.sparse_like(grad, values / root), alpha=-clr)
            return
        # s ← s + g²
        accumulator = ops.addcmul_(state["sum"], grad, grad, value=1)
        # θ ← θ − γ_t g / (√s + ε)   or   θ ← θ − γ_t g / √(s + ε)
        if self.eps_inside_root:
            std = ops.sqrt(accumulator + eps)
        else:
            std = ops.sqrt(accumulator)
            std += eps
        ops.addcdiv_(param, grad, std, value=-clr)
