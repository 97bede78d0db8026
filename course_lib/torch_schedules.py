"""Drive any torch optimizer (course_lib's or torch's) with a course_lib schedule.

:class:`ScheduledLR` is a ``torch.optim.lr_scheduler.LRScheduler``, so it follows torch's
protocol: building it writes ``schedule(0)`` into every parameter group, and each
``scheduler.step()`` after ``optimizer.step()`` writes the next value. Calling them in the
wrong order triggers torch's own warning.

>>> import torch
>>> from course_lib import optim, schedules
>>> w = torch.zeros(1, requires_grad=True)
>>> opt = optim.SGD([w], lr=1.0)
>>> sched = ScheduledLR(opt, schedules.step_lr(0.5, step_size=2))
>>> lrs = []
>>> for _ in range(4):
...     lrs.append(opt.param_groups[0]["lr"])
...     w.grad = torch.ones(1); opt.step(); sched.step()
>>> lrs
[0.5, 0.5, 0.05, 0.05]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = ["ScheduledLR"]

ScheduleLike = Callable[[int], float]


def _per_group(value, optimizer: torch.optim.Optimizer, name: str) -> list | None:
    if value is None:
        return None
    groups = len(optimizer.param_groups)
    if callable(value):
        return [value] * groups
    values = list(value)
    if len(values) != groups or not all(callable(v) for v in values):
        raise ValueError(
            f"{name} must be a schedule or a list of {groups} schedules (one per parameter "
            f"group), got {value!r}"
        )
    return values


class ScheduledLR(torch.optim.lr_scheduler.LRScheduler):
    """Set each group's learning rate (and optionally momentum) from pure schedules of ``t``.

    Args:
        optimizer: any ``torch.optim.Optimizer``.
        lr: a schedule ``t -> lr``, or one per parameter group.
        momentum: optional schedule(s) for the momentum: written to ``momentum`` for SGD-like
            optimizers and to ``betas[0]`` for Adam-like ones, as torch's OneCycleLR does.
        last_epoch: torch's resume argument (-1 for a fresh start).
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        lr: ScheduleLike | Sequence[ScheduleLike],
        momentum: ScheduleLike | Sequence[ScheduleLike] | None = None,
        last_epoch: int = -1,
    ) -> None:
        self.lr_schedules = _per_group(lr, optimizer, "lr")
        self.momentum_schedules = _per_group(momentum, optimizer, "momentum")
        if self.momentum_schedules is not None and not (
            "momentum" in optimizer.defaults or "betas" in optimizer.defaults
        ):
            raise ValueError("momentum schedules need an optimizer with momentum or betas")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if self.momentum_schedules is not None:
            for group, schedule in zip(self.optimizer.param_groups, self.momentum_schedules,
                                       strict=True):
                if "betas" in group:
                    group["betas"] = (schedule(t), *group["betas"][1:])
                else:
                    group["momentum"] = schedule(t)
        return [schedule(t) for schedule in self.lr_schedules]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def state_dict(self) -> dict:
        """torch's scheduler state, without the schedules (they are code, rebuilt on load)."""
        skip = {"optimizer", "lr_schedules", "momentum_schedules"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}
