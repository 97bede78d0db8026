"""The quantitative claims of chapters/06_momentum.ipynb, checked independently.

d2l's printed numbers are copied from the book. Hand-worked values come from the closed forms
written out here (factors (1 − ηλ)ᵗ, the 2×2 matrix written from the update rule, the roots of
the characteristic polynomial by the quadratic formula); the Nesterov look-ahead form and the
Keras form are written out here as plain loops, independently of course_lib.
"""

import math

import numpy as np
import pytest
import torch

from course_lib import momentum_analysis as ma
from course_lib import objectives, rules, schedules, trajectories

START = (-5.0, -2.0)
BOWL = objectives.stretched_bowl()

# d2l, "Momentum" (PyTorch), printed after 20 steps from (-5, -2) on 0.1x1^2 + 2x2^2
D2L = {
    (0.4, 0.0): "epoch 20, x1: -0.943467, x2: -0.000073",
    (0.6, 0.0): "epoch 20, x1: -0.387814, x2: -1673.365109",
    (0.6, 0.5): "epoch 20, x1: 0.007188, x2: 0.002553",
    (0.6, 0.25): "epoch 20, x1: -0.126340, x2: -0.186632",
}


def printed(path, capsys, unit="epoch"):
    """What report prints: in d2l's words (``epoch N``), as the chapter prints d2l's demos."""
    trajectories.report(path, unit=unit)
    return capsys.readouterr().out.strip()


def grad(x):
    return np.array([0.2 * x[0], 4.0 * x[1]])


@pytest.mark.parametrize(("lr", "beta"), list(D2L))
def test_d2l_numbers_with_course_lib_and_torch(lr, beta, capsys):
    ours = trajectories.run("sgd", BOWL, START, 20, lr=lr, momentum=beta)
    assert printed(ours, capsys) == D2L[lr, beta]
    with_torch = trajectories.run_torch(
        lambda p: torch.optim.SGD(p, lr=lr, momentum=beta), BOWL, START, 20)
    assert printed(with_torch, capsys) == D2L[lr, beta]
    np.testing.assert_allclose(with_torch.points, ours.points, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lr", [0.4, 0.6])
def test_gradient_descent_numbers_by_hand(lr, capsys):
    x1, x2 = -5 * (1 - 0.2 * lr) ** 20, -2 * (1 - 4 * lr) ** 20
    print(f"epoch 20, x1: {x1:f}, x2: {x2:f}")
    assert capsys.readouterr().out.strip() == D2L[lr, 0.0]


@pytest.mark.parametrize("beta", [0.5, 0.25])
def test_matrix_power_predicts_the_momentum_numbers(beta, capsys):
    coords = []
    for lam, x0 in [(0.2, -5.0), (4.0, -2.0)]:
        m = np.array([[1 - 0.6 * lam, -0.6 * beta], [lam, beta]])  # from b' = βb + λx, x' = x − ηb'
        np.testing.assert_allclose(ma.iteration_matrix(lam, 0.6, beta), m, rtol=1e-15)
        coords.append(x0 * np.linalg.matrix_power(m, 20)[0, 0])
    print(f"epoch 20, x1: {coords[0]:f}, x2: {coords[1]:f}")
    assert capsys.readouterr().out.strip() == D2L[0.6, beta]


def test_lr_06_diverges_without_momentum_and_converges_with_it():
    # gradient descent: ηλ_max = 2.4 > 2, factor -1.4; momentum β = 0.5: 2.4 < 2(1 + 0.5) = 3
    assert 0.6 * 4 > 2 and 0.6 * 4 < ma.stability_limit(0.5) == 3.0
    gd = trajectories.run("sgd", BOWL, START, 40, lr=0.6)
    assert np.all(np.diff(np.abs(gd.points[:, 1])) > 0)
    assert ma.spectral_radius(BOWL, 0.6) == pytest.approx(1.4)
    heavy = trajectories.run("sgd", BOWL, START, 200, lr=0.6, momentum=0.5)
    assert np.abs(heavy.final).max() < 1e-20
    # the eigenvalues of M for λ = 4: μ² + 0.9μ + 0.5 = 0, so μ = -0.45 ± i√(0.5 − 0.2025)
    mu = np.linalg.eigvals(ma.iteration_matrix(4.0, 0.6, 0.5))
    np.testing.assert_allclose(sorted(mu.imag), [-math.sqrt(0.2975), math.sqrt(0.2975)])
    np.testing.assert_allclose(mu.real, [-0.45, -0.45])
    np.testing.assert_allclose(np.abs(mu), math.sqrt(0.5))


def test_beta_025_zigzag_shrinks_by_14_percent_per_step():
    # λ = 4, η = 0.6, β = 0.25: μ² + 1.15μ + 0.25 = 0
    root = (-1.15 - math.sqrt(1.15**2 - 1.0)) / 2
    assert round(root, 3) == -0.859
    assert round(1 + root, 2) == 0.14
    assert ma.spectral_radius(4.0, 0.6, 0.25) == pytest.approx(-root)


def test_the_buffer_is_a_leaky_sum_of_past_gradients():
    rule = rules.SGD(lr=0.0, momentum=0.9)
    param = np.zeros(3)
    state = rule.init(param)
    gradients = np.random.default_rng(0).standard_normal((10, 3))
    expected = np.zeros(3)
    for g in gradients:
        rule.step(param, g, state)
        expected = 0.9 * expected + g
    np.testing.assert_allclose(state["momentum_buffer"], expected, rtol=1e-14)
    assert np.all(param == 0)


@pytest.mark.parametrize(("beta", "effective"), [(0.95, 20), (0.9, 10), (0.6, 2.5), (0.0, 1)])
def test_effective_number_of_gradients(beta, effective):
    assert 1 / (1 - beta) == pytest.approx(effective)
    assert sum(beta**k for k in range(1000)) == pytest.approx(effective)


def test_forty_steps_hold_87_percent_of_the_weight_at_beta_095():
    assert round(1 - 0.95**40, 2) == 0.87
    assert sum(0.95**k for k in range(40)) == pytest.approx(17.43, abs=0.005)


def test_steady_gradients_are_amplified_and_alternating_ones_damped():
    beta, lr = 0.9, 0.01
    rule = rules.SGD(lr=lr, momentum=beta)
    x = np.zeros(1)
    state = rule.init(x)
    for _ in range(500):
        before = x.copy()
        rule.step(x, np.ones(1), state)
    assert (before - x)[0] == pytest.approx(lr / (1 - beta))  # ten times a GD step
    state = rule.init(x)
    for t in range(501):
        rule.step(x, np.array([(-1.0) ** t]), state)
    assert abs(state["momentum_buffer"][0]) == pytest.approx(1 / (1 + beta))


def test_gradient_descent_factors_of_d2ls_quadratic_analysis():
    t = np.arange(20)
    for lam in [0.1, 1, 10, 19]:
        np.testing.assert_allclose(ma.error_factors(lam, 0.1, steps=19), (1 - 0.1 * lam) ** t,
                                   atol=1e-15)
    assert ma.error_factors(10, 0.1, steps=2)[1:] == pytest.approx([0.0, 0.0], abs=1e-15)


def test_best_gradient_descent_for_kappa_20():
    best = ma.optimal_gd(BOWL)
    assert BOWL.condition_number == 20
    assert best.lr == pytest.approx(2 / 4.2)
    assert best.rate == pytest.approx(19 / 21)
    assert (round(best.lr, 4), round(best.rate, 4)) == (0.4762, 0.9048)


def test_best_momentum_for_kappa_20_beats_best_gradient_descent():
    best = ma.optimal_heavy_ball(BOWL)
    lo, hi = math.sqrt(0.2), 2.0
    assert best.lr == pytest.approx((2 / (lo + hi)) ** 2)
    assert best.momentum == pytest.approx(((math.sqrt(20) - 1) / (math.sqrt(20) + 1)) ** 2)
    assert (round(best.lr, 4), round(best.momentum, 4), round(best.rate, 4)) == \
        (0.6679, 0.4026, 0.6345)
    assert BOWL.optimal_momentum == pytest.approx((best.lr, best.momentum))
    steps = {name: math.log(1000) / -math.log(rate)
             for name, rate in [("gd", 19 / 21), ("momentum", best.rate)]}
    assert round(steps["gd"], 1) == 69.0 and round(steps["momentum"], 1) == 15.2
    # on the demo itself, 60 steps from (-5, -2)
    gd = trajectories.run("sgd", BOWL, START, 60, lr=2 / 4.2)
    heavy = trajectories.run("sgd", BOWL, START, 60, lr=best.lr, momentum=best.momentum)
    assert heavy.distance_to((0, 0))[-1] < 1e-7 * gd.distance_to((0, 0))[-1]


def test_heat_map_grid_minimum():
    lrs = np.linspace(0.004, 1.4, 350)
    momenta = np.linspace(0.0, 0.98, 197)
    radius = ma.spectral_radius(BOWL, lrs[None, :], momenta[:, None])
    row, col = np.unravel_index(np.argmin(radius), radius.shape)
    assert radius.min() >= ma.optimal_heavy_ball(BOWL).rate
    assert radius.min() == pytest.approx(0.6364, abs=0.003)
    assert lrs[col] == pytest.approx(0.668, abs=0.01)
    assert momenta[row] == pytest.approx(0.403, abs=0.01)
    # the stability boundary for λ_max = 4 is η < (1 + β)/2
    for beta in (0.0, 0.5, 0.9):
        assert ma.spectral_radius(BOWL, 0.99 * (1 + beta) / 2, beta) < 1
        assert ma.spectral_radius(BOWL, 1.01 * (1 + beta) / 2, beta) > 1


@pytest.mark.parametrize(("lr", "beta", "rho"),
                         [(0.4, 0.0, 0.92), (0.6, 0.25, 0.8589), (0.6, 0.5, 0.7071),
                          (0.3, 0.5, 0.8556)])
def test_measured_rates_table(lr, beta, rho):
    assert round(ma.spectral_radius(BOWL, lr, beta), 4) == rho
    path = trajectories.run("sgd", BOWL, START, 200, lr=lr, momentum=beta)
    measured = ma.measured_rate(path, window=100)
    if beta == 0.5 and lr == 0.6:  # both root pairs complex: the estimate wobbles
        assert measured == pytest.approx(math.sqrt(0.5), abs=2e-3)
    else:
        assert round(measured, 4) == rho


def sutskever(lr, beta, steps):
    """Nesterov in the look-ahead form: v ← βv − η∇f(y + βv), y ← y + v; returns y and v."""
    y, v = np.array(START), np.zeros(2)
    ys, vs = [y.copy()], [v.copy()]
    for _ in range(steps):
        v = beta * v - lr * grad(y + beta * v)
        y = y + v
        ys.append(y.copy())
        vs.append(v.copy())
    return np.array(ys), np.array(vs)


@pytest.mark.parametrize(("lr", "beta"), [(0.3, 0.5), (0.1, 0.9)])
def test_torch_nesterov_stores_the_look_ahead_point(lr, beta):
    y, v = sutskever(lr, beta, 20)
    ours = trajectories.run("sgd", BOWL, START, 20, lr=lr, momentum=beta, nesterov=True)
    with_torch = trajectories.run_torch(
        lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, nesterov=True), BOWL, START, 20)
    np.testing.assert_allclose(ours.points, y + beta * v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(with_torch.points, y + beta * v, rtol=1e-10, atol=1e-12)


def test_nesterov_has_the_smaller_stability_region():
    assert ma.stability_limit(0.5) == 3.0
    assert ma.stability_limit(0.5, nesterov=True) == 1.5
    # d2l's setting: heavy ball converges, Nesterov diverges
    heavy = trajectories.run("sgd", BOWL, START, 20, lr=0.6, momentum=0.5)
    nag = trajectories.run("sgd", BOWL, START, 20, lr=0.6, momentum=0.5, nesterov=True)
    assert np.abs(heavy.final).max() < 0.01
    assert abs(nag.final[1]) > 1e7
    assert f"{nag.final[1]:.6g}" == "-8.14043e+07"
    # ρ = 2.3926: λ = 4, s = 1 − 2.4: μ² − 1.5sμ + 0.5s = 0, larger root by the formula
    s = 1 - 0.6 * 4
    root = (1.5 * abs(s) + math.sqrt((1.5 * s) ** 2 - 4 * 0.5 * s)) / 2
    assert ma.spectral_radius(BOWL, 0.6, 0.5, nesterov=True) == pytest.approx(root)
    assert round(root, 4) == 2.3926
    # lr 0.3: both converge
    for nesterov in (False, True):
        path = trajectories.run("sgd", BOWL, START, 300, lr=0.3, momentum=0.5, nesterov=nesterov)
        assert np.abs(path.final).max() < 1e-15


def test_nesterov_per_eigen_direction_rates_at_lr_03():
    expected = {False: (0.8556, 0.7071), True: (0.8694, 0.5)}
    for nesterov, rates in expected.items():
        got = tuple(round(ma.spectral_radius(lam, 0.3, 0.5, nesterov=nesterov), 4)
                    for lam in (0.2, 4.0))
        assert got == rates
    # Nesterov, λ = 4: μ² + 0.3μ − 0.1 = (μ + 0.5)(μ − 0.2); heavy ball, λ = 4: complex, √0.5


def test_tuned_against_tuned_for_kappa_20():
    gd, hb, nag = (ma.optimal_gd(BOWL), ma.optimal_heavy_ball(BOWL), ma.optimal_nesterov(BOWL))
    assert (round(nag.lr, 4), round(nag.momentum, 4), round(nag.rate, 4)) == \
        (0.3279, 0.5923, 0.7439)
    assert nag.rate == pytest.approx(1 - 2 / math.sqrt(61))
    assert hb.rate < nag.rate < gd.rate
    # a grid search over Nesterov's (η, β) finds nothing better
    lrs, betas = np.linspace(0.01, 0.8, 800), np.linspace(0, 0.98, 491)
    grid = ma.spectral_radius(BOWL, lrs[None, :], betas[:, None], nesterov=True)
    assert nag.rate - 1e-9 <= grid.min() < nag.rate + 2e-3


def test_momentum_needs_sqrt_kappa_steps_where_gradient_descent_needs_kappa():
    def steps(optimum, kappa):
        return math.log(1000) / -math.log(optimum((1.0, kappa)).rate)

    ratio = steps(ma.optimal_gd, 1e4) / steps(ma.optimal_heavy_ball, 1e4)
    assert 95 < ratio < 105
    # check-your-understanding 3: κ = 100
    assert round(ma.optimal_gd((1, 100)).rate, 3) == 0.980
    assert round(ma.optimal_heavy_ball((1, 100)).rate, 3) == 0.818
    assert round(-1 / math.log(99 / 101)) == 50 and round(-1 / math.log(9 / 11)) == 5


def keras_loop(lr_of_t, beta, steps):
    """Keras / cs231n momentum written out: v ← βv − η_t g, x ← x + v."""
    x, v = np.array(START), np.zeros(2)
    points = [x.copy()]
    for t in range(steps):
        v = beta * v - lr_of_t(t) * grad(x)
        x = x + v
        points.append(x.copy())
    return np.array(points)


def test_keras_and_torch_agree_at_a_constant_learning_rate(capsys):
    torch_form = trajectories.run("sgd", BOWL, START, 20, lr=0.6, momentum=0.5)
    keras_form = trajectories.run("keras_sgd", BOWL, START, 20, lr=0.6, momentum=0.5)
    assert np.abs(torch_form.points - keras_form.points).max() < 1e-12
    np.testing.assert_allclose(keras_form.points, keras_loop(lambda t: 0.6, 0.5, 20), rtol=1e-12)
    assert printed(keras_form, capsys, "step") == D2L[0.6, 0.5].replace("epoch", "step")


def test_keras_and_torch_differ_under_a_step_schedule():
    drop = schedules.step_lr(0.6, step_size=10, gamma=0.1)
    torch_form = trajectories.run("sgd", BOWL, START, 20, lr=drop, momentum=0.5)
    keras_form = trajectories.run("keras_sgd", BOWL, START, 20, lr=drop, momentum=0.5)
    np.testing.assert_allclose(keras_form.points, keras_loop(drop, 0.5, 20), rtol=1e-12)
    # the same until the drop, different after it
    assert np.abs(torch_form.points[:11] - keras_form.points[:11]).max() < 1e-12
    assert np.abs(torch_form.final - keras_form.final).max() > 0.05
    # torch with its own StepLR takes the torch-form path
    x = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=0.6, momentum=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
    for _ in range(20):
        optimizer.zero_grad()
        BOWL.value(x).backward()
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(x.detach().numpy(), torch_form.final, rtol=1e-12)
    # after the drop torch's step shrinks about tenfold at once, Keras' does not
    steps = {name: np.linalg.norm(np.diff(p.points, axis=0), axis=1)
             for name, p in [("torch", torch_form), ("keras", keras_form)]}
    assert steps["torch"][10] < 0.1 * steps["torch"][9]
    assert steps["keras"][10] > 0.3 * steps["keras"][9]


def test_dampened_buffer_is_a_rescaled_buffer_plus_the_first_gradient():
    tau, beta = 0.5, 0.9
    gradients = np.random.default_rng(1).standard_normal((12, 2))
    damped, undamped = np.zeros(2), np.zeros(2)
    rule = rules.SGD(lr=0.0, momentum=beta, dampening=tau)
    param = np.zeros(2)
    state = rule.init(param)
    for t, g in enumerate(gradients):
        rule.step(param, g, state)
        damped = g.copy() if t == 0 else beta * damped + (1 - tau) * g  # torch: no dampening at t=0
        undamped = beta * undamped + g
        np.testing.assert_allclose(state["momentum_buffer"], damped, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(damped, (1 - tau) * undamped + tau * beta**t * gradients[0],
                                   rtol=1e-12, atol=1e-15)


def zero_first_gradient(rule, steps=20):
    x = np.array(START)
    state = rule.init(x)
    rule.step(x, np.zeros(2), state)
    for _ in range(steps):
        rule.step(x, grad(x), state)
    return x


def test_dampening_equals_a_rescaled_learning_rate_except_for_the_first_step(capsys):
    damped = trajectories.run("sgd", BOWL, START, 20, lr=0.6, momentum=0.5, dampening=0.5)
    rescaled = trajectories.run("sgd", BOWL, START, 20, lr=0.3, momentum=0.5)
    assert np.abs(damped.final - rescaled.final).max() > 0.01
    assert printed(damped, capsys, "step") == "step 20, x1: -0.241088, x2: 0.004796"
    assert printed(rescaled, capsys, "step") == "step 20, x1: -0.289993, x2: 0.001723"
    # the first step of the dampened run is twice as long (a full GD step with lr 0.6)
    np.testing.assert_allclose(damped.points[1] - damped.points[0],
                               2 * (rescaled.points[1] - rescaled.points[0]))
    with_torch = trajectories.run_torch(
        lambda p: torch.optim.SGD(p, lr=0.6, momentum=0.5, dampening=0.5), BOWL, START, 20)
    np.testing.assert_allclose(with_torch.points, damped.points, rtol=1e-12, atol=1e-14)
    # with a zero first gradient the two coincide, and match the plain undamped run
    a = zero_first_gradient(rules.SGD(lr=0.6, momentum=0.5, dampening=0.5))
    b = zero_first_gradient(rules.SGD(lr=0.3, momentum=0.5))
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, rescaled.final, rtol=1e-12, atol=1e-14)


def test_an_average_with_dampening_beta_needs_lr_over_one_minus_beta():
    beta, lr = 0.9, 0.02
    a = zero_first_gradient(rules.SGD(lr=lr / (1 - beta), momentum=beta, dampening=beta), 50)
    b = zero_first_gradient(rules.SGD(lr=lr, momentum=beta), 50)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_explorer_edges_quoted_in_the_text():
    # gradient descent diverges beyond lr 0.5; with β = 0.5 beyond 0.75; the best setting
    assert ma.spectral_radius(BOWL, 0.49) < 1 < ma.spectral_radius(BOWL, 0.51)
    assert ma.spectral_radius(BOWL, 0.74, 0.5) < 1 < ma.spectral_radius(BOWL, 0.76, 0.5)
    best = ma.optimal_heavy_ball(BOWL)
    assert (round(best.lr, 3), round(best.momentum, 3)) == (0.668, 0.403)


# -- the source article's momentum (article 000) ----------------------------------------------

from course_lib.articles import article_000  # noqa: E402


def article_loop(lr_of_t, gamma, steps):
    """The article's update written out on numpy arrays: v = γv + η_t g; x = x − v."""
    x, v, points = np.array(START), np.zeros(2), [np.array(START)]
    for t in range(steps):
        v = gamma * v + lr_of_t(t) * grad(x)
        x = x - v
        points.append(x.copy())
    return np.array(points)


def test_the_articles_momentum_is_torchs_at_a_constant_rate(capsys):
    article = article_000.run(article_000.sgd_momentum, BOWL, START, 20, buffers=1, lr=0.6,
                              gamma=0.5)
    np.testing.assert_allclose(article.points, article_loop(lambda t: 0.6, 0.5, 20),
                               rtol=1e-12, atol=1e-15)
    with_torch = trajectories.run_torch(lambda p: torch.optim.SGD(p, lr=0.6, momentum=0.5),
                                        BOWL, START, 20)
    for other in (with_torch, trajectories.run("sgd", BOWL, START, 20, lr=0.6, momentum=0.5),
                  trajectories.run("keras_sgd", BOWL, START, 20, lr=0.6, momentum=0.5)):
        assert np.abs(article.points - other.points).max() < 1e-14  # "up to rounding"
    assert printed(article, capsys) == D2L[0.6, 0.5]


@pytest.fixture(scope="module")
def dropped():
    drop = schedules.step_lr(0.6, step_size=10, gamma=0.1)
    return drop, {
        "article": article_000.run(article_000.sgd_momentum, BOWL, START, 20, buffers=1,
                                   lr=drop, gamma=0.5),
        "keras": trajectories.run("keras_sgd", BOWL, START, 20, lr=drop, momentum=0.5),
        "torch": trajectories.run_torch(
            lambda p: torch.optim.SGD(p, lr=0.6, momentum=0.5), BOWL, START, 20,
            make_scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10,
                                                                      gamma=0.1)),
        "course_lib": trajectories.run("sgd", BOWL, START, 20, lr=drop, momentum=0.5),
    }


def test_under_a_step_drop_the_article_pairs_with_keras_and_torch_with_course_lib(dropped):
    drop, paths = dropped
    np.testing.assert_allclose(paths["article"].points, article_loop(drop, 0.5, 20),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(paths["keras"].points, keras_loop(drop, 0.5, 20), rtol=1e-12)
    assert np.abs(paths["article"].points - paths["keras"].points).max() < 1e-12
    assert np.abs(paths["torch"].points - paths["course_lib"].points).max() < 1e-12
    # identical through point 10 (10 updates at 0.6), apart from point 11 on
    gap = np.abs(paths["article"].points - paths["torch"].points).max(axis=1)
    assert gap[:11].max() < 1e-12
    assert np.all(gap[11:] > 0.05)


def test_after_the_drop_torchs_step_is_a_tenth_and_the_articles_fades(dropped):
    _, paths = dropped
    constant = trajectories.run("sgd", BOWL, START, 11, lr=0.6, momentum=0.5)
    step = {name: np.linalg.norm(np.diff(p.points, axis=0), axis=1) for name, p in paths.items()}
    # torch's update 10 is the constant-rate update 10 times 0.06 / 0.6
    np.testing.assert_allclose(step["torch"][10], 0.1 * np.linalg.norm(
        constant.points[11] - constant.points[10]), rtol=1e-10)
    # the article's velocity keeps the old steps and lets them fade by γ = 0.5 per update
    x, v = paths["article"].points, paths["article"].points[:-1] - paths["article"].points[1:]
    for t in range(10, 20):
        np.testing.assert_allclose(v[t], 0.5 * v[t - 1] + 0.06 * grad(x[t]), rtol=1e-10,
                                   atol=1e-15)
    assert np.all(step["article"][10:15] > 3 * step["torch"][10:15])  # "several times"


# -- momentum on the digits MLP ------------------------------------------------------------------

DIGITS_SETTINGS = [(0.02, 0.0), (0.02, 0.5), (0.02, 0.9), (0.1, 0.5), (0.2, 0.0)]
SAME_LR = [(0.02, 0.0), (0.02, 0.5), (0.02, 0.9)]
SAME_EFFECTIVE = [(0.2, 0.0), (0.1, 0.5), (0.02, 0.9)]


@pytest.fixture(scope="module")
def digits_losses():
    """The chapter's experiment (8 epochs, minibatches of 16, seeds 0-2), run twice: with
    training.fit as the chapter does, and seed by seed with training.train as a check."""
    import functools

    import torch.nn.functional as F

    from course_lib import data, optim, training

    x_train, y_train, _, _ = data.digits().as_tensors()
    losses = {}
    for lr, beta in DIGITS_SETTINGS:
        histories = training.fit(functools.partial(optim.SGD, lr=lr, momentum=beta), x_train,
                                 y_train, sizes=[64, 32, 10], seeds=[0, 1, 2], epochs=8,
                                 batch_size=16)
        losses[lr, beta] = histories.loss
    # one setting seed by seed, the plain way: the same losses
    model = training.mlp([64, 32, 10], seed=2)
    alone = training.train(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.5), x_train,
                           y_train, epochs=8, batch_size=16, loss=F.cross_entropy,
                           record_every=None, seed=2, progress=False)
    np.testing.assert_allclose(losses[0.1, 0.5][2], alone.loss, rtol=1e-4)
    return len(x_train), histories.epochs, losses


def test_the_digits_runs_are_as_described(digits_losses):
    n, epochs, losses = digits_losses
    assert n == 1347
    assert 8 * math.ceil(n / 16) == 680  # "8 epochs (680 updates)"
    np.testing.assert_array_equal(epochs, np.arange(9))
    # every setting starts from the same loss per seed (the seed fixes the initial weights)
    first = np.array([losses[s][:, 0] for s in DIGITS_SETTINGS])
    assert np.ptp(first, axis=0).max() < 1e-6


def test_at_the_same_lr_more_momentum_trains_faster(digits_losses):
    _, _, losses = digits_losses
    final = [losses[s][:, -1].mean() for s in SAME_LR]
    assert final[0] > final[1] > final[2]
    assert final[2] < 0.25 * final[0]  # "far below plain SGD at the same rate"
    # β = 0.9 at 0.02 ends where plain SGD at ten times the rate ends: within its seeds' range
    sgd_tenfold = losses[0.2, 0.0][:, -1]
    assert sgd_tenfold.min() <= final[2] <= sgd_tenfold.max()


def spread_between_and_within(losses, settings):
    means = np.array([losses[s].mean(axis=0) for s in settings])
    between = means.max(axis=0) / means.min(axis=0)
    within = np.array([losses[s].max(axis=0) / losses[s].min(axis=0) for s in settings])
    return between, within.max(axis=0)


def test_at_the_same_effective_rate_settings_differ_no_more_than_seeds(digits_losses):
    _, epochs, losses = digits_losses
    between, within = spread_between_and_within(losses, SAME_EFFECTIVE)
    assert np.all(between[epochs >= 1] <= within[epochs >= 1])
    # while at the same lr the settings are apart by far more than the seeds, from epoch 1 on
    between, within = spread_between_and_within(losses, SAME_LR)
    assert np.all(between[epochs >= 1] > 1.5 * within[epochs >= 1])
    assert between[-1] > 5


def test_momentum_smooths_the_setbacks_of_plain_sgd_at_the_same_effective_rate(digits_losses):
    _, epochs, losses = digits_losses

    def largest_rise(setting):
        return np.diff(losses[setting], axis=1)[:, epochs[1:] > 1].max()

    rises = [largest_rise(s) for s in SAME_EFFECTIVE]  # β = 0, 0.5, 0.9
    assert rises[0] > rises[1] > rises[2]
    assert rises[0] > 5 * rises[2]
    # plain SGD's setbacks are at epochs 2 and 6: there, and only there, its mean loss stands
    # 1.5 to 1.8 times above both momentum settings' (elsewhere less than 1.4 times)
    sgd = losses[0.2, 0.0]
    momentum = np.maximum(losses[0.1, 0.5].mean(axis=0), losses[0.02, 0.9].mean(axis=0))
    ratio = sgd.mean(axis=0) / momentum
    assert set(epochs[ratio > 1.4].astype(int)) == {2, 6}
    assert np.all((ratio[[2, 6]] > 1.5) & (ratio[[2, 6]] < 1.9))  # "1.5 to 1.8 times"


def test_gradient_descent_at_the_effective_rate_diverges_where_momentum_converges():
    effective = trajectories.run("sgd", BOWL, START, 20, lr=0.6 / (1 - 0.5))
    np.testing.assert_allclose(effective.final, [-5 * (1 - 0.2 * 1.2) ** 20,
                                                 -2 * (1 - 4 * 1.2) ** 20], rtol=1e-12)
    assert abs(effective.final[1]) > 1e11 and 2 / 4.0 == 0.5  # the limit 2/λ_max
    momentum = trajectories.run("sgd", BOWL, START, 20, lr=0.6, momentum=0.5)
    assert np.linalg.norm(momentum.final) < 0.01
    # and momentum is inside its own limit ηλ < 2(1 + β): 2.4 < 3
    assert 0.6 * 4.0 < ma.stability_limit(0.5) == 3


# -- the Explore section's explorer ---------------------------------------------------------------


def test_the_explorers_rates_near_the_optimum_and_its_sharp_corner():
    """The Explore text: at d2l's setting ρ = 0.707; the optimum (0.668, 0.403) gives 0.635; on
    the sliders' 0.01 grid the best is β = 0.41 (lr 0.67: 0.640), and β = 0.40 jumps to 0.738."""
    from course_lib import widgets

    ui = widgets.momentum_explorer(BOWL, start=START, lr=0.6, momentum=0.5)
    assert ui.steps == 60 and round(ui.frame.rate, 3) == 0.707
    assert round(ui.frame.optimum.rate, 3) == 0.635
    grid = [(ma.spectral_radius(BOWL.eigenvalues, lr, beta), lr, beta)
            for lr in np.round(np.arange(ui.lr.min, ui.lr.max + 1e-9, ui.lr.step), 2)
            for beta in np.round(np.arange(ui.momentum.min, ui.momentum.max + 1e-9,
                                           ui.momentum.step), 2)]
    best = min(grid)
    assert round(best[0], 3) == 0.640 and best[2] == 0.41
    for lr, beta, rate in ((0.67, 0.41, 0.640), (0.67, 0.40, 0.738)):
        ui.lr.value, ui.momentum.value = lr, beta
        assert round(ui.frame.rate, 3) == rate
        assert f"rate ρ <b>{rate:.3f}</b>" in ui.readout.value


def test_with_noise_the_fastest_setting_is_not_the_one_with_the_lowest_floor():
    best = ma.optimal_heavy_ball(BOWL)
    fastest = ma.noise_floor(BOWL.eigenvalues, best.lr, best.momentum, 1.0)
    assert ma.noise_floor(BOWL.eigenvalues, 0.1, 0.0, 1.0) < fastest / 10
