"""The random-Hessian caricature of chapter 01, against eigenvalues and exact integrals."""

import math

import numpy as np
import pytest

from course_lib import random_hessians


def test_elimination_agrees_with_eigenvalues():
    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 5):
        hessians = random_hessians.sample_hessians(n, 20_000, rng)
        expected = np.all(np.linalg.eigvalsh(hessians) > 0, axis=1)
        np.testing.assert_array_equal(random_hessians.is_positive_definite(hessians), expected)


def test_sampled_matrices_have_the_ensembles_variances():
    h = random_hessians.sample_hessians(3, 200_000, np.random.default_rng(2))
    assert np.var(h[:, 0, 0]) == pytest.approx(1.0, abs=0.02)  # diagonal N(0, 1)
    assert np.var(h[:, 0, 1]) == pytest.approx(0.5, abs=0.01)  # off-diagonal N(0, 1/2)
    np.testing.assert_array_equal(h, h.transpose(0, 2, 1))


def goe_minimum_probability_3():
    """P(all 3 eigenvalues > 0) from the joint density ∝ Π|λi − λj| exp(−Σλ²/2), by the
    midpoint rule on [-7, 7]^3 (an independent computation: no random numbers)."""
    m = 200
    dx = 14 / m
    x = -7 + dx / 2 + dx * np.arange(m)
    a, b, c = np.meshgrid(x, x, x, indexing="ij", sparse=True)
    density = np.abs(a - b) * np.abs(a - c) * np.abs(b - c) * np.exp(-(a * a + b * b + c * c) / 2)
    return float((density * ((a > 0) & (b > 0) & (c > 0))).sum() / density.sum())


@pytest.mark.parametrize(("n", "exact"), [
    (1, 0.5),
    (2, (2 - math.sqrt(2)) / 4),      # the angular integral of |λ1 − λ2| over a quarter turn
    (3, None),                         # the joint density integrated numerically
])
def test_the_estimate_agrees_with_the_exact_probability(n, exact):
    if exact is None:
        exact = goe_minimum_probability_3()
        assert exact == pytest.approx(0.0248, abs=0.0003)
    estimate = random_hessians.minimum_fraction(n, 400_000, seed=11)
    assert abs(estimate.fraction - exact) < 4 * estimate.standard_error
    low, high = estimate.interval
    assert low < estimate.fraction < high


def test_row_by_row_sampling_matches_whole_matrices():
    rng = np.random.default_rng(3)
    whole = random_hessians.is_positive_definite(random_hessians.sample_hessians(4, 400_000, rng))
    rowwise = random_hessians.minimum_fraction(4, 400_000, seed=4)
    p, q = whole.mean(), rowwise.fraction
    assert abs(p - q) < 4 * math.sqrt(2 * p * (1 - p) / 400_000)


def test_estimates_are_seeded_and_chunks_change_only_the_draws():
    a = random_hessians.minimum_fraction(3, 50_000, seed=5)
    b = random_hessians.minimum_fraction(3, 50_000, seed=5)
    assert a == b
    c = random_hessians.minimum_fraction(3, 50_000, seed=5, chunk=7_000)
    assert abs(c.fraction - a.fraction) < 5 * a.standard_error


def test_wilson_interval_with_no_hits():
    estimate = random_hessians.MinimumFraction(n=5, samples=1000, minima=0)
    low, high = estimate.interval
    assert low == 0.0 and 0.0 < high < 0.004  # about 3.84 / 1000


@pytest.mark.parametrize(("call", "match"), [
    (lambda: random_hessians.minimum_fraction(0, 10), "n must be an integer >= 1"),
    (lambda: random_hessians.minimum_fraction(2, 0), "samples must be an integer >= 1"),
    (lambda: random_hessians.minimum_fraction(2, 10, chunk=0), "chunk"),
    (lambda: random_hessians.is_positive_definite(np.zeros((2, 3))), "shape"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
