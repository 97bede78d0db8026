"""Chapter 07 (Adagrad): the quantitative claims of the prose, against hand-worked math,
d2l's printed numbers and torch.optim."""

import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import data, objectives, optim, rules, training, trajectories
from course_lib.arrays import ArrayOptimizer
from course_lib.articles import article_000

START = (-5.0, -2.0)


@pytest.fixture(scope="module")
def bowl():
    return objectives.stretched_bowl()


def d2l_adagrad_by_hand(lr, steps=20, eps=1e-6):
    """d2l's adagrad_2d on 0.1 x1^2 + 2 x2^2, in plain Python floats."""
    x1, x2, s1, s2 = -5.0, -2.0, 0.0, 0.0
    for _ in range(steps):
        g1, g2 = 0.2 * x1, 4 * x2
        s1 += g1**2
        s2 += g2**2
        x1 -= lr / math.sqrt(s1 + eps) * g1
        x2 -= lr / math.sqrt(s2 + eps) * g2
    return x1, x2


# -- d2l's demos and torch's form ------------------------------------------------------------


@pytest.mark.parametrize(("lr", "printed"), [
    (0.4, "epoch 20, x1: -2.382563, x2: -0.158591"),
    (2.0, "epoch 20, x1: -0.002295, x2: -0.000000"),
])
def test_d2l_printed_numbers(bowl, capsys, lr, printed):
    path = trajectories.run(rules.D2LAdagrad(lr=lr, eps=1e-6), bowl, START, steps=20)
    trajectories.report(path, unit="epoch")  # d2l's printout, in d2l's word
    assert capsys.readouterr().out.strip() == printed
    np.testing.assert_allclose(path.final, d2l_adagrad_by_hand(lr), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("lr", "printed"), [
    (0.4, "step 20, x1: -2.382562, x2: -0.158591"),
    (2.0, "step 20, x1: -0.002295, x2: -0.000000"),
])
def test_torch_form_printed_and_bit_for_bit(bowl, capsys, lr, printed):
    reference = trajectories.run_torch(lambda p: torch.optim.Adagrad(p, lr=lr), bowl, START, 20)
    ours = trajectories.run_torch(lambda p: optim.Adagrad(p, lr=lr), bowl, START, 20)
    assert np.array_equal(ours.points, reference.points)
    trajectories.report(reference)
    assert capsys.readouterr().out.strip() == printed
    rule_path = trajectories.run(rules.Adagrad(lr=lr), bowl, START, steps=20)
    np.testing.assert_allclose(rule_path.points, reference.points, rtol=1e-13, atol=1e-15)


def test_first_step_is_plus_minus_lr_in_every_coordinate(bowl):
    # s1 = g1^2, so g1 / sqrt(s1) = sign(g1): both coordinates move by exactly lr
    path = trajectories.run(rules.Adagrad(lr=0.4), bowl, START, steps=1)
    np.testing.assert_allclose(path.final, [-4.6, -1.6], rtol=1e-9)


def test_eps_placement_gap(bowl):
    d2l = {lr: trajectories.run(rules.D2LAdagrad(lr=lr, eps=1e-6), bowl, START, 20)
           for lr in (0.4, 2.0)}
    torch_form = {lr: trajectories.run(rules.Adagrad(lr=lr), bowl, START, 20) for lr in (0.4, 2.0)}
    gap = {lr: np.abs(d2l[lr].points - torch_form[lr].points) for lr in (0.4, 2.0)}
    # first step: s1 = 1 for x1, so d2l's step is shorter by lr (1 - 1/sqrt(1 + eps)) ~ lr eps / 2
    assert gap[0.4][1, 0] == pytest.approx(0.4 * (1 / (1 + 1e-10) - 1 / math.sqrt(1 + 1e-6)),
                                           rel=1e-6)
    assert gap[0.4][1, 0] == pytest.approx(0.4e-6 / 2, rel=1e-3)
    assert gap[2.0][1, 0] == pytest.approx(2.0e-6 / 2, rel=1e-3)
    # "about 4e-7 after 20 steps" at lr 0.4: the sixth decimal flips
    assert 3e-7 < gap[0.4][-1, 0] < 5e-7
    assert f"{d2l[0.4].final[0]:f}" == "-2.382563"
    assert f"{torch_form[0.4].final[0]:f}" == "-2.382562"
    # at lr 2 the gap shrinks with x1 (to about 1e-8) and the printed digits agree
    assert 5e-9 < gap[2.0][-1, 0] < 5e-8
    assert f"{d2l[2.0].final[0]:f}" == f"{torch_form[2.0].final[0]:f}" == "-0.002295"


def test_the_gap_grows_in_proportion_to_eps(bowl):
    torch_form = trajectories.run(rules.Adagrad(lr=0.4), bowl, START, 20).final[0]
    gaps = {eps: abs(trajectories.run(rules.D2LAdagrad(lr=0.4, eps=eps), bowl, START, 20).final[0]
                     - torch_form) for eps in (1e-4, 1e-3, 3e-3)}
    for eps in (1e-4, 1e-3):
        assert gaps[eps] / eps == pytest.approx(0.38, abs=0.01)
    assert gaps[1e-3] < 1e-3 < gaps[3e-3]


def test_eps_caps_the_multiplier_inside_the_root_only():
    # a coordinate whose only gradient is tiny: d2l's multiplier <= lr / sqrt(eps) = 1000 lr,
    # torch's is lr / (|g| + 1e-10), up to 1e10 lr
    g = 1e-9
    for rule, bound in [(rules.D2LAdagrad(lr=1.0, eps=1e-6), 1e3),
                        (rules.Adagrad(lr=1.0, eps=1e-10), 1e10)]:
        x = np.zeros(1)
        state = rule.init(x)
        rule.step(x, np.array([g]), state)
        multiplier = -x[0] / g
        assert multiplier <= bound
    assert multiplier == pytest.approx(1 / (1e-9 + 1e-10))  # torch's: ~9.1e8 lr
    x = np.zeros(1)
    rules.D2LAdagrad(lr=1.0, eps=1e-6).step(x, np.array([g]), {"sum": np.zeros(1)})
    assert -x[0] / g == pytest.approx(1 / math.sqrt(1e-18 + 1e-6))  # ~1000 lr


def test_demo_observations(bowl):
    # gradient descent at lr 0.4 multiplies x1 by 1 - 0.4 * 0.2 = 0.92 per step
    descent = trajectories.run("sgd", bowl, START, steps=20, lr=0.4)
    assert descent.final[0] == pytest.approx(-5 * 0.92**20, rel=1e-12)
    assert round(descent.final[0], 2) == -0.94
    # Adagrad at lr 2: the first step moves both coordinates by 2, x2 lands on the valley floor
    path = trajectories.run(rules.D2LAdagrad(lr=2.0), bowl, START, 20)
    np.testing.assert_allclose(path.points[1], [-3.0, 0.0], atol=1e-5)
    # |g_t| <= sqrt(s_t): no step is longer than lr in any coordinate
    assert np.abs(np.diff(path.points, axis=0)).max() <= 2.0
    assert np.linalg.norm(path.final) < 3e-3  # within 0.003 of the minimum
    # gradient descent at lr 2 (four times its limit 0.5) diverges
    assert abs(trajectories.run("sgd", bowl, START, steps=20, lr=2.0).final[1]) > 1e6


# -- why the steps shrink -------------------------------------------------------------------


def test_constant_gradient_gives_steps_eta_over_sqrt_t():
    lr, rule = 0.4, rules.Adagrad(lr=0.4)
    x = np.zeros(1)
    state = rule.init(x)
    for t in range(1, 1001):
        before = x[0]
        rule.step(x, np.ones(1), state)
        # s_t = t exactly, so the step is lr / (sqrt(t) + eps)
        assert before - x[0] == pytest.approx(lr / math.sqrt(t), rel=1e-9)


def test_noisy_gradient_multiplier_follows_eta_over_sqrt_t():
    lr, rule = 0.4, rules.Adagrad(lr=0.4)
    noise = np.random.default_rng(0)
    x = np.zeros(1)
    state = rule.init(x)
    for _ in range(1000):
        rule.step(x, noise.standard_normal(1), state)
    # s_t ~ t sigma^2 with sigma = 1
    assert lr / math.sqrt(state["sum"][0]) == pytest.approx(lr / math.sqrt(1000), rel=0.1)


def test_demo_multipliers_freeze(bowl):
    lr, rule = 0.4, rules.Adagrad(lr=0.4)
    x = np.array(START)
    state = rule.init(x)
    multipliers = []
    for _ in range(1000):
        rule.step(x, bowl.gradient(x), state)
        multipliers.append(lr / np.sqrt(state["sum"]))
    multipliers = np.array(multipliers)
    # by step 20 x1's multiplier is about a third of lr
    assert multipliers[19, 0] / lr == pytest.approx(1 / 3, abs=0.02)
    # both freeze: x2 at about 0.026 within a few dozen steps, x1 at about 0.10
    assert multipliers[-1, 1] == pytest.approx(0.026, abs=0.001)
    assert abs(multipliers[49, 1] - multipliers[-1, 1]) < 1e-4
    assert multipliers[-1, 0] == pytest.approx(0.105, abs=0.005)
    # x1 then shrinks by about 2% per step: 1 - 0.2 * multiplier
    assert 0.2 * multipliers[-1, 0] == pytest.approx(0.02, abs=0.002)


# -- the rotated valley ---------------------------------------------------------------------


def rotated(degrees):
    angle = math.radians(degrees)
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return objectives.quadratic((0.2, 4.0), angle=angle), turn @ np.array(START)


def condition_after_diagonal_scaling(matrix):
    scale = np.diag(1 / np.sqrt(np.diag(matrix)))
    eigenvalues = np.linalg.eigvalsh(scale @ matrix @ scale)
    return eigenvalues.max() / eigenvalues.min()


@pytest.mark.parametrize("degrees", [0, 22.5, 45])
def test_diagonal_scaling_condition_number(degrees):
    # by hand: with unit diagonal, off-diagonal r = b / sqrt(a d), kappa = (1 + |r|) / (1 - |r|);
    # a = 0.2 c^2 + 4 s^2, d = 0.2 s^2 + 4 c^2, b = (0.2 - 4) c s
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    a, d, b = 0.2 * c * c + 4 * s * s, 0.2 * s * s + 4 * c * c, (0.2 - 4) * c * s
    r = abs(b) / math.sqrt(a * d)
    valley, _ = rotated(degrees)
    assert valley.condition_number == pytest.approx(20.0)
    assert condition_after_diagonal_scaling(valley.matrix) == pytest.approx((1 + r) / (1 - r))
    expected = {0: 1.0, 22.5: 10.93, 45: 20.0}[degrees]
    assert condition_after_diagonal_scaling(valley.matrix) == pytest.approx(expected, abs=0.01)


def test_at_45_degrees_both_diagonal_entries_are_equal():
    valley, _ = rotated(45)
    np.testing.assert_allclose(valley.matrix, [[2.1, -1.9], [-1.9, 2.1]], atol=1e-12)


def best_final_value(rule, rates, degrees):
    valley, start = rotated(degrees)
    return min(trajectories.run(rule, valley, start, steps=50, lr=r).values[-1] for r in rates)


def test_rotation_hurts_adagrads_advantage():
    adagrad_rates = np.geomspace(0.05, 10, 30)
    descent_rates = np.linspace(0.02, 0.48, 24)
    descent = {deg: best_final_value("sgd", descent_rates, deg) for deg in (0, 22.5, 45, 90)}
    adagrad = {deg: best_final_value("adagrad", adagrad_rates, deg) for deg in (0, 22.5, 45, 90)}
    # gradient descent is rotation invariant
    for deg in (22.5, 45, 90):
        assert descent[deg] == pytest.approx(descent[0], rel=1e-6)
    # axis-aligned: Adagrad wins by dozens of orders of magnitude
    for deg in (0, 90):
        assert adagrad[deg] < 1e-40 < descent[deg] * 1e-30
    # rotated by 45 degrees: no better than gradient descent (here worse)
    assert adagrad[45] > descent[45]
    assert adagrad[0] < adagrad[22.5] < adagrad[45]


def test_adagrad_is_ahead_outside_30_to_60_degrees():
    # "still ahead at 22.5 and 67.5 degrees, behind from 30 to 60": not only when axis-aligned
    adagrad_rates = np.geomspace(0.05, 10, 30)
    descent_rates = np.linspace(0.02, 0.48, 24)
    ahead = [float(deg) for deg in np.arange(0, 91, 7.5)
             if best_final_value("adagrad", adagrad_rates, deg)
             < best_final_value("sgd", descent_rates, deg)]
    assert ahead == [0.0, 7.5, 15.0, 22.5, 67.5, 75.0, 82.5, 90.0]
    # at 22.5 and 67.5 degrees the best diagonal scaling still halves the condition number 20
    for deg in (22.5, 67.5):
        valley, _ = rotated(deg)
        assert condition_after_diagonal_scaling(valley.matrix) == pytest.approx(10.93, abs=0.01)


# -- the notation of rules.Adagrad ----------------------------------------------------------


def test_the_docstring_keeps_eta_for_the_learning_rate_only():
    doc = rules.Adagrad.__doc__
    shown = doc.split("    Defaults")[0]  # what the chapter prints
    assert "γ is ``lr``, δ is ``lr_decay``" in shown
    assert "γ_t ← γ / (1 + (t − 1) δ)" in shown
    assert "η is" not in doc and "η)" not in doc  # η never names a symbol of the rule
    # δ really is torch's lr_decay: lr / (1 + (t - 1) lr_decay)
    x = np.zeros(1)
    rule = rules.Adagrad(lr=1.0, lr_decay=0.5)
    state = rule.init(x)
    steps = []
    for _ in range(3):
        before = x[0]
        rule.step(x, np.ones(1), state)
        steps.append(before - x[0])
    np.testing.assert_allclose(steps, [1 / (1 + k * 0.5) / math.sqrt(k + 1) for k in range(3)],
                               rtol=1e-9)


# -- the source article's sgd_adagrad --------------------------------------------------------


def test_the_articles_adagrad_agrees_with_torch_on_the_demo(bowl):
    article = article_000.run(article_000.sgd_adagrad, bowl, START, 20, buffers=1, lr=0.4)
    by_torch = trajectories.run_torch(lambda p: torch.optim.Adagrad(p, lr=0.4), bowl, START, 20)
    by_course_lib = trajectories.run_torch(lambda p: optim.Adagrad(p, lr=0.4), bowl, START, 20)
    assert np.array_equal(by_course_lib.points, by_torch.points)
    gap = np.abs(article.points - by_torch.points).max()
    assert 1e-12 < gap < 1e-9  # "agree to about 1e-10": eps / (2 s) <= 5e-11 per step
    assert f"{article.final[0]:f}" == f"{by_torch.final[0]:f}" == "-2.382562"


def final_x1(kind, c):
    scaled = objectives.quadratic((0.2 * c, 4.0 * c))
    if kind == "article":
        return article_000.run(article_000.sgd_adagrad, scaled, START, 20, buffers=1,
                               lr=0.4).final[0]
    if kind == "torch":
        return trajectories.run_torch(lambda p: torch.optim.Adagrad(p, lr=0.4), scaled, START,
                                      20).final[0]
    return trajectories.run(rules.D2LAdagrad(lr=0.4, eps=1e-6), scaled, START, 20).final[0]


def test_where_eps_makes_the_forms_part():
    reference = final_x1("torch", 1.0)
    # torch's form: scale-free down to c = 1e-6, about 0.5% less progress at 1e-8 (eps / sqrt(s)
    # with sqrt(s) ~ 1e-8 at the start), well behind at 1e-10
    for c in (1e-4, 1e-6):
        assert abs(final_x1("torch", c) - reference) < 2e-4
    progress = (final_x1("torch", 1e-8) + 5) / (reference + 5)
    assert 0.99 < progress < 0.999
    assert final_x1("torch", 1e-10) < -3.0
    # the article's form: the third decimal at 1e-4 (eps / (2 s) with s ~ 1e-8: 0.5% per step),
    # x1 only from -5 to -4.29 at 1e-6, where sqrt(s + eps) starts ten times sqrt(s)
    assert 1e-3 < abs(final_x1("article", 1e-4) - reference) < 1e-2
    assert round(final_x1("article", 1e-6), 2) == -4.29
    assert math.sqrt(1e-12 + 1e-10) / math.sqrt(1e-12) == pytest.approx(10, rel=0.01)
    # the article at scale c is d2l at scale 100 c: eps 1e4 times smaller inside the root
    for c in (1e-6, 1e-8, 1e-10):
        assert final_x1("article", c) == pytest.approx(final_x1("d2l", 100 * c), rel=1e-9)


# -- rare features -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sparse_problem():
    rng = np.random.default_rng(0)
    n, n_dense, n_rare = 1000, 5, 5
    features = np.zeros((n, n_dense + n_rare))
    common = rng.standard_normal((n, 1))
    features[:, :n_dense] = common + 0.5 * rng.standard_normal((n, n_dense))
    present = rng.random((n, n_rare)) < 0.02
    features[:, n_dense:] = present * rng.standard_normal((n, n_rare))
    targets = features @ np.ones(n_dense + n_rare) + 0.1 * rng.standard_normal(n)
    return features, targets, n_dense


def fit(problem, rule_name, lr, epochs=2, batch_size=10):
    features, targets, n_dense = problem
    params = {"w": np.zeros(features.shape[1]), "b": np.zeros(1)}
    optimizer = ArrayOptimizer(rule_name, lr=lr)
    with np.errstate(all="ignore"):
        for epoch in range(epochs):
            for xb, yb in data.minibatches(features, targets, batch_size, seed=0, epoch=epoch):
                residual = xb @ params["w"] + params["b"] - yb
                optimizer.update(params, {"w": xb.T @ residual / len(yb),
                                          "b": np.array([residual.mean()])})
        loss = 0.5 * np.mean((features @ params["w"] + params["b"] - targets) ** 2)
    error = np.abs(params["w"] - 1)
    return loss, error[:n_dense].mean(), error[n_dense:].mean()


def test_curvatures_of_the_sparse_problem(sparse_problem):
    features, _, n_dense = sparse_problem
    dense = features[:, :n_dense]
    # population covariance of the dense block: 1 1^T + 0.25 I, largest eigenvalue 5 + 0.25
    assert np.linalg.eigvalsh(dense.T @ dense / len(dense)).max() == pytest.approx(5.25, abs=0.4)
    # a rare weight: P(non-zero) E[x^2] = 0.02
    np.testing.assert_allclose((features[:, n_dense:] ** 2).mean(axis=0), 0.02, atol=0.01)


def test_sgd_best_rate_and_its_rare_error(sparse_problem):
    features, _, n_dense = sparse_problem
    results = {lr: fit(sparse_problem, "sgd", lr) for lr in [0.03, 0.1, 0.2, 0.3, 0.5]}
    assert not results[0.5][0] < 1e6  # diverges
    best = min(results, key=lambda lr: np.nan_to_num(results[lr][0], nan=np.inf))
    assert best == 0.3
    # each rare error decays like exp(-lr * curvature * steps) with 200 steps: about e^-1.2
    curvature = (features[:, n_dense:] ** 2).mean(axis=0)
    predicted = np.exp(-0.3 * curvature * 200).mean()
    assert predicted == pytest.approx(math.exp(-1.2), abs=0.08)
    assert results[0.3][2] == pytest.approx(predicted, abs=0.1)
    assert results[0.3][1] < 0.02  # the dense weights are learned


def test_adagrad_learns_the_rare_weights_and_gives_them_larger_steps(sparse_problem):
    features, targets, n_dense = sparse_problem
    adagrad = {lr: fit(sparse_problem, "adagrad", lr) for lr in [0.1, 0.3, 1.0, 3.0]}
    best = min(adagrad, key=lambda lr: adagrad[lr][0])
    assert best == 0.3
    sgd_rare = fit(sparse_problem, "sgd", 0.3)[2]
    assert adagrad[best][2] < sgd_rare / 2
    assert adagrad[best][0] < fit(sparse_problem, "sgd", 0.3)[0]
    # the torch run of the notebook: the multipliers lr / (sqrt(s) + eps) in Adagrad's state
    model = training.linear_regression(features.shape[1], seed=0, dtype=torch.float64)
    optimizer = optim.Adagrad(model.parameters(), lr=best)
    training.train(model, optimizer, torch.tensor(features), torch.tensor(targets), epochs=2,
                   batch_size=10, record_every=100)
    multipliers = best / (np.sqrt(optimizer.state[model.weight]["sum"].numpy()[0]) + 1e-10)
    assert multipliers[n_dense:].min() > 7 * multipliers[:n_dense].max()


# -- a real network: the digits ------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    x_train, y_train, x_test, y_test = data.digits().as_tensors()
    assert (len(x_train), len(x_test)) == (1347, 450)
    return x_train.double(), y_train, x_test.double(), y_test


@pytest.fixture(scope="module")
def digit_runs(digits):
    x_train, y_train, x_test, y_test = digits
    grid = {"SGD": (optim.SGD, (0.1, 0.3, 1.0)), "Adagrad": (optim.Adagrad, (0.03, 0.1, 0.3))}
    return {(name, lr): training.fit(functools.partial(make, lr=lr), x_train, y_train,
                                     sizes=[64, 32, 10], seeds=(0, 1, 2), epochs=10,
                                     batch_size=64, test=(x_test, y_test))
            for name, (make, rates) in grid.items() for lr in rates}


@pytest.fixture(scope="module")
def adagrad_seed_0(digits):
    """Seed 0's Adagrad run at lr 0.1 on its own, to read the optimizer's state."""
    x_train, y_train, _, _ = digits
    model = training.mlp([64, 32, 10], seed=0, dtype=torch.float64)
    optimizer = optim.Adagrad(model.parameters(), lr=0.1)
    history = training.train(model, optimizer, x_train, y_train, epochs=10, batch_size=64,
                             loss=F.cross_entropy, record_every=None, seed=0)
    return history, model, optimizer


def test_digits_best_rates_and_the_comparison(digit_runs):
    mean = {key: runs.final_loss.mean() for key, runs in digit_runs.items()}
    assert min((lr for name, lr in digit_runs if name == "SGD"),
               key=lambda lr: mean["SGD", lr]) == 0.3
    assert min((lr for name, lr in digit_runs if name == "Adagrad"),
               key=lambda lr: mean["Adagrad", lr]) == 0.1
    # SGD at 1.0 is erratic: two of three seeds end near or above the starting loss ~ ln 10
    sgd_fast = digit_runs["SGD", 1.0]
    np.testing.assert_allclose(sgd_fast.loss[:, 0], math.log(10), atol=0.1)
    assert np.sum(sgd_fast.final_loss > 0.9 * math.log(10)) == 2
    # at their best rates: Adagrad lower on every seed, higher mean test accuracy
    adagrad, sgd = digit_runs["Adagrad", 0.1], digit_runs["SGD", 0.3]
    assert np.all(adagrad.final_loss < sgd.final_loss)
    accuracy = adagrad.metrics["test accuracy"][:, -1], sgd.metrics["test accuracy"][:, -1]
    assert accuracy[0].mean() > accuracy[1].mean()
    # "Adagrad's band lies below SGD's for most of the run": mean loss lower at most epochs
    assert np.sum(adagrad.loss.mean(axis=0)[1:] < sgd.loss.mean(axis=0)[1:]) >= 8


def test_the_separate_run_is_seed_0_of_the_grid(digit_runs, adagrad_seed_0):
    history, _, _ = adagrad_seed_0
    assert history.final_loss == pytest.approx(digit_runs["Adagrad", 0.1].final_loss[0], rel=1e-9)


def test_rarely_inked_pixels_get_the_largest_multipliers(digits, adagrad_seed_0):
    x_train = digits[0]
    _, model, optimizer = adagrad_seed_0
    sums = optimizer.state[model[0].weight]["sum"].numpy()
    assert sums.shape == (32, 64)
    inked = (x_train.numpy() > 0).mean(axis=0)
    never = inked == 0
    assert never.sum() == 4
    # a never-inked pixel's weights never get a gradient: their sums stay exactly 0
    assert np.all(sums[:, never] == 0)
    multiplier = 0.1 / (np.sqrt(sums.mean(axis=0)) + 1e-10)

    def rank(v):
        return np.argsort(np.argsort(v))

    correlation = np.corrcoef(rank(inked[~never]), rank(multiplier[~never]))[0, 1]
    assert correlation < -0.9
    rare, common = ~never & (inked < 0.1), inked > 0.9
    assert np.median(multiplier[rare]) > 100 * np.median(multiplier[common])
    assert multiplier[~never].max() > 100 * multiplier[~never].min()  # two orders of magnitude


# -- the Try-it explorer ------------------------------------------------------------------------


def test_the_explorer_starts_with_steps_of_lr_and_never_diverges_up_to_lr_4():
    """The Try-it notes: both first updates are η (up to ε), while the steep coordinate's plain
    gradient step is eight times longer; rates of about 3 and 4 (far above 0.5) do not diverge."""
    from course_lib import widgets

    bowl = objectives.stretched_bowl()
    ui = widgets.adaptive_explorer("Adagrad", "stretched bowl", lr=0.4, steps=20)
    np.testing.assert_allclose(np.abs(np.diff(ui.frame.path.points[:2], axis=0)), [[0.4, 0.4]],
                               rtol=1e-9)
    np.testing.assert_allclose(ui.frame.path.final,
                               trajectories.run("adagrad", bowl, START, 20, lr=0.4).final,
                               rtol=1e-12)
    first = ui.frame.path.points[1] - ui.frame.path.points[0]
    plain = 0.4 * np.abs(bowl.gradient(np.array(START)))      # the plain gradient step η|g|
    np.testing.assert_allclose(plain / np.abs(first), [1.0, 8.0], rtol=1e-9)
    lr = ui.sliders["Adagrad"]["lr"]
    for value in (10**0.45, 10**0.5, 10**0.6):      # the slider's values near 3 and 4
        lr.value = value
        assert ui.diverged_at is None and np.all(np.isfinite(ui.frame.path.points))
