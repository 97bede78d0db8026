"""Parity of course_lib's schedules and clipping with torch (part of ``python -m course_lib
validate``).

Schedules: for each torch scheduler, at least three parameter sets, 120 or more steps. torch's
scheduler drives a real optimizer in torch's order (``optimizer.step()`` then
``scheduler.step()``); the learning rate in ``param_groups[0]["lr"]`` before each update is
compared with course_lib's ``schedule(t)``, and for OneCycleLR and CyclicLR the momentum (SGD)
or beta1 (Adam) as well. Target: at most 1e-12 absolute.

Clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` on torch parameters (must be bit for bit
equal to torch.nn.utils) and on numpy copies of the same gradients (to 1e-12 relative in
float64), including inf and NaN gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from course_lib import clipping, schedules

__all__ = [
    "ScheduleCase",
    "SCHEDULE_CASES",
    "torch_sequences",
    "schedule_deviation",
    "ClipCase",
    "CLIP_CASES",
    "clip_deviation",
    "run",
]

SCHEDULE_TOLERANCE = 1e-12
lr_scheduler = torch.optim.lr_scheduler


@dataclass(frozen=True)
class ScheduleCase:
    """One torch scheduler configuration and the course_lib schedule(s) that should equal it."""

    scheduler: str
    params: str
    base_lr: float
    steps: int
    make_torch: Callable[[torch.optim.Optimizer], Any]
    lr: schedules.Schedule
    momentum: schedules.Schedule | None = None
    optimizer: str = "SGD"


def _cases() -> list[ScheduleCase]:
    c: list[ScheduleCase] = []

    def add(scheduler, params, base_lr, steps, make_torch, lr, momentum=None, optimizer="SGD"):
        c.append(ScheduleCase(scheduler, params, base_lr, steps, make_torch, lr, momentum,
                              optimizer))

    for factor, total in [(1 / 3, 5), (0.5, 40), (0.1, 100)]:
        add("ConstantLR", f"factor={factor:.3g}, total_iters={total}", 0.2, 150,
            lambda o, f=factor, n=total: lr_scheduler.ConstantLR(o, factor=f, total_iters=n),
            schedules.constant_lr(0.2, factor, total))
    for size, gamma in [(10, 0.5), (7, 0.1), (33, 0.9)]:
        add("StepLR", f"step_size={size}, gamma={gamma}", 0.5, 120,
            lambda o, s=size, g=gamma: lr_scheduler.StepLR(o, step_size=s, gamma=g),
            schedules.step_lr(0.5, size, gamma))
    for stones, gamma in [([15, 30], 0.5), ([10, 10, 50, 80], 0.1), ([1, 99], 0.3)]:
        add("MultiStepLR", f"milestones={stones}, gamma={gamma}", 0.5, 120,
            lambda o, m=stones, g=gamma: lr_scheduler.MultiStepLR(o, milestones=m, gamma=g),
            schedules.multi_step_lr(0.5, stones, gamma))
    for gamma in (0.9, 0.99, 0.95):
        add("ExponentialLR", f"gamma={gamma}", 1.0, 120,
            lambda o, g=gamma: lr_scheduler.ExponentialLR(o, gamma=g),
            schedules.exponential_lr(1.0, gamma))
    for total, power in [(5, 1.0), (50, 2.0), (100, 0.5)]:
        add("PolynomialLR", f"total_iters={total}, power={power}", 0.1, 120,
            lambda o, n=total, p=power: lr_scheduler.PolynomialLR(o, total_iters=n, power=p),
            schedules.polynomial_lr(0.1, total, power))
    for start, end, total in [(1 / 3, 1.0, 5), (1.0, 0.1, 80), (0.25, 0.75, 40)]:
        add("LinearLR", f"start_factor={start:.3g}, end_factor={end}, total_iters={total}",
            0.3, 120,
            lambda o, s=start, e=end, n=total: lr_scheduler.LinearLR(
                o, start_factor=s, end_factor=e, total_iters=n),
            schedules.linear_lr(0.3, start, end, total))
    for t_max, eta_min in [(20, 0.01), (50, 0.0), (128, 0.001)]:
        add("CosineAnnealingLR", f"T_max={t_max}, eta_min={eta_min} (periodic)", 0.3, 130,
            lambda o, t=t_max, e=eta_min: lr_scheduler.CosineAnnealingLR(o, T_max=t, eta_min=e),
            schedules.cosine_annealing_lr(0.3, t_max, eta_min, periodic=True))
    for t0, mult, eta_min in [(10, 1, 0.0), (5, 2, 0.01), (17, 3, 0.001)]:
        add("CosineAnnealingWarmRestarts", f"T_0={t0}, T_mult={mult}, eta_min={eta_min}", 0.1,
            150,
            lambda o, a=t0, b=mult, e=eta_min: lr_scheduler.CosineAnnealingWarmRestarts(
                o, T_0=a, T_mult=b, eta_min=e),
            schedules.cosine_annealing_warm_restarts(0.1, t0, mult, eta_min))
    one_cycle = [
        (dict(total_steps=120), "SGD"),
        (dict(total_steps=150, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
              final_div_factor=100.0), "SGD"),
        (dict(total_steps=130, three_phase=True, base_momentum=0.8, max_momentum=0.9), "Adam"),
    ]
    for kwargs, optimizer in one_cycle:
        lr_kwargs = {k: v for k, v in kwargs.items() if k not in ("base_momentum",
                                                                  "max_momentum")}
        mom_kwargs = {k: v for k, v in kwargs.items() if k not in ("div_factor",
                                                                   "final_div_factor")}
        add("OneCycleLR", ", ".join(f"{k}={v}" for k, v in kwargs.items()) + f" ({optimizer})",
            0.0, kwargs["total_steps"] + 1,
            lambda o, k=kwargs: lr_scheduler.OneCycleLR(o, max_lr=0.8, **k),
            schedules.one_cycle_lr(0.8, **lr_kwargs), schedules.one_cycle_momentum(**mom_kwargs),
            optimizer)
    cyclic = [
        dict(step_size_up=10),
        dict(step_size_up=7, step_size_down=13, mode="triangular2"),
        dict(step_size_up=20, mode="exp_range", gamma=0.99),
    ]
    for kwargs in cyclic:
        add("CyclicLR", ", ".join(f"{k}={v}" for k, v in kwargs.items()), 0.0, 120,
            lambda o, k=kwargs: lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, **k),
            schedules.cyclic_lr(0.01, 0.1, **kwargs), schedules.cyclic_momentum(**kwargs))
    return c


SCHEDULE_CASES: list[ScheduleCase] = _cases()


def torch_sequences(case: ScheduleCase) -> tuple[list[float], list[float]]:
    """The lr (and momentum) torch's scheduler sets before each of ``case.steps`` updates."""
    weight = torch.zeros(2, requires_grad=True)
    if case.optimizer == "Adam":
        opt = torch.optim.Adam([weight], lr=case.base_lr or 0.1)
    else:
        opt = torch.optim.SGD([weight], lr=case.base_lr or 0.1, momentum=0.9)
    scheduler = case.make_torch(opt)
    lrs, momenta = [], []
    for step in range(case.steps):
        group = opt.param_groups[0]
        lrs.append(float(group["lr"]))
        momenta.append(float(group["betas"][0] if "betas" in group else group["momentum"]))
        if step < case.steps - 1:
            weight.grad = torch.ones(2)
            opt.step()
            scheduler.step()
    return lrs, momenta


def schedule_deviation(case: ScheduleCase) -> float:
    """Largest |torch - course_lib| over the lr (and momentum) sequences."""
    lrs, momenta = torch_sequences(case)
    worst = max(abs(a - case.lr(t)) for t, a in enumerate(lrs))
    if case.momentum is not None:
        worst = max(worst, max(abs(a - case.momentum(t)) for t, a in enumerate(momenta)))
    return worst


@dataclass(frozen=True)
class ClipCase:
    """One clipping configuration; ``bad`` puts that value into one gradient entry."""

    function: str
    options: dict[str, Any]
    bad: float | None = None

    @property
    def label(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.options.items())
        return opts + ("" if self.bad is None else f", a gradient entry = {self.bad}")


CLIP_CASES: list[ClipCase] = [
    *[ClipCase("clip_grad_norm_", {"max_norm": m, "norm_type": p}, bad)
      for p in (2.0, 1.0, math.inf, 3.0)
      for m, bad in ((1.0, None), (100.0, None), (1.0, math.inf), (1.0, math.nan))],
    *[ClipCase("clip_grad_value_", {"clip_value": c}, bad)
      for c, bad in ((0.5, None), (10.0, None), (0.5, math.inf), (0.5, -math.inf),
                     (0.5, math.nan))],
]


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.equal(a.isnan(), b.isnan())) and bool(
        torch.equal(torch.nan_to_num(a, nan=0.0), torch.nan_to_num(b, nan=0.0))
    )


def clip_deviation(case: ClipCase, dtype: torch.dtype = torch.float64) -> tuple[bool, float]:
    """(torch parameters bit for bit equal to torch.nn.utils?, numpy max relative deviation)."""
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(shape, generator=gen, dtype=dtype) * 3 for shape in ((4, 3), (3,), ())]
    if case.bad is not None:
        grads[0][1, 2] = case.bad

    def params():
        out = []
        for g in grads:
            p = torch.zeros_like(g, requires_grad=True)
            p.grad = g.clone()
            out.append(p)
        return out

    reference, ours = params(), params()
    arrays = [g.numpy().copy() for g in grads]
    torch_fn = getattr(torch.nn.utils, case.function)
    our_fn = getattr(clipping, case.function)
    ref_out, our_out = torch_fn(reference, **case.options), our_fn(ours, **case.options)
    array_out = our_fn(arrays, **case.options)
    same = all(_same(a.grad, b.grad) for a, b in zip(ours, reference, strict=True))
    if case.function == "clip_grad_norm_":
        same = same and _same(our_out, ref_out)
    deviation = 0.0
    for array, ref in zip(arrays, reference, strict=True):
        expected = ref.grad.numpy()
        if not np.array_equal(np.isnan(array), np.isnan(expected)):
            return same, math.inf
        finite = np.isfinite(expected)
        if not np.array_equal(array[~finite & ~np.isnan(expected)],
                              expected[~finite & ~np.isnan(expected)]):
            return same, math.inf
        diff = np.abs(array[finite] - expected[finite])
        scale = max(float(np.abs(expected[finite]).max(initial=0.0)), 1e-300)
        deviation = max(deviation, float(diff.max(initial=0.0)) / scale)
    if case.function == "clip_grad_norm_" and math.isfinite(float(ref_out)):
        deviation = max(deviation, abs(float(array_out) - float(ref_out)) / float(ref_out))
    return same, deviation


def run() -> tuple[list[tuple], list[tuple]]:
    """Rows for the schedule table and the clipping table, with a verdict each."""
    schedule_rows = []
    for case in SCHEDULE_CASES:
        deviation = schedule_deviation(case)
        schedule_rows.append((case.scheduler, case.params, case.steps, deviation,
                              "ok" if deviation <= SCHEDULE_TOLERANCE else "FAIL"))
    clip_rows = []
    for case in CLIP_CASES:
        same, deviation = clip_deviation(case)
        ok = same and deviation <= 1e-12
        clip_rows.append((case.function, case.label, "yes" if same else "no", deviation,
                          "ok" if ok else "FAIL"))
    return schedule_rows, clip_rows
