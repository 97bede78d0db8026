"""course_lib.stats against published t tables, hand arithmetic and a coverage simulation."""

import math

import numpy as np
import pytest

from course_lib import stats


@pytest.mark.parametrize(("n", "published"), [(2, 12.706), (3, 4.303), (10, 2.262), (30, 2.045)])
def test_t_quantiles_match_the_published_table(n, published):
    assert stats.t_quantile(n) == pytest.approx(published, abs=5e-4)


def test_mean_interval_by_hand():
    interval = stats.mean_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # s = 1
    assert (interval.mean, interval.low, interval.high) == pytest.approx((2, 2 - half, 2 + half))
    assert interval.n == 3 and interval.contains(2.0) and not interval.contains(5.0)
    assert interval.format(".2f") == "2.00 [-0.48, 4.48]"


def test_ninety_five_percent_intervals_cover_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = sum(stats.mean_interval(rng.normal(3.0, 2.0, size=10)).contains(3.0)
                  for _ in range(4000))
    assert 0.935 < covered / 4000 < 0.965


def test_paired_difference_counts_signs_and_cancels_shared_noise():
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 10, size=10)  # seed luck both runs share
    a, b = shared + 1.0 + rng.normal(0, 0.1, 10), shared + rng.normal(0, 0.1, 10)
    paired = stats.paired_difference(a, b)
    assert paired.mean == pytest.approx(float(np.mean(a - b)))
    assert paired.above == 10 and paired.below == 0
    assert paired.interval.low > 0  # the difference of 1 shows
    unpaired_half = stats.mean_interval(a).half_width + stats.mean_interval(b).half_width
    assert paired.interval.half_width < unpaired_half / 10


def test_paired_ratio_is_the_exponentiated_paired_difference_of_logs():
    a, b = np.array([0.02, 0.03, 0.01, 0.05]), np.array([0.1, 0.09, 0.08, 0.2])
    ratio = stats.paired_ratio(a, b)
    logs = stats.mean_interval(np.log(a / b))
    assert ratio.mean == pytest.approx(math.exp(logs.mean))
    assert (ratio.interval.low, ratio.interval.high) == pytest.approx(
        (math.exp(logs.low), math.exp(logs.high)))
    assert ratio.mean == pytest.approx(float(np.prod(a / b)) ** 0.25)
    assert ratio.below == 4


@pytest.mark.parametrize(("call", "match"), [
    (lambda: stats.mean_interval([1.0]), "at least two"),
    (lambda: stats.mean_interval([1.0, float("nan")]), "finite"),
    (lambda: stats.mean_interval([1.0, 2.0], confidence=1.5), "confidence"),
    (lambda: stats.paired_difference([1.0, 2.0], [1.0, 2.0, 3.0]), "one value per seed"),
    (lambda: stats.paired_ratio([1.0, -2.0], [1.0, 2.0]), "positive"),
    (lambda: stats.t_quantile(1), "n must be an integer >= 2"),
])
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
