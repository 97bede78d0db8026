"""The capstone study (chapter 14): every optimizer on scikit-learn's digits, tuned, then tested.

The protocol, the same for every contestant:

1. **Data and model.** :func:`course_lib.data.digits` (1347 training and 450 test images) in
   float64; an MLP 64-32-10 with a ReLU, its weights drawn from the seed; minibatches of 64, in
   an order drawn from the seed (:func:`course_lib.training.fit`).
2. **Budget.** 10 epochs of 22 minibatches, 220 updates, and one schedule shape for everyone:
   a linear warmup from 0 over the first epoch (22 updates) to a peak rate, then cosine decay
   to 0 at the last update (:func:`schedule`). The control runs (``scheduled=False``) keep the
   rate constant instead.
3. **Tuning.** Each contestant runs at every rate of :data:`GRID` (Adadelta, whose default
   rate is 1, at ten times those) on :data:`TUNING_SEEDS` (0, 1, 2). Its score at a rate is the
   training loss at the ends of the last :data:`SMOOTHING` epochs, averaged over those epochs
   and over the seeds (:func:`score`): a smoothed criterion, so that one noisy epoch cannot pick
   the rate. The rate with the lowest score wins. ``python tools/tune_capstone.py`` runs the
   search (about a minute) and writes :data:`TUNING_FILE`; :func:`load_tuning` reads it.
4. **Report.** The chapter then runs each contestant at its tuned rate on :data:`REPORT_SEEDS`
   (3 to 12), seeds that took no part in the tuning, so the rates were not chosen for the luck
   of the seeds they are judged on.

>>> sorted(CONTESTANTS)[:3]
['Adadelta', 'Adagrad', 'Adam']
>>> rates("Adam")[:3], rates("Adadelta")[:3]
((0.0001, 0.0003, 0.001), (0.001, 0.003, 0.01))
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import pathlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from course_lib import data, optim, schedules, training
from course_lib.torch_schedules import ScheduledLR

__all__ = [
    "BATCH_SIZE",
    "CONTESTANTS",
    "Contestant",
    "EPOCHS",
    "GRID",
    "REPORT_SEEDS",
    "SIZES",
    "SMOOTHING",
    "STEPS_PER_EPOCH",
    "TUNING_FILE",
    "TUNING_SEEDS",
    "Tuning",
    "default_lr",
    "digits",
    "load_tuning",
    "make_optimizer",
    "rates",
    "run",
    "run_single",
    "schedule",
    "score",
    "tune",
]

SIZES = (64, 32, 10)
EPOCHS = 10
BATCH_SIZE = 64
#: 1347 training images in minibatches of 64: 21 full ones and one of 3.
STEPS_PER_EPOCH = 22
WARMUP_EPOCHS = 1
TUNING_SEEDS = (0, 1, 2)
REPORT_SEEDS = tuple(range(3, 13))
#: The score averages the training loss over the ends of this many last epochs.
SMOOTHING = 3
#: The learning rates tried for each contestant: 1 and 3 times each power of ten, 1e-4 to 30.
GRID = tuple(float(f"{m}e{k}") for k in range(-4, 2) for m in (1, 3))
TUNING_FILE = pathlib.Path(__file__).with_name("capstone_tuning.json")


class Contestant(NamedTuple):
    """An optimizer class of :mod:`course_lib.optim` and the options it keeps fixed (not lr)."""

    optimizer: type[torch.optim.Optimizer]
    options: dict[str, Any]
    #: The grid is GRID times this (Adadelta's rates are ten times larger).
    grid_scale: float = 1.0


#: The twelve optimizers of the course, plus two ablations that add or remove momentum:
#: RMSprop with momentum 0.9, and Adam without its running average of the gradient (β₁ = 0).
CONTESTANTS: dict[str, Contestant] = {
    "SGD": Contestant(optim.SGD, {}),
    "Momentum": Contestant(optim.SGD, {"momentum": 0.9}),
    "Nesterov": Contestant(optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "Adagrad": Contestant(optim.Adagrad, {}),
    "RMSprop": Contestant(optim.RMSprop, {}),
    "RMSprop + momentum": Contestant(optim.RMSprop, {"momentum": 0.9}),
    "Adadelta": Contestant(optim.Adadelta, {}, grid_scale=10.0),
    "Adam": Contestant(optim.Adam, {}),
    "Adam, beta1 = 0": Contestant(optim.Adam, {"betas": (0.0, 0.999)}),
    "AdamW": Contestant(optim.AdamW, {}),
    "Adamax": Contestant(optim.Adamax, {}),
    "NAdam": Contestant(optim.NAdam, {}),
    "RAdam": Contestant(optim.RAdam, {}),
    "Yogi": Contestant(optim.Yogi, {}),
}


def _contestant(name: str) -> Contestant:
    if name not in CONTESTANTS:
        raise ValueError(f"name must be one of {sorted(CONTESTANTS)}, got {name!r}")
    return CONTESTANTS[name]


def rates(name: str) -> tuple[float, ...]:
    """The learning rates the search tries for contestant ``name``."""
    scale = _contestant(name).grid_scale
    return tuple(float(f"{rate * scale:.6g}") for rate in GRID)


def make_optimizer(name: str, lr: float, *, library: str = "course_lib") -> Callable[..., Any]:
    """``params -> optimizer`` for contestant ``name`` at rate ``lr``.

    ``library="torch"`` gives ``torch.optim``'s class of the same name with the same options
    (every contestant but Yogi has one).
    """
    contestant = _contestant(name)
    if library == "course_lib":
        cls = contestant.optimizer
    elif library == "torch":
        cls = getattr(torch.optim, contestant.optimizer.__name__, None)
        if cls is None:
            raise ValueError(f"torch.optim has no {contestant.optimizer.__name__}")
    else:
        raise ValueError(f"library must be 'course_lib' or 'torch', got {library!r}")
    return functools.partial(cls, lr=lr, **contestant.options)


def default_lr(name: str) -> float:
    """torch.optim's default learning rate for contestant ``name``'s optimizer (Yogi, which
    torch lacks: course_lib's, d2l's 0.01)."""
    cls = _contestant(name).optimizer
    reference = getattr(torch.optim, cls.__name__, cls)
    return float(inspect.signature(reference).parameters["lr"].default)


def schedule(peak_lr: float, epochs: int = EPOCHS) -> schedules.Schedule:
    """The study's schedule: warmup over the first epoch to ``peak_lr``, cosine to 0 at the end."""
    return schedules.warmup_cosine(peak_lr, epochs * STEPS_PER_EPOCH,
                                   WARMUP_EPOCHS * STEPS_PER_EPOCH)


@functools.cache
def digits() -> data.DigitsData:
    """The digits split as float64 images and int64 labels (x_train, y_train, x_test, y_test)."""
    x_train, y_train, x_test, y_test = data.digits().as_tensors()
    return data.DigitsData(x_train.double(), y_train, x_test.double(), y_test)


def run(name: str, lr: float, seeds: Sequence[int], *, scheduled: bool = True,
        epochs: int = EPOCHS, library: str = "course_lib") -> training.SeedHistories:
    """Contestant ``name`` at (peak) rate ``lr``, one network per seed, with the study's budget."""
    x_train, y_train, x_test, y_test = digits()
    return training.fit(make_optimizer(name, lr, library=library), x_train, y_train,
                        sizes=SIZES, seeds=seeds, epochs=epochs, batch_size=BATCH_SIZE,
                        schedule=schedule(lr, epochs) if scheduled else None,
                        test=(x_test, y_test))


def run_single(name: str, lr: float, seed: int, *, scheduled: bool = True,
               epochs: int = EPOCHS, dtype: torch.dtype = torch.float64,
               scale_first_layer: float = 1.0) -> training.History:
    """The same run as ``run(name, lr, [seed])``, done the ordinary way: one
    :func:`~course_lib.training.mlp`, :func:`~course_lib.training.train`, one optimizer.

    ``dtype`` sets the precision of the network and the data; ``scale_first_layer`` multiplies
    the first layer's initial weights (1 + 2⁻²⁴ imitates one float32 rounding of each).
    """
    x_train, y_train, x_test, y_test = (t.to(dtype) if t.is_floating_point() else t
                                        for t in digits())
    model = training.mlp(list(SIZES), seed=seed, dtype=dtype)
    if scale_first_layer != 1.0:
        with torch.no_grad():
            model[0].weight.mul_(scale_first_layer)
    optimizer = make_optimizer(name, lr)(model.parameters())
    scheduler = ScheduledLR(optimizer, schedule(lr, epochs)) if scheduled else None
    return training.train(
        model, optimizer, x_train, y_train, epochs=epochs, batch_size=BATCH_SIZE,
        loss=torch.nn.functional.cross_entropy, record_every=None, scheduler=scheduler,
        scheduler_every="batch", seed=seed,
        eval_fn=lambda m: {"test accuracy": training.accuracy(m, x_test, y_test)})


def score(loss: np.ndarray) -> float:
    """The tuning criterion: the loss over the last :data:`SMOOTHING` epochs, averaged.

    ``loss`` has one row per seed and one column per record (start, then each epoch), as
    :attr:`~course_lib.training.SeedHistories.loss`. A run that diverged (a loss that is not
    finite) scores ``inf``.
    """
    values = np.asarray(loss, dtype=np.float64)[:, -SMOOTHING:]
    return float(values.mean()) if np.all(np.isfinite(values)) else math.inf


class Tuning(NamedTuple):
    """The search's results: for each schedule kind and contestant, per-rate scores and losses."""

    #: "warmup-cosine" or "constant" -> name -> the rates tried.
    rates: dict[str, dict[str, list[float]]]
    #: kind -> name -> one row per rate: the smoothed loss of each tuning seed (inf: diverged).
    seed_scores: dict[str, dict[str, np.ndarray]]
    #: kind -> name -> the chosen rate.
    chosen: dict[str, dict[str, float]]

    def scores(self, kind: str, name: str) -> np.ndarray:
        """The score of each rate: the mean over the tuning seeds (inf if any diverged)."""
        per_seed = self.seed_scores[kind][name]
        return np.where(np.all(np.isfinite(per_seed), axis=1), per_seed.mean(axis=1), np.inf)


KINDS = {"warmup-cosine": True, "constant": False}


def tune(names: Iterable[str] | None = None, kinds: Iterable[str] = tuple(KINDS),
         seeds: Sequence[int] = TUNING_SEEDS,
         progress: Callable[[str], None] | None = None) -> Tuning:
    """Run the search: every contestant at every rate of its grid, on the tuning seeds."""
    names = list(CONTESTANTS) if names is None else [n for n in names if _contestant(n)]
    found_rates: dict[str, dict[str, list[float]]] = {}
    seed_scores: dict[str, dict[str, np.ndarray]] = {}
    chosen: dict[str, dict[str, float]] = {}
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"kinds must be among {list(KINDS)}, got {kind!r}")
        found_rates[kind], seed_scores[kind], chosen[kind] = {}, {}, {}
        for name in names:
            rows = []
            for lr in rates(name):
                loss = run(name, lr, seeds, scheduled=KINDS[kind]).loss
                rows.append([score(row[None, :]) for row in loss])
            found_rates[kind][name] = list(rates(name))
            seed_scores[kind][name] = np.array(rows)
            chosen[kind][name] = found_rates[kind][name][int(np.argmin(
                Tuning(found_rates, seed_scores, chosen).scores(kind, name)))]
            if progress is not None:
                progress(f"{kind:13s} {name:20s} best lr {chosen[kind][name]:g}")
    return Tuning(found_rates, seed_scores, chosen)


def save_tuning(tuning: Tuning, path: pathlib.Path | str = TUNING_FILE) -> None:
    """Write the search's results as JSON (diverged runs as null)."""
    document = {
        "protocol": {
            "what": "course_lib.capstone: the tuning search of chapter 14 "
                    "(python tools/tune_capstone.py writes this file)",
            "sizes": list(SIZES), "epochs": EPOCHS, "batch_size": BATCH_SIZE,
            "warmup_epochs": WARMUP_EPOCHS, "tuning_seeds": list(TUNING_SEEDS),
            "score": f"training loss at the ends of the last {SMOOTHING} epochs, averaged "
                     "over those epochs and over the seeds",
        },
        "chosen": tuning.chosen,
        "rates": tuning.rates,
        "seed_scores": {kind: {name: [[v if math.isfinite(v) else None for v in row]
                                      for row in table.tolist()]
                               for name, table in by_name.items()}
                        for kind, by_name in tuning.seed_scores.items()},
    }
    pathlib.Path(path).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def load_tuning(path: pathlib.Path | str = TUNING_FILE) -> Tuning:
    """Read the results that ``tools/tune_capstone.py`` wrote."""
    document = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    seed_scores = {kind: {name: np.array([[math.inf if v is None else v for v in row]
                                          for row in table], dtype=np.float64)
                          for name, table in by_name.items()}
                   for kind, by_name in document["seed_scores"].items()}
    return Tuning(document["rates"], seed_scores, document["chosen"])
