"""Article 003 (a numpy Adam): its ``AdamOptimizer`` and ``LinearRegression``, transcribed verbatim.

The article writes Adam as a numpy class, ``AdamOptimizer(learning_rate=0.001, beta1=0.9,
beta2=0.999, epsilon=1e-8)`` with ``update(params, grads)`` on dicts of arrays (ε added to
√v̂, after the bias correction: torch's placement), and tests it on a hand-written linear
regression: ``X = np.random.rand(100, 1)``, ``y = 3 * X + 4 + np.random.randn(100, 1) * 0.1``,
``AdamOptimizer(learning_rate=0.01)``, 100 epochs of full-batch gradients.

The classes below are the article's, character for character, except that its comments are
translated from Chinese (and shortened where the translation would not fit the line).
:func:`train` runs the article's script: the same lines in the same order, after
``np.random.seed(seed)`` (the article does not seed), with the optimizer class, learning rate and
number of epochs as arguments so that the same script can run course_lib's
:class:`course_lib.arrays.AdamOptimizer` or a fixed set-up.

What the article's set-up does: Adam moves each parameter by about ``learning_rate`` per step
(its step is lr · m̂/√v̂, and |m̂/√v̂| ≤ 1 roughly, = 1 while the gradient keeps its sign), so
in 100 steps of 0.01 the intercept, which starts at 0 and should reach about 4, moves by at
most 1.

>>> result = train(seed=0)
>>> len(result.losses), float(result.model.b[0]) <= 100 * 0.01
(100, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["AdamOptimizer", "LinearRegression", "TrainingRun", "train"]


class AdamOptimizer:
    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        # hyperparameters
        self.learning_rate = learning_rate   # learning rate
        self.beta1 = beta1                   # decay rate of the first-moment estimate
        self.beta2 = beta2                   # decay rate of the second-moment estimate
        self.epsilon = epsilon               # a constant against division by zero
        self.m = {}                          # first-moment estimates
        self.v = {}                          # second-moment estimates
        self.t = 0                           # iteration count

    def update(self, params, grads):
        # update the network's weights
        self.t += 1
        for key in params.keys():
            if key not in self.m:
                self.m[key] = np.zeros_like(params[key])
                self.v[key] = np.zeros_like(params[key])
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]    # 1st moment
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * (grads[key] ** 2)  # 2nd

            m_hat = self.m[key] / (1 - self.beta1 ** self.t)         # bias-correct the 1st moment
            v_hat = self.v[key] / (1 - self.beta2 ** self.t)         # bias-correct the 2nd moment

            params[key] -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)  # update


# a simple linear model
class LinearRegression:
    def __init__(self, input_dim):
        self.W = np.random.randn(input_dim, 1)  # weight initialisation  # noqa: NPY002
        self.b = np.zeros((1,))                  # bias initialisation

    def predict(self, X):
        return X @ self.W + self.b               # forward pass

    def loss(self, X, y):
        y_pred = self.predict(X)
        return np.mean((y_pred - y) ** 2)        # mean squared error


@dataclass
class TrainingRun:
    """What the article's script leaves behind: its data, model, optimizer, and the loss it
    computed at each epoch (before that epoch's update)."""

    X: np.ndarray
    y: np.ndarray
    model: LinearRegression
    optimizer: Any
    losses: list[float]
    path: np.ndarray  # (epochs + 1, 2): (W, b) at the start and after each epoch


def train(seed: int = 0, *, optimizer_class: type = AdamOptimizer, learning_rate: float = 0.01,
          epochs: int = 100) -> TrainingRun:
    """The article's script, seeded: data, model, ``optimizer_class(learning_rate=...)``, loop.

    The defaults are the article's (its own ``AdamOptimizer``, 0.01, 100 epochs). numpy's
    global generator, which the article uses, is seeded for the run and restored afterwards.
    """
    saved = np.random.get_state()  # noqa: NPY002 - the article uses the global generator:
    np.random.seed(seed)  # noqa: NPY002 - seed it, and give it back as it was afterwards
    try:
        # data
        X = np.random.rand(100, 1)  # noqa: NPY002
        y = 3 * X + 4 + np.random.randn(100, 1) * 0.1  # linear data with noise  # noqa: NPY002

        # training
        model = LinearRegression(input_dim=1)
        optimizer = optimizer_class(learning_rate=learning_rate)
    finally:
        np.random.set_state(saved)  # noqa: NPY002

    losses, path = [], [(float(model.W[0, 0]), float(model.b[0]))]
    # the training loop
    for epoch in range(epochs):  # noqa: B007 - the article's loop variable
        y_pred = model.predict(X)
        loss = model.loss(X, y)
        grads = {
            'W': (2 * X.T @ (y_pred - y)) / len(y),  # gradient of the weights
            'b': np.mean(2 * (y_pred - y))             # gradient of the bias
        }
        optimizer.update({'W': model.W, 'b': model.b}, grads)
        losses.append(float(loss))
        path.append((float(model.W[0, 0]), float(model.b[0])))
    return TrainingRun(X, y, model, optimizer, losses, np.array(path))
