"""What a learner's answer is compared with: torch.optim and lr_scheduler, run by the grader.

These runs happen in the grading process (or, in self-study, in the learner's kernel), never in
the child that ran the learner's code. The torch classes come from
:func:`course_lib.validation.reference_class` where validation knows the algorithm (so Yogi is
d2l's, as everywhere else in the course), otherwise from ``torch.optim`` by name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from course_lib import validation
from course_lib.grading.inputs import Quadratic

__all__ = ["Run", "optimizer_class", "rule_run", "schedule_lrs"]


@dataclass
class Run:
    """A trajectory: ``params[k]`` after k steps (row 0 is the start), the gradient each step
    used, and the state entries after each step (``None`` where an entry does not exist)."""

    params: np.ndarray
    grads: np.ndarray
    states: dict[str, list[Any]]


def optimizer_class(name: str | type) -> type[torch.optim.Optimizer]:
    """The reference class called ``name`` (``"SGD"``, ``"Adam"``, ...), or ``name`` itself."""
    if isinstance(name, type):
        return name
    key = name.lower()
    if key in validation.TORCH_NAMES or key == "yogi":
        return validation.reference_class(key)
    return getattr(torch.optim, name)


def rule_run(optimizer: str | type, options: dict[str, Any], problem: Quadratic, steps: int,
             state: Sequence[str] = (), lrs: Sequence[float] | None = None) -> Run:
    """``steps`` updates of the reference optimizer on ``problem`` in float64.

    ``lrs`` sets the learning rate before each step, as a scheduler would.
    """
    param = torch.tensor(problem.start, dtype=torch.float64, requires_grad=True)
    opt = optimizer_class(optimizer)([param], **options)
    params, grads = [problem.start.copy()], []
    states: dict[str, list[Any]] = {name: [] for name in state}
    for step in range(steps):
        if lrs is not None:
            opt.param_groups[0]["lr"] = float(lrs[step])
        grad = problem.gradient(param.detach().numpy())
        param.grad = torch.from_numpy(grad.copy())
        opt.step()
        params.append(param.detach().numpy().copy())
        grads.append(grad)
        entries = opt.state[param]
        for name in state:
            value = entries.get(name)
            states[name].append(None if value is None else _plain(value))
    return Run(np.array(params), np.array(grads), states)


def _plain(value: Any) -> Any:
    if torch.is_tensor(value):
        array = value.detach().numpy().copy()
        return float(array) if array.ndim == 0 else array
    return value


def schedule_lrs(scheduler: str | Callable[..., Any], options: dict[str, Any], steps: int,
                 base_lr: float) -> np.ndarray:
    """The learning rate of each of ``steps`` updates under ``torch.optim.lr_scheduler.<name>``
    (or under ``scheduler(optimizer, **options)`` when ``scheduler`` builds one), stepped after
    each ``optimizer.step()`` as torch prescribes."""
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=base_lr)
    make = getattr(torch.optim.lr_scheduler, scheduler) if isinstance(scheduler, str) else scheduler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. SequentialLR's deprecated step(epoch) inside
        sched = make(opt, **options)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(lrs, dtype=np.float64)
