"""How sure is a comparison over seeds? Means with confidence intervals and paired differences.

A training run is one sample: another seed (other initial weights, another minibatch order)
gives another result. So a study runs every optimizer on the same seeds and reports:

* :func:`mean_interval`: the mean over the seeds and its 95% confidence interval,
  ``mean ± t · s / √n`` with ``s`` the sample standard deviation and ``t`` Student's
  0.975-quantile with ``n − 1`` degrees of freedom (2.262 for ten seeds, 4.303 for three);
* :func:`paired_difference`: ``a − b`` seed by seed, with the interval of its mean and how many
  seeds favour each side. Seed s gives both runs the same start and the same minibatches, so
  the luck they share cancels in the difference, and a real gap shows with fewer seeds;
* :func:`paired_ratio`: the same on a log scale, for losses that span decades: the geometric
  mean of ``a / b`` and its interval (the paired difference of the logs, exponentiated).

>>> interval = mean_interval([1.0, 2.0, 3.0])
>>> round(interval.mean, 3), round(interval.low, 3), round(interval.high, 3)
(2.0, -0.484, 4.484)
>>> diff = paired_difference([1.0, 2.0, 3.0], [1.5, 2.4, 3.6])
>>> round(diff.mean, 3), diff.below, diff.above
(-0.5, 3, 0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _scipy_stats

__all__ = ["Interval", "PairedDifference", "mean_interval", "paired_difference", "paired_ratio",
           "t_quantile"]


def _values(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size < 2:
        raise ValueError(f"{name} must be a 1-D sequence of at least two numbers, got shape "
                         f"{array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {array.tolist()}")
    return array


def _confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) \
            or not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    return float(confidence)


def t_quantile(n: int, confidence: float = 0.95) -> float:
    """Student's t quantile for a two-sided interval of the mean of ``n`` values.

    >>> round(t_quantile(10), 3), round(t_quantile(3), 3)
    (2.262, 4.303)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    return float(_scipy_stats.t.ppf(0.5 + _confidence(confidence) / 2, n - 1))


@dataclass(frozen=True)
class Interval:
    """A mean over ``n`` values and its confidence interval ``[low, high]``."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def format(self, spec: str = ".4f") -> str:
        """``"0.0390 [0.0310, 0.0470]"``: the mean, then the interval, in the format ``spec``."""
        return f"{self.mean:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """The mean of ``values`` and its Student-t confidence interval (``confidence`` two-sided)."""
    array = _values(values, "values")
    n = len(array)
    mean = float(array.mean())
    half = t_quantile(n, confidence) * float(array.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, confidence)


@dataclass(frozen=True)
class PairedDifference:
    """``a − b`` seed by seed: the interval of its mean, and the seeds where a < b or a > b."""

    interval: Interval
    below: int
    above: int

    @property
    def mean(self) -> float:
        return self.interval.mean

    @property
    def n(self) -> int:
        return self.interval.n


def paired_difference(a: Sequence[float], b: Sequence[float],
                      confidence: float = 0.95) -> PairedDifference:
    """The per-seed differences ``a[i] − b[i]``: their mean with its interval, and the signs.

    ``a`` and ``b`` hold one value per seed, in the same seed order.
    """
    first, second = _values(a, "a"), _values(b, "b")
    if first.shape != second.shape:
        raise ValueError(f"a and b must have one value per seed each, got {len(first)} and "
                         f"{len(second)}")
    difference = first - second
    return PairedDifference(mean_interval(difference, confidence),
                            int(np.sum(difference < 0)), int(np.sum(difference > 0)))


def paired_ratio(a: Sequence[float], b: Sequence[float],
                 confidence: float = 0.95) -> PairedDifference:
    """The per-seed ratios ``a[i] / b[i]`` of positive values, on a log scale.

    The interval is the paired difference of ``log a`` and ``log b``, exponentiated: its
    ``mean`` is the geometric mean of the ratios. ``below`` counts the seeds with a < b.

    >>> ratio = paired_ratio([1.0, 2.0, 4.0], [2.0, 4.0, 8.0])
    >>> round(ratio.mean, 6), ratio.below
    (0.5, 3)
    """
    first, second = _values(a, "a"), _values(b, "b")
    if np.any(first <= 0) or np.any(second <= 0):
        raise ValueError("paired_ratio needs positive values")
    logs = paired_difference(np.log(first), np.log(second), confidence)
    log_interval = logs.interval
    interval = Interval(math.exp(log_interval.mean), math.exp(log_interval.low),
                        math.exp(log_interval.high), log_interval.n, log_interval.confidence)
    return PairedDifference(interval, logs.below, logs.above)
