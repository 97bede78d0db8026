"""course_lib.conditioning against hand-worked values and against actual gradient-descent runs."""

import math

import numpy as np
import pytest

from course_lib import conditioning, objectives, trajectories

# -- hand-worked values -----------------------------------------------------------------------


def test_contraction_factors_by_hand():
    np.testing.assert_allclose(conditioning.gd_contraction(0.15, (1.0, 10.0)), [0.85, -0.5])
    np.testing.assert_allclose(conditioning.gd_contraction(0.5, [1.0, 3.0, 4.0]),
                               [0.5, -0.5, -1.0])
    np.testing.assert_array_equal(conditioning.gd_contraction(0.0, (2.0, 7.0)), [1.0, 1.0])


def test_rate_limit_and_optimal_rate_by_hand():
    assert conditioning.gd_rate(0.19, (1.0, 10.0)) == pytest.approx(0.9)
    assert conditioning.gd_rate(0.21, (1.0, 10.0)) == pytest.approx(1.1)
    assert conditioning.stable_lr_limit((1.0, 10.0)) == pytest.approx(0.2)
    assert conditioning.stable_lr_limit([0.1, 2.0]) == pytest.approx(1.0)
    assert conditioning.stable_lr_limit([50.0, 2.0]) == pytest.approx(0.04)
    assert conditioning.optimal_rate(1.0) == 0.0
    assert conditioning.optimal_rate(3.0) == pytest.approx(0.5)
    assert conditioning.optimal_rate(20.0) == pytest.approx(19 / 21)


@pytest.mark.parametrize("eigenvalues", [(1.0, 10.0), (0.1, 2.0), (2.0, 50.0), (3.0, 3.0)])
def test_the_objectives_optimal_lr_gives_the_optimal_rate_and_is_the_minimum(eigenvalues):
    q = objectives.quadratic(eigenvalues)
    best = conditioning.gd_rate(q.optimal_lr, q.eigenvalues)
    assert best == pytest.approx(conditioning.optimal_rate(q.condition_number), abs=1e-15)
    grid = np.linspace(0.0, 1.2 * conditioning.stable_lr_limit(eigenvalues), 2001)
    rates = [conditioning.gd_rate(lr, eigenvalues) for lr in grid]
    assert min(rates) >= best - 1e-12
    # the rate reaches 1 exactly at the stability limit
    assert conditioning.gd_rate(conditioning.stable_lr_limit(eigenvalues), eigenvalues) == \
        pytest.approx(1.0)


def test_steps_to_tolerance_by_hand():
    # 0.5^10 = 1/1024 <= 1e-3 < 0.5^9 = 1/512
    assert conditioning.steps_to_tolerance(0.5, [1.0], 1e-3) == 10
    # exact boundary: 0.5^2 = 0.25
    assert conditioning.steps_to_tolerance(0.5, [1.0], 0.25) == 2
    # kappa = 10 at eta* = 2/11: ln(1e6) / ln(11/9) = 13.8155 / 0.20067 = 68.85
    assert conditioning.steps_to_tolerance(2 / 11, (1.0, 10.0), 1e-6) == 69
    # kappa = 2 at eta* = 2/3: rate 1/3, ln(1e6) / ln 3 = 12.58
    assert conditioning.steps_to_tolerance(2 / 3, (1.0, 2.0), 1e-6) == 13
    assert conditioning.steps_to_tolerance(1.0, (1.0, 1.0), 1e-6) == 1  # rate 0
    assert conditioning.steps_to_tolerance(0.1, (1.0, 10.0), 1.0) == 0
    assert conditioning.steps_to_tolerance(0.2, (1.0, 10.0), 1e-3) == math.inf  # rate exactly 1
    assert conditioning.steps_to_tolerance(0.21, (1.0, 10.0), 1e-3) == math.inf


def test_measured_steps_by_hand():
    assert conditioning.measured_steps([[4.0], [2.0], [1.0], [0.5]], 0.25) == 2
    assert conditioning.measured_steps([[4.0], [2.0], [1.0]], 0.1) is None
    assert conditioning.measured_steps([[5.0, 0.0], [3.0, 0.0]], 0.5, minimizer=(1.0, 0.0)) == 1
    assert conditioning.measured_steps(np.array([[1.0, 1.0]]), 1.0) == 0


def test_rotate_and_eigen_coordinates_by_hand():
    np.testing.assert_allclose(conditioning.rotate([1.0, 0.0], math.pi / 2), [0.0, 1.0],
                               atol=1e-15)
    np.testing.assert_allclose(conditioning.rotate([1.0, 1.0], math.pi / 4),
                               [0.0, math.sqrt(2)], atol=1e-15)
    q = objectives.quadratic((1.0, 10.0), angle=math.pi / 2)
    np.testing.assert_allclose(conditioning.eigen_coordinates(q, [1.0, 2.0]), [2.0, -1.0],
                               atol=1e-15)
    assert conditioning.eigen_coordinates(q, np.zeros((3, 2))).shape == (3, 2)


@pytest.mark.parametrize("angle", [0.0, 0.3, math.pi / 6, -1.2, 2.5])
def test_eigen_coordinates_are_the_eigenvectors_of_the_matrix(angle):
    q = objectives.quadratic((1.0, 10.0), angle=angle)
    points = np.random.default_rng(0).normal(size=(5, 2))
    z = conditioning.eigen_coordinates(q, points)
    values, vectors = np.linalg.eigh(q.matrix)  # ascending: 1 then 10
    for i in range(2):  # the same up to the sign of each eigenvector
        assert np.allclose(z[:, i], points @ vectors[:, i]) or \
            np.allclose(z[:, i], -(points @ vectors[:, i]))
    # f is the weighted sum of squares in eigen coordinates
    for point, zi in zip(points, z, strict=True):
        assert q.value(point) == pytest.approx(0.5 * (1.0 * zi[0] ** 2 + 10.0 * zi[1] ** 2))
    # the eigen coordinates of a rotated point are the point itself
    np.testing.assert_allclose(
        conditioning.eigen_coordinates(q, conditioning.rotate([-4.0, 1.5], angle)),
        [-4.0, 1.5], atol=1e-14)


# -- agreement with actual course_lib runs ----------------------------------------------------


@pytest.mark.parametrize(("lr", "angle"), [(0.15, math.pi / 6), (0.05, 1.0), (0.19, -0.4)])
def test_each_eigencomponent_of_a_run_is_multiplied_by_its_factor(lr, angle):
    q = objectives.quadratic((1.0, 10.0), angle=angle)
    z0 = np.array([-4.0, 1.5])
    run = trajectories.run("sgd", q, conditioning.rotate(z0, angle), steps=25, lr=lr)
    z = conditioning.eigen_coordinates(q, run)
    factors = conditioning.gd_contraction(lr, q.eigenvalues)
    expected = z0 * factors ** np.arange(26)[:, None]
    np.testing.assert_allclose(z, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("kappa", [2.0, 10.0, 37.0, 300.0])
def test_predicted_steps_equal_the_steps_of_a_run_at_the_optimal_lr(kappa):
    q = objectives.quadratic((1.0, kappa))
    tol = 1e-6
    predicted = conditioning.steps_to_tolerance(q.optimal_lr, q.eigenvalues, tol)
    run = trajectories.run("sgd", q, (1.0, 1.0), steps=predicted + 5, lr=q.optimal_lr)
    assert conditioning.measured_steps(run, tol) == predicted


@pytest.mark.parametrize("lr", [0.05, 0.12, 0.18])
def test_the_rate_bounds_every_run_and_is_reached_along_the_worst_eigenvector(lr):
    q = objectives.quadratic((1.0, 10.0), angle=0.7)
    rho = conditioning.gd_rate(lr, q.eigenvalues)
    worst = int(np.argmax(np.abs(conditioning.gd_contraction(lr, q.eigenvalues))))
    for start in np.random.default_rng(1).normal(size=(4, 2)):
        run = trajectories.run("sgd", q, start, steps=20, lr=lr)
        norms = np.linalg.norm(run.points, axis=1)
        assert np.all(norms <= rho ** np.arange(21) * norms[0] * (1 + 1e-12))
    along = conditioning.rotate(np.eye(2)[worst], q.angle)
    run = trajectories.run("sgd", q, along, steps=20, lr=lr)
    np.testing.assert_allclose(np.linalg.norm(run.points, axis=1), rho ** np.arange(21),
                               rtol=1e-10)


# -- noisy gradients ----------------------------------------------------------------------------


def test_noise_floor_by_hand():
    # d2l's bowl x1² + 2 x2² (λ = 2, 4), η = 0.1, σ = 1: 0.1/(2·1.8) + 0.1/(2·1.6)
    assert conditioning.sgd_noise_floor(0.1, (2.0, 4.0), 1.0) == pytest.approx(0.0590277778)
    # halving η: 0.05/(2·1.9) + 0.05/(2·1.8)
    assert conditioning.sgd_noise_floor(0.05, (2.0, 4.0), 1.0) == pytest.approx(0.0270467836)
    # σ² scales it; no noise, no floor
    assert conditioning.sgd_noise_floor(0.1, (2.0, 4.0), 2.0) == pytest.approx(4 * 0.0590277778)
    assert conditioning.sgd_noise_floor(0.1, (2.0, 4.0), 0.0) == 0.0


def test_expected_loss_by_hand_and_its_limit_is_the_floor():
    # one step from z0 = (1, 1) with η = 0.1, σ = 1: E z² = (0.8², 0.6²) + 0.01
    after_one = conditioning.sgd_expected_loss(0.1, (2.0, 4.0), (1.0, 1.0), 1)
    assert after_one[0] == pytest.approx(3.0)
    assert after_one[1] == pytest.approx(0.5 * 2 * (0.64 + 0.01) + 0.5 * 4 * (0.36 + 0.01))
    long = conditioning.sgd_expected_loss(0.1, (2.0, 4.0), (-5.0, -2.0), 400)
    assert long[-1] == pytest.approx(conditioning.sgd_noise_floor(0.1, (2.0, 4.0)), rel=1e-12)
    # without noise it is f along the noise-free run
    run = trajectories.run("sgd", objectives.bowl(), (-5.0, -2.0), steps=20, lr=0.1)
    np.testing.assert_allclose(
        conditioning.sgd_expected_loss(0.1, (2.0, 4.0), (-5.0, -2.0), 20, noise=0.0),
        run.values, rtol=1e-12)
    # a schedule is a function of the 0-based update index
    halving = conditioning.sgd_expected_loss(lambda t: 0.5**t, [1.0], [2.0], 2, noise=0.0)
    np.testing.assert_allclose(halving, [2.0, 0.0, 0.0])


def test_expected_loss_agrees_with_the_average_of_seeded_noisy_runs():
    bowl = objectives.bowl()
    finals = [trajectories.run("sgd", bowl, (-5.0, -2.0), steps=40, lr=0.1, noise=1.0,
                               seed=seed).values[-1] for seed in range(400)]
    expected = conditioning.sgd_expected_loss(0.1, bowl.eigenvalues, (-5.0, -2.0), 40)[-1]
    # f is a sum of two scaled chi-squares here: its standard deviation is about E[f]
    assert np.mean(finals) == pytest.approx(expected, rel=4 / np.sqrt(400))


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "error"), [
    (lambda: conditioning.gd_contraction(-0.1, (1.0,)), ValueError),
    (lambda: conditioning.gd_contraction(float("nan"), (1.0,)), ValueError),
    (lambda: conditioning.gd_contraction(True, (1.0,)), TypeError),
    (lambda: conditioning.gd_rate(0.1, ()), ValueError),
    (lambda: conditioning.gd_rate(0.1, (1.0, 0.0)), ValueError),
    (lambda: conditioning.gd_rate(0.1, "12"), TypeError),
    (lambda: conditioning.stable_lr_limit((1.0, -2.0)), ValueError),
    (lambda: conditioning.optimal_rate(0.5), ValueError),
    (lambda: conditioning.steps_to_tolerance(0.1, (1.0,), 0.0), ValueError),
    (lambda: conditioning.measured_steps([[1.0]], -1.0), ValueError),
    (lambda: conditioning.eigen_coordinates(objectives.square(), [1.0, 2.0]), TypeError),
    (lambda: conditioning.eigen_coordinates(objectives.quadratic(), [1.0, 2.0, 3.0]), ValueError),
    (lambda: conditioning.rotate([1.0, 2.0, 3.0], 0.1), ValueError),
    (lambda: conditioning.sgd_noise_floor(0.5, (2.0, 4.0)), ValueError),
    (lambda: conditioning.sgd_noise_floor(0.1, (2.0, 4.0), -1.0), ValueError),
    (lambda: conditioning.sgd_expected_loss(0.1, (2.0, 4.0), (1.0,), 5), ValueError),
    (lambda: conditioning.sgd_expected_loss(0.1, (2.0,), (1.0,), -1), ValueError),
    (lambda: conditioning.sgd_expected_loss(lambda t: -1.0, (2.0,), (1.0,), 3), ValueError),
])
def test_bad_input_is_refused_with_a_clear_error(call, error):
    with pytest.raises(error):
        call()


# -- the sharpness of a network: Hessian-vector products and power iteration -----------------


def tiny_network_loss():
    """A [3, 4, 2] tanh network on 12 points (26 parameters), its loss as a function of one
    flat parameter vector, so that torch.autograd.functional.hessian gives the whole Hessian."""
    import torch

    generator = torch.Generator().manual_seed(3)
    inputs = torch.randn(12, 3, generator=generator, dtype=torch.float64)
    targets = torch.randn(12, 2, generator=generator, dtype=torch.float64)
    shapes = [(4, 3), (4,), (2, 4), (2,)]

    def loss_of(flat):
        parts, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(flat[start:start + size].reshape(shape))
            start += size
        w1, b1, w2, b2 = parts
        out = torch.tanh(inputs @ w1.T + b1) @ w2.T + b2
        return ((out - targets) ** 2).sum(dim=1).mean() / 2

    theta = torch.randn(26, generator=generator, dtype=torch.float64).requires_grad_()
    return loss_of, theta


def test_hessian_vector_product_equals_the_explicit_hessian_times_v():
    import torch

    loss_of, theta = tiny_network_loss()
    hessian = torch.autograd.functional.hessian(loss_of, theta.detach())
    v = torch.linspace(-1.0, 1.0, 26, dtype=torch.float64)
    product = conditioning.hessian_vector_product(loss_of(theta), [theta], v)
    np.testing.assert_allclose(product.numpy(), (hessian @ v).numpy(), rtol=1e-10, atol=1e-12)


def test_power_iteration_finds_the_top_eigenpair_of_an_explicit_hessian():
    import torch

    loss_of, theta = tiny_network_loss()
    hessian = torch.autograd.functional.hessian(loss_of, theta.detach()).numpy()
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    top = int(np.argmax(np.abs(eigenvalues)))
    result = conditioning.hessian_top_eigenvalue(lambda: loss_of(theta), [theta], tol=1e-12,
                                                 iterations=2000)
    assert result.converged and result.iterations == len(result.estimates)
    assert result.eigenvalue == pytest.approx(eigenvalues[top], rel=1e-8)
    cosine = abs(float(result.vector.numpy() @ eigenvectors[:, top]))
    assert cosine == pytest.approx(1.0, abs=1e-6)


def test_power_iteration_over_a_models_parameters():
    import torch

    from course_lib import training

    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(20, 3, generator=generator, dtype=torch.float64)
    targets = torch.randn(20, 1, generator=generator, dtype=torch.float64)
    model = training.linear_regression(3, dtype=torch.float64)
    params = list(model.parameters())
    # half squared error of a linear model: the Hessian is [X 1]ᵀ[X 1] / n, known in closed form
    design = torch.cat([inputs, torch.ones(20, 1, dtype=torch.float64)], dim=1)
    expected = np.linalg.eigvalsh((design.T @ design / 20).numpy()).max()
    result = conditioning.hessian_top_eigenvalue(
        lambda: training.half_squared_error(model(inputs), targets), params, tol=1e-12,
        iterations=1000)
    assert result.eigenvalue == pytest.approx(expected, rel=1e-9)
    assert conditioning.stable_lr_limit([result.eigenvalue]) == pytest.approx(2 / expected)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: conditioning.hessian_top_eigenvalue(lambda: None, []), TypeError, "non-empty"),
    (lambda: conditioning.hessian_top_eigenvalue(lambda: None, [np.zeros(2)]), TypeError,
     "requires_grad"),
    (lambda: conditioning.hessian_top_eigenvalue(*_quadratic(), iterations=0), ValueError,
     "iterations"),
    (lambda: conditioning.hessian_top_eigenvalue(*_quadratic(), tol=0.0), ValueError, "tol"),
    (lambda: conditioning.hessian_vector_product(_quadratic()[0](), _quadratic()[1],
                                                 np.ones(2)), ValueError, "2 entries"),
])
def test_power_iteration_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _quadratic():
    import torch

    x = torch.ones(2, dtype=torch.float64, requires_grad=True)
    return (lambda: (x**2).sum()), [x]
