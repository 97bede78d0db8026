"""Chapter 09 (Adadelta): the quantitative claims of the prose, against hand-worked math and
torch.optim."""

import math

import numpy as np
import pytest
import torch
from conftest import steps_on_a_slope

from course_lib import data, objectives, optim, rules, training, trajectories
from course_lib.articles import article_000

START = np.array([-5.0, -2.0])


@pytest.fixture(scope="module")
def bowl():
    return objectives.stretched_bowl()


def adadelta_by_hand(steps, lr=1.0, rho=0.9, eps=1e-6):
    """The paper's update on 0.1 x1^2 + 2 x2^2, in plain Python floats."""
    x, v, u = [-5.0, -2.0], [0.0, 0.0], [0.0, 0.0]
    for _ in range(steps):
        g = [0.2 * x[0], 4 * x[1]]
        for i in range(2):
            v[i] = rho * v[i] + (1 - rho) * g[i] ** 2
            delta = math.sqrt(u[i] + eps) / math.sqrt(v[i] + eps) * g[i]
            u[i] = rho * u[i] + (1 - rho) * delta**2
            x[i] -= lr * delta
    return x


def first_step_by_hand(g, rho, eps):
    return math.sqrt(eps) / math.sqrt((1 - rho) * g * g + eps) * abs(g)


# -- the update and its first step ---------------------------------------------------------


def test_defaults_are_the_papers_method():
    p = [torch.zeros(1, requires_grad=True)]
    for defaults in (torch.optim.Adadelta(p).defaults, optim.Adadelta(p).defaults):
        assert (defaults["lr"], defaults["rho"], defaults["eps"]) == (1.0, 0.9, 1e-6)


@pytest.mark.parametrize("g", [100.0, 8.0, 1.0, 0.001])
@pytest.mark.parametrize(("rho", "eps"), [(0.9, 1e-6), (0.95, 1e-7), (0.99, 1e-4)])
def test_first_step_formula(g, rho, eps):
    x = np.zeros(1)
    rule = rules.Adadelta(rho=rho, eps=eps)
    rule.step(x, np.array([g]), rule.init(x))
    assert abs(x[0]) == pytest.approx(first_step_by_hand(g, rho, eps), rel=1e-9)


def test_first_step_on_the_bowl_and_the_answers(bowl):
    path = trajectories.run(rules.Adadelta(), bowl, START, steps=1)
    np.testing.assert_allclose(np.abs(path.final - START), math.sqrt(1e-6 / 0.1), rtol=2e-5)
    assert round(math.sqrt(1e-6 / 0.1), 7) == 0.0031623
    # check-your-understanding 1: g1 = 100 and g1 = 0.001
    assert first_step_by_hand(100.0, 0.9, 1e-6) == pytest.approx(0.00316, abs=1e-5)
    assert first_step_by_hand(0.001, 0.9, 1e-6) == pytest.approx(0.00095, abs=1e-5)
    # Keras' defaults: lr 0.001 times sqrt(1e-7 / 0.05)
    x = np.zeros(1)
    keras = rules.Adadelta(lr=0.001, rho=0.95, eps=1e-7)
    keras.step(x, np.ones(1), keras.init(x))
    assert abs(x[0]) == pytest.approx(1.4e-6, rel=0.02)


def test_twenty_steps_barely_move(bowl, capsys):
    path = trajectories.run(rules.Adadelta(), bowl, START, steps=20)
    np.testing.assert_allclose(path.final, adadelta_by_hand(20), rtol=1e-12)
    reference = trajectories.run_torch(lambda p: torch.optim.Adadelta(p), bowl, START, 20)
    np.testing.assert_allclose(path.points, reference.points, rtol=1e-12)
    trajectories.report(path)
    assert capsys.readouterr().out.strip() == "step 20, x1: -4.930470, x2: -1.930986"
    assert bowl.value(START) == pytest.approx(10.5)
    assert round(path.values[-1], 2) == 9.89


# -- the warm-up ---------------------------------------------------------------------------


def test_warm_up_law_on_a_constant_slope():
    steps = steps_on_a_slope(rules.Adadelta(), 3000)
    t = np.arange(1, 3001)
    law = np.sqrt(1e-6 * (1 + 0.1 * t))
    ratio = steps / law
    assert 1.0 < ratio[999] < 1.06 and 1.0 < ratio[2999] < 1.02
    assert ratio[99] > 1.3  # early on the zero start of v makes the steps larger
    assert steps[999] == pytest.approx(0.01, rel=0.06)


def test_on_a_steady_slope_the_step_creeps_towards_the_gradient():
    # fixed point: D^2 (g^2 + eps) = (D^2 + eps) g^2  =>  D = |g|  (gradient descent, rate 1)
    steps = steps_on_a_slope(rules.Adadelta(eps=1e-2), 3000)
    assert np.all(np.diff(steps) > 0)
    assert 0.95 < steps[-1] < 1.0


# -- does it need no learning rate? --------------------------------------------------------


@pytest.fixture(scope="module")
def regression_losses():
    X, y = data.regression_data(n_samples=500).as_tensors(torch.float64)
    recipes = {
        "torch": lambda p: optim.Adadelta(p),
        "keras": lambda p: optim.Adadelta(p, lr=0.001, rho=0.95, eps=1e-7),
        "keras lr 1": lambda p: optim.Adadelta(p, lr=1.0, rho=0.95, eps=1e-7),
        "sgd": lambda p: optim.SGD(p, lr=0.05),
    }
    losses = {}
    for name, make in recipes.items():
        model = training.linear_regression(X.shape[1], seed=0, dtype=torch.float64)
        history = training.train(model, make(model.parameters()), X, y, epochs=4, batch_size=10,
                                 record_every=50)
        losses[name] = history.loss
    return losses


def test_keras_defaults_barely_move(regression_losses):
    start, end = regression_losses["keras"][0], regression_losses["keras"][-1]
    assert 0 < start - end < 1e-3  # "falls in the fourth decimal"
    assert round(start, 4) == 0.4952 and round(end, 4) == 0.4950


def test_order_of_the_regression_runs(regression_losses):
    final = {name: losses[-1] for name, losses in regression_losses.items()}
    assert final["sgd"] < final["torch"] < final["keras lr 1"] < final["keras"]
    assert final["torch"] < 0.33 and final["sgd"] < 0.25


def run_with_ratio(bowl, lr, steps=3000):
    rule = rules.Adadelta(lr=lr)
    x = START.copy()
    state = rule.init(x)
    points = [x.copy()]
    for _ in range(steps):
        rule.step(x, bowl.gradient(x), state)
        points.append(x.copy())
    ratio = np.sqrt(state["acc_delta"] + 1e-6) / np.sqrt(state["square_avg"] + 1e-6)
    return np.array(points), ratio


def test_below_the_stability_limit_it_converges_like_gradient_descent(bowl):
    points, ratio = run_with_ratio(bowl, 0.4)
    np.testing.assert_allclose(ratio, 1.0, atol=1e-9)  # u, v << eps: the ratio tends to 1
    x2 = np.abs(points[:, 1])
    assert x2[2000] < 1e-200
    # then gradient descent with rate 0.4 on curvature 4: |1 - 0.4 * 4| = 0.6 per step
    late = x2[1600:1700]
    np.testing.assert_allclose(late[1:] / late[:-1], 0.6, rtol=1e-6)


def test_at_lr_one_the_steep_coordinate_flips_forever(bowl):
    points, ratio = run_with_ratio(bowl, 1.0)
    late = points[2000:, 1]
    assert np.all(np.sign(late[1:]) != np.sign(late[:-1]))  # a sign change at every step
    assert ratio[1] == pytest.approx(0.5, abs=1e-3)  # effective rate 0.5 = 2 / 4, the limit
    assert ratio[0] == pytest.approx(1.0, abs=1e-9)
    amplitude = np.abs(points[:, 1])
    assert amplitude[1000] < amplitude[2000] < amplitude[3000]  # grows slowly
    assert 1e-3 < amplitude[3000] < 0.05
    assert abs(points[-1, 0]) < 1e-100  # x1 (curvature 0.2, limit 10) converges


@pytest.mark.parametrize("amplitude", [1e-3, 0.1, 1.0])
@pytest.mark.parametrize("curvature", [0.5, 4.0, 10.0])
def test_the_flip_is_a_fixed_point_for_any_amplitude(amplitude, curvature):
    # gradients +-lam A (v = lam^2 A^2), steps 2A (u = 4 A^2): ratio 2 / lam, step 2A
    rule = rules.Adadelta(lr=1.0, rho=0.9, eps=0.0)
    x = np.array([amplitude])
    state = {"step": 0, "square_avg": np.array([(curvature * amplitude) ** 2]),
             "acc_delta": np.array([4 * amplitude**2])}
    rule.step(x, curvature * x, state)
    assert x[0] == pytest.approx(-amplitude, rel=1e-12)
    assert state["square_avg"][0] == pytest.approx((curvature * amplitude) ** 2, rel=1e-12)
    assert state["acc_delta"][0] == pytest.approx(4 * amplitude**2, rel=1e-12)


@pytest.mark.parametrize(("lr", "converges"), [(0.15, True), (0.19, True), (0.25, False),
                                               (0.3, False)])
def test_curvature_ten_needs_lr_below_one_fifth(lr, converges):
    rule = rules.Adadelta(lr=lr)
    x = np.array([1.0])
    state = rule.init(x)
    late = []
    for t in range(20000):
        rule.step(x, 10 * x, state)
        if t >= 19000:
            late.append(abs(x[0]))
    assert (max(late) < 1e-100) == converges


# -- the flip grows without bound -----------------------------------------------------------


def run_with_ratios(bowl, lr, steps=3000, **hyperparams):
    """Points and, after every step, the ratio sqrt(u + eps) / sqrt(v + eps) of each coordinate."""
    rule = rules.Adadelta(lr=lr, **hyperparams)
    eps = rule.hyperparams["eps"]
    x = START.copy()
    state = rule.init(x)
    points, ratios = [x.copy()], []
    for _ in range(steps):
        rule.step(x, bowl.gradient(x), state)
        points.append(x.copy())
        ratios.append(np.sqrt(state["acc_delta"] + eps) / np.sqrt(state["square_avg"] + eps))
    return np.array(points), np.array(ratios)


def flip_on_one_coordinate(lr, curvature, rho, eps, steps, x0):
    """Adadelta on f(x) = curvature x^2 / 2 in plain Python floats (the paper's update)."""
    x, v, u = x0, 0.0, 0.0
    xs = [x]
    for _ in range(steps):
        g = curvature * x
        v = rho * v + (1 - rho) * g * g
        delta = math.sqrt(u + eps) / math.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        x -= lr * delta
        xs.append(x)
    return np.array(xs)


@pytest.mark.parametrize(("lr", "curvature", "rho", "eps"), [
    (1.0, 4.0, 0.9, 1e-6), (1.0, 4.0, 0.9, 1e-4), (1.0, 4.0, 0.9, 1e-2),
    (1.0, 4.0, 0.95, 1e-4), (1.0, 4.0, 0.99, 1e-4), (0.3, 10.0, 0.9, 1e-4), (2.0, 4.0, 0.9, 1e-4),
])
def test_squared_amplitude_grows_by_eps_times_the_predicted_constant(lr, curvature, rho, eps):
    # A_{t+1}^2 - A_t^2 ~ eps (lr^2 / 4 - 1 / lambda^2): the same for every rho; steady, so the
    # amplitude grows without bound, like sqrt(eps t)
    x = flip_on_one_coordinate(lr, curvature, rho, eps, 20000, x0=-2.0)
    late = x[10000:]
    assert np.all(np.sign(late[1:]) != np.sign(late[:-1]))  # still a flip
    predicted = eps * (lr**2 / 4 - 1 / curvature**2)
    first_half = (x[15000] ** 2 - x[10000] ** 2) / 5000
    second_half = (x[20000] ** 2 - x[15000] ** 2) / 5000
    assert first_half == pytest.approx(predicted, rel=0.01)
    assert second_half == pytest.approx(predicted, rel=0.01)  # it does not level off
    assert np.all(np.diff(np.abs(late)) > 0)


def test_the_rule_shows_the_same_growth_on_the_bowl(bowl):
    growth = 1.0 / 4 - 1 / 16
    assert growth == 3 / 16
    flips = {eps: trajectories.run(rules.Adadelta(eps=eps), bowl, START, steps=20000).points[:, 1]
             for eps in (1e-6, 1e-4, 1e-2)}
    for eps, x2 in flips.items():
        assert (x2[20000] ** 2 - x2[10000] ** 2) / 10000 / eps == pytest.approx(growth, rel=0.005)
        assert abs(x2[5000]) < abs(x2[10000]) < abs(x2[20000])
    # "only 0.06 after 20000 steps" with torch's default eps: sqrt(3/16 * 1e-6 * ~19300)
    assert abs(flips[1e-6][20000]) == pytest.approx(0.06, abs=0.005)
    assert abs(flips[1e-6][20000]) == pytest.approx(math.sqrt(3 / 16 * 1e-6 * 19300), rel=0.03)
    # check-your-understanding 6: eps = 1e-4, 10000 steps: A ~ sqrt(1e-4 * 3/16 * 1e4) ~ 0.43
    assert abs(flips[1e-4][10000]) == pytest.approx(0.4, abs=0.05)
    assert abs(flips[1e-4][10000]) < math.sqrt(1e-4 * 3 / 16 * 1e4)


@pytest.mark.parametrize("lr", [0.3, 0.45, 0.55, 1.0])
def test_eps_tips_an_exact_flip_outwards_exactly_above_the_limit(lr):
    # start in the eps = 0 fixed point of amplitude A (u = 4 A^2 / lr^2, v = lam^2 A^2); with
    # eps > 0 the next amplitude (lr lam ratio - 1) A is larger iff lr > 2 / lam
    amplitude, curvature, eps = 0.01, 4.0, 1e-6
    rule = rules.Adadelta(lr=lr, rho=0.9, eps=eps)
    x = np.array([amplitude])
    state = {"step": 0, "square_avg": np.array([(curvature * amplitude) ** 2]),
             "acc_delta": np.array([4 * amplitude**2 / lr**2])}
    rule.step(x, curvature * x, state)
    ratio_squared = (4 * amplitude**2 / lr**2 + eps) / (curvature**2 * amplitude**2 + eps)
    assert abs(x[0]) == pytest.approx((lr * curvature * math.sqrt(ratio_squared) - 1) * amplitude,
                                      rel=1e-9)
    assert (abs(x[0]) > amplitude) == (lr > 2 / curvature)


def test_the_dip_is_where_the_effective_rate_crosses_the_limit(bowl):
    points, ratios = run_with_ratios(bowl, 1.0)
    x2 = np.abs(points[:, 1])
    dip = int(np.argmin(x2))
    crossing = int(np.argmax(ratios[:, 1] > 0.5)) + 1  # lr * ratio > 2 / 4 after this step
    assert abs(crossing - dip) <= 1
    assert 600 < dip < 800 and x2[dip] < 1e-20  # "down to about 1e-25" at step ~680
    assert ratios[0, 1] < 1e-3  # the warm-up: the effective rate starts tiny
    assert np.all(ratios[:crossing - 1, 1] <= 0.5)
    # then x2 grows by up to |1 - 1 * 4| = 3 per step: the ratio approaches 1, never passes it
    growth = x2[dip + 1:dip + 41] / x2[dip:dip + 40]
    assert 2.5 < growth.max() < 3.0
    assert ratios[dip:dip + 100, 1].max() < 1.0
    assert ratios[:, 1].max() > 0.9


def test_below_the_limit_x2_reaches_the_smallest_float_and_flips_there(bowl):
    points, ratios = run_with_ratios(bowl, 0.4)
    smallest = np.nextafter(0.0, 1.0)
    assert smallest == pytest.approx(4.9e-324, rel=0.01)
    assert -0.6 * smallest == -smallest  # 0.6 of the smallest float rounds back to it
    x2 = points[:, 1]
    reached = int(np.argmax(np.abs(x2) == smallest))
    assert 2000 < reached < 3000
    assert np.all(np.abs(x2[reached:]) == smallest)
    assert np.all(np.sign(x2[reached + 1:]) != np.sign(x2[reached:-1]))
    assert np.all(0.4 * ratios[:, 1] < 0.5)  # never above the limit


@pytest.mark.parametrize("hyperparams", [{"eps": 1e-6}, {"eps": 1e-4}, {"eps": 1e-2},
                                         {"rho": 0.95}, {"rho": 0.99}])
def test_every_dip_of_f_follows_the_turning_point_of_x2(bowl, hyperparams):
    points, ratios = run_with_ratios(bowl, 1.0, **hyperparams)
    x2 = np.abs(points[:, 1])
    turn = int(np.argmin(x2))
    crossing = int(np.argmax(ratios[:, 1] > 0.5)) + 1
    assert abs(crossing - turn) <= 1  # x2 turns back where its effective rate crosses 2/4
    # f = 0.1 x1^2 + 2 x2^2: its dip comes later, where the falling x1 part (lr = 1 is far
    # below x1's limit 2/0.2) stops outweighing the rising x2 part
    values = bowl.values(points)
    dip = int(np.argmin(values))
    assert dip > turn
    x1_part, x2_part = 0.1 * points[:, 0] ** 2, 2 * points[:, 1] ** 2
    assert x1_part[dip + 10] < x1_part[dip] < x1_part[dip - 10]
    assert x2_part[dip + 10] > x2_part[dip] > x2_part[dip - 10]
    assert values[-1] > 2 * values[dip]  # and f climbs after it


def test_rho_099_dips_deepest_and_last(bowl):
    dips = {}
    for rho in (0.9, 0.95, 0.99):
        points, ratios = run_with_ratios(bowl, 1.0, rho=rho)
        values = bowl.values(points)
        dips[rho] = {"f": values.min(), "at": int(np.argmin(values)),
                     "x2": np.abs(points[:, 1]).min(), "turn": int(np.argmin(np.abs(points[:, 1]))),
                     "crossing": int(np.argmax(ratios[:, 1] > 0.5)) + 1}
    # the slowest warm-up: its effective rate crosses 2/4 last, so x2 converges longest
    assert dips[0.9]["crossing"] < dips[0.95]["crossing"] < dips[0.99]["crossing"]
    assert dips[0.99]["x2"] < 1e-200  # "to about 1e-226"
    assert dips[0.99]["turn"] == pytest.approx(1848, abs=5)
    # climbing back by at most a factor 3 per step takes some 500 steps (log 1e226 / log 3)
    assert dips[0.99]["at"] - dips[0.99]["turn"] > math.log(1e200) / math.log(3)
    assert dips[0.99]["f"] < 1e-60 < dips[0.9]["f"]
    assert dips[0.99]["f"] == pytest.approx(1e-68, rel=2)  # "about 1e-68"


def test_larger_eps_f_climbs_back_in_proportion_to_eps(bowl):
    path = trajectories.run(rules.Adadelta(eps=1e-2), bowl, START, steps=3000)
    dip = int(np.argmin(path.values))
    # f ~ 2 A^2 and A^2 grows by (3/16) eps per step after the dip: about 11 after 3000 steps
    assert path.values[-1] == pytest.approx(2 * 3 / 16 * 1e-2 * (3000 - dip), rel=0.03)
    assert round(path.values[-1]) == 11


# -- the source article's adadelta -------------------------------------------------------------


def test_the_articles_adadelta_is_torchs_at_lr_one(bowl):
    article = article_000.run(article_000.adadelta, bowl, START, 1000, buffers=2, rho=0.9)
    by_torch = trajectories.run_torch(lambda p: torch.optim.Adadelta(p, rho=0.9), bowl, START,
                                      1000)
    by_course_lib = trajectories.run_torch(lambda p: optim.Adadelta(p, rho=0.9), bowl, START,
                                           1000)
    size = np.abs(by_torch.points).max(axis=1)
    assert (np.abs(article.points - by_torch.points).max(axis=1) / size).max() < 1e-13
    assert np.array_equal(by_course_lib.points, by_torch.points)
    # the article's function is the paper's formula, computed by hand in plain floats
    np.testing.assert_allclose(article.final, adadelta_by_hand(1000), rtol=1e-12)
    # and, with lr fixed at 1, its steep coordinate still flips after 1000 steps
    late = article.points[900:, 1]
    assert np.all(np.sign(late[1:]) != np.sign(late[:-1]))


def test_articles_function_takes_no_learning_rate():
    import inspect

    parameters = list(inspect.signature(article_000.adadelta).parameters)
    assert parameters == ["parameters", "sqrs", "deltas", "rho"]
    assert "eps = 1e-6" in inspect.getsource(article_000.adadelta)


# -- eps and rho -----------------------------------------------------------------------------


def test_eps_sets_the_start_and_the_later_growth(bowl):
    gradient = bowl.gradient(START)
    runs = {eps: trajectories.run(rules.Adadelta(eps=eps), bowl, START, steps=3000)
            for eps in (1e-6, 1e-4, 1e-2)}
    for eps, path in runs.items():
        expected = [first_step_by_hand(g, 0.9, eps) for g in gradient]
        np.testing.assert_allclose(np.abs(path.points[1] - START), expected, rtol=1e-9)
    # a hundredfold eps gives a tenfold first step (while eps << (1 - rho) g^2)
    step = {eps: abs(path.points[1, 1] - START[1]) for eps, path in runs.items()}
    assert step[1e-4] / step[1e-6] == pytest.approx(10, rel=1e-3)
    assert abs(runs[1e-2].points[1, 0] - START[0]) == pytest.approx(0.30, abs=0.005)
    # faster start ...
    assert runs[1e-2].values[20] < runs[1e-4].values[20] < runs[1e-6].values[20]
    # ... faster growth of the flip at lr = 1; with eps = 1e-2 f ends above its start
    assert runs[1e-6].values[-1] < runs[1e-4].values[-1] < runs[1e-2].values[-1]
    assert runs[1e-2].values[-1] > bowl.value(START)


def test_rho(bowl):
    runs = {rho: trajectories.run(rules.Adadelta(rho=rho), bowl, START, steps=3000)
            for rho in (0.9, 0.95, 0.99)}
    for rho, path in runs.items():
        assert abs(path.points[1, 0] - START[0]) == pytest.approx(math.sqrt(1e-6 / (1 - rho)),
                                                                  rel=1e-4)
        assert np.abs(path.points[2500:, 1]).max() > 1e-3  # none settles along x2 at lr = 1
        assert path.values[300] > 1.0  # several hundred steps to reach the valley
    first = {rho: abs(path.points[1, 0] - START[0]) for rho, path in runs.items()}
    assert first[0.99] / first[0.9] == pytest.approx(math.sqrt(10), rel=1e-3)  # "three times"
    assert runs[0.99].values[100] < runs[0.95].values[100] < runs[0.9].values[100]
    assert runs[0.99].values[300] < runs[0.9].values[300]


# -- bit for bit ---------------------------------------------------------------------------


def test_course_lib_adadelta_equals_torch_bit_for_bit():
    X, y = data.regression_data(n_samples=500).as_tensors(torch.float64)
    batch_x, batch_y = X[:32].float(), y[:32].float()
    torch_model = training.mlp([5, 16, 1], seed=0, activation=torch.nn.Tanh)
    our_model = training.mlp([5, 16, 1], seed=0, activation=torch.nn.Tanh)
    torch_opt = torch.optim.Adadelta(torch_model.parameters())
    our_opt = optim.Adadelta(our_model.parameters())
    for _ in range(5):
        for model, opt in ((torch_model, torch_opt), (our_model, our_opt)):
            opt.zero_grad()
            training.half_squared_error(model(batch_x), batch_y).backward()
            opt.step()
        for a, b in zip(torch_model.parameters(), our_model.parameters(), strict=True):
            assert torch.equal(a, b)
            for key in ("square_avg", "acc_delta"):
                assert torch.equal(torch_opt.state[a][key], our_opt.state[b][key])
