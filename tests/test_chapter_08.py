"""Chapter 08 (RMSProp): the quantitative claims of the prose, against hand-worked math,
d2l's printed numbers and torch.optim."""

import math

import numpy as np
import pytest
import torch
from conftest import steps_on_a_slope

from course_lib import objectives, optim, rules, schedules, trajectories
from course_lib.articles import article_000

START = (-5.0, -2.0)


@pytest.fixture(scope="module")
def bowl():
    return objectives.stretched_bowl()


def d2l_rmsprop_by_hand(lr=0.4, gamma=0.9, eps=1e-6, steps=20):
    """d2l's rmsprop_2d on 0.1 x1^2 + 2 x2^2, in plain Python floats."""
    x1, x2, s1, s2 = -5.0, -2.0, 0.0, 0.0
    for _ in range(steps):
        g1, g2 = 0.2 * x1, 4 * x2
        s1 = gamma * s1 + (1 - gamma) * g1**2
        s2 = gamma * s2 + (1 - gamma) * g2**2
        x1 -= lr / math.sqrt(s1 + eps) * g1
        x2 -= lr / math.sqrt(s2 + eps) * g2
    return x1, x2


# -- the leaky average ---------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.95, 0.9, 0.8, 0.7])
def test_weights_of_past_squared_gradients(gamma):
    rule = rules.RMSprop(alpha=gamma)
    # one unit squared gradient, then zeros: k steps later its weight is (1 - gamma) gamma^k
    x = np.zeros(1)
    state = rule.init(x)
    rule.step(x, np.ones(1), state)
    for k in range(1, 40):
        rule.step(x, np.zeros(1), state)
        assert state["square_avg"][0] == pytest.approx((1 - gamma) * gamma**k, rel=1e-12)
    # unit squared gradients for T steps: the weights of the last T add up to 1 - gamma^T
    for T in (1, 10, 40):
        x = np.zeros(1)
        state = rule.init(x)
        for _ in range(T):
            rule.step(x, np.ones(1), state)
        assert state["square_avg"][0] == pytest.approx(1 - gamma**T, rel=1e-12)
    assert sum((1 - gamma) * gamma**k for k in range(40)) == pytest.approx(1 - gamma**40)


def test_steps_on_a_constant_slope():
    t = np.arange(1, 201)
    adagrad = steps_on_a_slope(rules.Adagrad(lr=0.4), 200)
    np.testing.assert_allclose(adagrad, 0.4 / np.sqrt(t), rtol=1e-9)
    for gamma in (0.9, 0.99):
        rmsprop = steps_on_a_slope(rules.RMSprop(lr=0.4, alpha=gamma), 200)
        np.testing.assert_allclose(rmsprop, 0.4 / np.sqrt(1 - gamma**t), rtol=1e-7)
    assert steps_on_a_slope(rules.RMSprop(lr=0.4, alpha=0.9), 200)[-1] == pytest.approx(0.4)
    assert steps_on_a_slope(rules.RMSprop(lr=0.4, alpha=0.99), 200)[-1] == pytest.approx(0.4298,
                                                                                          abs=1e-4)
    # the first step is lr / sqrt(1 - gamma): 3.16 lr for gamma = 0.9
    assert steps_on_a_slope(rules.RMSprop(lr=1.0, alpha=0.9), 1)[0] == pytest.approx(3.1623,
                                                                                      abs=1e-4)


# -- d2l's demo ----------------------------------------------------------------------------


def test_d2l_printed_numbers(bowl, capsys):
    path = trajectories.run(rules.D2LRMSProp(lr=0.4, gamma=0.9, eps=1e-6), bowl, START, 20)
    trajectories.report(path, unit="epoch")  # d2l's printout, in d2l's word
    assert capsys.readouterr().out.strip() == "epoch 20, x1: -0.010599, x2: 0.000000"
    np.testing.assert_allclose(path.final, d2l_rmsprop_by_hand(), rtol=1e-10, atol=1e-15)
    # first step: 0.4 / sqrt(0.1) in each coordinate
    step = 0.4 / math.sqrt(0.1)
    np.testing.assert_allclose(path.points[1], [-5 + step, -2 + step], rtol=1e-5)
    np.testing.assert_allclose(path.points[1], [-3.7351, -0.7351], atol=5e-5)


def test_torch_form_and_keras_form(bowl, capsys):
    reference = trajectories.run_torch(lambda p: torch.optim.RMSprop(p, lr=0.4, alpha=0.9),
                                       bowl, START, 20)
    ours = trajectories.run_torch(lambda p: optim.RMSprop(p, lr=0.4, alpha=0.9), bowl, START, 20)
    assert np.array_equal(ours.points, reference.points)
    keras = trajectories.run(rules.KerasRMSprop(lr=0.4, alpha=0.9), bowl, START, 20)
    # Keras' form is d2l's with Keras' eps, 1e-7 inside the root
    np.testing.assert_allclose(
        keras.points, trajectories.run(rules.D2LRMSProp(lr=0.4, gamma=0.9, eps=1e-7), bowl, START,
                                       20).points, rtol=1e-12, atol=1e-15)
    assert rules.KerasRMSprop().hyperparams["eps"] == 1e-7
    trajectories.report(reference)
    trajectories.report(keras)
    assert capsys.readouterr().out.splitlines() == ["step 20, x1: -0.010598, x2: 0.000000"] * 2
    # three names for the decay: torch's default alpha is 0.99, eps 1e-8
    defaults = torch.optim.RMSprop([torch.zeros(1, requires_grad=True)]).defaults
    assert defaults["alpha"] == 0.99 and defaults["eps"] == 1e-8
    assert optim.RMSprop([torch.zeros(1, requires_grad=True)]).defaults["alpha"] == 0.99


def test_eps_placement_gap(bowl):
    d2l = trajectories.run(rules.D2LRMSProp(lr=0.4, gamma=0.9, eps=1e-6), bowl, START, 20)
    torch_form = trajectories.run(rules.RMSprop(lr=0.4, alpha=0.9), bowl, START, 20)
    gap = np.abs(d2l.points - torch_form.points)[:, 0]
    # first step, by hand: 0.4 / (sqrt(0.1) + 1e-8) - 0.4 / sqrt(0.1 + 1e-6)
    assert gap[1] == pytest.approx(0.4 / (math.sqrt(0.1) + 1e-8) - 0.4 / math.sqrt(0.1 + 1e-6),
                                   rel=1e-5)
    assert 8e-6 < gap.max() < 1e-5
    assert 5e-7 < gap[-1] < 1e-6
    relative = gap[-1] / abs(d2l.final[0])
    assert relative == pytest.approx(7e-5, rel=0.15)
    adagrad_d2l = trajectories.run(rules.D2LAdagrad(lr=0.4), bowl, START, 20).final[0]
    adagrad_torch = trajectories.run(rules.Adagrad(lr=0.4), bowl, START, 20).final[0]
    adagrad_relative = abs(adagrad_d2l - adagrad_torch) / abs(adagrad_torch)
    assert adagrad_relative == pytest.approx(1.6e-7, rel=0.1)
    assert 300 < relative / adagrad_relative < 500


def test_square_average_follows_the_recent_gradients(bowl):
    rule = rules.D2LRMSProp(lr=0.4, gamma=0.9, eps=1e-6)
    x = np.array(START)
    state = rule.init(x)
    s1 = {}
    for step in range(1, 21):
        rule.step(x, bowl.gradient(x), state)
        s1[step] = state["square_avg"][0]
    assert s1[1] == pytest.approx(0.1 * 1.0**2)  # (1 - gamma) g1^2 with g1 = -1
    assert s1[20] == pytest.approx(0.042, abs=0.001)
    assert 1e-6 / (2 * s1[20]) == pytest.approx(1.2e-5, abs=0.1e-5)


# -- steps that never shrink ---------------------------------------------------------------


def test_constant_lr_rmsprop_does_not_settle(bowl):
    path = trajectories.run(rules.RMSprop(lr=0.4, alpha=0.9), bowl, START, steps=100)
    x2 = np.abs(path.points[:, 1])
    assert x2[20] < 1e-13
    assert x2.min() < 1e-14 and 20 <= x2.argmin() <= 28
    assert x2[40:].max() > 0.5  # back at a distance of order lr
    assert np.abs(path.points[:, 0])[60:].max() > 0.1  # x1 goes through the same cycle
    # each step is at most lr / sqrt(1 - gamma) per coordinate: s_t >= (1 - gamma) g_t^2
    bound = 0.4 / math.sqrt(0.1)
    steps = np.abs(np.diff(path.points, axis=0))
    assert steps.max() <= bound * (1 + 1e-12)
    assert steps.max() == pytest.approx(bound, rel=1e-6)


def test_it_turns_around_where_the_effective_rate_crosses_the_stability_limit(bowl):
    rule = rules.RMSprop(lr=0.4, alpha=0.9)
    x = np.array(START)
    state = rule.init(x)
    points, rate = [x.copy()], []
    for _ in range(100):
        rule.step(x, bowl.gradient(x), state)
        points.append(x.copy())
        rate.append(0.4 / (np.sqrt(state["square_avg"]) + 1e-8))
    points, rate = np.array(points), np.array(rate)
    # gradient descent with rate r on curvature lam shrinks x only while r < 2 / lam (chapter 03)
    for i, lam in enumerate((0.2, 4.0)):
        distance = np.abs(points[:, i])
        crossing = int(np.argmax(rate[:, i] > 2 / lam)) + 1
        assert abs(crossing - int(distance.argmin())) <= 1
        assert distance[crossing:].max() > 0.5  # back at a distance of order lr
    assert np.all((rate[60:, 1] > 0.4) & (rate[60:, 1] < 0.8))  # x2 hovers near its limit 0.5
    # while the gradient is negligible s shrinks by gamma per step: the rate grows by 1/sqrt(0.9)
    np.testing.assert_allclose(rate[31:45, 1] / rate[30:44, 1], 1 / math.sqrt(0.9), rtol=1e-6)
    assert int(np.argmax(rate[:, 1] > 0.5)) + 1 == 25 and int(np.argmax(rate[:, 0] > 10)) + 1 == 51


def test_eps_inside_the_root_caps_the_effective_rate():
    # after a long run of zero gradients s is ~0: d2l's rate is at most lr / sqrt(eps)
    for eps in (1e-6, 1e-7):
        rule = rules.D2LRMSProp(lr=0.4, gamma=0.9, eps=eps)
        x = np.array([1e-3])
        state = rule.init(x)
        for _ in range(300):
            rule.step(x, np.zeros(1), state)
        before = x[0]
        rule.step(x, np.array([1e-9]), state)
        rate = (before - x[0]) / 1e-9
        assert rate <= 0.4 / math.sqrt(eps) * (1 + 1e-9)  # rounding aside
        assert rate == pytest.approx(0.4 / math.sqrt(eps), rel=1e-3)


# -- centered ------------------------------------------------------------------------------


def test_centered_steps_on_a_constant_slope():
    t = np.arange(1, 51)
    plain = steps_on_a_slope(rules.RMSprop(lr=0.01, alpha=0.9), 50)
    centered = steps_on_a_slope(rules.RMSprop(lr=0.01, alpha=0.9, centered=True), 50)
    np.testing.assert_allclose(plain, 0.01 / np.sqrt(1 - 0.9**t), rtol=1e-6)
    # s - gbar^2 = gamma^t (1 - gamma^t) G^2: the step grows without bound
    np.testing.assert_allclose(centered, 0.01 / np.sqrt(0.9**t * (1 - 0.9**t)), rtol=1e-6)
    assert centered[-1] == pytest.approx(0.1397, abs=1e-4)
    # 1/sqrt(q(1 - q)) with q = gamma^t is smallest at q = 1/2, t = 6.6; it grows after
    assert np.all(np.diff(centered[6:]) > 0)


def test_centered_on_the_demo(bowl):
    plain = trajectories.run(rules.RMSprop(lr=0.4, alpha=0.9), bowl, START, 20)
    centered = trajectories.run(rules.RMSprop(lr=0.4, alpha=0.9, centered=True), bowl, START, 20)
    assert centered.values[-1] < plain.values[-1] / 10
    assert plain.values[-1] == pytest.approx(1.1e-5, rel=0.05)
    assert centered.values[-1] == pytest.approx(2.7e-7, rel=0.05)


def noisy_level(bowl, rule, steps=150, seeds=6):
    values = [trajectories.run(rule, bowl, START, steps=steps, noise=1.0, seed=seed).values
              for seed in range(seeds)]
    return float(np.mean([v[steps // 2:] for v in values]))


def test_variants_on_the_noisy_bowl(bowl):
    rates = [0.003, 0.01, 0.03, 0.1, 0.3]
    variants = {
        "plain": lambda lr: rules.RMSprop(lr=lr, alpha=0.9),
        "centered": lambda lr: rules.RMSprop(lr=lr, alpha=0.9, centered=True),
        "momentum": lambda lr: rules.RMSprop(lr=lr * 0.1, alpha=0.9, momentum=0.9),
    }
    levels = {name: [noisy_level(bowl, make(lr)) for lr in rates]
              for name, make in variants.items()}
    floors = {name: min(row) for name, row in levels.items()}
    for name, row in levels.items():
        assert rates[int(np.argmin(row))] == 0.1
        assert 0.07 < floors[name] < 0.11  # "about the same floor, 0.08 to 0.1"
    assert max(floors.values()) < 1.5 * min(floors.values())
    # with small rates the centered variant is clearly ahead
    for i in range(3):
        assert levels["centered"][i] * 1.4 < levels["plain"][i]


# -- momentum: where the learning rate goes -------------------------------------------------


def momentum_on_scaled_gradient(bowl, momentum_rule, learning_rates, noise=0.0, seed=0):
    scaler = rules.RMSprop(lr=1.0, alpha=0.9, eps=1e-8)
    x, scratch = np.array(START), np.zeros(2)
    scaler_state, momentum_state = scaler.init(scratch), momentum_rule.init(x)
    generator = np.random.default_rng(seed)
    points = [x.copy()]
    for lr in learning_rates:
        gradient = bowl.gradient(x) + noise * generator.standard_normal(2)
        scratch[:] = 0.0
        scaler.step(scratch, gradient, scaler_state)
        momentum_rule.step(x, -scratch, momentum_state, {**momentum_rule.hyperparams, "lr": lr})
        points.append(x.copy())
    return np.array(points)


def test_the_keras_rule_is_momentum_with_lr_inside_on_the_scaled_gradient(bowl):
    # rules.KerasRMSprop is KerasSGD's momentum on g / sqrt(s), built by hand (eps aside)
    rates = schedules.step_lr(0.04, step_size=30, gamma=0.1).values(60)
    keras_rule = trajectories.run(rules.KerasRMSprop(alpha=0.9, momentum=0.9, eps=1e-8), bowl,
                                  START, 60, lr=schedules.step_lr(0.04, step_size=30, gamma=0.1))
    built = momentum_on_scaled_gradient(bowl, rules.KerasSGD(momentum=0.9), rates)
    # the only difference left is eps: 1e-8 inside the root here, outside in the construction
    np.testing.assert_allclose(keras_rule.points, built, atol=1e-6)
    torch_rule = trajectories.run(rules.RMSprop(alpha=0.9, momentum=0.9), bowl, START, 60,
                                  lr=schedules.step_lr(0.04, step_size=30, gamma=0.1))
    assert np.array_equal(torch_rule.points,
                          momentum_on_scaled_gradient(bowl, rules.SGD(momentum=0.9), rates))


def test_the_keras_form_is_keras_with_a_schedule(bowl):
    # real Keras 3 (torch backend), learning rate 0.04 for 30 updates then 0.004
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    variable = keras.Variable(np.array(START), dtype="float64")
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([29], [0.04, 0.004])
    optimizer = keras.optimizers.RMSprop(learning_rate=schedule, rho=0.9, momentum=0.9)
    points = [np.array(START)]
    for _ in range(60):
        gradient = torch.tensor(bowl.gradient(variable.value.detach().numpy().copy()))
        optimizer.apply_gradients([(gradient, variable)])
        points.append(variable.value.detach().numpy().copy())
    # Keras keeps the rates in float32
    rate = [float(np.float32(0.04)), float(np.float32(0.004))]
    ours = trajectories.run(rules.KerasRMSprop(alpha=0.9, momentum=0.9), bowl, START, 60,
                            lr=lambda t: rate[0] if t < 30 else rate[1])
    np.testing.assert_allclose(ours.points, np.array(points), rtol=0, atol=1e-12)


def test_momentum_is_momentum_on_the_scaled_gradient(bowl):
    rule_path = trajectories.run(rules.RMSprop(lr=0.04, alpha=0.9, momentum=0.9), bowl, START, 60)
    torch_built = momentum_on_scaled_gradient(bowl, rules.SGD(momentum=0.9), [0.04] * 60)
    keras_built = momentum_on_scaled_gradient(bowl, rules.KerasSGD(momentum=0.9), [0.04] * 60)
    assert np.array_equal(rule_path.points, torch_built)
    np.testing.assert_allclose(keras_built, torch_built, atol=1e-12)
    # and torch.optim.RMSprop(momentum=0.9) is the same method
    reference = trajectories.run_torch(
        lambda p: torch.optim.RMSprop(p, lr=0.04, alpha=0.9, momentum=0.9), bowl, START, 60)
    np.testing.assert_allclose(reference.points, rule_path.points, rtol=1e-12, atol=1e-14)


def test_where_the_learning_rate_goes_after_a_drop(bowl):
    drop = schedules.step_lr(0.04, step_size=30, gamma=0.1)
    rates = drop.values(60)
    assert rates[29] == 0.04 and rates[30] == pytest.approx(0.004)
    torch_form = trajectories.run(rules.RMSprop(alpha=0.9, momentum=0.9), bowl, START, 60, lr=drop)
    keras_form = trajectories.run(rules.KerasRMSprop(alpha=0.9, momentum=0.9), bowl, START, 60,
                                  lr=drop)
    # torch's own optimizer and scheduler do what rules.RMSprop does with the schedule
    with_step_lr = trajectories.run_torch(
        lambda p: torch.optim.RMSprop(p, lr=0.04, alpha=0.9, momentum=0.9), bowl, START, 60,
        make_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1))
    np.testing.assert_allclose(with_step_lr.points, torch_form.points, rtol=0, atol=1e-12)
    # the same up to step 30, up to where eps sits
    np.testing.assert_allclose(torch_form.points[:31], keras_form.points[:31], atol=1e-5)
    torch_steps = np.linalg.norm(np.diff(torch_form.points, axis=0), axis=1)
    keras_steps = np.linalg.norm(np.diff(keras_form.points, axis=0), axis=1)
    # torch: the whole buffer is multiplied by the new lr at once
    assert torch_steps[30] < torch_steps[29] / 5
    # Keras: the buffered steps fade by about mu = 0.9 per step
    for k in range(30, 34):
        assert 0.85 < keras_steps[k] / keras_steps[k - 1] < 0.97
    assert np.all(keras_steps[30:35] > 3 * torch_steps[30:35])


def test_constant_lr_forms_agree_up_to_eps(bowl):
    torch_form = trajectories.run(rules.RMSprop(alpha=0.9, momentum=0.9), bowl, START, 60, lr=0.04)
    keras_form = trajectories.run(rules.KerasRMSprop(alpha=0.9, momentum=0.9), bowl, START, 60,
                                  lr=0.04)
    reference = trajectories.run_torch(
        lambda p: torch.optim.RMSprop(p, lr=0.04, alpha=0.9, momentum=0.9), bowl, START, 60)
    np.testing.assert_allclose(torch_form.points, reference.points, rtol=0, atol=1e-12)
    gap = np.abs(torch_form.points - keras_form.points).max()
    assert 1e-7 < gap < 1e-5  # "2e-06": only eps differs
    with_torch_eps = trajectories.run(rules.KerasRMSprop(alpha=0.9, momentum=0.9, eps=0.0), bowl,
                                      START, 60, lr=0.04)
    without_eps = trajectories.run(rules.RMSprop(alpha=0.9, momentum=0.9, eps=0.0), bowl, START,
                                   60, lr=0.04)
    np.testing.assert_allclose(with_torch_eps.points, without_eps.points, rtol=1e-12, atol=1e-15)


def test_noisy_schedule_ends_differ_without_a_consistent_winner(bowl):
    drop = schedules.step_lr(0.04, step_size=30, gamma=0.1)
    torch_better = []
    for seed in range(3):
        ends = [bowl.value(trajectories.run(rule, bowl, START, 60, lr=drop, noise=1.0,
                                            seed=seed).final)
                for rule in (rules.RMSprop(alpha=0.9, momentum=0.9),
                             rules.KerasRMSprop(alpha=0.9, momentum=0.9))]
        assert abs(ends[0] - ends[1]) > 1e-3
        torch_better.append(ends[0] < ends[1])
    assert any(torch_better) and not all(torch_better)


# -- the source article's rmsprop ----------------------------------------------------------------


def test_the_articles_rmsprop_on_the_demo(bowl):
    article = article_000.run(article_000.rmsprop, bowl, START, 20, buffers=1, lr=0.4, alpha=0.9)
    by_torch = trajectories.run_torch(lambda p: torch.optim.RMSprop(p, lr=0.4, alpha=0.9), bowl,
                                      START, 20)
    by_course_lib = trajectories.run_torch(lambda p: optim.RMSprop(p, lr=0.4, alpha=0.9), bowl,
                                           START, 20)
    assert np.array_equal(by_course_lib.points, by_torch.points)
    gap = np.abs(article.points - by_torch.points).max()
    assert 1e-8 < gap < 1e-6  # "agree to about 1e-7"
    assert f"{article.final[0]:f}" == f"{by_torch.final[0]:f}" == "-0.010598"
    # the article's form is the d2l form with eps = 1e-10
    np.testing.assert_allclose(
        article.points, trajectories.run(rules.D2LRMSProp(lr=0.4, gamma=0.9, eps=1e-10), bowl,
                                         START, 20).points, rtol=1e-10, atol=1e-14)


def rmsprop_x1(kind, c):
    scaled = objectives.quadratic((0.2 * c, 4.0 * c))
    if kind == "article":
        path = article_000.run(article_000.rmsprop, scaled, START, 20, buffers=1, lr=0.4, alpha=0.9)
    elif kind == "torch":
        path = trajectories.run_torch(lambda p: torch.optim.RMSprop(p, lr=0.4, alpha=0.9), scaled,
                                      START, 20)
    elif kind == "keras":
        path = trajectories.run(rules.KerasRMSprop(lr=0.4, alpha=0.9), scaled, START, 20)
    else:
        path = trajectories.run(rules.D2LRMSProp(lr=0.4, gamma=0.9, eps=1e-6), scaled, START, 20)
    return path.final[0]


def test_where_each_eps_makes_rmsprop_part():
    reference = rmsprop_x1("torch", 1.0)
    assert round(reference, 3) == -0.011
    # torch's form: about -0.011 down to c = 1e-4, parts at 1e-6
    assert abs(rmsprop_x1("torch", 1e-4) - reference) < 1e-4
    assert abs(rmsprop_x1("torch", 1e-6) - reference) > 1e-3
    # the article's: parts at 1e-4, almost twice as far from the minimum; -5 -> -4.26 at 1e-6
    article = rmsprop_x1("article", 1e-4)
    assert 1.5 < article / reference < 2.0
    assert round(rmsprop_x1("article", 1e-6), 2) == -4.26
    # Keras' and d2l's (larger eps inside) part even earlier: far off already at 1e-4
    assert rmsprop_x1("keras", 1e-4) < -3 and rmsprop_x1("d2l", 1e-4) < -4
    # inside the root eps competes with s: the article at c is d2l at 100 c
    for c in (1e-6, 1e-8):
        assert rmsprop_x1("article", c) == pytest.approx(rmsprop_x1("d2l", 100 * c), rel=1e-9)
