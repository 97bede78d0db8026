"""Parity of course_lib's Keras convention with Keras 3 itself (torch backend).

For each Keras optimizer and option set, the problems of :mod:`course_lib.validation` are solved
twice in lockstep: by ``keras.optimizers.<Name>`` on ``keras.Variable`` s (Keras' torch backend,
``KERAS_BACKEND=torch``), and by :class:`course_lib.keras_style.KerasOptimizer` on numpy arrays.
Some gradients are None at some steps (Keras skips those variables and still advances its one
step counter). The option sets are Keras' defaults plus random ones drawn from a seeded
generator: learning rate, betas, ε, ρ, momentum, Nesterov, centered, AMSGrad, weight decay,
Ftrl's regularizers, and one of the three clipping arguments.

The deviation is measured as in :mod:`course_lib.validation`: the largest ``|ours − keras|``
over the trajectory, relative to the largest ``|keras|`` at each step. Targets:

* float64: 1e-12 relative. With ``clipnorm`` or ``global_clipnorm``, 1e-7: Keras 3's torch
  backend computes ``maximum``/``minimum`` of a float64 tensor and a Python number in float32
  (checked in the tests), so its clip factor is rounded to float32; course_lib's is not.
* float32: 1e-6 relative, or, where a problem amplifies rounding beyond that, no more than
  three times Keras's own float32 error: the deviation of Keras' float32 trajectory from its
  float64 one (printed as the control). Ours and Keras' are two float32 roundings of the same
  path, each about that far from it, so they can be twice as far from each other; the largest
  deviation over a trajectory fluctuates by half again from one processor to another (the worst
  ratio seen, over 144 float32 runs on two processors, was 2.2: RMSprop with ε = 1.2e-8 on the
  MLP, on an AMD EPYC).

Keras keeps its learning rate in ``keras.config.floatx()``; the float64 runs set floatx to
float64 so that it is not rounded to float32.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from course_lib import keras_style, validation

__all__ = [
    "FLOAT32_TARGET",
    "FLOAT64_TARGET",
    "keras_available",
    "option_sets",
    "compare",
    "run",
    "KerasResult",
    "format_summary",
]

FLOAT32_TARGET = 1e-6
FLOAT64_TARGET = 1e-12
#: float64 runs whose clip factor Keras rounds to float32 (see the module docstring).
FLOAT64_CLIPPED_TARGET = 1e-7
#: A float32 run beyond 1e-6 passes within this factor of Keras's own float32 error.
CONTROL_FACTOR = 3.0


def _keras():
    """Keras on the torch backend (the backend must be chosen before the first import)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    if keras.backend.backend() != "torch":
        raise RuntimeError(
            f"Keras was imported with the {keras.backend.backend()!r} backend; set "
            "KERAS_BACKEND=torch before importing keras"
        )
    return keras


def keras_available() -> str | None:
    """None if Keras 3 with the torch backend can be used here, else the reason why not."""
    try:
        _keras()
    except Exception as error:  # ImportError, or a backend already chosen
        return f"{type(error).__name__}: {error}"
    return None


def _random_options(name: str, rng: np.random.Generator) -> dict[str, Any]:
    """One random Keras option set for ``name`` (Keras' argument names)."""
    def lr(low: float, high: float) -> float:
        return float(10 ** rng.uniform(np.log10(low), np.log10(high)))

    options: dict[str, Any]
    if name == "sgd":
        momentum = float(rng.choice([0.0, 0.5, 0.9]))
        options = {"learning_rate": lr(1e-3, 3e-2), "momentum": momentum,
                   "nesterov": bool(momentum and rng.random() < 0.5)}
    elif name == "rmsprop":
        options = {"learning_rate": lr(1e-4, 3e-3), "rho": float(rng.uniform(0.8, 0.99)),
                   "momentum": float(rng.choice([0.0, 0.5])),
                   "epsilon": float(10 ** rng.uniform(-8, -4)),
                   "centered": bool(rng.random() < 0.5)}
    elif name == "adagrad":
        options = {"learning_rate": lr(1e-3, 1e-1),
                   "initial_accumulator_value": float(rng.choice([0.0, 0.1, 1.0])),
                   "epsilon": float(10 ** rng.uniform(-8, -4))}
    elif name == "adadelta":
        options = {"learning_rate": lr(1e-2, 1.0), "rho": float(rng.uniform(0.8, 0.99)),
                   "epsilon": float(10 ** rng.uniform(-8, -5))}
    elif name == "ftrl":
        options = {"learning_rate": lr(1e-2, 1e-1),
                   "learning_rate_power": float(rng.choice([-0.5, -0.25, 0.0])),
                   "initial_accumulator_value": float(rng.choice([0.1, 1.0])),
                   "l1_regularization_strength": float(rng.choice([0.0, 1e-3])),
                   "l2_regularization_strength": float(rng.choice([0.0, 1e-2])),
                   "l2_shrinkage_regularization_strength": float(rng.choice([0.0, 1e-2])),
                   "beta": float(rng.choice([0.0, 0.5]))}
    else:  # the Adam family
        options = {"learning_rate": lr(1e-4, 1e-2), "beta_1": float(rng.uniform(0.8, 0.95)),
                   "beta_2": float(rng.uniform(0.99, 0.9999)),
                   "epsilon": float(10 ** rng.uniform(-8, -5))}
        if name in ("adam", "adamw"):
            options["amsgrad"] = bool(rng.random() < 0.5)
    if name == "adamw" or rng.random() < 0.5:
        options["weight_decay"] = float(10 ** rng.uniform(-3, -1))
    clip = rng.choice(["none", "clipnorm", "global_clipnorm", "clipvalue"])
    if clip != "none":
        options[str(clip)] = float(rng.choice([0.1, 0.5, 1.0]))
    return options


def option_sets(name: str, count: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    """Keras' defaults, then ``count`` random option sets (seeded by ``seed`` and the name)."""
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    return [{}] + [_random_options(name, rng) for _ in range(count)]


def keras_trajectory(name: str, options: dict[str, Any], problem: validation.Problem,
                     start: Sequence[torch.Tensor], steps: int) -> torch.Tensor:
    """Keras' own optimizer on ``keras.Variable`` copies of ``start``: ``(steps, n)`` float64."""
    keras = _keras()
    dtype = start[0].dtype
    floatx = keras.config.floatx()
    keras.config.set_floatx(str(dtype).replace("torch.", ""))
    try:
        variables = [keras.Variable(p.numpy().copy(), dtype=str(dtype).replace("torch.", ""))
                     for p in start]
        optimizer = keras.optimizers.get(
            {"class_name": keras_style.spec_for(name).keras_name, "config": options}
        ) if options else keras.optimizers.get(name)
        path = torch.empty(steps, sum(p.numel() for p in start), dtype=torch.float64)
        for step in range(steps):
            values = [v.value.detach() for v in variables]
            grads = problem.gradients(values)
            pairs = [(None if dropped else g, v) for dropped, g, v
                     in zip(dropped_grads(step, len(start)), grads, variables, strict=True)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Gradients do not exist for variables ..."
                optimizer.apply_gradients(pairs)
            path[step] = torch.cat([v.value.detach().reshape(-1).double() for v in variables])
        return path
    finally:
        keras.config.set_floatx(floatx)


def ours_trajectory(name: str, options: dict[str, Any], problem: validation.Problem,
                    start: Sequence[torch.Tensor], steps: int) -> torch.Tensor:
    """course_lib's Keras convention on numpy copies of ``start``."""
    arrays = [p.numpy().copy() for p in start]
    views = [torch.from_numpy(a) for a in arrays]  # share memory with the arrays
    optimizer = keras_style.get(name, **options)
    path = torch.empty(steps, sum(p.numel() for p in start), dtype=torch.float64)
    for step in range(steps):
        grads = problem.gradients(views)
        optimizer.apply_gradients(
            (None if dropped else g.numpy(), a)
            for dropped, g, a in zip(dropped_grads(step, len(start)), grads, arrays, strict=True)
        )
        path[step] = torch.cat([v.reshape(-1).double() for v in views])
    return path


def dropped_grads(step: int, count: int) -> list[bool]:
    """validation's pattern of None gradients, except that one is always given (Keras raises
    "No gradients provided for any variable" otherwise, and so does course_lib)."""
    dropped = [validation.grad_is_dropped(step, i) for i in range(count)]
    return [False] * count if all(dropped) else dropped


@dataclass(frozen=True)
class KerasResult:
    """One row: an optimizer, option set, problem and dtype; deviation of ours from Keras."""

    optimizer: str
    options: str
    problem: str
    dtype: str
    steps: int
    max_abs: float
    max_rel: float
    clipped_by_norm: bool = False
    control: float | None = None  # float32: Keras f32 against Keras f64 (relative)

    @property
    def target(self) -> float:
        if self.dtype == "float64":
            return FLOAT64_CLIPPED_TARGET if self.clipped_by_norm else FLOAT64_TARGET
        return FLOAT32_TARGET

    @property
    def passed(self) -> bool:
        if self.max_rel <= self.target:
            return True
        return self.control is not None and self.max_rel <= CONTROL_FACTOR * self.control

    @property
    def verdict(self) -> str:
        if not self.passed:
            return "FAIL"
        return "ok" if self.max_rel <= self.target else "ok (f32 rounding)"


def compare(name: str, options: dict[str, Any], problem: validation.Problem, dtype: torch.dtype,
            steps: int = 100) -> tuple[validation.Deviation, float | None]:
    """Deviation of course_lib's Keras convention from Keras over one trajectory, and for a
    float32 run beyond 1e-6 the control: how far Keras' float32 run is from its float64 run."""
    start = problem.initial(dtype)
    reference = keras_trajectory(name, options, problem, start, steps)
    ours = ours_trajectory(name, options, problem, start, steps)
    deviation = validation.Deviation.between(ours, reference)
    control = None
    if dtype != torch.float64 and deviation.max_rel > FLOAT32_TARGET:
        exact = keras_trajectory(name, options, problem, problem.initial(torch.float64), steps)
        control = validation.Deviation.between(reference, exact).max_rel
    return deviation, control


def run(optimizers: Iterable[str] | None = None, problems: Iterable[str] | None = None,
        dtypes: Iterable[torch.dtype] = (torch.float64, torch.float32), steps: int = 100,
        random_sets: int = 3, seed: int = 0) -> list[KerasResult]:
    """Every (Keras optimizer, option set, problem, dtype)."""
    results = []
    for name in optimizers or keras_style.KERAS_OPTIMIZERS:
        for options in option_sets(name, random_sets, seed):
            for problem_name in problems or validation.PROBLEMS:
                problem = validation.PROBLEMS[problem_name]()
                for dtype in dtypes:
                    dev, control = compare(name, options, problem, dtype, steps)
                    results.append(KerasResult(
                        name, _describe(options), problem_name,
                        str(dtype).replace("torch.", ""), steps, dev.max_abs, dev.max_rel,
                        clipped_by_norm=any(options.get(k) for k in
                                            ("clipnorm", "global_clipnorm")),
                        control=control))
    return results


def _describe(options: dict[str, Any]) -> str:
    def short(value: Any) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{k}={short(v)}" for k, v in options.items()) or "defaults"


def format_table(results: Sequence[KerasResult]) -> str:
    """Every run as aligned text."""
    header = ("optimizer", "options", "problem", "dtype", "steps", "max abs", "max rel",
              "target", "f32 ctrl", "verdict")
    rows = [(r.optimizer, r.options, r.problem, r.dtype, r.steps, r.max_abs, r.max_rel,
             r.target, "" if r.control is None else r.control, r.verdict) for r in results]
    return validation.text_table(header, rows)


def per_optimizer(results: Sequence[KerasResult]) -> list[dict[str, Any]]:
    """The tolerance reached per optimizer: the worst relative deviation in float64 (without
    and with a clipping norm) and in float32, and whether every run met its target."""
    def worst(rows: list[KerasResult]) -> float:
        return max((r.max_rel for r in rows), default=float("nan"))

    out = []
    for name in dict.fromkeys(r.optimizer for r in results):
        mine = [r for r in results if r.optimizer == name]
        f64 = [r for r in mine if r.dtype == "float64"]
        out.append({
            "optimizer": name,
            "runs": len(mine),
            "worst rel f64": worst([r for r in f64 if not r.clipped_by_norm]),
            "worst rel f64 clipnorm": worst([r for r in f64 if r.clipped_by_norm]),
            "worst rel f32": worst([r for r in mine if r.dtype == "float32"]),
            "f32 runs > 1e-6": sum(r.dtype == "float32" and r.max_rel > FLOAT32_TARGET
                                   for r in mine),
            "all within target": all(r.passed for r in mine),
        })
    return out


def format_summary(results: Sequence[KerasResult]) -> str:
    """:func:`per_optimizer` as aligned text."""
    rows = per_optimizer(results)
    columns = list(rows[0]) if rows else []
    return validation.text_table(columns, ([row[c] for c in columns] for row in rows))
