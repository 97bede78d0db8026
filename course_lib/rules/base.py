"""What every update rule shares: hyperparameters, their checks, and the step protocol.

An update rule is one algorithm's math, independent of what it runs on. It has two methods:

* ``init(param) -> state``: the per-parameter state (a dict, with torch's key names);
* ``step(param, grad, state)``: one update, changing ``param`` and ``state`` in place.

A rule object carries its hyperparameters (torch's keyword names and defaults), checked when it
is built. ``step`` and ``init`` also accept a mapping ``hp`` that replaces them for one call:
that is how a torch optimizer passes each parameter group's values, and how a schedule passes
the learning rate of the current step.

The same rule object updates numpy arrays, torch tensors and 2-D demo points (numpy arrays of
shape ``(2,)``): it looks up the array operations with :func:`course_lib.backend.ops_for`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from course_lib.backend import is_torch_tensor, ops_for

__all__ = [
    "unknown_argument_hint",
    "Rule",
    "MomentRule",
    "State",
    "check_at_least",
    "check_betas",
    "check_interval",
    "check_lr",
    "check_number",
]

State = dict[str, Any]


class Rule:
    """Base class of the update rules; subclasses set ``name``, ``defaults``, ``init`` and ``step``.

    Args:
        **hyperparams: values replacing entries of ``defaults``; unknown names raise TypeError,
            invalid values raise ValueError naming the argument and its allowed range.
    """

    #: The name used by :func:`course_lib.optim.get` (lower case).
    name: ClassVar[str] = ""
    #: Hyperparameters and their defaults, with torch's names.
    defaults: ClassVar[Mapping[str, Any]] = {}
    #: Hyperparameters a variant fixes (AdamW's decoupled decay): present, but not settable.
    fixed: ClassVar[Mapping[str, Any]] = {}
    #: Whether ``step`` also needs the Hessian (``hessian=`` keyword): Newton's method.
    needs_hessian: ClassVar[bool] = False
    #: Whether ``step`` accepts sparse torch gradients (torch: SGD and Adagrad only).
    supports_sparse: ClassVar[bool] = False
    #: Whether a complex parameter is updated as a pair of reals (``torch.view_as_real``), as
    #: torch does for every optimizer but SGD, whose arithmetic is native complex arithmetic.
    complex_as_real: ClassVar[bool] = True

    def __init__(self, **hyperparams: Any) -> None:
        unknown = sorted(set(hyperparams) - set(self.defaults))
        if unknown:
            allowed = ", ".join(self.defaults)
            raise TypeError(
                f"{type(self).__name__} got unexpected hyperparameter(s) {', '.join(unknown)}; "
                f"it takes {allowed}. "
                + unknown_argument_hint(unknown[0], type(self), list(self.defaults))
            )
        merged = {**self.defaults, **hyperparams, **self.fixed}
        self.check(merged)
        self.hyperparams: Mapping[str, Any] = MappingProxyType(merged)

    # -- to be provided by each algorithm --------------------------------------------------
    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        """Raise ValueError if a hyperparameter in ``hp`` is outside its allowed range."""
        check_lr(hp["lr"])

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        """The state of a parameter before its first update."""
        return {}

    def step(self, param: Any, grad: Any, state: State, hp: Mapping[str, Any] | None = None):
        """Apply one update to ``param`` (in place) and ``state``."""
        raise NotImplementedError

    # -- shared conveniences ---------------------------------------------------------------
    def with_hyperparams(self, **changes: Any) -> Rule:
        """A new rule of the same algorithm with some hyperparameters changed (and checked)."""
        settable = {k: v for k, v in self.hyperparams.items() if k not in self.fixed}
        return type(self)(**{**settable, **changes})

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.hyperparams.items() if k not in self.fixed
        )
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and dict(other.hyperparams) == dict(self.hyperparams)

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(map(repr, self.hyperparams.items()))))


class MomentRule(Rule):
    """Base of the Adam family: the hyperparameters they share and the state they start from.

    Every member takes ``lr``, ``betas``, ``eps`` and ``weight_decay`` (checked alike) and keeps
    a step count ``step``, a first moment ``exp_avg`` and a second statistic of the gradient
    (``exp_avg_sq``, or Adamax's ``exp_inf``), all zero at the start. Each subclass writes its
    own update in ``step``.
    """

    #: torch's Adam and AdamW also require the betas to be both floats or both tensors.
    betas_same_kind: ClassVar[bool] = False
    #: Compute the bias corrections 1 − βᵗ in the parameter's precision, with β rounded to it
    #: (Keras: float32 β₂ = 0.99900001 for float32 variables) instead of in double (torch).
    powers_in_param_dtype: ClassVar[bool] = False
    #: The name of the second state buffer.
    second_moment: ClassVar[str] = "exp_avg_sq"

    @classmethod
    def check(cls, hp: Mapping[str, Any]) -> None:
        check_lr(hp["lr"])
        check_at_least(hp["eps"], "eps", "epsilon")
        check_betas(hp["betas"], same_kind=cls.betas_same_kind)
        check_at_least(hp["weight_decay"], "weight_decay")

    def init(self, param: Any, hp: Mapping[str, Any] | None = None) -> State:
        ops, _ = unpack(param, hp, self)
        return {
            "step": ops.counter(),
            "exp_avg": ops.zeros_like(param),
            self.second_moment: ops.zeros_like(param),
        }

    def bias_correction(self, ops: Any, param: Any, beta: float, t: float) -> float:
        """1 − βᵗ: in double (torch), or in the parameter's precision (Keras)."""
        if self.powers_in_param_dtype:
            return ops.one_minus_power(param, beta, t)
        return 1 - beta**t


# -- advice on an unknown argument ---------------------------------------------------------

#: Arguments learners bring from elsewhere, and what to write instead. ``{name}`` is the
#: optimizer that refused the argument.
_ARGUMENT_ADVICE = {
    "lr_decay": "lr_decay is an argument of Adagrad only (torch.optim.Adagrad); {name} has "
                "none. To decay the learning rate, use a schedule: course_lib.schedules (e.g. "
                "schedules.inverse_sqrt or a lambda t: lr / (1 + t * decay)) with the array "
                "optimizer, or torch.optim.lr_scheduler (e.g. LambdaLR) with a torch optimizer.",
    "decay": "Keras 2's decay argument is a learning-rate schedule: use course_lib.schedules "
             "or torch.optim.lr_scheduler.",
    "learning_rate": "torch's name for the learning rate is lr.",
    "epsilon": "torch's name for epsilon is eps.",
    "beta_1": "torch takes both betas as one argument: betas=(beta_1, beta_2).",
    "beta_2": "torch takes both betas as one argument: betas=(beta_1, beta_2).",
    "beta1": "torch takes both betas as one argument: betas=(beta1, beta2).",
    "beta2": "torch takes both betas as one argument: betas=(beta1, beta2).",
    "rho": "torch's RMSprop calls the decay rate alpha (Adadelta's is rho).",
    "gamma": "torch's RMSprop calls the decay rate alpha (d2l calls it gamma).",
    "clipnorm": "torch clips gradients with a separate call before step(): "
                "torch.nn.utils.clip_grad_norm_ (course_lib.clipping for arrays).",
    "clipvalue": "torch clips gradients with a separate call before step(): "
                 "torch.nn.utils.clip_grad_value_ (course_lib.clipping for arrays).",
    "global_clipnorm": "torch clips gradients with a separate call before step(): "
                       "torch.nn.utils.clip_grad_norm_ (course_lib.clipping for arrays).",
}


def unknown_argument_hint(argument: str, rule_class: type[Rule], accepted: Any) -> str:
    """Advice for an unknown keyword: where it belongs, or the accepted name it resembles."""
    accepted = [a for a in accepted if a != "params"]
    if argument in _ARGUMENT_ADVICE and not (argument == "rho" and "rho" in accepted):
        return _ARGUMENT_ADVICE[argument].format(name=rule_class.__name__)
    import difflib

    close = difflib.get_close_matches(argument, accepted, n=1, cutoff=0.6)
    if close:
        return f"Did you mean {close[0]!r}?"
    return f"{rule_class.__name__} takes: {', '.join(accepted)}."


# -- hyperparameter checks ------------------------------------------------------------------
# Messages start with torch's own wording (so torch's error tests match them) and go on to name
# the argument and its allowed range.


def check_number(value: Any, name: str) -> None:
    """TypeError unless ``value`` is a real number (or a one-element tensor)."""
    if isinstance(value, bool) or not (
        isinstance(value, numbers.Real) or is_torch_tensor(value)
    ):
        raise TypeError(f"{name} must be a real number, got {value!r}")


def check_lr(lr: Any) -> None:
    """``lr`` must be a number >= 0, or a one-element tensor holding one."""
    if is_torch_tensor(lr) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element (lr must be a number >= 0)")
    check_number(lr, "lr")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")


def check_at_least(value: Any, name: str, label: str | None = None, low: float = 0.0) -> None:
    """``value`` must be a number >= ``low``; ``label`` is torch's word for it in messages."""
    check_number(value, name)
    if not low <= value:
        raise ValueError(f"Invalid {label or name} value: {value} ({name} must be >= {low:g})")


def check_interval(value: Any, name: str, low: float, high: float, closed_high: bool) -> None:
    """``value`` must lie in ``[low, high]`` (or ``[low, high)`` when ``closed_high`` is False)."""
    check_number(value, name)
    inside = low <= value <= high if closed_high else low <= value < high
    if not inside:
        bracket = "]" if closed_high else ")"
        raise ValueError(
            f"Invalid {name} value: {value} ({name} must be in [{low:g}, {high:g}{bracket})"
        )


def check_betas(betas: Any, same_kind: bool = False) -> None:
    """``betas`` must be a pair of numbers in [0, 1).

    With ``same_kind`` (torch's Adam and AdamW) they must also be both floats or both tensors,
    so ``betas=(0, 0.99)``, whose first entry is an int, is rejected as torch rejects it.
    """
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}")
    for index, beta in enumerate(betas):
        check_number(beta, f"betas[{index}]")
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"Invalid beta parameter at index {index}: {beta} "
                f"(betas[{index}] must be in [0, 1))"
            )
    kinds = {"float" if isinstance(b, float) else "tensor" if is_torch_tensor(b) else "other"
             for b in betas}
    if same_kind and (len(kinds) != 1 or "other" in kinds):
        raise ValueError(
            f"betas must be either both floats or both Tensors, got {betas!r} "
            "(write them as floats, e.g. (0.9, 0.999))"
        )


def unpack(param: Any, hp: Mapping[str, Any] | None, rule: Rule):
    """The array operations for ``param`` and the hyperparameters to use for one call."""
    return ops_for(param), (rule.hyperparams if hp is None else hp)


def decay_or_l2(param: Any, grad: Any, lr: Any, hp: Mapping[str, Any], ops: Any) -> Any:
    """Apply ``weight_decay`` (λ), coupled or decoupled, and return the gradient to use.

    Coupled (L2, torch's default for every optimizer but AdamW):  g ← g + λ θ.
    Decoupled (``decoupled_weight_decay=True``, AdamW):           θ ← θ (1 − γ λ).
    """
    weight_decay = hp["weight_decay"]
    if weight_decay != 0:
        if hp.get("decoupled_weight_decay", False):
            param *= 1 - lr * weight_decay
        else:
            grad = ops.add(grad, param, alpha=weight_decay)
    return grad


def scalar(value: Any) -> Any:
    """A hyperparameter as torch's single-tensor path uses it: one-element tensors squeezed."""
    if is_torch_tensor(value) and value.dim() != 0:
        return value.squeeze()
    return value
