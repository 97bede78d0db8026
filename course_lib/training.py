"""Small training loops: linear regression or a small MLP, with any torch optimizer.

:func:`train` runs minibatch training with an optimizer you built (``course_lib.optim.Adam``,
``torch.optim.SGD``, anything with ``zero_grad``/``step``) and records the loss on the whole
training set every ``record_every`` examples, as d2l's ``train_ch11`` does. It returns a
:class:`History`: loss against examples seen, epochs, and wall time. The minibatch order is
seeded, so two runs give the same history (the seconds aside).

>>> import torch
>>> from course_lib import data, optim
>>> X, y = data.regression_data(n_samples=200).as_tensors()
>>> model = linear_regression(X.shape[1], seed=0)
>>> history = train(model, optim.SGD(model.parameters(), lr=0.05), X, y, epochs=2,
...                 batch_size=10, record_every=100)
>>> len(history.loss), history.examples[-1]
(5, 400)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from course_lib.data import minibatches

__all__ = [
    "History",
    "half_squared_error",
    "linear_regression",
    "mlp",
    "train",
    "evaluate",
    "accuracy",
]

#: Loops with at least this many minibatch steps show a progress bar unless told otherwise.
PROGRESS_THRESHOLD = 2000


def half_squared_error(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d2l's squared loss, ``(ŷ - y)² / 2``, averaged over the batch."""
    return ((prediction.reshape(target.shape) - target) ** 2 / 2).mean()


def linear_regression(n_features: int, *, seed: int = 0,
                      dtype: torch.dtype = torch.float32) -> torch.nn.Linear:
    """A linear model ``ŷ = Xw + b`` with d2l's initialisation: w ~ N(0, 0.01²), b = 0."""
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
    model = torch.nn.Linear(n_features, 1, dtype=dtype)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.weight.copy_(torch.randn(model.weight.shape, generator=generator) * 0.01)
        model.bias.zero_()
    return model


def mlp(sizes: Sequence[int], *, seed: int = 0, activation: type[torch.nn.Module] =
        torch.nn.ReLU, dtype: torch.dtype = torch.float32) -> torch.nn.Sequential:
    """A multilayer perceptron ``sizes[0] -> ... -> sizes[-1]`` with torch's default init, seeded.

    >>> [p.shape for p in mlp([4, 8, 1]).parameters()]
    [torch.Size([8, 4]), torch.Size([8]), torch.Size([1, 8]), torch.Size([1])]
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                             for s in sizes):
        raise ValueError(f"sizes must be two or more positive integers, got {sizes!r}")
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        layers: list[torch.nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [torch.nn.Linear(fan_in, fan_out, dtype=dtype), activation()]
        return torch.nn.Sequential(*layers[:-1])
    finally:
        torch.random.set_rng_state(state)  # leave the global generator as it was


@dataclass
class History:
    """What :func:`train` recorded; entry k of each list belongs to the same moment.

    ``seconds`` is wall time: print it only in cells whose output is not compared.
    """

    examples: list[int] = field(default_factory=list)
    epochs: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    #: The learning rate of the first parameter group at each record.
    lr: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        return self.loss[-1]

    def record(self, examples: int, epochs: float, loss: float, seconds: float,
               metrics: dict[str, float] | None = None, lr: float | None = None) -> None:
        if lr is not None:
            self.lr.append(lr)
        self.examples.append(examples)
        self.epochs.append(epochs)
        self.loss.append(loss)
        self.seconds.append(seconds)
        for name, value in (metrics or {}).items():
            self.metrics.setdefault(name, []).append(value)


@torch.no_grad()
def evaluate(model: torch.nn.Module, features: torch.Tensor, targets: torch.Tensor,
             loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = half_squared_error,
             ) -> float:
    """The loss of ``model`` on a whole dataset, as a float."""
    return float(loss(model(features), targets))


@torch.no_grad()
def accuracy(model: torch.nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of ``labels`` that the arg-max of ``model(features)`` gets right."""
    return float((model(features).argmax(dim=1) == labels).float().mean())


class _Progress:
    """A text progress bar without timings (so notebook outputs stay reproducible)."""

    def __init__(self, total: int, label: str = "training") -> None:
        self.total, self.label, self.shown = total, label, -1

    def update(self, done: int) -> None:
        percent = 100 * done // self.total
        if percent // 5 > self.shown // 5 or done == self.total:
            self.shown = percent
            filled = percent // 5
            sys.stderr.write(f"\r{self.label} |{'#' * filled}{'.' * (20 - filled)}| "
                             f"{percent:3d}% ({done}/{self.total} steps)")
            if done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def train(
    model: torch.nn.Module,
    optimizer: Any,
    features: torch.Tensor,
    targets: torch.Tensor,
    *,
    epochs: int = 2,
    batch_size: int = 10,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = half_squared_error,
    record_every: int | None = 200,
    scheduler: Any = None,
    scheduler_every: str = "epoch",
    eval_fn: Callable[[torch.nn.Module], dict[str, float]] | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> History:
    """Minibatch training of ``model`` with ``optimizer``; return the :class:`History`.

    Each step: ``optimizer.zero_grad()``, ``loss(model(X_batch), y_batch).backward()``,
    ``optimizer.step()``. Every ``record_every`` examples (and at the start and the end), the
    loss on all of ``features``/``targets`` is recorded, with ``eval_fn(model)``'s metrics.

    Args:
        model: a torch module.
        optimizer: an optimizer over ``model``'s parameters (course_lib's or torch's).
        features, targets: the training data (tensors with one row per example).
        epochs: passes over the data.
        batch_size: examples per minibatch.
        loss: ``loss(prediction, target) -> scalar tensor``; default d2l's half squared error.
        record_every: examples between records (None: once per epoch).
        scheduler: a torch LR scheduler to step after ``optimizer.step()``, every epoch or
            every batch (``scheduler_every="epoch" | "batch"``), in torch's order; a
            ``ReduceLROnPlateau`` is stepped once per epoch with the training loss.
        eval_fn: extra metrics to record, e.g. ``lambda m: {"test accuracy": ...}``.
        seed: seeds the minibatch order (epoch e uses ``(seed, e)``).
        progress: show a text progress bar; None shows it for loops of 2000+ steps.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if record_every is not None and (not isinstance(record_every, int) or record_every < 1):
        raise ValueError(f"record_every must be a positive integer or None, got {record_every!r}")
    if scheduler_every not in ("epoch", "batch"):
        raise ValueError(f"scheduler_every must be 'epoch' or 'batch', got {scheduler_every!r}")
    n = len(features)
    steps_per_epoch = -(-n // batch_size) if batch_size >= 1 else 0
    total_steps = epochs * steps_per_epoch
    show = progress if progress is not None else total_steps >= PROGRESS_THRESHOLD
    bar = _Progress(total_steps) if show else None
    history = History()
    started = time.perf_counter()

    def record(examples: int) -> None:
        history.record(examples, examples / n, evaluate(model, features, targets, loss),
                       time.perf_counter() - started, eval_fn(model) if eval_fn else None,
                       float(optimizer.param_groups[0]["lr"]))

    record(0)
    seen, step, next_record = 0, 0, record_every or n
    for epoch in range(epochs):
        model.train()
        for batch_x, batch_y in minibatches(features, targets, batch_size, seed=seed,
                                            epoch=epoch):
            optimizer.zero_grad()
            loss(model(batch_x), batch_y).backward()
            optimizer.step()
            if scheduler is not None and scheduler_every == "batch":
                scheduler.step()
            seen += len(batch_x)
            step += 1
            if bar is not None:
                bar.update(step)
            if seen >= next_record:
                model.eval()
                record(seen)
                model.train()
                interval = record_every or n
                next_record = (seen // interval + 1) * interval
        if scheduler is not None and scheduler_every == "epoch":
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(evaluate(model, features, targets, loss))  # fed the loss
            else:
                scheduler.step()
    model.eval()
    if history.examples[-1] != seen:
        record(seen)
    return history
