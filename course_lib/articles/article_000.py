"""Article 000: PyTorch optimizers written by hand on ``param.data``, transcribed verbatim.

The article ("how to optimize a neural network model", 2025) writes each optimizer as a plain
function over ``parameters`` and lists of state tensors, next to the ``torch.optim`` call it
stands for. The bodies below are the article's, character for character, except that the
article's typographic dash (``–``) in ``param.data – v`` is written as a minus sign. Where the
article's formula differs from torch's:

* ``sgd_momentum``: ``v = gamma*v + lr*g; p -= v`` puts the learning rate *inside* the velocity;
  torch keeps ``buf = momentum*buf + g; p -= lr*buf``. With a constant lr the two are the same
  trajectory; when lr changes, the article's velocity remembers old learning rates.
* ``sgd_adagrad`` and ``rmsprop``: ``lr / sqrt(s + eps)`` with ``eps = 1e-10`` *inside* the root;
  torch divides by ``sqrt(s) + eps``.
* ``adam``: ``lr * v_hat / sqrt(s_hat + eps)`` with ``eps = 1e-8`` inside the root; torch divides
  by ``sqrt(s_hat) + eps``. The caller passes ``t`` (1 at the first update).
* ``adadelta``: ``sqrt(delta + eps) / sqrt(sqr + eps) * g`` with ``eps = 1e-6``: this *is*
  torch's formula at torch's default ``lr=1.0``.

:func:`run` applies one of these functions to a test function of :mod:`course_lib.objectives`,
the way the article applies them to a network: zero the gradient, ``backward()``, call the
function.

>>> from course_lib import objectives
>>> path = run(sgd_momentum, objectives.stretched_bowl(), (-5.0, -2.0), 20,
...            buffers=1, lr=0.6, gamma=0.5)
>>> path.points.shape
(21, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from course_lib.trajectories import Trajectory

__all__ = ["sgd_update", "sgd_momentum", "sgd_adagrad", "rmsprop", "adam", "adadelta", "run"]


def sgd_update(parameters, lr):
    for param in parameters:
        param.data = param.data - lr * param.grad.data


def sgd_momentum(parameters, vs, lr, gamma):
    for param, v in zip(parameters, vs):  # noqa: B905 - the article's code
        v[:] = gamma * v + lr * param.grad.data
        param.data = param.data - v


def sgd_adagrad(parameters, sqrs, lr):
    eps = 1e-10
    for param, sqr in zip(parameters, sqrs):  # noqa: B905 - the article's code
        sqr[:] = sqr + param.grad.data ** 2
        div = lr / torch.sqrt(sqr + eps) * param.grad.data
        param.data = param.data - div


def rmsprop(parameters, sqrs, lr, alpha):
    eps = 1e-10
    for param, sqr in zip(parameters, sqrs):  # noqa: B905 - the article's code
        sqr[:] = alpha * sqr + (1 - alpha) * param.grad.data ** 2
        div = lr / torch.sqrt(sqr + eps) * param.grad.data
        param.data = param.data - div


def adam(parameters, vs, sqrs, lr, t, beta1=0.9, beta2=0.999):
    eps = 1e-8
    for param, v, sqr in zip(parameters, vs, sqrs):  # noqa: B905 - the article's code
        v[:] = beta1 * v + (1 - beta1) * param.grad.data
        sqr[:] = beta2 * sqr + (1 - beta2) * param.grad.data ** 2
        v_hat = v / (1 - beta1 ** t)
        s_hat = sqr / (1 - beta2 ** t)
        param.data = param.data - lr * v_hat / torch.sqrt(s_hat + eps)


def adadelta(parameters, sqrs, deltas, rho):
    eps = 1e-6
    for param, sqr, delta in zip(parameters, sqrs, deltas):  # noqa: B905 - the article's code
        sqr[:] = rho * sqr + (1 - rho) * param.grad.data ** 2
        cur_delta = torch.sqrt(delta + eps) / torch.sqrt(sqr + eps) * param.grad.data
        delta[:] = rho * delta + (1 - rho) * cur_delta ** 2
        param.data = param.data - cur_delta


def run(
    update: Callable[..., None],
    objective: Any,
    start: float | Sequence[float],
    steps: int,
    *,
    buffers: int = 0,
    pass_t: bool = False,
    label: str | None = None,
    **hyperparams: Any,
) -> Trajectory:
    """Apply the article's ``update`` function ``steps`` times to ``objective`` from ``start``.

    Each step does what the article does around its functions: clear the gradient, evaluate
    the objective on a float64 tensor, ``backward()``, then
    ``update([x], *buffers, **hyperparams)``, with ``t=k`` (1, 2, ...) added when ``pass_t``
    (the article's ``adam`` takes the step number from its caller).

    Args:
        update: one of this module's functions.
        objective: a :mod:`course_lib.objectives` function (its ``value`` accepts tensors).
        start: the start point.
        steps: how many updates.
        buffers: how many state lists the function takes (``vs``, ``sqrs``, ``deltas``), each
            started at zeros as in the article.
        pass_t: pass the 1-based step number as ``t``.
        label: the legend label (default: the function's name).
        **hyperparams: the function's remaining arguments (``lr``, ``gamma``, ``alpha``, ``rho``).
            A callable is a schedule: at step k (0-based) the function gets ``value(k)``, the
            way a reader of the article would pass a decaying ``lr`` to it by hand.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if buffers < 0:
        raise ValueError(f"buffers must be >= 0, got {buffers}")
    x = torch.tensor(np.atleast_1d(np.asarray(start, dtype=float)), dtype=torch.float64,
                     requires_grad=True)
    if x.numel() != objective.dim:
        raise ValueError(f"start has {x.numel()} coordinates; the objective takes {objective.dim}")
    state = [[torch.zeros_like(x)] for _ in range(buffers)]
    points, rates = [x.detach().numpy().copy()], []
    for k in range(1, steps + 1):
        x.grad = None
        value = objective.value(x if x.numel() > 1 else x.reshape(()))
        value.backward()
        extra = {"t": k} if pass_t else {}
        now = {name: (v(k - 1) if callable(v) else v) for name, v in hyperparams.items()}
        update([x], *state, **now, **extra)
        rates.append(float(now.get("lr", np.nan)))
        points.append(x.detach().numpy().copy())
    return Trajectory(np.array(points), objective, label or update.__name__,
                      np.array(rates, dtype=float))
