"""The quantitative claims of chapters/04_sgd.ipynb, checked against hand-worked math.

Expected values come from d2l's published output, from formulas worked out by hand (products
of step factors, sums of geometric series, the stationary variance of a noisy linear
recursion), from plain transcriptions of d2l's code (its learning-rate functions with their
global counter, its noisy ``sgd`` loop), or from averages over seeded runs compared with those
formulas within their statistical error; never from the notebook's own output.
"""

import math

import numpy as np
import pytest
import torch

from course_lib import conditioning, data, objectives, schedules, training, trajectories

BOWL = objectives.bowl()
START = (-5.0, -2.0)

EXPONENTIAL = schedules.exponential_lr(0.1, gamma=math.exp(-0.1))
POLYNOMIAL = schedules.power_decay(0.1, alpha=0.5, beta=0.1)


def d2l_exponential(k):
    return EXPONENTIAL(k + 2)


def d2l_polynomial(k):
    return POLYNOMIAL(k + 2)


# -- section 1: d2l's noisy demo ---------------------------------------------------------------


def test_noise_free_runs_match_d2l_and_the_hand_formula():
    report20 = trajectories.run("sgd", BOWL, START, steps=20, lr=0.1)
    # d2l's printed output for its gradient-descent demo
    np.testing.assert_allclose(report20.final, [-0.057646, -0.000073], atol=5e-7)
    run = trajectories.run("sgd", BOWL, START, steps=50, lr=0.1)
    np.testing.assert_allclose(run.final, [-5 * 0.8**50, -2 * 0.6**50], rtol=1e-12)
    assert -5 * 0.8**50 == pytest.approx(-0.000071, abs=5e-7)


def d2l_style_noisy_loop(lr, steps, seed):
    """d2l's sgd: g = (2 x1, 4 x2) + N(0, 1) per component; x ← x − η_t g (seeded here)."""
    rng = np.random.default_rng(seed)
    x1, x2 = START
    for k in range(steps):
        g1, g2 = 2 * x1, 4 * x2
        n1, n2 = rng.standard_normal(2)
        eta = lr(k) if callable(lr) else lr
        x1, x2 = x1 - eta * (g1 + n1), x2 - eta * (g2 + n2)
    return np.array([x1, x2])


@pytest.mark.parametrize(("lr", "steps"), [(0.1, 50), (d2l_exponential, 1000),
                                           (d2l_polynomial, 50)])
def test_seeded_runs_equal_a_plain_transcription_of_d2ls_loop(lr, steps):
    run = trajectories.run("sgd", BOWL, START, steps=steps, lr=lr, noise=1.0, seed=0)
    np.testing.assert_allclose(run.final, d2l_style_noisy_loop(lr, steps, 0), rtol=1e-10,
                               atol=1e-12)


def test_seeded_noise_is_reproducible_and_seeds_differ():
    first = trajectories.run("sgd", BOWL, START, steps=50, lr=0.1, noise=1.0, seed=0)
    again = trajectories.run("sgd", BOWL, START, steps=50, lr=0.1, noise=1.0, seed=0)
    np.testing.assert_array_equal(first.points, again.points)
    finals = [trajectories.run("sgd", BOWL, START, steps=50, lr=0.1, noise=1.0, seed=s).final
              for s in range(5)]
    assert len({tuple(f.round(9)) for f in finals}) == 5


def test_the_noise_is_standard_normal_in_each_component():
    run = trajectories.run("sgd", BOWL, START, steps=4000, lr=0.1, noise=1.0, seed=3)
    exact = np.array([BOWL.gradient(p) for p in run.points[:-1]])
    noise = (run.points[:-1] - run.points[1:]) / 0.1 - exact
    assert np.abs(noise.mean(axis=0)).max() < 4 / math.sqrt(4000)
    np.testing.assert_allclose(noise.std(axis=0), 1.0, atol=0.05)
    assert abs(np.corrcoef(noise.T)[0, 1]) < 0.06


def test_far_from_the_minimum_noise_barely_matters_near_it_the_iterate_wanders():
    # after 50 steps the runs of five seeds end 0.03 to 0.2 from the minimum
    distances = [np.linalg.norm(trajectories.run("sgd", BOWL, START, steps=50, lr=0.1, noise=1.0,
                                                 seed=s).final) for s in range(5)]
    assert all(0.03 < d < 0.2 for d in distances)
    # the stationary rms distance is sqrt(E z1² + E z2²) = sqrt(0.1/3.6 + 0.1/6.4) = 0.208
    assert math.sqrt(0.1 / (2 * 1.8) + 0.1 / (4 * 1.6)) == pytest.approx(0.2083, abs=1e-4)


# -- section 2: learning-rate functions --------------------------------------------------------


def d2l_sequence(factor, steps, eta=0.1):
    """d2l's learning rates eta * lr(): its global counter is set to t = 1 before the run, and
    each call increments it before returning factor(t) (a closure stands in for the global)."""
    counter = {"t": 1}

    def lr():
        counter["t"] += 1
        return factor(counter["t"])

    return [eta * lr() for _ in range(steps)]


def test_shifted_schedules_reproduce_d2ls_exact_sequences():
    d2l = d2l_sequence(lambda t: math.exp(-0.1 * t), 1000)
    np.testing.assert_allclose([d2l_exponential(k) for k in range(1000)], d2l, rtol=1e-13)
    d2l = d2l_sequence(lambda t: (1 + 0.1 * t) ** (-0.5), 50)
    np.testing.assert_allclose([d2l_polynomial(k) for k in range(50)], d2l, rtol=1e-13)
    # the first values: ours starts at 0.1, d2l's at 0.1 e^-0.2 and 0.1 / sqrt(1.2)
    assert EXPONENTIAL(0) == POLYNOMIAL(0) == 0.1
    assert d2l_exponential(0) == pytest.approx(0.081873, abs=5e-7)
    assert d2l_polynomial(0) == pytest.approx(0.1 / math.sqrt(1.2))
    assert d2l_polynomial(0) == pytest.approx(0.091287, abs=5e-7)


def test_exponential_rates_sum_to_086_and_freeze_x1_near_minus_083():
    run = trajectories.run("sgd", BOWL, START, steps=1000, lr=d2l_exponential)
    total = 0.1 * math.exp(-0.2) / (1 - math.exp(-0.1))
    assert total == pytest.approx(0.8603, abs=1e-4)
    assert run.learning_rates.sum() == pytest.approx(total, rel=1e-12)
    frozen = -5 * math.prod(1 - 2 * 0.1 * math.exp(-0.1 * (k + 2)) for k in range(1000))
    assert run.final[0] == pytest.approx(frozen, rel=1e-12)
    assert frozen == pytest.approx(-0.825737, abs=5e-7)
    # nothing moves any more at the end: the last rate is 0.1 e^-100.1
    assert run.learning_rates[-1] == pytest.approx(0.1 * math.exp(-100.1))
    assert run.learning_rates[-1] < 1e-44


def test_the_mean_of_noisy_exponential_runs_is_the_frozen_noise_free_value():
    clean = trajectories.run("sgd", BOWL, START, steps=100, lr=d2l_exponential).final
    finals = trajectories.run_many("sgd", BOWL, START, 100, seeds=300, lr=d2l_exponential,
                                   noise=1.0).final
    standard_error = finals.std(axis=0) / math.sqrt(len(finals))
    assert np.all(np.abs(finals.mean(axis=0) - clean) < 4 * standard_error)


def test_the_polynomial_run_ends_closer_than_the_constant_one_after_50_steps():
    constant = trajectories.run("sgd", BOWL, START, steps=50, lr=0.1, noise=1.0, seed=0)
    polynomial = trajectories.run("sgd", BOWL, START, steps=50, lr=d2l_polynomial, noise=1.0,
                                  seed=0)
    assert np.linalg.norm(polynomial.final) < np.linalg.norm(constant.final)


# -- section 3: convergence under noise --------------------------------------------------------


@pytest.mark.parametrize(("lr", "floor"), [(0.1, 0.1 / 3.6 + 0.1 / 3.2),
                                           (0.05, 0.05 / 3.8 + 0.05 / 3.6)])
def test_a_constant_rate_settles_at_the_noise_floor(lr, floor):
    assert conditioning.sgd_noise_floor(lr, BOWL.eigenvalues) == pytest.approx(floor)
    # a long seeded run: the time average of f after the transient is the floor
    run = trajectories.run("sgd", BOWL, START, steps=30000, lr=lr, noise=1.0, seed=7)
    assert run.values[200:].mean() == pytest.approx(floor, rel=0.05)


def test_the_printed_floors_0059_and_0027():
    assert 0.1 / 3.6 + 0.1 / 3.2 == pytest.approx(0.059028, abs=5e-7)
    assert 0.05 / 3.8 + 0.05 / 3.6 == pytest.approx(0.027047, abs=5e-7)


def test_decaying_polynomial_rate_ends_closer_than_constant_rates_on_average_over_seeds():
    def mean_final_f(lr, seeds=100, steps=300):
        return trajectories.run_many("sgd", BOWL, START, steps, seeds=seeds, lr=lr,
                                     noise=1.0).mean_values[-1]

    polynomial = mean_final_f(d2l_polynomial)
    constant = mean_final_f(0.1)
    assert polynomial < 0.5 * constant
    assert polynomial < 0.5 * conditioning.sgd_noise_floor(0.05, BOWL.eigenvalues)
    # the exponential rate stops short, far above the constant rate's floor
    assert mean_final_f(d2l_exponential, seeds=100, steps=100) > 5 * constant


def batched_mean_f(lr, n_runs=2000, steps=300):
    """The notebook's experiment: 2000 seeded runs at once, the mean of f after each step."""
    return trajectories.run_many("sgd", BOWL, START, steps, seeds=n_runs, lr=lr,
                                 noise=1.0).mean_values


def test_polynomial_beats_the_constant_rates_on_average_and_exponential_freezes_near_070():
    constant, halved = batched_mean_f(0.1), batched_mean_f(0.05)
    polynomial, exponential = batched_mean_f(d2l_polynomial), batched_mean_f(d2l_exponential)
    assert polynomial[10] > constant[10]                     # slower at first
    assert polynomial[50] < min(constant[50], halved[50])    # closer after 50 steps
    assert polynomial[-1] < 0.5 * min(constant[-1], halved[-1])
    assert exponential[-1] == pytest.approx(0.70, abs=0.03)
    assert np.abs(np.diff(exponential[200:])).max() < 0.01  # nothing moves any more


@pytest.mark.parametrize("lr", [0.1, 0.05, d2l_exponential, d2l_polynomial])
def test_the_batched_averages_sit_on_the_exact_expectation(lr):
    measured = batched_mean_f(lr)
    exact = conditioning.sgd_expected_loss(lr, BOWL.eigenvalues, START, 300)
    # each point: the mean of 2000 runs, relative error about 1/sqrt(2000) ≈ 2%
    np.testing.assert_allclose(measured[50:], exact[50:], rtol=0.08)
    assert measured[100:].mean() == pytest.approx(exact[100:].mean(), rel=0.04)


@pytest.mark.parametrize("lr", [0.1, d2l_polynomial])
def test_run_r_of_the_batch_is_the_single_run_with_seed_r(lr):
    batch = trajectories.run_many("sgd", BOWL, START, 50, seeds=5, lr=lr, noise=1.0)
    for seed in (0, 4):
        alone = trajectories.run("sgd", BOWL, START, steps=50, lr=lr, noise=1.0, seed=seed)
        np.testing.assert_array_equal(batch.points[seed], alone.points)
    # and the five seeds of the notebook end where d2l's plain loop, seeded the same, ends
    if lr == 0.1:
        for seed in range(5):
            np.testing.assert_allclose(batch.final[seed], d2l_style_noisy_loop(0.1, 50, seed),
                                       rtol=1e-10, atol=1e-12)


# -- section 4: the finite-sum view ------------------------------------------------------------


@pytest.fixture(scope="module")
def regression():
    features, targets = data.regression_data()
    X = torch.tensor(features, dtype=torch.float64)
    y = torch.tensor(targets, dtype=torch.float64)
    model = training.linear_regression(5, dtype=torch.float64)

    def gradient_of(rows):
        model.zero_grad()
        training.half_squared_error(model(X[rows]), y[rows]).backward()
        return torch.cat([model.weight.grad.reshape(-1), model.bias.grad]).numpy().copy()

    with torch.no_grad():
        residuals = (model(X).reshape(-1) - y).numpy()
    inputs = np.hstack([X.numpy(), np.ones((len(X), 1))])
    return X, y, gradient_of, residuals[:, None] * inputs, inputs


def test_per_example_gradients_by_formula_equal_autograd(regression):
    _, _, gradient_of, per_example, _ = regression
    for i in (0, 7, 123, 1499):
        np.testing.assert_allclose(per_example[i], gradient_of([i]), rtol=1e-12, atol=1e-15)


def test_the_mean_of_per_example_gradients_is_the_full_gradient(regression):
    _, _, gradient_of, per_example, _ = regression
    full = gradient_of(slice(None))
    assert np.abs(per_example.mean(axis=0) - full).max() < 1e-12
    # and a uniformly drawn example is right on average: the mean of many draws converges
    draws = per_example[np.random.default_rng(5).integers(0, len(per_example), 200_000)]
    spread = np.sqrt(np.trace(np.cov(per_example.T, bias=True)) / 200_000)
    assert np.linalg.norm(draws.mean(axis=0) - full) < 4 * spread


def test_the_error_of_an_average_of_m_draws_is_sqrt_trace_over_m(regression):
    _, _, gradient_of, per_example, _ = regression
    full = gradient_of(slice(None))
    trace = np.trace(np.cov(per_example.T, bias=True))
    rng = np.random.default_rng(11)
    for m in (1, 10, 100, 1000):
        errors = [np.linalg.norm(per_example[rng.integers(0, len(per_example), m)].mean(axis=0)
                                 - full) ** 2 for _ in range(400)]
        assert math.sqrt(np.mean(errors)) == pytest.approx(math.sqrt(trace / m), rel=0.15)


def test_at_the_least_squares_solution_only_the_average_gradient_vanishes(regression):
    _, y, _, _, inputs = regression
    w_star, *_ = np.linalg.lstsq(inputs, y.numpy(), rcond=None)
    residuals = inputs @ w_star - y.numpy()
    per_example = residuals[:, None] * inputs
    assert np.abs(per_example.mean(axis=0)).max() < 1e-12
    assert np.sqrt((per_example**2).sum(axis=1).mean()) > 1.0
    # course_lib.data documents the best linear fit's half squared loss as about 0.216
    assert np.mean(residuals**2 / 2) == pytest.approx(0.216, abs=0.005)


# -- the answers of "Check your understanding" -------------------------------------------------


def test_answer_2_floors_for_other_rates_and_noise():
    assert conditioning.sgd_noise_floor(0.02, BOWL.eigenvalues) == \
        pytest.approx(0.02 / 3.92 + 0.02 / 3.84)
    assert 0.02 / 3.92 + 0.02 / 3.84 == pytest.approx(0.0103, abs=1e-4)
    assert conditioning.sgd_noise_floor(0.1, BOWL.eigenvalues, noise=2.0) == \
        pytest.approx(4 * (0.1 / 3.6 + 0.1 / 3.2))
    assert 4 * (0.1 / 3.6 + 0.1 / 3.2) == pytest.approx(0.236, abs=1e-3)


# -- the Try-it explorer (section 3) ------------------------------------------------------------


def test_the_explorer_runs_the_seeded_demo_and_reads_out_the_noise_floor():
    """Section 3's Try-it: chapter 06's explorer runs d2l's noisy demo (seed 0, 100 steps), its
    floor read-out is the formula of the section (0.059 at lr 0.1, 0.027 at 0.05), and along
    β = 0 its rate is chapter 03's max |1 - lr λ|."""
    from course_lib import momentum_analysis, widgets

    ui = widgets.momentum_explorer(BOWL, start=START, lr=0.1, momentum=0.0, noise=1.0, steps=100)
    demo = trajectories.run("sgd", BOWL, START, steps=100, lr=0.1, noise=1.0, seed=0)
    np.testing.assert_array_equal(ui.frame.path.points, demo.points)
    for lr, shown in ((0.1, "0.059"), (0.05, "0.027")):
        ui.lr.value = lr
        assert ui.frame.floor == pytest.approx(conditioning.sgd_noise_floor(lr, BOWL.eigenvalues),
                                               rel=1e-12)
        assert f"noise floor E[f] <b>{shown}</b>" in ui.readout.value
    for lr in (0.05, 0.1, 0.3, 0.6):
        assert momentum_analysis.spectral_radius(BOWL.eigenvalues, lr, 0.0) == pytest.approx(
            conditioning.gd_rate(lr, BOWL.eigenvalues), rel=1e-12)
