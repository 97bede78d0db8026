"""Keras' convention for the array API: Keras 3's optimizers, argument names, defaults and rules.

``optim.get("adam", convention="keras", learning_rate=1e-2)`` (or :func:`get`) returns a
:class:`KerasOptimizer`: an :class:`~course_lib.arrays.ArrayOptimizer` for numpy arrays that
computes what ``keras.optimizers.Adam(learning_rate=1e-2)`` computes. It takes Keras' argument
names and defaults:

* ``learning_rate``, ``beta_1``, ``beta_2``, ``epsilon``, ``rho``, ``momentum``, ``nesterov``,
  ``centered``, ``amsgrad``, ``initial_accumulator_value`` and Ftrl's arguments;
* ``weight_decay``, always decoupled (θ ← θ(1 − γλ) before the update; ``None`` means none);
* ``clipnorm`` (each gradient to that norm), ``global_clipnorm`` (all of them together) or
  ``clipvalue`` (each entry), at most one of them.

The update rules are those of :mod:`course_lib.rules.keras` (torch's rules with Keras' ε
placements and decays) and :class:`course_lib.rules.Ftrl`. This class adds what is
optimizer-wide in Keras: one step counter ``iterations`` for all parameters (a parameter skipped
in one call, gradient None, still sees the global count next time; torch counts per parameter),
one Nadam momentum product, and the clipping, applied to the gradients before the update.

``python -m course_lib validate`` runs these against Keras itself (torch backend) over whole
trajectories; :func:`torch_arguments` translates a Keras optimizer into the nearest torch one,
and says where the two differ.

>>> import numpy as np
>>> opt = get("sgd", learning_rate=0.1, momentum=0.9)
>>> w = np.array([1.0])
>>> opt.apply_gradients([(np.array([2.0]), w)]); w     # v = -0.1 * 2, w + v
array([0.8])
>>> opt.config["nesterov"], opt.iterations
(False, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib import rules
from course_lib.arrays import ArrayOptimizer
from course_lib.rules import Rule

__all__ = [
    "KERAS_OPTIMIZERS",
    "KerasSpec",
    "KerasOptimizer",
    "get",
    "torch_arguments",
    "TorchTranslation",
    "clip_gradients",
    "porting_table",
    "porting_gap",
]

#: Keras arguments the rules do not see: the optimizer applies them to the gradients.
CLIP_ARGUMENTS = ("clipnorm", "clipvalue", "global_clipnorm")

#: Keras arguments of the base optimizer course_lib does not model.
UNSUPPORTED = ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
               "gradient_accumulation_steps")

#: State entries Keras keeps once per optimizer, not per parameter.
GLOBAL_STATE = ("step", "mu_product")


@dataclass(frozen=True)
class KerasSpec:
    """One Keras optimizer: its class name, its rule, and how Keras' arguments map onto it.

    ``arguments`` maps each Keras argument to the rule's hyperparameter: a name, or
    ``("betas", i)`` for one entry of a pair. Keras' defaults are the rule's, translated back.
    """

    keras_name: str
    rule_class: type[Rule]
    arguments: Mapping[str, Any]
    torch_name: str | None = None
    notes: tuple[str, ...] = field(default=())

    def keras_defaults(self) -> dict[str, Any]:
        """Keras' default for every argument (``weight_decay`` None when it is 0)."""
        hp = self.rule_class.defaults
        out = {}
        for keras_arg, target in self.arguments.items():
            value = hp[target[0]][target[1]] if isinstance(target, tuple) else hp[target]
            out[keras_arg] = None if keras_arg == "weight_decay" and value == 0 else value
        return {**out, **dict.fromkeys(CLIP_ARGUMENTS)}

    def to_rule_hyperparams(self, keras_args: Mapping[str, Any]) -> dict[str, Any]:
        """The rule's hyperparameters (torch's names) for Keras arguments (Keras' names)."""
        hp: dict[str, Any] = {}
        betas = list(self.rule_class.defaults.get("betas", (None, None)))
        for keras_arg, value in keras_args.items():
            target = self.arguments[keras_arg]
            if keras_arg == "weight_decay" and value is None:
                value = 0
            if isinstance(target, tuple):
                betas[target[1]] = value
                hp["betas"] = tuple(betas)
            else:
                hp[target] = value
        return hp


_COMMON = {"learning_rate": "lr", "weight_decay": "weight_decay"}
_ADAM_LIKE = {**_COMMON, "beta_1": ("betas", 0), "beta_2": ("betas", 1), "epsilon": "eps"}

#: Keras 3's optimizers that the seed article lists (eight in Keras 2) plus AdamW, by the names
#: ``keras.optimizers.get`` accepts.
KERAS_OPTIMIZERS: dict[str, KerasSpec] = {
    "sgd": KerasSpec("SGD", rules.KerasSGD,
                     {**_COMMON, "momentum": "momentum", "nesterov": "nesterov"}, "SGD"),
    "rmsprop": KerasSpec("RMSprop", rules.KerasRMSprop,
                         {**_COMMON, "rho": "alpha", "momentum": "momentum", "epsilon": "eps",
                          "centered": "centered"}, "RMSprop"),
    "adagrad": KerasSpec("Adagrad", rules.KerasAdagrad,
                         {**_COMMON, "initial_accumulator_value": "initial_accumulator_value",
                          "epsilon": "eps"}, "Adagrad"),
    "adadelta": KerasSpec("Adadelta", rules.KerasAdadelta,
                          {**_COMMON, "rho": "rho", "epsilon": "eps"}, "Adadelta"),
    "adam": KerasSpec("Adam", rules.KerasAdam, {**_ADAM_LIKE, "amsgrad": "amsgrad"}, "Adam"),
    "adamw": KerasSpec("AdamW", rules.KerasAdamW, {**_ADAM_LIKE, "amsgrad": "amsgrad"}, "AdamW"),
    "adamax": KerasSpec("Adamax", rules.KerasAdamax, dict(_ADAM_LIKE), "Adamax"),
    "nadam": KerasSpec("Nadam", rules.KerasNadam, dict(_ADAM_LIKE), "NAdam"),
    "ftrl": KerasSpec("Ftrl", rules.Ftrl,
                      {"learning_rate": "lr",
                       "learning_rate_power": "learning_rate_power",
                       "initial_accumulator_value": "initial_accumulator_value",
                       "l1_regularization_strength": "l1_regularization_strength",
                       "l2_regularization_strength": "l2_regularization_strength",
                       "l2_shrinkage_regularization_strength":
                           "l2_shrinkage_regularization_strength",
                       "beta": "beta", "weight_decay": "weight_decay"}),
}


def spec_for(name: str) -> KerasSpec:
    """The Keras optimizer called ``name`` (any case); ValueError with a suggestion if none."""
    if not isinstance(name, str):
        raise TypeError(f"an optimizer name must be a string, got {name!r}")
    key = name.lower()
    if key not in KERAS_OPTIMIZERS:
        raise ValueError(
            f"unknown Keras optimizer {name!r}; {rules.suggestion(key, KERAS_OPTIMIZERS)}"
            f"choose one of: {', '.join(KERAS_OPTIMIZERS)} (Keras 3 also ships Lion, Lamb, "
            "Adafactor, Muon and ScheduleFreeAdamW, which course_lib does not implement)"
        )
    return KERAS_OPTIMIZERS[key]


def _keras_hint(argument: str, spec: KerasSpec) -> str:
    torch_names = {"lr": "learning_rate", "eps": "epsilon", "betas": "beta_1 and beta_2",
                   "alpha": "rho"}
    if argument in torch_names:
        return f"Keras' name for {argument} is {torch_names[argument]}."
    if argument in UNSUPPORTED:
        return f"course_lib does not model Keras' {argument}."
    if argument == "lr_decay" or argument == "decay":
        return "Keras 3 has no decay argument: pass a schedule as learning_rate."
    return (f"{rules.suggestion(argument, list(spec.arguments) + list(CLIP_ARGUMENTS))}"
            f"Keras' {spec.keras_name} takes: "
            f"{', '.join(list(spec.arguments) + list(CLIP_ARGUMENTS))}.")


class KerasOptimizer(ArrayOptimizer):
    """An array optimizer with Keras 3's arguments, defaults and update rules.

    Args:
        name: ``"sgd"``, ``"rmsprop"``, ``"adagrad"``, ``"adadelta"``, ``"adam"``, ``"adamw"``,
            ``"adamax"``, ``"nadam"`` or ``"ftrl"``, in any case.
        **keras_args: Keras' arguments (Keras' names). ``learning_rate`` may be a number or a
            function of the global step ``iterations`` (a schedule).

    Raises:
        TypeError: an argument Keras' optimizer does not take (the message names the right one).
        ValueError: a value out of range, or more than one of the clipping arguments.
    """

    def __init__(self, name: str, **keras_args: Any) -> None:
        spec = spec_for(name)
        unknown = [a for a in keras_args if a not in spec.arguments and a not in CLIP_ARGUMENTS]
        if unknown:
            raise TypeError(f"Keras' {spec.keras_name} got an unexpected argument "
                            f"{unknown[0]!r}. {_keras_hint(unknown[0], spec)}")
        clip = {k: keras_args.pop(k) for k in CLIP_ARGUMENTS if keras_args.get(k) is not None}
        for key, value in clip.items():
            rules.base.check_number(value, key)
            if not value >= 0:
                raise ValueError(f"Invalid {key} value: {value} ({key} must be >= 0)")
        keras_args = {k: v for k, v in keras_args.items() if k not in CLIP_ARGUMENTS}
        if len(clip) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set "
                f"(Keras' rule). Received: {', '.join(f'{k}={v}' for k, v in clip.items())}"
            )
        if spec.keras_name == "AdamW" and "weight_decay" in keras_args \
                and keras_args["weight_decay"] is None:
            raise ValueError("Argument `weight_decay` must be a float for AdamW (Keras' rule). "
                             "Received: weight_decay=None")
        hyperparams = spec.to_rule_hyperparams(keras_args)
        super().__init__(spec.rule_class(**{k: v for k, v in hyperparams.items() if k != "lr"}),
                         **({"lr": hyperparams["lr"]} if "lr" in hyperparams else {}))
        self.spec = spec
        #: Keras' clipping argument in use, and its value (None, None without clipping).
        self.clipping: tuple[str | None, float | None] = next(iter(clip.items()), (None, None))
        self._global_state: dict[str, Any] = {}

    @property
    def config(self) -> dict[str, Any]:
        """Every Keras argument with its value, as ``keras.optimizers.X.get_config`` lists them
        (without ``name`` and the EMA and loss-scaling arguments)."""
        hp = self.rule.hyperparams
        out = {}
        for keras_arg, target in self.spec.arguments.items():
            value = hp[target[0]][target[1]] if isinstance(target, tuple) else hp[target]
            out[keras_arg] = None if keras_arg == "weight_decay" and value == 0 else value
        if self.lr_schedule is not None:
            out["learning_rate"] = self.lr_schedule
        clip_name, clip_value = self.clipping
        return {**out, **{k: (clip_value if k == clip_name else None) for k in CLIP_ARGUMENTS}}

    def _step_all(self, checked: list[tuple[np.ndarray, np.ndarray]],
                  hyperparams: Mapping[str, Any]) -> None:
        if not checked:
            raise ValueError("No gradients provided for any variable (Keras' rule: a call "
                             "with every gradient None is an error).")
        grads = clip_gradients([g for g, _ in checked], *self.clipping)
        first_state = None
        for grad, (_, param) in zip(grads, checked, strict=True):
            state = self._slot(param)
            # One counter (and one Nadam product) for the whole optimizer, as Keras keeps them.
            for key in GLOBAL_STATE:
                if key in state:
                    state[key] = (float(self.iterations) if key == "step"
                                  else self._global_state.get(key, state[key]))
            self.rule.step(param, grad, state, hyperparams)
            if first_state is None:
                first_state = state
        if first_state is not None:
            self._global_state = {k: first_state[k] for k in GLOBAL_STATE if k in first_state}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items() if v is not None)
        return f"KerasOptimizer({self.spec.keras_name!r}, {args})"


def get(name: str, **keras_args: Any) -> KerasOptimizer:
    """``keras.optimizers.get(name)``, with Keras' arguments: a :class:`KerasOptimizer`."""
    return KerasOptimizer(name, **keras_args)


def clip_gradients(grads: list[np.ndarray], how: str | None, value: float | None
                   ) -> list[np.ndarray]:
    """Keras' gradient clipping, before the update (no clipping when ``how`` is None or the
    value is 0, as in Keras).

    * ``clipnorm`` c: each g ← g · c / max(‖g‖, c);
    * ``global_clipnorm`` c: every g ← g · c · min(1/‖(g₁, g₂, …)‖, 1/c) (NaN if the norm is
      not finite);
    * ``clipvalue`` c: each entry clipped to [−c, c].

    torch's ``clip_grad_norm_`` differs: it divides by ``norm + 1e-6`` and multiplies every
    gradient even when it does not clip (:mod:`course_lib.clipping`).
    """
    if how is None or not value:
        return grads
    if how == "clipnorm":
        out = []
        for g in grads:
            norm = np.sqrt(np.sum(g * g))
            out.append(g * value / np.maximum(norm, value).astype(g.dtype))
        return out
    if how == "global_clipnorm":
        norm = np.sqrt(sum(np.sum(g * g) for g in grads))
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = value * np.minimum(1.0 / norm, 1.0 / value) + (norm - norm)
        return [g * np.asarray(scale, dtype=g.dtype) for g in grads]
    if how == "clipvalue":
        return [np.clip(g, -value, value) for g in grads]
    raise ValueError(f"unknown clipping {how!r}; choose one of: {', '.join(CLIP_ARGUMENTS)}")


@dataclass(frozen=True)
class TorchTranslation:
    """The torch optimizer nearest to a Keras one: class name, arguments, what still differs."""

    keras: str
    torch_class: str | None
    arguments: dict[str, Any]
    clipping: str | None
    differences: tuple[str, ...]

    def build(self, params: Any):
        """The torch.optim optimizer over ``params`` (clipping is yours to call before step)."""
        if self.torch_class is None:
            raise ValueError(f"torch has no counterpart of Keras' {self.keras}")
        import torch

        return getattr(torch.optim, self.torch_class)(params, **self.arguments)


def torch_arguments(name: str, **keras_args: Any) -> TorchTranslation:
    """Translate a Keras optimizer and its arguments into torch.optim's nearest equivalent.

    The translation is exact where the formulas agree (Adadelta; Nadam's schedule with
    ``momentum_decay=1``; decoupled decay as AdamW) and lists each remaining difference
    otherwise (ε placement, the momentum convention, decay that torch only has as L2).

    >>> t = torch_arguments("adam", learning_rate=1e-2, weight_decay=1e-4)
    >>> t.torch_class, t.arguments
    ('AdamW', {'lr': 0.01, 'betas': (0.9, 0.999), 'eps': 1e-07, 'amsgrad': False, \
'weight_decay': 0.0001})
    """
    opt = KerasOptimizer(name, **keras_args)
    spec, hp, config = opt.spec, opt.rule.hyperparams, opt.config
    lr = config["learning_rate"]
    decay = config.get("weight_decay")
    differences: list[str] = []
    args: dict[str, Any] = {"lr": lr}
    torch_class = spec.torch_name
    key = spec.keras_name
    if key == "SGD":
        args.update(momentum=hp["momentum"], nesterov=hp["nesterov"])
        if hp["momentum"]:
            differences.append("lr inside the velocity: the same path at a constant rate, "
                               "not once a schedule changes it")
    elif key == "RMSprop":
        args.update(alpha=hp["alpha"], eps=hp["eps"], momentum=hp["momentum"],
                    centered=hp["centered"])
        differences.append("epsilon inside the square root (torch: outside)")
        if hp["momentum"]:
            differences.append("lr inside the momentum buffer (torch: outside)")
    elif key == "Adagrad":
        args.update(initial_accumulator_value=hp["initial_accumulator_value"], eps=hp["eps"])
        differences.append("epsilon inside the square root (torch: outside)")
    elif key == "Adadelta":
        args.update(rho=hp["rho"], eps=hp["eps"])
    elif key in ("Adam", "AdamW"):
        args.update(betas=hp["betas"], eps=hp["eps"], amsgrad=hp["amsgrad"])
        differences.append("epsilon before the bias correction: torch with eps = "
                           "epsilon / sqrt(1 - beta_2^t), 32x larger at t = 1")
    elif key == "Adamax":
        args.update(betas=hp["betas"], eps=hp["eps"])
        differences.append("epsilon added to u after the max (torch: to |g| inside it)")
    elif key == "Nadam":
        args.update(betas=hp["betas"], eps=hp["eps"], momentum_decay=1.0)
        differences.append("momentum product in the parameters' precision (torch: "
                           "float32)")
    if decay:
        if key in ("Adam", "AdamW"):
            torch_class = "AdamW"
            args["weight_decay"] = decay
        elif key == "Nadam":
            args.update(weight_decay=decay, decoupled_weight_decay=True)
        else:
            args["weight_decay"] = decay
            differences.append(f"decoupled weight decay (torch's {torch_class}: L2 only"
                               + (", the same for plain SGD)" if key == "SGD"
                                  and not hp["momentum"] else ")"))
    elif key == "AdamW":
        torch_class = "Adam"  # weight_decay=None or 0: no decay
    if torch_class is None:
        differences = ["torch.optim has no FTRL"]
        args = {}
    clip_name, clip_value = opt.clipping
    clipping = None
    if clip_name == "clipnorm":
        clipping = (f"torch.nn.utils.clip_grad_norm_(p, {clip_value}) for each parameter p "
                    "(torch divides by norm + 1e-6)")
    elif clip_name == "global_clipnorm":
        clipping = (f"torch.nn.utils.clip_grad_norm_(params, {clip_value}) "
                    "(torch divides by norm + 1e-6)")
    elif clip_name == "clipvalue":
        clipping = f"torch.nn.utils.clip_grad_value_(params, {clip_value})"
    return TorchTranslation(key, torch_class, args, clipping, tuple(differences))


#: The test problem of :func:`porting_gap`: f(θ) = ½ Σ aᵢ θᵢ² from θ₀, with one steep, one
#: shallow and one nearly flat coordinate (its gradient, 1e-5 θ, is below most ε).
PORTING_CURVATURES = (4.0, 0.2, 1e-5)
PORTING_START = (1.0, -2.0, 3.0)


def porting_gap(name: str, steps: int = 200, **keras_args: Any) -> float:
    """How far torch's translation (:func:`torch_arguments`) strays from the Keras optimizer.

    Both minimise :data:`PORTING_CURVATURES`'s quadratic in float64 for ``steps`` steps; the
    result is the largest ``|θ_torch − θ_keras|`` over the run, relative to ``max |θ_keras|``
    at that step. 0 (or ~1e-16) means the translation is exact.
    """
    import torch

    translation = torch_arguments(name, **keras_args)
    if translation.torch_class is None:
        return float("nan")
    curvature = np.array(PORTING_CURVATURES)
    ours = np.array(PORTING_START)
    keras_opt = KerasOptimizer(name, **keras_args)
    param = torch.tensor(PORTING_START, dtype=torch.float64, requires_grad=True)
    torch_opt = translation.build([param])
    gap = 0.0
    for _ in range(steps):
        keras_opt.apply_gradients([(curvature * ours, ours)])
        param.grad = torch.from_numpy(curvature) * param.detach()
        torch_opt.step()
        scale = max(np.abs(ours).max(), np.finfo(float).tiny)
        gap = max(gap, float(np.abs(param.detach().numpy() - ours).max() / scale))
    return gap


def porting_table(steps: int = 200, **gap_args: Any) -> list[dict[str, Any]]:
    """One computed row per Keras optimizer: its defaults (those that are not 0 or False) and
    torch's, the torch call that ports it (at Keras' defaults), what still differs, and the gap
    :func:`porting_gap` measures with Keras' defaults updated by ``gap_args`` (e.g.
    ``learning_rate=0.01``, where the optimizer takes it).
    """
    import inspect

    import torch

    rows = []
    for name, spec in KERAS_OPTIMIZERS.items():
        translation = torch_arguments(name)
        keras_defaults = {k: v for k, v in spec.keras_defaults().items() if v is not None}
        if spec.torch_name is not None:
            signature = inspect.signature(getattr(torch.optim, spec.torch_name)).parameters
            torch_defaults = {k: p.default for k, p in signature.items()
                              if k in ("lr", "eps", "alpha", "rho", "betas",
                                       "initial_accumulator_value", "momentum_decay")}
        else:
            torch_defaults = {}
        call = (f"{translation.torch_class}(" + ", ".join(
            f"{k}={_short(v)}" for k, v in translation.arguments.items()) + ")"
                if translation.torch_class else "none")
        rows.append({
            "Keras": spec.keras_name,
            "Keras defaults": ", ".join(f"{k}={_short(v)}" for k, v in keras_defaults.items()
                                        if v not in (0, False)),
            "torch defaults": ", ".join(f"{k}={_short(v)}" for k, v in torch_defaults.items()),
            "torch port": call,
            "still differs": "; ".join(translation.differences) or "nothing",
            "gap": porting_gap(name, steps, **{k: v for k, v in gap_args.items()
                                               if k in spec.arguments}),
        })
    return rows


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else str(value)
