"""The trajectory runner, the training loop and the explorers."""

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib import (  # noqa: E402
    data,
    objectives,
    optim,
    rules,
    schedules,
    training,
    trajectories,
    widgets,  # noqa: E402
)


def d2l_gd_2d(steps, eta):
    """d2l's gd_2d and train_2d on f = x1^2 + 2 x2^2, written out."""
    x1, x2 = -5.0, -2.0
    for _ in range(steps):
        x1, x2 = x1 - eta * 2 * x1, x2 - eta * 4 * x2
    return x1, x2


def test_gradient_descent_matches_d2ls_2d_demo(capsys):
    path = trajectories.run("sgd", objectives.bowl(), (-5.0, -2.0), 20, lr=0.1)
    np.testing.assert_allclose(path.final, d2l_gd_2d(20, 0.1), rtol=1e-13)
    trajectories.report(path, unit="epoch")  # d2l's printout, word for word
    assert capsys.readouterr().out == "epoch 20, x1: -0.057646, x2: -0.000073\n"
    trajectories.report(path)  # the course counts steps
    assert capsys.readouterr().out == "step 20, x1: -0.057646, x2: -0.000073\n"


@pytest.mark.parametrize(("lr", "printed"), [(0.2, "0.060466"), (0.05, "3.486784"),
                                             (1.1, "61.917364")])
def test_d2l_1d_gradient_descent_numbers(lr, printed, capsys):
    path = trajectories.run("sgd", objectives.square(), 10.0, 10, lr=lr)
    trajectories.report(path)
    assert capsys.readouterr().out == f"step 10, x: {printed}\n"
    assert path.final[0] == pytest.approx(10 * (1 - 2 * lr) ** 10, rel=1e-12)


def test_report_every_and_its_unit_is_checked(capsys):
    path = trajectories.run("sgd", objectives.square(), 10.0, 5, lr=0.25)  # halves x each step
    trajectories.report(path, every=2)
    assert capsys.readouterr().out == ("step 2, x: 2.500000\nstep 4, x: 0.625000\n"
                                       "step 5, x: 0.312500\n")
    with pytest.raises(ValueError, match="unit must be one of"):
        trajectories.report(path, unit="iteration")
    assert capsys.readouterr().out == ""


def test_momentum_hyperparameters_and_labels():
    path = trajectories.run("sgd", objectives.stretched_bowl(), (-5, -2), 20, lr=0.6,
                            momentum=0.5)
    x, v = np.array([-5.0, -2.0]), np.zeros(2)
    for step in range(20):
        g = np.array([0.2 * x[0], 4 * x[1]])
        v = g if step == 0 else 0.5 * v + g
        x = x - 0.6 * v
    np.testing.assert_allclose(path.final, x, rtol=1e-12)
    assert path.label == "SGD, lr=0.6" and path.steps == 20
    assert path.values.shape == (21,)


def test_schedule_and_seeded_noise():
    schedule = schedules.exponential_lr(0.1, math.exp(-0.1))
    path = trajectories.run("sgd", objectives.bowl(), (-5, -2), 30, lr=schedule, noise=1.0,
                            seed=3)
    again = trajectories.run(rules.SGD(), objectives.bowl(), (-5, -2), 30, lr=schedule,
                             noise=1.0, seed=3)
    other = trajectories.run("sgd", objectives.bowl(), (-5, -2), 30, lr=schedule, noise=1.0,
                             seed=4)
    np.testing.assert_array_equal(path.points, again.points)
    assert not np.array_equal(path.points, other.points)
    np.testing.assert_allclose(path.learning_rates, schedule.values(30))
    assert path.label == "SGD, lr=schedule"


def test_newton_gets_the_hessian():
    path = trajectories.run("newton", objectives.cosh(), 10.0, 3)
    x = 10.0
    for _ in range(3):
        x = x - 2 * math.tanh(x / 2)  # f = cosh(x/2): x - f'/f''
    assert path.final[0] == pytest.approx(x, rel=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_torch_run_equals_rule_run(name):
    objective = objectives.stretched_bowl()
    ours = trajectories.run(name.lower(), objective, (-5, -2), 25, lr=0.3)
    theirs = trajectories.run_torch(lambda p: getattr(torch.optim, name)(p, lr=0.3), objective,
                                    (-5, -2), 25)
    np.testing.assert_allclose(ours.points, theirs.points, rtol=1e-12, atol=1e-14)


def test_divergence_is_allowed_and_bad_input_is_not():
    path = trajectories.run("sgd", objectives.square(), 10.0, 5000, lr=1.1)
    assert not np.isfinite(path.final).all()
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        trajectories.run("sgd", objectives.square(), 1.0, -1)
    with pytest.raises(ValueError, match="start must have 2 coordinate"):
        trajectories.run("sgd", objectives.bowl(), 1.0, 3)
    with pytest.raises(ValueError, match="unknown optimizer 'momentum'"):
        trajectories.run("momentum", objectives.bowl(), (1, 1), 3)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        trajectories.run("sgd", objectives.bowl(), (1, 1), 3, lr=-0.1)


def test_training_loop_records_and_is_deterministic():
    X, y = data.regression_data(n_samples=300).as_tensors()

    def fit(opt_cls, **kw):
        model = training.linear_regression(X.shape[1], seed=0)
        return training.train(model, opt_cls(model.parameters(), **kw), X, y, epochs=2,
                              batch_size=10, record_every=100)

    a, b = fit(optim.SGD, lr=0.05), fit(optim.SGD, lr=0.05)
    assert a.loss == b.loss and a.examples == [0, 100, 200, 300, 400, 500, 600]
    assert a.loss[-1] < a.loss[0]
    torch_run = fit(torch.optim.SGD, lr=0.05)
    assert torch_run.loss == a.loss  # course_lib's SGD is torch's, bit for bit
    assert a.epochs[-1] == 2.0


def test_training_loop_with_scheduler_metrics_and_progress(capsys):
    X, y = data.regression_data(n_samples=100).as_tensors()
    model = training.mlp([X.shape[1], 8, 1], seed=1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = training.train(model, opt, X, y, epochs=3, batch_size=25, record_every=None,
                             scheduler=sched, eval_fn=lambda m: {"norm": 1.0}, progress=True)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 / 8)
    assert history.metrics["norm"] == [1.0] * 4
    assert "100% (12/12 steps)" in capsys.readouterr().err
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        training.train(model, opt, X, y, epochs=0)


def test_accuracy_and_model_builders():
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert training.accuracy(model, X, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    w = training.linear_regression(5, seed=0).weight
    assert w.abs().max().item() < 0.05
    with pytest.raises(ValueError, match="sizes must be"):
        training.mlp([3])


def test_explorer_reruns_on_slider_change():
    ui = widgets.trajectory_explorer(objectives.bowl(), "sgd", (-5, -2), 20,
                                     sliders={"lr": (0.01, 0.6, 0.01, 0.1)}, show=False)
    np.testing.assert_allclose(ui.result.final, d2l_gd_2d(20, 0.1), rtol=1e-13)
    ui.children[0].value = 0.2
    np.testing.assert_allclose(ui.result.final, d2l_gd_2d(20, 0.2), rtol=1e-13)
    with pytest.raises(ValueError, match="min <= initial <= max"):
        widgets.trajectory_explorer(objectives.bowl(), "sgd", (-5, -2),
                                    sliders={"lr": (0.1, 0.2, 0.01, 0.5)})


def test_explorer_draws():
    ui = widgets.trajectory_explorer(objectives.square(), "sgd", 10.0, 10,
                                     sliders={"lr": (0.01, 1.2, 0.01, 0.2)})
    assert ui.result.steps == 10


def test_training_records_the_learning_rate_and_drives_reduce_on_plateau():
    X, y = data.regression_data(n_samples=100).as_tensors()
    model = training.linear_regression(X.shape[1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.5)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0,
                                                         threshold=0.5)
    history = training.train(model, opt, X, y, epochs=4, batch_size=100, record_every=None,
                             scheduler=plateau)
    assert plateau.last_epoch == 4  # stepped once per epoch, with a metric
    assert history.lr[0] == 0.5 and len(history.lr) == len(history.loss)
    # threshold 0.5 (relative) and patience 0: any epoch that does not halve the loss halves
    # the rate, and the loss cannot halve every epoch on its way to its floor.
    assert opt.param_groups[0]["lr"] < 0.5
    assert all(b <= a for a, b in zip(history.lr, history.lr[1:], strict=False))


# -- run_many: many seeded runs at once -------------------------------------------------------

BATCHED_RULES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01}),
    ("keras_sgd", {"lr": 0.1, "momentum": 0.5}),
    ("adagrad", {"lr": 0.4}),
    ("rmsprop", {"lr": 0.05, "alpha": 0.9, "momentum": 0.5, "centered": True}),
    ("adadelta", {"rho": 0.9}),
    ("adam", {"lr": 0.1, "amsgrad": True}),
    ("adamax", {"lr": 0.1}),
    ("nadam", {"lr": 0.1}),
    ("radam", {"lr": 0.1}),
    ("yogi", {"lr": 0.1}),
]


@pytest.mark.parametrize(("name", "hp"), BATCHED_RULES, ids=[f"{n}-{i}" for i, (n, _) in
                                                             enumerate(BATCHED_RULES)])
@pytest.mark.parametrize(("objective", "start"), [(objectives.bowl(), (-5.0, -2.0)),
                                                  (objectives.rosenbrock(), (-1.0, 1.5)),
                                                  (objectives.square(), 3.0)],
                         ids=["bowl", "rosenbrock", "square"])
def test_every_run_of_a_batch_is_the_single_run_of_its_seed(name, hp, objective, start):
    seeds = [0, 3, 11]
    batch = trajectories.run_many(name, objective, start, 40, seeds=seeds, noise=0.5, **hp)
    assert batch.points.shape == (3, 41, objective.dim) and len(batch) == 3
    for i, seed in enumerate(seeds):
        alone = trajectories.run(name, objective, start, 40, noise=0.5, seed=seed, **hp)
        np.testing.assert_array_equal(batch.points[i], alone.points)
        np.testing.assert_array_equal(batch[i].points, alone.points)
        np.testing.assert_array_equal(batch.values[i], alone.values)
    np.testing.assert_array_equal(batch.learning_rates, alone.learning_rates)


def test_a_batch_follows_a_schedule_and_takes_one_start_per_run():
    bowl = objectives.bowl()
    drop = schedules.step_lr(0.3, step_size=5, gamma=0.1)
    starts = np.array([[-5.0, -2.0], [1.0, 3.0], [0.5, -0.5]])
    batch = trajectories.run_many("sgd", bowl, starts, 12, seeds=[7, 8, 9], lr=drop,
                                  momentum=0.5, noise=1.0)
    np.testing.assert_array_equal(batch.learning_rates, [drop(t) for t in range(12)])
    for i, (start, seed) in enumerate(zip(starts, [7, 8, 9], strict=True)):
        alone = trajectories.run("sgd", bowl, start, 12, lr=drop, momentum=0.5, noise=1.0,
                                 seed=seed)
        np.testing.assert_array_equal(batch.points[i], alone.points)


def test_the_average_of_many_noisy_runs_follows_the_noise_free_run():
    # x_{t+1} = (1 - lr A) x_t - lr xi_t is linear, so E[x_t] is the noise-free path; the
    # average of 4000 runs lies within 4 standard errors of it at every step.
    bowl = objectives.bowl()
    batch = trajectories.run_many("sgd", bowl, (-5.0, -2.0), 30, seeds=4000, lr=0.1, noise=1.0)
    clean = trajectories.run("sgd", bowl, (-5.0, -2.0), 30, lr=0.1)
    error = batch.points.std(axis=0) / math.sqrt(4000)
    assert np.all(np.abs(batch.points.mean(axis=0) - clean.points) <= 4 * error + 1e-15)
    np.testing.assert_array_equal(batch.seeds, np.arange(4000))
    assert batch.mean_values.shape == (31,)
    np.testing.assert_allclose(batch.mean_values, batch.values.mean(axis=0))
    np.testing.assert_allclose(batch.distance_to(bowl.minimizer),
                               np.linalg.norm(batch.points, axis=-1))
    np.testing.assert_array_equal(batch.final, batch.points[:, -1])


def test_a_batch_runs_any_objective_with_a_gradient_method():
    class Tilted:
        dim = 2

        def gradient(self, x):
            return np.array([2 * x[0] + 1.0, 4 * x[1]])

        def value(self, x):
            return float(x[0] ** 2 + x[0] + 2 * x[1] ** 2)

    batch = trajectories.run_many("sgd", Tilted(), (0.0, 1.0), 5, seeds=2, lr=0.1, noise=0.3)
    for i in range(2):
        alone = trajectories.run("sgd", Tilted(), (0.0, 1.0), 5, lr=0.1, noise=0.3, seed=i)
        np.testing.assert_array_equal(batch.points[i], alone.points)
        np.testing.assert_array_equal(batch.values[i], alone.values)


def test_run_many_rejects_bad_input():
    bowl = objectives.bowl()
    for seeds in (0, -3, [], [1.5, 2.0], [-1, 2]):
        with pytest.raises(ValueError, match="seeds"):
            trajectories.run_many("sgd", bowl, (1.0, 1.0), 3, seeds=seeds, lr=0.1)
    with pytest.raises(TypeError, match="seeds"):
        trajectories.run_many("sgd", bowl, (1.0, 1.0), 3, seeds=True, lr=0.1)
    with pytest.raises(ValueError, match="Hessian"):
        trajectories.run_many("newton", bowl, (1.0, 1.0), 3, seeds=2)
    with pytest.raises(ValueError, match="rows"):
        trajectories.run_many("sgd", bowl, np.zeros((3, 2)), 3, seeds=2, lr=0.1)
    with pytest.raises(ValueError, match="steps"):
        trajectories.run_many("sgd", bowl, (1.0, 1.0), -1, seeds=2, lr=0.1)
    with pytest.raises(ValueError, match="noise"):
        trajectories.run_many("sgd", bowl, (1.0, 1.0), 3, seeds=2, lr=0.1, noise=-1.0)
    with pytest.raises(ValueError, match="coordinate"):
        trajectories.run_many("sgd", bowl, (1.0, 1.0, 1.0), 3, seeds=2, lr=0.1)


def test_run_torch_steps_a_scheduler_after_each_update_like_a_schedule():
    f = objectives.stretched_bowl()
    with_torch = trajectories.run_torch(
        lambda p: torch.optim.SGD(p, lr=0.6, momentum=0.5), f, (-5.0, -2.0), 25,
        make_scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.1))
    ours = trajectories.run("sgd", f, (-5.0, -2.0), 25, momentum=0.5,
                            lr=schedules.step_lr(0.6, step_size=10, gamma=0.1))
    np.testing.assert_allclose(with_torch.learning_rates, ours.learning_rates, rtol=1e-15)
    np.testing.assert_allclose(with_torch.points, ours.points, rtol=1e-12, atol=1e-14)
    assert with_torch.learning_rates[9] == 0.6 and with_torch.learning_rates[10] < 0.0600001
