r"""How noisy a minibatch gradient is: per-example gradients, their spread, and the 1/b law.

For a loss L(θ) = (1/N) Σᵢ ℓᵢ(θ) over N examples, write gᵢ = ∇ℓᵢ(θ) for the gradient of one
example, ḡ = ∇L(θ) for their mean, and σ² = (1/N) Σᵢ ‖gᵢ − ḡ‖² for their spread
(:func:`spread`). A minibatch B of b distinct examples drawn at random, as training draws them
(:func:`course_lib.data.minibatches`: each epoch a fresh shuffle cut into batches), gives the
gradient g_B = (1/b) Σ_{i∈B} gᵢ, with (:func:`minibatch_noise`)::

    E g_B = ḡ,        E ‖g_B − ḡ‖² = σ²/b · (N − b)/(N − 1)

The second factor is the finite-population correction of sampling without replacement: at
b = N the batch is the whole data set and the noise is 0. Ten times the batch, a tenth of the
squared noise: its standard deviation falls like 1/√b.

:func:`least_squares_gradients` gives the gᵢ of a linear model ŷ = xᵀw + b with d2l's loss
ℓᵢ = ½(ŷᵢ − yᵢ)² (chapter 05's model), and :func:`minibatch_gradients` draws batch gradients
exactly as training does.

>>> import numpy as np
>>> g = np.array([[1.0, 0.0], [3.0, 0.0], [5.0, 0.0], [7.0, 0.0]])    # ḡ = (4, 0), σ² = 5
>>> spread(g), minibatch_noise(g, 2)                                # 5/2 · 2/3
(5.0, 1.6666666666666667)
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from course_lib.data import minibatches

__all__ = ["least_squares_gradients", "spread", "minibatch_noise", "minibatch_gradients"]


def _per_example(per_example: Any) -> np.ndarray:
    array = np.asarray(per_example, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2:
        raise ValueError("per_example must have shape (N, dim) with N >= 2 examples, got "
                         f"{array.shape}")
    return array


def _batch_size(batch_size: Any, n: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or \
            not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer in [1, {n}], got {batch_size!r}")
    return int(batch_size)


def least_squares_gradients(features: Any, targets: Any, theta: Any) -> np.ndarray:
    """The gradient of each example's loss ½(xᵢᵀw + b − yᵢ)² with respect to (w, b).

    With the residual rᵢ = xᵢᵀw + b − yᵢ it is rᵢ (xᵢ, 1): row i of the result.

    Args:
        features: shape (N, d), a numpy array or a tensor.
        targets: shape (N,) (or (N, 1)).
        theta: (w₁, ..., w_d, b), the weights then the bias.

    Returns:
        Shape (N, d + 1), in float64.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64).reshape(-1)
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"features must be (N, d) and targets (N,), got {x.shape} and "
                         f"{np.shape(targets)}")
    if theta.shape[0] != x.shape[1] + 1:
        raise ValueError(f"theta must hold {x.shape[1]} weights and a bias, got "
                         f"{theta.shape[0]} numbers")
    design = np.column_stack([x, np.ones(len(x))])
    residuals = design @ theta - y
    return residuals[:, None] * design


def spread(per_example: Any) -> float:
    """σ² = (1/N) Σᵢ ‖gᵢ − ḡ‖², the spread of the per-example gradients around their mean."""
    g = _per_example(per_example)
    return float(np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1)))


def minibatch_noise(per_example: Any, batch_size: int) -> float:
    """E ‖g_B − ḡ‖² = σ²/b · (N − b)/(N − 1) for batches of b distinct examples.

    Args:
        per_example: the gradients gᵢ, shape (N, dim).
        batch_size: b, an integer in [1, N].
    """
    g = _per_example(per_example)
    n = len(g)
    b = _batch_size(batch_size, n)
    return spread(g) / b * (n - b) / (n - 1)


def minibatch_gradients(per_example: Any, batch_size: int, count: int, *,
                        seed: int = 0) -> np.ndarray:
    """``count`` minibatch gradients g_B, drawn as training draws its batches.

    Epoch e is :func:`course_lib.data.minibatches` with ``seed`` and ``epoch=e`` (a fresh
    shuffle cut into batches of b; the last, shorter batch of an epoch is skipped when b does
    not divide N, so every gradient averages exactly b examples); epochs follow each other
    until ``count`` batches are drawn.

    Args:
        per_example: the gradients gᵢ, shape (N, dim).
        batch_size: b, an integer in [1, N].
        count: how many batch gradients (an integer >= 1).
        seed: the seed of the shuffles (an integer >= 0).

    Returns:
        Shape (count, dim).
    """
    g = _per_example(per_example)
    n = len(g)
    b = _batch_size(batch_size, n)
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    index = np.arange(n)
    out: list[np.ndarray] = []
    epoch = 0
    while len(out) < count:
        for batch, _ in minibatches(index, index, b, seed=seed, epoch=epoch):
            if len(batch) == b:
                out.append(g[batch].mean(axis=0))
                if len(out) == count:
                    break
        epoch += 1
    return np.array(out)
