"""torch.optim optimizers built on the course's update rules, and lookup by name.

Each class here is a ``torch.optim.Optimizer`` with the constructor arguments and defaults of
the torch optimizer of the same name (torch's implementation switches ``foreach``, ``fused``,
``capturable`` and ``differentiable`` are left out). Parameter groups, ``add_param_group``,
``zero_grad``, ``step(closure)``, hooks and ``state_dict``/``load_state_dict`` come from
``torch.optim.Optimizer`` itself; the state uses torch's names (``step``, ``exp_avg``,
``momentum_buffer``, ...), so a state_dict saved by ``torch.optim.Adam`` loads into
``course_lib.optim.Adam`` and the other way round.

The math of every step is the rule's, in :mod:`course_lib.rules`; the classes here only walk the
parameter groups. A parameter whose ``grad`` is None is skipped: no state, no step count, no
weight decay, as in torch.

What NaN and inf gradients do: exactly what they do in torch. Nothing checks for them: a NaN
gradient makes the parameter and its state NaN; an inf gradient makes Adam-like states inf and
the update NaN or zero depending on the algorithm. Clip or skip such steps before ``step()``.

Where these optimizers are stricter than torch (each raises ValueError naming the argument):
RMSprop's ``alpha`` must be at most 1; hyperparameters in parameter groups (given to the
constructor or to ``add_param_group``) are checked like the constructor's, which torch does not
do.

Complex parameters and sparse gradients are handled as torch handles them: SGD updates complex
parameters with complex arithmetic, every other optimizer updates them as pairs of reals
(``torch.view_as_real`` of the parameter, its gradient and its state, so the second moment of
``a + ib`` is ``(a², b²)``, not ``|g|²``); SGD and Adagrad accept sparse gradients, the others
raise torch's RuntimeError.

Copies: ``copy.deepcopy``, ``pickle`` and ``torch.save``/``torch.load`` keep what torch keeps
(``defaults``, ``state``, ``param_groups``); the update rule is rebuilt from them on loading, as
is everything a state_dict saved before an option existed lacks (the option's default is filled
in, as torch's ``__setstate__`` does).

>>> import torch
>>> from course_lib import optim
>>> w = torch.tensor([1.0, -2.0], requires_grad=True)
>>> opt = optim.get("adam", [w], lr=0.1)
>>> (w ** 2).sum().backward(); opt.step()
>>> w.detach()
tensor([ 0.9000, -1.9000])
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import torch

from course_lib import rules
from course_lib.arrays import ArrayOptimizer
from course_lib.backend import TorchOps
from course_lib.rules import Rule, State
from course_lib.rules.base import decay_or_l2, unknown_argument_hint

__all__ = [
    "RuleOptimizer",
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
    "OPTIMIZERS",
    "get",
]

ParamsT = Iterable[torch.Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, torch.Tensor]]


class RuleOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose update is an update rule from :mod:`course_lib.rules`.

    Subclasses set ``rule_class`` and ``torch_flags`` (the implementation switches torch stores
    in every parameter group, kept with torch's default values so that state_dicts match).
    """

    rule_class: ClassVar[type[Rule]]
    torch_flags: ClassVar[Mapping[str, Any]] = {}
    #: The message torch's optimizer raises for a sparse gradient it cannot take.
    sparse_error: ClassVar[str | None] = None
    #: Whether torch adds the L2 term to a complex gradient before viewing it as reals (all
    #: but NAdam and RAdam, which view first). The sums agree; their rounding does not (a
    #: complex ``add(alpha=λ)`` rounds λθ before adding, a real one fuses the two).
    complex_l2_before_view: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _explain_unexpected_arguments(cls.__init__)

    def __init__(self, params: ParamsT, **hyperparams: Any) -> None:
        if isinstance(params, torch.Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {torch.typename(params)}: a single tensor. Wrap it in a list: "
                f"{type(self).__name__}([w], ...)"
            )
        # Checked before anything else is touched: a bad value raises ValueError here.
        self.rule = self.rule_class(**hyperparams)
        defaults = {**self.rule.hyperparams, **self.torch_flags}
        super().__init__(params, defaults)

    # -- copies and old state ---------------------------------------------------------------
    # torch's __getstate__ keeps defaults, state and param_groups only, so the rule is not
    # pickled: it is rebuilt here, after torch's __setstate__ (which also runs at the end of
    # load_state_dict). Options a group lacks (saved before they existed) get their defaults.

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        settable = dict(self.rule_class.defaults)
        for target in (self.defaults, *self.param_groups):
            for key, value in {**settable, **self.torch_flags}.items():
                target.setdefault(key, value)
            target.update(self.rule_class.fixed)
        self.rule = self.rule_class(**{key: self.defaults[key] for key in settable})
        step_dtype = TorchOps.counter().dtype
        for param_state in self.state.values():
            step = param_state.get("step") if isinstance(param_state, dict) else None
            if step is not None and not torch.is_tensor(step):
                param_state["step"] = torch.tensor(float(step), dtype=step_dtype)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; its hyperparameters are checked like the constructor's (torch does not)."""
        if isinstance(param_group, dict):
            settable = {
                key: value
                for key, value in param_group.items()
                if key in self.rule.hyperparams and key not in self.rule.fixed
            }
            if settable:
                self.rule.with_hyperparams(**settable)
        super().add_param_group(param_group)

    def _initial_state(self, param: torch.Tensor, group: Mapping[str, Any]) -> State:
        return self._init(param, group)

    def _init(self, param: torch.Tensor, group: Mapping[str, Any]) -> State:
        """The rule's initial state; for a complex parameter updated as reals, complex state."""
        if not self._as_real(param):
            return self.rule.init(param, group)
        real = torch.view_as_real(param)
        return {key: _as_complex(value, real) for key, value in
                self.rule.init(real, group).items()}

    def _as_real(self, param: torch.Tensor) -> bool:
        return torch.is_complex(param) and self.rule_class.complex_as_real

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        rule = self.rule
        # As torch: a sparse gradient the algorithm cannot take is refused before any update.
        if not self.rule_class.supports_sparse:
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is not None and param.grad.is_sparse:
                        raise RuntimeError(self.sparse_error
                                           or f"{type(self).__name__} does not support sparse "
                                           "gradients")
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                state = self.state.get(param)
                if not state:
                    state = self._initial_state(param, group)
                if self._as_real(param):
                    # torch: the real and imaginary parts are updated as independent reals
                    hp = group
                    if (self.complex_l2_before_view and group.get("weight_decay", 0) != 0
                            and not group.get("decoupled_weight_decay", False)):
                        # g ← −g, g ← g + λ θ in complex arithmetic, as torch's order has it
                        grad = -grad if group.get("maximize", False) else grad
                        grad = decay_or_l2(param, grad, group["lr"], group, TorchOps)
                        hp = {**group, "maximize": False, "weight_decay": 0}
                    real = torch.view_as_real(param)
                    real_state = {key: _as_real(value) for key, value in state.items()}
                    rule.step(real, torch.view_as_real(grad), real_state, hp)
                    for key, value in real_state.items():
                        state[key] = _as_complex(value, real)
                else:
                    rule.step(param, grad, state, group)
                if state:
                    self.state[param] = state
        return loss


def _as_real(value: Any) -> Any:
    """A complex state tensor as its real view; anything else unchanged."""
    return torch.view_as_real(value) if torch.is_tensor(value) and value.is_complex() else value


def _as_complex(value: Any, real_param: torch.Tensor) -> Any:
    """A real view shaped like ``real_param`` as the complex tensor it views; else unchanged."""
    if (torch.is_tensor(value) and not value.is_complex() and value.dim() > 0
            and value.shape == real_param.shape):
        return torch.view_as_complex(value)
    return value


def _explain_unexpected_arguments(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap an optimizer's ``__init__`` so an unknown keyword says what to use instead.

    Python's own TypeError (``... got an unexpected keyword argument 'lr_decay'``) is kept as
    the first part of the message, so code that catches it still does; the rest is advice:
    ``lr_decay`` is Adagrad's (use a schedule), ``learning_rate`` is Keras' name for ``lr``...
    """
    accepted = [name for name in inspect.signature(init).parameters if name != "self"]

    @functools.wraps(init)
    def checked(self: RuleOptimizer, *args: Any, **kwargs: Any) -> None:
        unknown = [name for name in kwargs if name not in accepted]
        if unknown:
            cls = type(self)
            raise TypeError(
                f"{cls.__name__}.__init__() got an unexpected keyword argument {unknown[0]!r}. "
                + unknown_argument_hint(unknown[0], cls.rule_class, accepted)
            )
        init(self, *args, **kwargs)

    return checked


def _doc(rule_class: type[Rule], signature: str) -> str:
    """The optimizer's docstring: the rule's math and conventions, without its numpy example."""
    text = rule_class.__doc__ or ""
    body = text.split("\n    >>>", 1)[0].rstrip()
    return (
        f"torch.optim-compatible {rule_class.__name__}: ``{signature}``.\n\n"
        f"The update is :class:`course_lib.rules.{rule_class.__name__}`:\n\n    "
        f"{body.strip()}\n"
    )


class SGD(RuleOptimizer):
    rule_class = rules.SGD
    torch_flags = {"foreach": None, "differentiable": False, "fused": None}

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )


class Adagrad(RuleOptimizer):
    rule_class = rules.Adagrad
    torch_flags = {"foreach": None, "differentiable": False, "fused": None}

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        # As torch: the state of every parameter is created now, from the constructor's value.
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param] = self._initial_state(param, group)

    def _initial_state(self, param: torch.Tensor, group: Mapping[str, Any]) -> State:
        # torch reads initial_accumulator_value from the defaults, never from the group.
        value = self.defaults["initial_accumulator_value"]
        return self._init(param, {**group, "initial_accumulator_value": value})


class RMSprop(RuleOptimizer):
    rule_class = rules.RMSprop
    torch_flags = {"capturable": False, "foreach": None, "differentiable": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )


class Adadelta(RuleOptimizer):
    rule_class = rules.Adadelta
    torch_flags = {"capturable": False, "foreach": None, "differentiable": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize
        )


_ADAM_FLAGS = {"foreach": None, "capturable": False, "differentiable": False, "fused": None}


_ADAM_SPARSE_ERROR = "Adam does not support sparse gradients, please consider SparseAdam instead"


class Adam(RuleOptimizer):
    rule_class = rules.Adam
    torch_flags = _ADAM_FLAGS
    sparse_error = _ADAM_SPARSE_ERROR

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )


class AdamW(RuleOptimizer):
    rule_class = rules.AdamW
    torch_flags = _ADAM_FLAGS
    sparse_error = _ADAM_SPARSE_ERROR

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )


class Adamax(RuleOptimizer):
    rule_class = rules.Adamax
    torch_flags = {"foreach": None, "differentiable": False, "capturable": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize
        )


class NAdam(RuleOptimizer):
    rule_class = rules.NAdam
    complex_l2_before_view = False
    torch_flags = {"foreach": None, "capturable": False, "differentiable": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )


class RAdam(RuleOptimizer):
    rule_class = rules.RAdam
    complex_l2_before_view = False
    torch_flags = {"foreach": None, "capturable": False, "differentiable": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )


class Yogi(RuleOptimizer):
    rule_class = rules.Yogi
    complex_l2_before_view = False

    def __init__(
        self,
        params: ParamsT,
        lr: float | torch.Tensor = 1e-2,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-3,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize
        )


#: The torch optimizers by lower-case name.
OPTIMIZERS: dict[str, type[RuleOptimizer]] = {
    cls.rule_class.name: cls
    for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam, RAdam, Yogi)
}

for _cls in OPTIMIZERS.values():
    _cls.__doc__ = _doc(_cls.rule_class, f"{_cls.__name__}(params, ...)")


def get(name: str, params: ParamsT | None = None, *, convention: str = "torch",
        **hyperparams: Any):
    """An optimizer by name, Keras-style: ``get("adam", model.parameters(), lr=1e-3)``.

    Args:
        name: one of sgd, adagrad, rmsprop, adadelta, adam, adamw, adamax, nadam, radam, yogi,
            in any case (with ``convention="keras"``: Keras' sgd, rmsprop, adagrad, adadelta,
            adam, adamw, adamax, nadam, ftrl).
        params: torch parameters (or parameter groups). With them, the torch optimizer of
            that name is returned; without them, an :class:`~course_lib.arrays.ArrayOptimizer`
            over the same rule, for numpy arrays.
        convention: ``"torch"`` (torch's names, defaults and formulas) or ``"keras"`` (Keras 3's:
            ``learning_rate``, ``beta_1``, ``epsilon``, decoupled ``weight_decay``, ``clipnorm``,
            ...; a :class:`course_lib.keras_style.KerasOptimizer` for numpy arrays).
        **hyperparams: the optimizer's keyword arguments, in the convention's names.

    Raises:
        ValueError: an unknown name (the message suggests the closest and lists the choices)
            or an invalid hyperparameter.
        TypeError: an argument the optimizer does not take (the message says what to use).

    >>> opt = get("adam", convention="keras", learning_rate=0.01)
    >>> opt.config["epsilon"], opt.config["weight_decay"]
    (1e-07, None)
    """
    if convention == "keras":
        if params is not None:
            raise TypeError(
                "convention='keras' builds an array optimizer for numpy arrays; call "
                "get(name, convention='keras', ...) without params and hand it "
                "(gradient, array) pairs with apply_gradients"
            )
        from course_lib import keras_style

        return keras_style.get(name, **hyperparams)
    if convention != "torch":
        raise ValueError(f"unknown convention {convention!r}; choose 'torch' or 'keras'")
    rule_cls = rules.rule_class(name, choices=tuple(OPTIMIZERS))
    if params is None:
        return ArrayOptimizer(rule_cls(**hyperparams))
    return OPTIMIZERS[rule_cls.name](params, **hyperparams)
