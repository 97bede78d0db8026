"""Gradient clipping by global norm and by value, for torch parameters and numpy gradients.

The same two functions serve both worlds:

* given torch parameters (a tensor or an iterable of tensors), they clip each ``p.grad`` in
  place, exactly as ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` do (bit for bit:
  the same torch operations in the same order);
* given numpy arrays (an array, an iterable of arrays, or a dict name -> array, as passed to
  :meth:`course_lib.arrays.ArrayOptimizer.update`), they clip those gradient arrays in place.

``None`` entries (and parameters whose ``grad`` is None) are skipped.

>>> import numpy as np
>>> grads = {"w": np.array([3.0, 0.0]), "b": np.array([4.0])}
>>> float(clip_grad_norm_(grads, max_norm=1.0))            # the norm before clipping
5.0
>>> grads["w"].round(6), grads["b"].round(6)                # scaled by 1 / (5 + 1e-6)
(array([0.6, 0. ]), array([0.8]))
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from course_lib.backend import is_torch_tensor, ops_for

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

#: Added to the total norm before dividing, as torch does, so that a zero norm is harmless.
NORM_EPS = 1e-6


def _gradients(parameters: Any) -> tuple[list[Any], bool]:
    """The gradient arrays to clip (``.grad`` of torch parameters, numpy arrays themselves),
    and whether the input was torch's."""
    if is_torch_tensor(parameters) or isinstance(parameters, np.ndarray):
        items = [parameters]
    elif isinstance(parameters, Mapping):
        items = list(parameters.values())
    elif isinstance(parameters, Iterable):
        items = list(parameters)
    else:
        raise TypeError(
            "clip expects torch parameters, numpy gradient arrays, or a dict of arrays; "
            f"got {type(parameters).__name__}"
        )
    torch_items = [x for x in items if is_torch_tensor(x)]
    array_items = [x for x in items if isinstance(x, np.ndarray)]
    nones = sum(x is None for x in items)
    if len(torch_items) + len(array_items) + nones != len(items) or (
        torch_items and array_items
    ):
        raise TypeError("clip expects all torch parameters or all numpy arrays (or None)")
    if torch_items:
        return [p.grad for p in torch_items if p.grad is not None], True
    for array in array_items:
        if not np.issubdtype(array.dtype, np.floating) or not array.flags.writeable:
            raise TypeError("numpy gradients must be writeable floating-point arrays")
    return array_items, False


def _norm_order(norm_type: Any) -> float:
    try:
        order = float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"norm_type must be a number or 'inf', got {norm_type!r}") from None
    if math.isnan(order):
        raise ValueError("norm_type must not be NaN")
    return order


def clip_grad_norm_(
    parameters: Any,
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> Any:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The math, in the order the code runs it, for gradients g₁ … gₙ::

        n_i ← ‖g_i‖_p                              (each gradient's p-norm)
        N ← ‖(n_1, …, n_n)‖_p                      (the norm of all of them as one vector)
        c ← min(max_norm / (N + 1e-6), 1)
        g_i ← c · g_i                              (every gradient, even when c = 1)

    Symbols: p is ``norm_type`` (``inf`` gives the largest |entry|), N is returned. The 1e-6
    keeps a zero norm from dividing by zero; it also makes the clipped norm slightly below
    ``max_norm`` (a norm of 13 clipped to 1 becomes 0.99999994 in float32, as in torch).

    Non-finite gradients: an inf entry makes N inf and c 0, so finite entries become 0 and the
    inf entry NaN; a NaN entry makes everything NaN. With ``error_if_nonfinite=True`` a NaN or
    inf N raises RuntimeError before anything is scaled.

    Returns:
        N, the norm before clipping: a 0-dim tensor for torch parameters (``tensor(0.)`` when
        no parameter has a gradient), a 0-d numpy array for numpy gradients.
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or not max_norm >= 0:
        raise ValueError(f"max_norm must be a number >= 0, got {max_norm!r}")
    order = _norm_order(norm_type)
    grads, from_torch = _gradients(parameters)
    if not grads:
        if from_torch:
            import torch

            return torch.tensor(0.0)
        return np.asarray(0.0)
    ops = ops_for(grads[0])
    with np.errstate(invalid="ignore", over="ignore"):  # inf and NaN pass silently, as in torch
        total = ops.vector_norm(ops.stack([ops.vector_norm(g, order) for g in grads]), order)
        if error_if_nonfinite and not ops.is_finite(total):
            raise RuntimeError(
                f"The total norm of order {order} for gradients is non-finite, so it cannot be "
                "clipped. Set error_if_nonfinite=False to scale the gradients by it anyway."
            )
        coefficient = ops.clamp_max(float(max_norm) / (total + NORM_EPS), 1.0)
        for grad in grads:
            grad *= coefficient
    return total


def clip_grad_value_(parameters: Any, clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]``, in place.

    ``g ← min(max(g, -c), c)`` elementwise, c = ``clip_value``; NaN entries stay NaN, ±inf
    become ±c. Unlike :func:`clip_grad_norm_` this changes the gradient's direction.
    """
    if isinstance(clip_value, bool) or not isinstance(clip_value, numbers.Real) \
            or not clip_value >= 0:
        raise ValueError(f"clip_value must be a number >= 0, got {clip_value!r}")
    for grad in _gradients(parameters)[0]:
        ops_for(grad).clamp_(grad, -float(clip_value), float(clip_value))
