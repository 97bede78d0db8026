"""The runs behind experiment questions: one function a learner calls to try a choice, and the
check calls to grade it.

An experiment question asks for a choice (a dict of plain data) that reaches a stated target;
its hidden checks rerun the choice with seeds drawn at grading time
(:func:`course_lib.grading.checks.experiment`). The run itself lives here, once, so that what
a learner tries in the notebook is exactly what the grader reruns, in the grading process.

* :func:`digits_warmup_accuracy` (chapter 11): the deeper digits network of chapter 11's
  "When warmup matters", trained with Adam at a peak rate of 0.1 for 3 epochs with the
  learner's warmup.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = ["digits_warmup_accuracy", "DIGITS_WARMUP"]

#: The fixed part of :func:`digits_warmup_accuracy`'s recipe.
DIGITS_WARMUP = {"sizes": (64, 64, 64, 64, 10), "peak_lr": 0.1, "epochs": 3, "batch_size": 128,
                 "networks": 3}


@functools.cache
def _standardised_digits() -> tuple[Any, Any, Any, Any]:
    """The digits split in float64, each pixel standardised with the training set's mean and
    standard deviation (pixels blank in every training image stay 0), as in chapter 11."""
    from course_lib import data

    x_train, y_train, x_test, y_test = data.digits().as_tensors()
    x_train, x_test = x_train.double(), x_test.double()
    mean, std = x_train.mean(0), x_train.std(0)
    std[std == 0] = 1.0
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


def digits_warmup_accuracy(choice: dict[str, Any], seed: int) -> float:
    """Mean test accuracy of three deep networks trained with the warmup ``choice``.

    The networks (64 → 64 → 64 → 64 → 10, ReLU, float64; weights and minibatch orders from
    three seeds drawn from ``seed``) are trained on the standardised digits with
    ``course_lib.optim.Adam`` for 3 epochs of minibatches of 128 (33 updates). The learning
    rate before update t is ``schedules.warmup_cosine(0.1, 33, w, start_lr=s)(t)`` with
    ``choice = {"warmup_steps": w, "start_lr": s}``: a linear ramp from s to the peak 0.1 over
    the first w updates, then a cosine down to 0 at the last. torch runs on one thread during
    the run (as in chapter 11: the same order of operations on every machine, and no two
    threads waiting on each other on a busy machine). Takes about 0.2 s.

    >>> accuracy = digits_warmup_accuracy({"warmup_steps": 11, "start_lr": 0.0}, seed=0)
    >>> 0.85 < accuracy <= 1.0
    True
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _digits_warmup_run(choice, seed)
    finally:
        torch.set_num_threads(threads)


def _digits_warmup_run(choice: dict[str, Any], seed: int) -> float:
    from course_lib import optim, schedules, training

    recipe = DIGITS_WARMUP
    x_train, y_train, x_test, y_test = _standardised_digits()
    seeds = [int(s) for s in np.random.default_rng(seed).choice(10**6, recipe["networks"],
                                                                replace=False)]
    steps = recipe["epochs"] * -(-len(x_train) // recipe["batch_size"])
    schedule = schedules.warmup_cosine(recipe["peak_lr"], steps, int(choice["warmup_steps"]),
                                       start_lr=float(choice["start_lr"]))
    runs = training.fit(functools.partial(optim.Adam, lr=recipe["peak_lr"]), x_train, y_train,
                        sizes=list(recipe["sizes"]), seeds=seeds, epochs=recipe["epochs"],
                        batch_size=recipe["batch_size"], schedule=schedule,
                        test=(x_test, y_test))
    return float(runs.metrics["test accuracy"][:, -1].mean())
