"""What the explorers compute, checked without a browser: against torch, hand-worked formulas,
brute force and simulation.

Covers course_lib.explorations and the pieces it added to the modules that own the math:
conditioning.steps_at_rate, momentum_analysis.complex_root_band and noise_floor,
trajectories.run(record_state=True), schedules.warmup_decay, gradient_noise and
training.seconds_per_epoch.
"""

import itertools
import math

import numpy as np
import pytest
import torch

from course_lib import (
    conditioning,
    data,
    explorations,
    gradient_noise,
    momentum_analysis,
    objectives,
    optim,
    schedules,
    training,
    trajectories,
)

# -- conditioning.steps_at_rate ------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.05, 0.3, 0.5, 0.8181818, 0.9, 0.99, 0.999])
@pytest.mark.parametrize("tol", [1e-1, 1e-3, 1e-6, 1e-9])
def test_steps_at_rate_is_the_first_power_below_the_tolerance(rate, tol):
    k = conditioning.steps_at_rate(rate, tol)
    assert rate**k <= tol
    assert k == 1 or rate ** (k - 1) > tol


@pytest.mark.parametrize(("rate", "tol", "expected"), [(1.0, 0.5, math.inf), (1.5, 0.5, math.inf),
                                                       (0.0, 1e-6, 1), (0.5, 1.0, 0)])
def test_steps_at_rate_edges(rate, tol, expected):
    assert conditioning.steps_at_rate(rate, tol) == expected


@pytest.mark.parametrize(("rate", "tol"), [(-0.1, 0.5), (math.nan, 0.5), (0.5, 0.0), (0.5, -1)])
def test_steps_at_rate_rejects_bad_input(rate, tol):
    with pytest.raises(ValueError, match="rate|tol"):
        conditioning.steps_at_rate(rate, tol)


def test_steps_to_tolerance_is_steps_at_the_gradient_descent_rate():
    for lr in np.linspace(0.01, 0.19, 7):
        assert conditioning.steps_to_tolerance(lr, [1.0, 10.0], 1e-6) == \
            conditioning.steps_at_rate(conditioning.gd_rate(lr, [1.0, 10.0]), 1e-6)


# -- momentum_analysis: the band of complex roots and the noise floor ----------------------------


@pytest.mark.parametrize("lam", [0.2, 1.0, 4.0])
@pytest.mark.parametrize("beta", [0.1, 0.5, 0.9])
def test_complex_root_band_is_where_the_discriminant_is_negative(lam, beta):
    low, high = momentum_analysis.complex_root_band(lam, beta)
    disc = lambda lr: (1 + beta - lr * lam) ** 2 - 4 * beta  # noqa: E731
    assert disc(low) == pytest.approx(0, abs=1e-12) and disc(high) == pytest.approx(0, abs=1e-12)
    assert disc((low + high) / 2) < 0 and disc(0.9 * low) > 0 and disc(1.1 * high) > 0
    inside = np.linspace(low, high, 7)[1:-1]
    # inside the band the roots are complex, of modulus √β, so the rate along λ is √β
    np.testing.assert_allclose(momentum_analysis.spectral_radius([lam], inside, beta),
                               math.sqrt(beta), rtol=1e-12)


def test_complex_root_band_is_empty_without_momentum_and_takes_arrays():
    assert momentum_analysis.complex_root_band(2.0, 0.0) == (0.5, 0.5)
    low, high = momentum_analysis.complex_root_band(1.0, np.array([0.25, 0.81]))
    np.testing.assert_allclose(low, [0.25, 0.01])
    np.testing.assert_allclose(high, [2.25, 3.61])


@pytest.mark.parametrize("lr", [0.05, 0.2, 0.45])
def test_noise_floor_without_momentum_is_sgds(lr):
    assert momentum_analysis.noise_floor([2.0, 4.0], lr, 0.0, 0.7) == pytest.approx(
        conditioning.sgd_noise_floor(lr, [2.0, 4.0], 0.7), rel=1e-12)


@pytest.mark.parametrize(("lam", "lr", "beta"), [(1.0, 0.1, 0.5), (4.0, 0.3, 0.8), (0.2, 1.0, 0.3)])
def test_noise_floor_matches_the_heavy_ball_closed_form(lam, lr, beta):
    """By hand: with z' = (1 − ηλ)z − ηβb − ησξ, b' = βb + λz + σξ, the stationary
    E[z²] = η σ² (1 + β) / (λ (1 − β)(2(1 + β) − ηλ)), and the floor is ½ λ E[z²]."""
    sigma = 0.8
    second = lr * sigma**2 * (1 + beta) / (lam * (1 - beta) * (2 * (1 + beta) - lr * lam))
    assert momentum_analysis.noise_floor([lam], lr, beta, sigma) == pytest.approx(
        0.5 * lam * second, rel=1e-10)


@pytest.mark.parametrize("nesterov", [False, True])
def test_noise_floor_is_what_noisy_runs_settle_at(nesterov):
    f = objectives.stretched_bowl()
    lr, beta, sigma = 0.3, 0.6, 1.0
    batch = trajectories.run_many("sgd", f, (0.0, 0.0), 600, seeds=400, lr=lr, momentum=beta,
                                  nesterov=nesterov, noise=sigma)
    settled = batch.values[:, 300:]            # 300 steps are enough to forget the start
    floor = momentum_analysis.noise_floor(f, lr, beta, sigma, nesterov=nesterov)
    assert settled.mean() == pytest.approx(floor, rel=0.05)


def test_noise_floor_is_infinite_when_unstable_and_checks_arguments():
    assert momentum_analysis.noise_floor([4.0], 0.8, 0.0) == math.inf
    with pytest.raises(ValueError, match="noise"):
        momentum_analysis.noise_floor([4.0], 0.1, 0.5, -1.0)
    with pytest.raises(ValueError, match="momentum"):
        momentum_analysis.noise_floor([4.0], 0.1, 1.0)


# -- trajectories.run(record_state=True) ------------------------------------------------------

TORCH_STATES = [  # (rule name, torch class, hyperparameters, state entries to compare)
    ("adam", torch.optim.Adam, {"lr": 0.3}, ["exp_avg", "exp_avg_sq"]),
    ("adam", torch.optim.Adam, {"lr": 0.3, "amsgrad": True}, ["exp_avg", "max_exp_avg_sq"]),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.4}, ["sum"]),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.05, "alpha": 0.9, "momentum": 0.5},
     ["square_avg", "momentum_buffer"]),
    ("adadelta", torch.optim.Adadelta, {"lr": 1.0, "rho": 0.9}, ["square_avg", "acc_delta"]),
    ("sgd", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, ["momentum_buffer"]),
    ("adamax", torch.optim.Adamax, {"lr": 0.2}, ["exp_avg", "exp_inf"]),
]


@pytest.mark.parametrize(("name", "cls", "hp", "keys"), TORCH_STATES,
                         ids=[f"{c[0]}-{c[2]}" for c in TORCH_STATES])
def test_recorded_state_is_torchs_state_after_every_step(name, cls, hp, keys):
    f = objectives.rosenbrock()
    path = trajectories.run(name, f, (-1.5, 2.0), 12, record_state=True, **hp)
    x = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = cls([x], **hp)
    for k in range(1, 13):
        opt.zero_grad()
        f.value(x).backward()
        opt.step()
        for key in keys:
            np.testing.assert_allclose(path.states[key][k], opt.state[x][key].numpy(),
                                       rtol=1e-12, atol=1e-15, err_msg=f"{key} at step {k}")
    np.testing.assert_allclose(path.points[-1], x.detach().numpy(), rtol=1e-12)


def test_recorded_state_starts_before_the_first_step():
    path = trajectories.run("sgd", objectives.bowl(), (-5.0, -2.0), 3, lr=0.1, momentum=0.5,
                            record_state=True)
    assert path.states["momentum_buffer"].shape == (4, 2)
    assert np.isnan(path.states["momentum_buffer"][0]).all()   # torch creates it at step 1
    np.testing.assert_array_equal(path.states["momentum_buffer"][1], [-10.0, -8.0])  # g₀
    plain = trajectories.run("sgd", objectives.bowl(), (-5.0, -2.0), 3, lr=0.1)
    assert plain.states == {}
    assert trajectories.run("sgd", objectives.bowl(), (-5.0, -2.0), 3, lr=0.1,
                            record_state=True).states == {}
    with pytest.raises(TypeError, match="record_state"):
        trajectories.run("sgd", objectives.bowl(), (-5.0, -2.0), 3, lr=0.1, record_state=1)


# -- schedules.warmup_decay ------------------------------------------------------------------


@pytest.mark.parametrize(("total", "warmup", "final"), [(100, 0, 0.0), (100, 10, 0.01),
                                                        (37, 5, 0.002)])
def test_one_cosine_cycle_is_warmup_cosine(total, warmup, final):
    ours = schedules.warmup_decay(0.3, total, warmup_steps=warmup, final_lr=final)
    reference = schedules.warmup_cosine(0.3, total, warmup, final)
    for t in range(total + 20):
        assert ours(t) == pytest.approx(reference(t), abs=1e-15)


@pytest.mark.parametrize("cycles", [2, 3, 5])
def test_cosine_cycles_are_torchs_warm_restarts(cycles):
    length = 12
    ours = schedules.warmup_decay(0.5, cycles * length, decay="cosine", cycles=cycles,
                                  final_lr=0.01)
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.5)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=length, eta_min=0.01)
    for t in range(cycles * length):
        assert ours(t) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-12)
        opt.step()
        sched.step()


def test_linear_and_step_decays_match_torch_after_a_warmup():
    warmup, length = 4, 20
    for decay, make in [
        ("linear", lambda o: torch.optim.lr_scheduler.LinearLR(o, 1.0, 0.1, total_iters=length)),
        ("step", lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [10, 15], gamma=0.1)),
        ("exponential", lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.1 ** (1 / 20))),
    ]:
        ours = schedules.warmup_decay(0.4, warmup + length, warmup_steps=warmup, decay=decay,
                                      final_lr=0.04)
        ramp = [0.4 * t / warmup for t in range(warmup)]
        param = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([param], lr=0.4)
        sched = make(opt)
        after = []
        for _ in range(length):
            after.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        for t, expected in enumerate(ramp + after):
            assert ours(t) == pytest.approx(expected, rel=1e-12, abs=1e-15), (decay, t)


def test_warmup_decay_holds_its_end_and_the_constant_shape_is_flat():
    s = schedules.warmup_decay(0.2, 30, warmup_steps=10, decay="constant")
    assert [s(t) for t in (0, 5, 10, 29, 100)] == [0.0, 0.1, 0.2, 0.2, 0.2]
    e = schedules.warmup_decay(1.0, 10, decay="exponential", final_lr=0.01)
    assert e(10) == pytest.approx(0.01) and e(50) == pytest.approx(0.01)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"peak_lr": 0.0}, "peak_lr"), ({"decay": "sine"}, "decay"), ({"cycles": 0}, "cycles"),
    ({"warmup_steps": -1}, "warmup_steps"), ({"warmup_steps": 9, "cycles": 2}, "cycle"),
    ({"final_lr": 2.0}, "final_lr"), ({"decay": "exponential"}, "final_lr"),
    ({"total_steps": 0}, "total_steps"),
])
def test_warmup_decay_rejects_bad_arguments(kwargs, match):
    args = {"peak_lr": 1.0, "total_steps": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        schedules.warmup_decay(args.pop("peak_lr"), args.pop("total_steps"), **args)


# -- gradient_noise -----------------------------------------------------------------------------


def test_least_squares_gradients_average_to_autograds_gradient():
    X, y = data.regression_data(n_samples=200).as_tensors()
    model = training.linear_regression(X.shape[1], seed=3, dtype=torch.float64)
    with torch.no_grad():
        model.bias.fill_(0.3)
    training.half_squared_error(model(X.double()), y.double()).backward()
    theta = np.append(model.weight.detach().numpy(), model.bias.detach().numpy())
    g = gradient_noise.least_squares_gradients(X.numpy(), y.numpy(), theta)
    expected = np.append(model.weight.grad.numpy(), model.bias.grad.numpy())
    np.testing.assert_allclose(g.mean(axis=0), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("b", [1, 2, 3, 5])
def test_minibatch_noise_is_the_average_over_every_batch_of_b(b):
    g = np.random.default_rng(0).normal(size=(6, 2))
    full = g.mean(axis=0)
    every = [np.sum((g[list(batch)].mean(axis=0) - full) ** 2)
             for batch in itertools.combinations(range(6), b)]
    assert gradient_noise.minibatch_noise(g, b) == pytest.approx(np.mean(every), rel=1e-12)


def test_drawn_minibatches_have_the_predicted_noise_and_b_equal_n_has_none():
    g = np.random.default_rng(1).normal(size=(300, 3))
    for b in (1, 10, 100):
        samples = gradient_noise.minibatch_gradients(g, b, 3000, seed=0)
        measured = np.mean(np.sum((samples - g.mean(axis=0)) ** 2, axis=1))
        assert measured == pytest.approx(gradient_noise.minibatch_noise(g, b), rel=0.08)
    whole = gradient_noise.minibatch_gradients(g, 300, 3)
    np.testing.assert_allclose(whole, np.tile(g.mean(axis=0), (3, 1)), atol=1e-14)


def test_gradient_noise_rejects_bad_arguments():
    g = np.ones((5, 2))
    for call, match in [(lambda: gradient_noise.minibatch_noise(g, 6), "batch_size"),
                        (lambda: gradient_noise.minibatch_noise(g, 0), "batch_size"),
                        (lambda: gradient_noise.minibatch_gradients(g, 2, 0), "count"),
                        (lambda: gradient_noise.spread(np.ones(3)), "per_example"),
                        (lambda: gradient_noise.least_squares_gradients(g, np.ones(5), [1.0]),
                         "theta")]:
        with pytest.raises(ValueError, match=match):
            call()


# -- training.seconds_per_epoch --------------------------------------------------------------


def test_seconds_per_epoch_times_real_updates():
    X, y = data.regression_data(n_samples=100).as_tensors()
    model = training.linear_regression(X.shape[1])
    before = model.weight.detach().clone()
    seconds = training.seconds_per_epoch(model, optim.SGD(model.parameters(), lr=0.01), X, y,
                                         10, updates=5)
    assert seconds > 0
    assert not torch.equal(before, model.weight.detach())     # the timed updates trained it
    with pytest.raises(ValueError, match="batch_size"):
        training.seconds_per_epoch(model, optim.SGD(model.parameters(), lr=0.01), X, y, 0)
    with pytest.raises(ValueError, match="updates"):
        training.seconds_per_epoch(model, optim.SGD(model.parameters(), lr=0.01), X, y, 5,
                                   updates=0)


# -- the frames -----------------------------------------------------------------------------------

VALLEY = objectives.quadratic((1.0, 10.0), angle=math.pi / 6)
START = tuple(conditioning.rotate([-4.0, 1.5], VALLEY.angle))


@pytest.mark.parametrize("lr", [0.05, 0.15, 2 / 11, 0.19, 0.21])
def test_conditioning_frame_errors_shrink_by_the_gd_factors(lr):
    frame = explorations.conditioning_frame(VALLEY, START, lr, steps=25)
    k = np.arange(26)[:, None]
    # along eigenvector i the error is multiplied by 1 − ηλᵢ every step: |zᵢ(k)| = |cᵢ|ᵏ |zᵢ(0)|
    np.testing.assert_allclose(frame.errors, np.abs([-4.0, 1.5]) * np.abs(1 - lr * np.array(
        [1.0, 10.0])) ** k, rtol=1e-9, atol=1e-12)
    assert frame.rate == pytest.approx(max(abs(1 - lr), abs(1 - 10 * lr)))
    assert frame.limit == pytest.approx(0.2) and frame.best_lr == pytest.approx(2 / 11)
    assert frame.best_rate == pytest.approx(9 / 11)
    if frame.rate < 1:
        assert frame.rate ** frame.steps_needed <= explorations.TOLERANCE
    else:
        assert frame.steps_needed == math.inf


def test_momentum_frame_follows_torch_and_the_prediction():
    f = objectives.stretched_bowl()
    frame = explorations.momentum_frame(f, (-5.0, -2.0), 0.6, 0.5, steps=40)
    x = torch.tensor([-5.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.6, momentum=0.5)
    for _ in range(40):
        opt.zero_grad()
        f.value(x).backward()
        opt.step()
    np.testing.assert_allclose(frame.path.points[-1], x.detach().numpy(), rtol=1e-10,
                               atol=1e-14)
    np.testing.assert_allclose(frame.errors, frame.predicted, rtol=1e-8, atol=1e-14)
    assert frame.rate == pytest.approx(math.sqrt(0.5))                   # both roots complex
    assert frame.steps_predicted == 40 and frame.floor is None
    assert frame.steps_measured is not None and frame.steps_measured <= 40
    assert frame.optimum.lr == pytest.approx(f.optimal_momentum[0])


def test_momentum_frame_with_noise_has_a_floor_and_a_clean_prediction():
    f = objectives.stretched_bowl()
    noisy = explorations.momentum_frame(f, (-5.0, -2.0), 0.3, 0.5, noise=1.0, steps=50, seed=3)
    clean = explorations.momentum_frame(f, (-5.0, -2.0), 0.3, 0.5, steps=50)
    np.testing.assert_allclose(noisy.predicted, clean.errors, rtol=1e-12)
    assert not np.allclose(noisy.errors, clean.errors)
    assert noisy.floor == pytest.approx(momentum_analysis.noise_floor(f, 0.3, 0.5, 1.0))
    with pytest.raises(ValueError, match="momentum"):
        explorations.momentum_frame(f, (-5.0, -2.0), 0.3, 1.0)
    with pytest.raises(TypeError, match="QuadraticObjective"):
        explorations.momentum_frame(objectives.rosenbrock(), (-1.0, 1.0), 0.3, 0.5)


def test_momentum_map_regions():
    m = explorations.momentum_map([0.2, 4.0], 1.0, resolution=80)
    assert m.rate.shape == (80, 80)
    best = m.optimum
    # the optimum lies on the edge of λ_min's band and of λ_max's band at once
    lows, highs = momentum_analysis.complex_root_band(0.2, best.momentum), \
        momentum_analysis.complex_root_band(4.0, best.momentum)
    assert lows[0] == pytest.approx(best.lr) and highs[1] == pytest.approx(best.lr)
    lr_grid, beta_grid = np.meshgrid(m.lrs, m.momenta)
    assert np.all((m.regions == 0) == (m.rate >= 1))
    both = m.regions == 1
    np.testing.assert_allclose(m.rate[both], np.sqrt(beta_grid[both]), rtol=1e-9)
    assert set(np.unique(m.regions)) == {0, 1, 2, 3, 4}
    np.testing.assert_allclose(m.limit, 2 * (1 + m.momenta) / 4.0)


@pytest.mark.parametrize("surface", list(explorations.SURFACES))
@pytest.mark.parametrize(("rule", "hp", "state"), [
    ("adam", {"lr": 0.1, "betas": (0.8, 0.99)}, {"exp_avg", "exp_avg_sq"}),
    ("adagrad", {"lr": 0.5}, {"sum"}), ("sgd", {"lr": 0.001}, set()),
])
def test_adaptive_frame_records_steps_and_state(surface, rule, hp, state):
    frame = explorations.adaptive_frame(surface, rule, steps=15, **hp)
    assert set(frame.path.states) == state
    np.testing.assert_allclose(frame.steps, np.diff(frame.path.points, axis=0))
    assert frame.values.shape == (16,) and frame.hyperparams == hp
    assert frame.path.points[0].tolist() == list(explorations.SURFACES[surface]().start)


def test_adaptive_frame_rejects_an_unknown_surface():
    with pytest.raises(ValueError, match="surface"):
        explorations.adaptive_frame("volcano", "adam")


def test_schedule_training_is_seeded_follows_the_schedule_and_reports_divergence():
    total = explorations.schedule_updates()
    schedule = schedules.warmup_decay(0.5, total, warmup_steps=6)
    first, second = (explorations.schedule_training(schedule) for _ in range(2))
    np.testing.assert_array_equal(first.loss, second.loss)
    np.testing.assert_allclose(first.rates, [schedule(t) for t in range(total)])
    assert first.steps.tolist() == list(range(total + 1))
    assert first.loss[-1] < first.loss[0] and first.diverged_at is None
    wild = explorations.schedule_training(schedules.constant(1e4))
    assert wild.diverged_at is not None and np.isinf(wild.loss[wild.diverged_at:]).all()


def test_minibatch_frame():
    X, y = data.regression_data().as_tensors()
    g = gradient_noise.least_squares_gradients(X.numpy(), y.numpy(), np.zeros(6))
    frame = explorations.minibatch_frame(g, 10, count=300)
    assert frame.samples.shape == (300, 6) and frame.updates_per_epoch == 150
    assert frame.noise == pytest.approx(gradient_noise.minibatch_noise(g, 10))
    assert frame.measured == pytest.approx(frame.noise, rel=0.2)
