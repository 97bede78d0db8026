"""course_lib.momentum_analysis against hand-worked values, numpy's eigenvalues and actual runs.

Every rate is checked independently of the closed forms the module uses: the iteration matrix
against what ``rules.SGD`` does to a basis of (x, b) states, the spectral radius against
``numpy.linalg.eigvals``, the per-eigenvalue factors against trajectories of course_lib and of
``torch.optim.SGD``, the rate against the contraction measured on long runs, and the best
settings against a brute-force grid search.
"""

import math

import numpy as np
import pytest
import torch

from course_lib import momentum_analysis as ma
from course_lib import objectives, rules, trajectories

SETTINGS = [  # (eigenvalue, lr, momentum)
    (0.2, 0.6, 0.5), (4.0, 0.6, 0.5), (4.0, 0.6, 0.25), (1.0, 0.1, 0.0), (19.0, 0.1, 0.0),
    (3.0, 0.7, 0.9), (0.5, 2.5, 0.3), (10.0, 0.05, 0.99),
]


def matrix_from_rule(lam, lr, beta, nesterov):
    """The linear map (x, b) -> (x', b') of one rules.SGD step with gradient λx, by columns."""
    rule = rules.SGD(lr=lr, momentum=beta, nesterov=nesterov)
    columns = []
    for x0, b0 in [(1.0, 0.0), (0.0, 1.0)]:
        x = np.array([x0])
        state = {"momentum_buffer": np.array([b0])}  # a buffer exists: a later step, not the copy
        rule.step(x, lam * x, state)
        columns.append([x[0], state["momentum_buffer"][0]])
    return np.array(columns).T


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize(("lam", "lr", "beta"), [s for s in SETTINGS if s[2] > 0])
def test_iteration_matrix_is_what_the_rule_does(lam, lr, beta, nesterov):
    np.testing.assert_allclose(ma.iteration_matrix(lam, lr, beta, nesterov=nesterov),
                               matrix_from_rule(lam, lr, beta, nesterov), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(("lam", "lr", "beta"), SETTINGS)
def test_trace_and_determinant_are_the_characteristic_coefficients(lam, lr, beta):
    heavy = ma.iteration_matrix(lam, lr, beta)
    assert np.trace(heavy) == pytest.approx(1 + beta - lr * lam)
    assert np.linalg.det(heavy) == pytest.approx(beta, abs=1e-12)
    nag = ma.iteration_matrix(lam, lr, beta, nesterov=True)
    assert np.trace(nag) == pytest.approx((1 + beta) * (1 - lr * lam))
    assert np.linalg.det(nag) == pytest.approx(beta * (1 - lr * lam), abs=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_spectral_radius_is_the_largest_eigenvalue_modulus(nesterov):
    rng = np.random.default_rng(0)
    for _ in range(300):
        lams = rng.uniform(0.05, 20, size=rng.integers(1, 4))
        lr, beta = rng.uniform(0, 0.6), rng.uniform(0, 0.99)
        expected = max(np.abs(np.linalg.eigvals(matrix_from_rule(lam, lr, beta, nesterov))).max()
                       for lam in lams)
        got = ma.spectral_radius(lams, lr, beta, nesterov=nesterov)
        assert isinstance(got, float)
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_spectral_radius_broadcasts_over_grids():
    lrs, betas = np.linspace(0.01, 1.0, 7), np.linspace(0.0, 0.9, 5)
    grid = ma.spectral_radius((0.2, 4.0), lrs[None, :], betas[:, None])
    assert grid.shape == (5, 7)
    for i, beta in enumerate(betas):
        for j, lr in enumerate(lrs):
            assert grid[i, j] == pytest.approx(ma.spectral_radius((0.2, 4.0), lr, beta))


def test_hand_worked_rates():
    # gradient descent on λ = 1, 9 with η = 0.2: factors 0.8 and -0.8
    assert ma.spectral_radius([1.0, 9.0], 0.2) == pytest.approx(0.8)
    # d2l's demo: |1 - 0.6·4| = 1.4 diverges; with β = 0.5 both root pairs complex, |μ| = √β
    bowl = objectives.stretched_bowl()
    assert ma.spectral_radius(bowl, 0.6) == pytest.approx(1.4)
    assert ma.spectral_radius(bowl, 0.6, 0.5) == pytest.approx(math.sqrt(0.5))
    # λ = 4, η = 0.6, β = 0.25: μ² + 1.15μ + 0.25 = 0, larger root (1.15 + √0.3225)/2 in size
    assert ma.spectral_radius(4.0, 0.6, 0.25) == pytest.approx((1.15 + math.sqrt(0.3225)) / 2)
    # Nesterov, λ = 4, η = 0.3, β = 0.5: μ² + 0.3μ - 0.1 = (μ + 0.5)(μ - 0.2)
    assert ma.spectral_radius(4.0, 0.3, 0.5, nesterov=True) == pytest.approx(0.5)


def test_error_factors_hand_worked():
    np.testing.assert_allclose(ma.error_factors(0.1, 0.1, steps=19), 0.99 ** np.arange(20))
    np.testing.assert_allclose(ma.error_factors(19.0, 0.1, steps=5), (-0.9) ** np.arange(6))
    # λ = 1, η = 0.5, β = 0.5: x = 1, 0.5, 0, -0.25 (b = 0, 1, 1, 0.5)
    np.testing.assert_allclose(ma.error_factors(1.0, 0.5, 0.5, steps=3), [1, 0.5, 0, -0.25])


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize(("lr", "beta"), [(0.6, 0.5), (0.3, 0.5), (0.4, 0.0), (0.2, 0.9)])
def test_error_factors_are_the_coordinates_of_actual_runs(lr, beta, nesterov):
    if nesterov and beta == 0:
        pytest.skip("Nesterov needs a momentum")
    bowl, start = objectives.stretched_bowl(), (-5.0, -2.0)
    ours = trajectories.run("sgd", bowl, start, 30, lr=lr, momentum=beta, nesterov=nesterov)
    theirs = trajectories.run_torch(
        lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, nesterov=nesterov), bowl, start, 30)
    for i, lam in enumerate((0.2, 4.0)):
        predicted = start[i] * ma.error_factors(lam, lr, beta, steps=30, nesterov=nesterov)
        np.testing.assert_allclose(ours.points[:, i], predicted, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(theirs.points[:, i], predicted, rtol=1e-9, atol=1e-12)


ROTATED = objectives.quadratic((0.5, 12.0), angle=0.7)
RUNS = [  # (objective, lr, momentum, nesterov): the dominant root is real and simple
    (objectives.stretched_bowl(), 0.6, 0.25, False),
    (objectives.stretched_bowl(), 0.3, 0.5, False),
    (objectives.stretched_bowl(), 0.3, 0.5, True),
    (objectives.stretched_bowl(), 0.4, 0.0, False),
    (objectives.stretched_bowl(), 0.6, 0.0, False),   # diverges: the measured factor is 1.4
    (ROTATED, 0.1, 0.3, False),
    (ROTATED, 0.1, 0.3, True),
    (ROTATED, 0.16, 0.0, False),
]


@pytest.mark.parametrize(("objective", "lr", "beta", "nesterov"), RUNS)
def test_measured_contraction_equals_the_spectral_radius(objective, lr, beta, nesterov):
    path = trajectories.run("sgd", objective, (-3.0, 2.0), 300, lr=lr, momentum=beta,
                            nesterov=nesterov)
    rho = ma.spectral_radius(objective, lr, beta, nesterov=nesterov)
    assert ma.measured_rate(path, window=150) == pytest.approx(rho, rel=1e-3)


def test_measured_rate_at_the_heavy_ball_optimum_approaches_rho_slowly():
    # a double root: the error decays like t ρ^t, so the window estimate is ρ (t/(t-w))^(1/w)
    bowl = objectives.stretched_bowl()
    best = ma.optimal_heavy_ball(bowl)
    path = trajectories.run("sgd", bowl, (-5.0, -2.0), 400, lr=best.lr, momentum=best.momentum)
    measured = ma.measured_rate(path, window=200)
    assert measured == pytest.approx(best.rate * 2 ** (1 / 200), rel=2e-3)


@pytest.mark.parametrize("beta", [0.0, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("nesterov", [False, True])
def test_stability_limit_separates_convergence_from_divergence(beta, nesterov):
    if nesterov and beta == 0:
        assert ma.stability_limit(0.0, nesterov=True) == ma.stability_limit(0.0) == 2.0
        return
    limit = ma.stability_limit(beta, nesterov=nesterov)
    expected = 2 * (1 + beta) / (1 + 2 * beta) if nesterov else 2 * (1 + beta)
    assert limit == pytest.approx(expected)
    lam = 4.0
    below = ma.spectral_radius(lam, 0.99 * limit / lam, beta, nesterov=nesterov)
    above = ma.spectral_radius(lam, 1.01 * limit / lam, beta, nesterov=nesterov)
    assert below < 1 < above
    bowl = objectives.quadratic((lam, lam))
    converging = trajectories.run("sgd", bowl, (1.0, 1.0), 300, lr=0.95 * limit / lam,
                                  momentum=beta, nesterov=nesterov)
    assert np.all(np.abs(converging.final) < 1e-3)
    diverging = trajectories.run("sgd", bowl, (1.0, 1.0), 300, lr=1.05 * limit / lam,
                                 momentum=beta, nesterov=nesterov)
    assert not np.all(np.abs(diverging.final) < 1e3)  # huge, inf or nan


def test_optimal_settings_hand_worked():
    assert ma.optimal_gd([1.0, 9.0]) == pytest.approx((0.2, 0.0, 0.8))
    assert ma.optimal_heavy_ball([1.0, 9.0]) == pytest.approx((0.25, 0.25, 0.5))
    assert ma.optimal_nesterov([1.0, 5.0]) == pytest.approx((0.25, 1 / 3, 0.5))
    # the rates they claim are the spectral radii they produce
    for optimum, nesterov in [(ma.optimal_gd, False), (ma.optimal_heavy_ball, False),
                              (ma.optimal_nesterov, True)]:
        for lams in ([1.0, 9.0], [0.2, 4.0], [0.01, 3.0]):
            lr, beta, rate = optimum(lams)
            assert ma.spectral_radius(lams, lr, beta, nesterov=nesterov) == pytest.approx(rate)


def test_optimal_settings_agree_with_quadratic_objective():
    for lams in [(0.2, 4.0), (1.0, 100.0), (3.0, 0.5)]:
        q = objectives.quadratic(lams, angle=0.3)
        assert ma.optimal_gd(q).lr == pytest.approx(q.optimal_lr)
        assert ma.optimal_heavy_ball(q)[:2] == pytest.approx(q.optimal_momentum)
        kappa = q.condition_number
        assert ma.optimal_gd(q).rate == pytest.approx((kappa - 1) / (kappa + 1))
        assert ma.optimal_heavy_ball(q).rate == pytest.approx(
            (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1))


@pytest.mark.parametrize("kappa", [5.0, 20.0, 100.0])
def test_no_grid_point_beats_the_optimal_settings(kappa):
    lams = (1.0, kappa)
    lrs = np.geomspace(1e-3, 1.0, 2001)
    betas = np.linspace(0.0, 0.99, 661)
    gd_rates = ma.spectral_radius(lams, lrs)
    assert gd_rates.min() >= ma.optimal_gd(lams).rate - 1e-12
    assert gd_rates.min() == pytest.approx(ma.optimal_gd(lams).rate, abs=2e-3)
    for optimum, nesterov in [(ma.optimal_heavy_ball, False), (ma.optimal_nesterov, True)]:
        grid = ma.spectral_radius(lams, lrs[None, :], betas[:, None], nesterov=nesterov)
        best = optimum(lams)
        assert grid.min() >= best.rate - 1e-9
        assert grid.min() == pytest.approx(best.rate, abs=5e-3)


@pytest.mark.parametrize("kappa", [1.5, 20.0, 1e4])
def test_momentum_beats_nesterov_beats_gradient_descent_on_quadratics(kappa):
    lams = (1.0, kappa)
    assert ma.optimal_heavy_ball(lams).rate < ma.optimal_nesterov(lams).rate \
        < ma.optimal_gd(lams).rate


def test_a_perfectly_conditioned_quadratic_is_solved_in_one_step():
    for optimum in (ma.optimal_gd, ma.optimal_heavy_ball, ma.optimal_nesterov):
        assert optimum((2.0, 2.0)).rate == pytest.approx(0.0, abs=1e-15)


def test_measured_rate_reads_trajectories_and_arrays():
    bowl = objectives.stretched_bowl()
    path = trajectories.run("sgd", bowl, (-5.0, -2.0), 40, lr=0.4)
    # the minimizer comes from the objective: e_t = x_t; x1 dominates late with factor 0.92
    assert ma.measured_rate(path, window=20) == pytest.approx(0.92, rel=1e-6)
    assert ma.measured_rate(path.points + 1.0, minimizer=(1.0, 1.0), window=20) == \
        pytest.approx(0.92, rel=1e-6)
    assert ma.measured_rate([8.0, 4.0, 2.0]) == pytest.approx(0.5)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: ma.spectral_radius([], 0.1), ValueError, "eigenvalues"),
    (lambda: ma.spectral_radius([1.0, -2.0], 0.1), ValueError, "eigenvalues"),
    (lambda: ma.spectral_radius("1, 2", 0.1), TypeError, "eigenvalues"),
    (lambda: ma.spectral_radius([1.0, math.nan], 0.1), ValueError, "finite"),
    (lambda: ma.spectral_radius(1.0, -0.1), ValueError, "lr"),
    (lambda: ma.spectral_radius(1.0, 0.1, 1.0), ValueError, "momentum"),
    (lambda: ma.spectral_radius(1.0, 0.1, [0.5, -0.1]), ValueError, "momentum"),
    (lambda: ma.spectral_radius(1.0, "fast"), TypeError, "lr"),
    (lambda: ma.spectral_radius(1.0, True), TypeError, "lr"),
    (lambda: ma.iteration_matrix(0.0, 0.1), ValueError, "eigenvalues"),
    (lambda: ma.iteration_matrix(1.0, 0.1, 1.5), ValueError, "momentum"),
    (lambda: ma.error_factors(1.0, 0.1, steps=-1), ValueError, "steps"),
    (lambda: ma.error_factors(1.0, 0.1, steps=2.5), ValueError, "steps"),
    (lambda: ma.stability_limit(-0.5), ValueError, "momentum"),
    (lambda: ma.optimal_heavy_ball([1.0, 0.0]), ValueError, "eigenvalues"),
    (lambda: ma.measured_rate([[1.0, 2.0]]), ValueError, "two or more"),
    (lambda: ma.measured_rate([1.0, 0.5, 0.25], window=3), ValueError, "window"),
    (lambda: ma.measured_rate([1.0, 0.5, 0.25], window=0), ValueError, "window"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
