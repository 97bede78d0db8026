"""Learning-rate schedules as pure functions of the update index ``t``.

A schedule maps ``t``, the 0-based index of the update about to be applied, to a learning rate
(or a momentum). It has no hidden state: the same ``t`` gives the same value in any call order,
on a fresh object or an old one. ``t = 0`` is the first update, so a schedule drives torch in
torch's call order (``optimizer.step()`` then ``scheduler.step()``: the k-th ``optimizer.step()``
uses the value at ``t = k - 1``).

Factories named after a torch scheduler (``step_lr`` for ``StepLR``, ...) take that scheduler's
arguments, with the base learning rate first, and give the learning rate torch's scheduler
puts in ``group["lr"]`` before the update ``t`` (checked against torch to 1e-12). Where torch's
behaviour is surprising, the factory says so; see :func:`cosine_annealing_lr` after ``T_max``.

Composition is plain function composition: :func:`linear_warmup` puts a linear ramp before any
schedule, :func:`join` switches between schedules at boundaries, :func:`warmup_cosine` is the
two together. :class:`ReduceLROnPlateau` is the one stateful object here: it is fed a metric.

>>> warm = warmup_cosine(peak_lr=0.3, total_steps=20, warmup_steps=5, final_lr=0.01)
>>> [round(warm(t), 4) for t in (0, 1, 5, 20, 25)]
[0.0, 0.06, 0.3, 0.01, 0.01]
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

__all__ = [
    "Schedule",
    "as_schedule",
    "constant",
    "constant_lr",
    "step_lr",
    "multi_step_lr",
    "exponential_lr",
    "polynomial_lr",
    "linear_lr",
    "cosine_annealing_lr",
    "cosine_annealing_warm_restarts",
    "one_cycle_lr",
    "one_cycle_momentum",
    "cyclic_lr",
    "cyclic_momentum",
    "inverse_sqrt",
    "power_decay",
    "linear_warmup",
    "join",
    "warmup_cosine",
    "DECAYS",
    "warmup_decay",
    "ReduceLROnPlateau",
]


class Schedule:
    """A pure function ``t -> value`` with a readable description.

    Args:
        function: the value at update index ``t`` (an int >= 0).
        description: how the schedule was built, shown by ``repr``.
        last_step: the largest ``t`` the schedule accepts (None: no limit).
    """

    def __init__(
        self, function: Callable[[int], float], description: str, last_step: int | None = None
    ) -> None:
        self._function = function
        self.description = description
        self.last_step = last_step

    def __call__(self, t: int) -> float:
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
            raise ValueError(f"t must be an integer >= 0 (the update index), got {t!r}")
        if self.last_step is not None and t > self.last_step:
            raise ValueError(
                f"t={t} is past the end of {self.description}: the schedule is defined for "
                f"t <= {self.last_step} (as torch, which raises when stepped further)"
            )
        return float(self._function(int(t)))

    def values(self, steps: int) -> list[float]:
        """The values for t = 0, 1, ..., steps - 1."""
        return [self(t) for t in range(steps)]

    def __repr__(self) -> str:
        return self.description


def as_schedule(value: float | Callable[[int], float]) -> Callable[[int], float]:
    """A number becomes a constant schedule; a callable is returned as it is.

    This is how everything that takes a learning rate accepts "a number or a schedule".
    """
    if callable(value):
        return value
    _check_number(value, "lr")
    return constant(value)


# -- argument checks ----------------------------------------------------------------------------


def _check_number(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")


def _check_positive(value: Any, name: str) -> None:
    _check_number(value, name)
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def _check_nonnegative(value: Any, name: str) -> None:
    _check_number(value, name)
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def _check_positive_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _describe(name: str, **kwargs: Any) -> str:
    return f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


# -- the torch equivalents ----------------------------------------------------------------------


def constant(value: float) -> Schedule:
    """The same value at every step: ``lr(t) = value``."""
    _check_nonnegative(value, "value")
    return Schedule(lambda t: value, _describe("constant", value=value))


def constant_lr(base_lr: float, factor: float = 1 / 3, total_iters: int = 5) -> Schedule:
    """torch's ``ConstantLR``: ``base_lr * factor`` for t < total_iters, then ``base_lr``."""
    _check_nonnegative(base_lr, "base_lr")
    _check_number(factor, "factor")
    if not 0 <= factor <= 1:
        raise ValueError(f"factor must be in [0, 1], got {factor}")
    _check_nonnegative(total_iters, "total_iters")
    return Schedule(
        lambda t: base_lr * factor if t < total_iters else base_lr,
        _describe("constant_lr", base_lr=base_lr, factor=factor, total_iters=total_iters),
    )


def step_lr(base_lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """torch's ``StepLR``: multiply by ``gamma`` every ``step_size`` updates.

    ``lr(t) = base_lr * gamma ** (t // step_size)``.
    """
    _check_nonnegative(base_lr, "base_lr")
    _check_positive_int(step_size, "step_size")
    _check_positive(gamma, "gamma")
    return Schedule(
        lambda t: base_lr * gamma ** (t // step_size),
        _describe("step_lr", base_lr=base_lr, step_size=step_size, gamma=gamma),
    )


def multi_step_lr(base_lr: float, milestones: Iterable[int], gamma: float = 0.1) -> Schedule:
    """torch's ``MultiStepLR``: multiply by ``gamma`` at each milestone.

    ``lr(t) = base_lr * gamma ** (number of milestones m with m <= t)``; a milestone listed
    twice counts twice, as in torch.
    """
    _check_nonnegative(base_lr, "base_lr")
    _check_positive(gamma, "gamma")
    stones = list(milestones)
    for m in stones:
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 0:
            raise ValueError(f"milestones must be integers >= 0, got {m!r}")
    ordered = sorted(stones)  # repeats kept: bisect counts them, as torch's Counter does
    return Schedule(
        lambda t: base_lr * gamma ** bisect.bisect_right(ordered, t),
        _describe("multi_step_lr", base_lr=base_lr, milestones=ordered, gamma=gamma),
    )


def exponential_lr(base_lr: float, gamma: float) -> Schedule:
    """torch's ``ExponentialLR``: ``lr(t) = base_lr * gamma ** t``."""
    _check_nonnegative(base_lr, "base_lr")
    _check_positive(gamma, "gamma")
    return Schedule(
        lambda t: base_lr * gamma**t, _describe("exponential_lr", base_lr=base_lr, gamma=gamma)
    )


def polynomial_lr(base_lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    """torch's ``PolynomialLR``: ``lr(t) = base_lr * (1 - min(t, T) / T) ** power``.

    T is ``total_iters``.
    It reaches 0 at ``t = total_iters`` and stays there.
    """
    _check_nonnegative(base_lr, "base_lr")
    _check_positive_int(total_iters, "total_iters")
    _check_nonnegative(power, "power")
    return Schedule(
        lambda t: base_lr * (1.0 - min(t, total_iters) / total_iters) ** power,
        _describe("polynomial_lr", base_lr=base_lr, total_iters=total_iters, power=power),
    )


def linear_lr(
    base_lr: float, start_factor: float = 1 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> Schedule:
    """torch's ``LinearLR``: the factor moves linearly from ``start_factor`` to ``end_factor``.

    ``lr(t) = base_lr * (s + (e - s) * min(t, T) / T)`` with s, e the factors, T = total_iters.
    """
    _check_nonnegative(base_lr, "base_lr")
    _check_number(start_factor, "start_factor")
    _check_number(end_factor, "end_factor")
    if not 0 < start_factor <= 1:
        raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")
    if not 0 <= end_factor <= 1:
        raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
    _check_positive_int(total_iters, "total_iters")
    return Schedule(
        lambda t: base_lr
        * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters),
        _describe("linear_lr", base_lr=base_lr, start_factor=start_factor,
                  end_factor=end_factor, total_iters=total_iters),
    )


def cosine_annealing_lr(
    base_lr: float, T_max: int, eta_min: float = 0.0, *, periodic: bool = False  # noqa: N803
) -> Schedule:
    """Cosine annealing from ``base_lr`` down to ``eta_min`` over ``T_max`` updates.

    ``lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2`` for t <= T_max.

    After ``T_max`` the two conventions part:

    * ``periodic=False`` (default): the value stays at ``eta_min``, as d2l's CosineScheduler
      does and as a learner expects from "anneal to eta_min";
    * ``periodic=True``: the formula keeps going, so the rate climbs back up to ``base_lr`` at
      ``2 * T_max`` and oscillates; this is torch's ``CosineAnnealingLR``, which never clamps.
      Stop training at ``T_max``, or use ``periodic=False``, if that is not what you want.
    """
    _check_nonnegative(base_lr, "base_lr")
    _check_positive_int(T_max, "T_max")
    _check_nonnegative(eta_min, "eta_min")

    def value(t: int) -> float:
        if t > T_max and not periodic:
            return eta_min
        return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2

    return Schedule(
        value,
        _describe("cosine_annealing_lr", base_lr=base_lr, T_max=T_max, eta_min=eta_min,
                  periodic=periodic),
    )


def cosine_annealing_warm_restarts(
    base_lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0  # noqa: N803
) -> Schedule:
    """torch's ``CosineAnnealingWarmRestarts`` (SGDR): cosine cycles, each restarting at base_lr.

    The first cycle lasts ``T_0`` updates, each next one ``T_mult`` times longer. With
    ``T_cur`` the updates since the last restart and ``T_i`` the current cycle's length,
    ``lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``.
    """
    _check_nonnegative(base_lr, "base_lr")
    _check_positive_int(T_0, "T_0")
    _check_positive_int(T_mult, "T_mult")
    _check_nonnegative(eta_min, "eta_min")

    def value(t: int) -> float:
        t_cur, t_i = t, T_0
        while t_cur >= t_i:  # skip whole cycles
            t_cur -= t_i
            t_i *= T_mult
        return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    return Schedule(
        value,
        _describe("cosine_annealing_warm_restarts", base_lr=base_lr, T_0=T_0, T_mult=T_mult,
                  eta_min=eta_min),
    )


def _anneal(kind: str) -> Callable[[float, float, float], float]:
    if kind == "cos":
        return lambda start, end, pct: end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return lambda start, end, pct: (end - start) * pct + start


def _one_cycle_phases(total_steps: int, pct_start: float, three_phase: bool):
    """(end step, start key, end key) of each phase, as torch's OneCycleLR lays them out."""
    if three_phase:
        return [
            (float(pct_start * total_steps) - 1, "initial", "max"),
            (float(2 * pct_start * total_steps) - 2, "max", "initial"),
            (total_steps - 1, "initial", "min"),
        ]
    return [
        (float(pct_start * total_steps) - 1, "initial", "max"),
        (total_steps - 1, "max", "min"),
    ]


def _check_one_cycle(total_steps: int, pct_start: float, anneal_strategy: str) -> None:
    _check_positive_int(total_steps, "total_steps")
    _check_number(pct_start, "pct_start")
    if not 0 <= pct_start <= 1:
        raise ValueError(f"pct_start must be in [0, 1], got {pct_start}")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")


def _one_cycle(values: dict[str, float], total_steps: int, pct_start: float,
               anneal_strategy: str, three_phase: bool) -> Callable[[int], float]:
    phases = _one_cycle_phases(total_steps, pct_start, three_phase)
    anneal = _anneal(anneal_strategy)

    def value(t: int) -> float:
        start_step = 0.0
        for index, (end_step, start_key, end_key) in enumerate(phases):
            if t <= end_step or index == len(phases) - 1:
                pct = (t - start_step) / (end_step - start_step)
                return anneal(values[start_key], values[end_key], pct)
            start_step = end_step
        raise AssertionError("unreachable")

    return value


def one_cycle_lr(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: Literal["cos", "linear"] = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """torch's ``OneCycleLR`` learning rate: up from max_lr/div_factor to max_lr, then far down.

    Phase 1 (the first ``pct_start`` of the steps) anneals from ``max_lr / div_factor`` to
    ``max_lr``; phase 2 anneals down to ``max_lr / div_factor / final_div_factor``. With
    ``three_phase`` it first returns to the initial value, then goes down. Defined for
    ``t <= total_steps``; a larger t raises ValueError, as stepping torch's scheduler past its
    total does. Pair it with :func:`one_cycle_momentum` for the momentum cycle.
    """
    _check_positive(max_lr, "max_lr")
    _check_one_cycle(total_steps, pct_start, anneal_strategy)
    _check_positive(div_factor, "div_factor")
    _check_positive(final_div_factor, "final_div_factor")
    initial = max_lr / div_factor
    values = {"initial": initial, "max": max_lr, "min": initial / final_div_factor}
    return Schedule(
        _one_cycle(values, total_steps, pct_start, anneal_strategy, three_phase),
        _describe("one_cycle_lr", max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                  anneal_strategy=anneal_strategy, three_phase=three_phase),
        last_step=total_steps,
    )


def one_cycle_momentum(
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: Literal["cos", "linear"] = "cos",
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    three_phase: bool = False,
) -> Schedule:
    """torch's ``OneCycleLR`` momentum (or Adam's beta1): high when the rate is low, and back.

    It moves from ``max_momentum`` down to ``base_momentum`` while the learning rate rises, then
    back up while it falls.
    """
    _check_one_cycle(total_steps, pct_start, anneal_strategy)
    _check_nonnegative(base_momentum, "base_momentum")
    _check_nonnegative(max_momentum, "max_momentum")
    # The learning rate's "initial / max / min" become "max / base / max" momentum.
    values = {"initial": max_momentum, "max": base_momentum, "min": max_momentum}
    return Schedule(
        _one_cycle(values, total_steps, pct_start, anneal_strategy, three_phase),
        _describe("one_cycle_momentum", total_steps=total_steps, pct_start=pct_start,
                  base_momentum=base_momentum, max_momentum=max_momentum),
        last_step=total_steps,
    )


def _cycle_position(t: int, step_size_up: float, step_size_down: float) -> tuple[int, float]:
    """(cycle number from 1, height 0..1 within the triangle), as torch's CyclicLR computes it."""
    total = step_size_up + step_size_down
    ratio = step_size_up / total
    cycle = math.floor(1 + t / total)
    x = 1.0 + t / total - cycle
    height = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    return cycle, height


def _cyclic_scale(mode: str, gamma: float, scale_fn: Callable[[float], float] | None,
                  scale_mode: str) -> tuple[Callable[[float], float], str]:
    if scale_fn is not None:
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        return scale_fn, scale_mode
    if mode == "triangular":
        return (lambda x: 1.0), "cycle"
    if mode == "triangular2":
        return (lambda x: 1 / (2.0 ** (x - 1))), "cycle"
    if mode == "exp_range":
        return (lambda x: gamma**x), "iterations"
    raise ValueError(f"mode must be 'triangular', 'triangular2' or 'exp_range', got {mode!r}")


def _check_cyclic(step_size_up: int, step_size_down: int | None) -> tuple[float, float]:
    _check_positive_int(step_size_up, "step_size_up")
    if step_size_down is not None:
        _check_positive_int(step_size_down, "step_size_down")
    up = float(step_size_up)
    return up, float(step_size_down) if step_size_down is not None else up


def cyclic_lr(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: Literal["triangular", "triangular2", "exp_range"] = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: Literal["cycle", "iterations"] = "cycle",
) -> Schedule:
    """torch's ``CyclicLR``: triangles between ``base_lr`` and ``max_lr``.

    ``lr(t) = base_lr + (max_lr - base_lr) * h(t) * s``, where ``h`` rises from 0 to 1 over
    ``step_size_up`` updates and falls back over ``step_size_down``, and the amplitude scale
    ``s`` is 1 (triangular), halves every cycle (triangular2), or is ``gamma ** t``
    (exp_range); ``scale_fn`` replaces it.
    """
    _check_nonnegative(base_lr, "base_lr")
    _check_nonnegative(max_lr, "max_lr")
    up, down = _check_cyclic(step_size_up, step_size_down)
    scale, scale_by = _cyclic_scale(mode, gamma, scale_fn, scale_mode)

    def value(t: int) -> float:
        cycle, height = _cycle_position(t, up, down)
        return base_lr + (max_lr - base_lr) * height * scale(cycle if scale_by == "cycle" else t)

    return Schedule(
        value,
        _describe("cyclic_lr", base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up,
                  step_size_down=step_size_down, mode=mode),
    )


def cyclic_momentum(
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: Literal["triangular", "triangular2", "exp_range"] = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: Literal["cycle", "iterations"] = "cycle",
) -> Schedule:
    """torch's ``CyclicLR`` momentum: ``max_momentum - (max - base) * h(t) * s``, the mirror image
    of :func:`cyclic_lr`'s triangle."""
    _check_nonnegative(base_momentum, "base_momentum")
    _check_nonnegative(max_momentum, "max_momentum")
    up, down = _check_cyclic(step_size_up, step_size_down)
    scale, scale_by = _cyclic_scale(mode, gamma, scale_fn, scale_mode)

    def value(t: int) -> float:
        cycle, height = _cycle_position(t, up, down)
        amplitude = (max_momentum - base_momentum) * height
        return max_momentum - amplitude * scale(cycle if scale_by == "cycle" else t)

    return Schedule(
        value,
        _describe("cyclic_momentum", base_momentum=base_momentum, max_momentum=max_momentum,
                  step_size_up=step_size_up, mode=mode),
    )


# -- beyond torch -------------------------------------------------------------------------------


def power_decay(base_lr: float, alpha: float = 0.5, beta: float = 1.0) -> Schedule:
    """Polynomial decay in d2l's sense: ``lr(t) = base_lr * (1 + beta * t) ** (-alpha)``.

    (torch's "PolynomialLR" is a different schedule: see :func:`polynomial_lr`.)
    """
    _check_nonnegative(base_lr, "base_lr")
    _check_nonnegative(alpha, "alpha")
    _check_nonnegative(beta, "beta")
    return Schedule(
        lambda t: base_lr * (1 + beta * t) ** (-alpha),
        _describe("power_decay", base_lr=base_lr, alpha=alpha, beta=beta),
    )


def inverse_sqrt(base_lr: float) -> Schedule:
    """Square-root decay: ``lr(t) = base_lr / sqrt(t + 1)`` (d2l's SquareRootScheduler)."""
    _check_nonnegative(base_lr, "base_lr")
    return Schedule(
        lambda t: base_lr * (t + 1.0) ** -0.5, _describe("inverse_sqrt", base_lr=base_lr)
    )


def linear_warmup(
    schedule: Callable[[int], float], warmup_steps: int, start_lr: float = 0.0
) -> Schedule:
    """A linear ramp from ``start_lr`` to ``schedule(0)`` over ``warmup_steps``, then ``schedule``.

    ``lr(t) = start_lr + (schedule(0) - start_lr) * t / warmup_steps`` for t < warmup_steps, and
    ``schedule(t - warmup_steps)`` after: the wrapped schedule starts when the warmup ends.
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be callable, got {schedule!r}")
    _check_positive_int(warmup_steps, "warmup_steps")
    _check_nonnegative(start_lr, "start_lr")

    def value(t: int) -> float:
        if t < warmup_steps:
            return start_lr + (schedule(0) - start_lr) * t / warmup_steps
        return schedule(t - warmup_steps)

    return Schedule(value, f"linear_warmup({schedule!r}, warmup_steps={warmup_steps}, "
                           f"start_lr={start_lr!r})")


def join(schedules: Sequence[Callable[[int], float]], boundaries: Sequence[int]) -> Schedule:
    """Use ``schedules[i]`` on ``[boundaries[i-1], boundaries[i])``, each restarted at its start.

    With boundaries ``b`` (increasing), ``lr(t) = schedules[i](t - b[i-1])`` for the ``i`` with
    ``b[i-1] <= t < b[i]`` (``b[-1] = 0``). Like torch's ``SequentialLR`` with milestones ``b``.
    """
    schedules, boundaries = list(schedules), list(boundaries)
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(
            f"join needs one boundary fewer than schedules: got {len(schedules)} schedules and "
            f"{len(boundaries)} boundaries"
        )
    if not all(callable(s) for s in schedules):
        raise TypeError("every schedule must be callable")
    for b in boundaries:
        _check_positive_int(b, "boundaries")
    if boundaries != sorted(set(boundaries)):
        raise ValueError(f"boundaries must be strictly increasing, got {boundaries}")
    starts = [0, *boundaries]

    def value(t: int) -> float:
        index = bisect.bisect_right(boundaries, t)
        return schedules[index](t - starts[index])

    return Schedule(value, f"join({schedules!r}, boundaries={boundaries})")


def warmup_cosine(
    peak_lr: float,
    total_steps: int,
    warmup_steps: int = 0,
    final_lr: float = 0.0,
    start_lr: float = 0.0,
) -> Schedule:
    """Linear warmup to ``peak_lr``, cosine decay to ``final_lr`` at ``total_steps``, then flat.

    For t < w (``warmup_steps``): ``start_lr + (peak_lr - start_lr) * t / w``.
    For w <= t <= T (``total_steps``):
    ``final_lr + (peak_lr - final_lr) * (1 + cos(pi * (t - w) / (T - w))) / 2``.
    For t > T: ``final_lr``. This is d2l's CosineScheduler as a pure function.
    """
    _check_nonnegative(peak_lr, "peak_lr")
    _check_positive_int(total_steps, "total_steps")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, numbers.Integral) \
            or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps ({warmup_steps}) must be shorter than total_steps ({total_steps})"
        )
    cosine = cosine_annealing_lr(peak_lr, total_steps - warmup_steps, final_lr)
    schedule = cosine if warmup_steps == 0 else linear_warmup(cosine, warmup_steps, start_lr)
    return Schedule(
        schedule,
        _describe("warmup_cosine", peak_lr=peak_lr, total_steps=total_steps,
                  warmup_steps=warmup_steps, final_lr=final_lr, start_lr=start_lr),
    )


#: The decay shapes :func:`warmup_decay` knows.
DECAYS = ("constant", "linear", "cosine", "exponential", "step")


def _decay(kind: str, peak_lr: float, length: int, final_lr: float) -> Callable[[int], float]:
    """One cycle of ``kind`` from ``peak_lr`` over ``length`` updates, holding its last value."""
    if kind == "constant":
        return constant(peak_lr)
    if kind == "linear":
        return linear_lr(peak_lr, 1.0, final_lr / peak_lr, length)
    if kind == "cosine":
        return cosine_annealing_lr(peak_lr, length, final_lr)
    if kind == "exponential":
        decay = exponential_lr(peak_lr, (final_lr / peak_lr) ** (1.0 / length))
        return lambda t: decay(min(t, length))
    return multi_step_lr(peak_lr, sorted({max(1, length // 2), max(1, 3 * length // 4)}), 0.1)


def warmup_decay(
    peak_lr: float,
    total_steps: int,
    *,
    warmup_steps: int = 0,
    decay: str = "cosine",
    cycles: int = 1,
    final_lr: float = 0.0,
    start_lr: float = 0.0,
) -> Schedule:
    """A linear warmup to ``peak_lr``, then ``cycles`` decays, each restarting at the peak.

    For t < w (``warmup_steps``): ``start_lr + (peak_lr - start_lr) * t / w``
    (:func:`linear_warmup`). The remaining ``total_steps - w`` updates are cut into ``cycles``
    cycles of L = (total_steps - w) // cycles updates (the last takes the remainder), joined
    (:func:`join`); each decays from ``peak_lr`` by the shape ``decay``:

    * ``"constant"``: ``peak_lr`` throughout;
    * ``"linear"``: down to ``final_lr`` at the cycle's end (:func:`linear_lr`);
    * ``"cosine"``: down to ``final_lr`` along half a cosine (:func:`cosine_annealing_lr`);
      with several cycles these are SGDR's warm restarts
      (:func:`cosine_annealing_warm_restarts`);
    * ``"exponential"``: by a constant factor per update that reaches ``final_lr`` at the
      cycle's end (:func:`exponential_lr`; needs ``final_lr > 0``);
    * ``"step"``: times 0.1 at half and at three quarters of the cycle (:func:`multi_step_lr`,
      the ResNet recipe; ``final_lr`` is not used).

    After ``total_steps`` the last value is held. With one cosine cycle this is
    :func:`warmup_cosine`.

    Args:
        peak_lr: the rate after the warmup (> 0).
        total_steps: the updates the schedule spans (an integer >= 1).
        warmup_steps: the updates of the warmup (an integer >= 0; 0: none).
        decay: one of :data:`DECAYS`.
        cycles: how many decays (an integer >= 1; each restarts at ``peak_lr``).
        final_lr: the rate each decay reaches (0 <= final_lr <= peak_lr).
        start_lr: the rate the warmup starts from (>= 0).

    >>> s = warmup_decay(0.4, 12, warmup_steps=4, decay="linear", cycles=2, final_lr=0.0)
    >>> [round(s(t), 3) for t in range(14)]
    [0.0, 0.1, 0.2, 0.3, 0.4, 0.3, 0.2, 0.1, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0]
    """
    _check_positive(peak_lr, "peak_lr")
    _check_positive_int(total_steps, "total_steps")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, numbers.Integral) \
            or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    if decay not in DECAYS:
        raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}")
    _check_positive_int(cycles, "cycles")
    _check_nonnegative(final_lr, "final_lr")
    _check_nonnegative(start_lr, "start_lr")
    if final_lr > peak_lr:
        raise ValueError(f"final_lr must be at most peak_lr ({peak_lr}), got {final_lr}")
    if decay == "exponential" and final_lr == 0:
        raise ValueError("final_lr must be > 0 for an exponential decay (it never reaches 0)")
    remaining = total_steps - warmup_steps
    if remaining < cycles:
        raise ValueError(
            f"total_steps - warmup_steps ({remaining}) must leave at least one update per cycle "
            f"(cycles = {cycles})")
    length = remaining // cycles
    lengths = [length] * (cycles - 1) + [remaining - length * (cycles - 1)]
    parts = [_decay(decay, peak_lr, n, final_lr) for n in lengths]
    schedule = parts[0] if cycles == 1 else join(parts, [length * k for k in range(1, cycles)])
    if warmup_steps:
        schedule = linear_warmup(schedule, warmup_steps, start_lr)
    return Schedule(
        schedule,
        _describe("warmup_decay", peak_lr=peak_lr, total_steps=total_steps,
                  warmup_steps=warmup_steps, decay=decay, cycles=cycles, final_lr=final_lr,
                  start_lr=start_lr),
    )


# -- the stateful one ---------------------------------------------------------------------------


class ReduceLROnPlateau:
    """Divide the learning rate when a metric stops improving (torch's ``ReduceLROnPlateau``).

    Unlike the schedules above it has state, because it is driven by a metric, not by ``t``.
    Call :meth:`step` with the metric after each epoch; it returns the learning rate to use
    next.

    A metric is better if ``a < best * (1 - threshold)`` (mode 'min', threshold_mode 'rel'),
    ``a < best - threshold`` ('abs'), and mirrored for mode 'max'. After more than
    ``patience`` epochs without improvement, ``lr <- max(lr * factor, min_lr)`` (skipped if the
    change is at most ``eps``), and ``cooldown`` epochs pass before bad epochs count again.
    """

    def __init__(
        self,
        lr: float,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        _check_nonnegative(lr, "lr")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        _check_number(factor, "factor")
        if not 0 <= factor < 1:
            raise ValueError(f"factor must be in [0, 1), got {factor}")
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) \
                or patience < 0:
            raise ValueError(f"patience must be an integer >= 0, got {patience!r}")
        _check_nonnegative(threshold, "threshold")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, numbers.Integral) \
                or cooldown < 0:
            raise ValueError(f"cooldown must be an integer >= 0, got {cooldown!r}")
        _check_nonnegative(min_lr, "min_lr")
        _check_nonnegative(eps, "eps")
        self.lr = float(lr)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr, self.eps = cooldown, min_lr, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def is_better(self, metric: float) -> bool:
        """Whether ``metric`` improves on the best seen by more than the threshold."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return metric < self.best * (1.0 - self.threshold)
            return metric < self.best - self.threshold
        if self.threshold_mode == "rel":
            return metric > self.best * (self.threshold + 1.0)
        return metric > self.best + self.threshold

    def step(self, metric: float) -> float:
        """Record one epoch's metric; return the learning rate for the next epoch."""
        current = float(metric)
        if self.is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.lr

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(lr={self.lr!r}, mode={self.mode!r}, factor={self.factor!r}, "
                f"patience={self.patience!r})")
