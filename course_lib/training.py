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

import numpy as np
import torch

from course_lib.data import minibatches
from course_lib.torch_schedules import ScheduledLR

__all__ = [
    "History",
    "half_squared_error",
    "linear_regression",
    "mlp",
    "train",
    "evaluate",
    "accuracy",
    "StackedMLP",
    "SeedHistories",
    "fit",
    "seconds_per_epoch",
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


# -- many seeds at once ------------------------------------------------------------------------


class StackedMLP(torch.nn.Module):
    """One :func:`mlp` per seed, trained side by side: slice ``s`` of every parameter is seed s's.

    ``weights[k]`` (parameter ``weight{k}``) has shape ``(S, fan_out, fan_in)`` and ``biases[k]``
    (``bias{k}``) shape ``(S, fan_out)``;
    slice ``s`` holds exactly the weight and bias of layer k of ``mlp(sizes, seed=seeds[s])``.
    ``forward(x)`` takes ``x`` of shape ``(S, B, sizes[0])`` (one batch per seed) or
    ``(B, sizes[0])`` (the same batch for all) and returns ``(S, B, sizes[-1])``: network s
    sees only slice s of the parameters, so the gradient of a sum of per-seed losses gives each
    slice the gradient of its own network.

    >>> stack = StackedMLP([4, 8, 1], seeds=(0, 1))
    >>> [tuple(p.shape) for p in stack.parameters()]
    [(2, 8, 4), (2, 8), (2, 1, 8), (2, 1)]
    >>> bool(torch.equal(stack.member(1)[0].weight, mlp([4, 8, 1], seed=1)[0].weight))
    True
    """

    def __init__(self, sizes: Sequence[int], seeds: Sequence[int], *,
                 activation: type[torch.nn.Module] = torch.nn.ReLU,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.seeds = _seed_list(seeds)
        self.sizes = list(sizes)
        self.activation = activation
        members = [mlp(self.sizes, seed=seed, activation=activation, dtype=dtype)
                   for seed in self.seeds]
        linears = [[m for m in member if isinstance(m, torch.nn.Linear)] for member in members]
        for k in range(len(self.sizes) - 1):  # registered layer by layer, as mlp() lists them
            self.register_parameter(f"weight{k}", torch.nn.Parameter(
                torch.stack([layers[k].weight.detach() for layers in linears])))
            self.register_parameter(f"bias{k}", torch.nn.Parameter(
                torch.stack([layers[k].bias.detach() for layers in linears])))
        self._act = activation()

    @property
    def weights(self) -> list[torch.nn.Parameter]:
        return [getattr(self, f"weight{k}") for k in range(len(self.sizes) - 1)]

    @property
    def biases(self) -> list[torch.nn.Parameter]:
        return [getattr(self, f"bias{k}") for k in range(len(self.sizes) - 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.expand(len(self.seeds), *x.shape)
        last = len(self.weights) - 1
        for k, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
            if k < last:
                x = self._act(x)
        return x

    def member(self, index: int) -> torch.nn.Sequential:
        """Network ``index`` (of seed ``seeds[index]``) as an ordinary :func:`mlp`, copied."""
        model = mlp(self.sizes, seed=self.seeds[index], activation=self.activation,
                    dtype=self.weights[0].dtype)
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for layer, weight, bias in zip(linears, self.weights, self.biases, strict=True):
                layer.weight.copy_(weight[index])
                layer.bias.copy_(bias[index])
        return model


def _seed_list(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be one or more integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be different from each other, got {seeds!r}")
    return seeds


@dataclass
class SeedHistories:
    """What :func:`fit` recorded: one row per seed, one column per record (start, each epoch).

    Attributes:
        seeds: the seeds, in the order of the rows.
        epochs: the epoch of each record, shape ``(R,)`` (0 is before the first update).
        loss: the training loss on all the training data, shape ``(S, R)``.
        metrics: ``"test loss"`` and ``"test accuracy"`` (when test data was given), ``(S, R)``.
        lr: the learning rate of the first parameter group at each record, ``(R,)``.
        model: the trained :class:`StackedMLP`.
    """

    seeds: list[int]
    epochs: np.ndarray
    loss: np.ndarray
    metrics: dict[str, np.ndarray]
    lr: np.ndarray
    model: StackedMLP

    @property
    def final_loss(self) -> np.ndarray:
        """The training loss at the end, one value per seed."""
        return self.loss[:, -1]


def fit(
    make_optimizer: Callable[[Any], Any],
    features: torch.Tensor,
    targets: torch.Tensor,
    *,
    sizes: Sequence[int],
    seeds: Sequence[int] = (0,),
    epochs: int = 10,
    batch_size: int = 64,
    loss: Callable[..., torch.Tensor] = torch.nn.functional.cross_entropy,
    schedule: Callable[[int], float] | None = None,
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> SeedHistories:
    """Train one fresh :func:`mlp` per seed, all at once, and record each epoch; see below.

    Run s is the run that :func:`train` would do with ``mlp(sizes, seed=s)``, ``seed=s`` and
    ``scheduler_every="batch"``: the weights are drawn from seed s, the minibatch order of
    epoch e is ``data.minibatches(..., seed=s, epoch=e)``'s, each step minimises the mean
    ``loss`` over the batch. The networks are the slices of one :class:`StackedMLP`, and one
    optimizer, ``make_optimizer(stack.parameters())``, updates them all. That is the same as
    one optimizer per network for every optimizer that works coordinate by coordinate (all of
    the course's; not L-BFGS, and not clipping by a global norm); the results agree with
    separate runs to float rounding, at a fraction of their cost.

    Args:
        make_optimizer: ``params -> optimizer`` (``functools.partial(optim.Adam, lr=0.01)``).
        features, targets: the training data; the networks take ``features``'s dtype.
        sizes: the layer sizes of each network (``[64, 32, 10]``).
        seeds: one network per seed (distinct integers >= 0).
        epochs: passes over the data (an integer >= 1).
        batch_size: examples per minibatch (an integer >= 1).
        loss: a ``torch.nn.functional`` loss that takes ``reduction="none"``.
        schedule: ``t -> lr`` for update t = 0, 1, ... (set through
            :class:`~course_lib.torch_schedules.ScheduledLR`); None keeps the optimizer's lr.
        test: ``(x_test, y_test)``: also record the test loss and accuracy (classification).

    >>> import functools
    >>> X, y = torch.rand(40, 3, dtype=torch.float64), torch.arange(40) % 2
    >>> runs = fit(functools.partial(torch.optim.SGD, lr=0.1), X, y, sizes=[3, 4, 2],
    ...            seeds=[0, 1, 2], epochs=2, batch_size=8)
    >>> runs.loss.shape, runs.epochs.tolist()
    ((3, 3), [0.0, 1.0, 2.0])
    """
    seeds = _seed_list(seeds)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if len(features) != len(targets):
        raise ValueError(f"features and targets must have the same number of rows, got "
                         f"{len(features)} and {len(targets)}")
    stack = StackedMLP(sizes, seeds, dtype=features.dtype)
    optimizer = make_optimizer(stack.parameters())
    scheduler = None if schedule is None else ScheduledLR(optimizer, schedule)
    n, count = len(features), len(seeds)
    index = np.arange(n)

    def mean_loss(prediction: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        # (S, B, C) and (S, B) -> the mean loss of each network over its batch, shape (S,)
        per_example = loss(prediction.reshape(-1, prediction.shape[-1]), labels.reshape(-1),
                           reduction="none")
        return per_example.reshape(labels.shape).mean(dim=1)

    records: dict[str, list[np.ndarray]] = {"loss": []}
    rates: list[float] = []

    @torch.no_grad()
    def record() -> None:
        rates.append(float(optimizer.param_groups[0]["lr"]))
        records["loss"].append(mean_loss(stack(features), targets.expand(count, n)).numpy())
        if test is not None:
            x_test, y_test = test
            out = stack(x_test)
            labels = y_test.expand(count, len(y_test))
            records.setdefault("test loss", []).append(mean_loss(out, labels).numpy())
            records.setdefault("test accuracy", []).append(
                (out.argmax(dim=-1) == labels).to(torch.float64).mean(dim=1).numpy())

    record()
    for epoch in range(epochs):
        orders = [list(minibatches(index, index, batch_size, seed=seed, epoch=epoch))
                  for seed in seeds]
        for batch in range(len(orders[0])):
            rows = torch.as_tensor(np.stack([order[batch][0] for order in orders]))
            optimizer.zero_grad()
            mean_loss(stack(features[rows]), targets[rows]).sum().backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
        record()
    columns = {name: np.stack(values, axis=1) for name, values in records.items()}
    return SeedHistories(seeds, np.arange(epochs + 1, dtype=np.float64), columns.pop("loss"),
                         columns, np.array(rates), stack)


# -- how long an epoch takes -------------------------------------------------------------------


def seconds_per_epoch(
    model: torch.nn.Module,
    optimizer: Any,
    features: torch.Tensor,
    targets: torch.Tensor,
    batch_size: int,
    *,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = half_squared_error,
    updates: int = 20,
    seed: int = 0,
) -> float:
    """Wall-clock seconds one epoch of :func:`train` takes at ``batch_size``, estimated.

    Times ``updates`` minibatch updates exactly as :func:`train` makes them (the batches of
    :func:`~course_lib.data.minibatches`, ``zero_grad``, loss, ``backward``, ``step``), after
    one untimed update (each timed with the drawing of its batch), and multiplies the median
    time of one update by the updates per epoch,
    ⌈N / b⌉. A whole epoch of batch size 1 would take seconds; this takes milliseconds. The
    model is trained by those updates. The number depends on the machine and its load: print
    it where nothing compares it.

    Args:
        model, optimizer, features, targets, loss, seed: as for :func:`train`.
        batch_size: examples per minibatch (an integer >= 1).
        updates: how many updates to time (an integer >= 1).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(updates, bool) or not isinstance(updates, int) or updates < 1:
        raise ValueError(f"updates must be a positive integer, got {updates!r}")
    n = len(features)
    per_epoch = -(-n // batch_size)
    times: list[float] = []
    epoch = 0
    model.train()
    while len(times) <= updates:
        batches = minibatches(features, targets, batch_size, seed=seed, epoch=epoch)
        last = time.perf_counter()
        for batch_x, batch_y in batches:  # the time of a step includes drawing its batch
            optimizer.zero_grad()
            loss(model(batch_x), batch_y).backward()
            optimizer.step()
            now = time.perf_counter()
            times.append(now - last)
            last = now
            if len(times) > updates:
                break
        epoch += 1
    return float(np.median(times[1:])) * per_epoch
