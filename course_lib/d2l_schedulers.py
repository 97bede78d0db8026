"""d2l's learning-rate scheduler classes, with d2l's names and signatures, made stateless.

d2l's chapter on learning-rate scheduling defines these classes; each is called as
``scheduler(epoch)``. d2l's own versions keep state between calls: ``FactorScheduler`` and
``MultiFactorScheduler`` multiply a stored rate on each call, and ``CosineScheduler`` returns
whatever it stored last once ``epoch`` passes ``max_update`` (a fresh object called there
raises AttributeError). The classes here compute the same values from ``epoch`` alone:

* called in order from epoch 0, they give d2l's values;
* called for any epoch, in any order, on a fresh object, they give that same value.

>>> scheduler = CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01)
>>> round(scheduler(10), 4), scheduler(25)      # a fresh object, past max_update: final_lr
(0.155, 0.01)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from course_lib import schedules

__all__ = ["SquareRootScheduler", "FactorScheduler", "MultiFactorScheduler", "CosineScheduler"]


class SquareRootScheduler:
    """``lr * (epoch + 1) ** -0.5``."""

    def __init__(self, lr: float = 0.1) -> None:
        self.lr = lr
        self._schedule = schedules.inverse_sqrt(lr)

    def __call__(self, num_update: int) -> float:
        return self._schedule(num_update)


class FactorScheduler:
    """``max(stop_factor_lr, base_lr * factor ** (epoch + 1))``.

    d2l multiplies its stored rate *before* returning it, so its first call (epoch 0) already
    returns ``base_lr * factor``; hence the ``+ 1``.
    """

    def __init__(self, factor: float = 1, stop_factor_lr: float = 1e-7,
                 base_lr: float = 0.1) -> None:
        if not factor > 0:
            raise ValueError(f"factor must be > 0, got {factor}")
        if not stop_factor_lr >= 0:
            raise ValueError(f"stop_factor_lr must be >= 0, got {stop_factor_lr}")
        self.factor, self.stop_factor_lr, self.base_lr = factor, stop_factor_lr, base_lr
        # d2l clamps after every multiplication; the clamp is monotone, so clamping the
        # closed form once gives the same value.
        self._schedule = schedules.Schedule(
            lambda t: max(stop_factor_lr, base_lr * factor ** (t + 1)),
            f"FactorScheduler(factor={factor}, stop_factor_lr={stop_factor_lr}, "
            f"base_lr={base_lr})",
        )

    def __call__(self, num_update: int) -> float:
        return self._schedule(num_update)


class MultiFactorScheduler:
    """``base_lr * factor ** (number of steps s with s <= epoch)``: d2l's piecewise constant rate.

    Equal to torch's ``MultiStepLR(milestones=step, gamma=factor)``.
    """

    def __init__(self, step: Iterable[int], factor: float = 1, base_lr: float = 0.1) -> None:
        self.step, self.factor, self.base_lr = sorted(set(step)), factor, base_lr
        self._schedule = schedules.multi_step_lr(base_lr, self.step, factor)

    def __call__(self, epoch: int) -> float:
        return self._schedule(epoch)

    def count(self, epoch: int) -> int:
        """How many reductions have happened by ``epoch``."""
        return bisect.bisect_right(self.step, epoch)


class CosineScheduler:
    """Linear warmup then cosine decay to ``final_lr`` at ``max_update``; ``final_lr`` after.

    For epoch < warmup_steps: ``warmup_begin_lr + (base_lr - warmup_begin_lr) * epoch /
    warmup_steps``; up to ``max_update``: ``final_lr + (base_lr - final_lr) * (1 + cos(pi *
    (epoch - warmup_steps) / (max_update - warmup_steps))) / 2``; after it: ``final_lr``.
    """

    def __init__(self, max_update: int, base_lr: float = 0.01, final_lr: float = 0,
                 warmup_steps: int = 0, warmup_begin_lr: float = 0) -> None:
        self.max_update, self.base_lr_orig, self.final_lr = max_update, base_lr, final_lr
        self.warmup_steps, self.warmup_begin_lr = warmup_steps, warmup_begin_lr
        self._schedule = schedules.warmup_cosine(
            peak_lr=base_lr, total_steps=max_update, warmup_steps=warmup_steps,
            final_lr=final_lr, start_lr=warmup_begin_lr,
        )

    def __call__(self, epoch: int) -> float:
        return self._schedule(epoch)
