"""checks.scheduled_path (a whole noisy run under an lr_scheduler, against torch.optim), string
answers in checks.function, and experiments whose result must stay below a target: what the
exercise sets of chapters 01, 03 and 04 use.

The reference of ``scheduled_path`` is torch.optim.SGD driven by a torch scheduler; the
learner's side here is ``course_lib.trajectories.run`` with the matching schedule and seeded
noise, so the tests also show that the course's own noisy runs follow torch step for step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib import objectives, schedules, trajectories
from course_lib.grading import checks, inputs
from course_lib.grading.session import Limits, RemoteFunction, Session

BOWL = inputs.Quadratic.from_objective(objectives.bowl(), (-5.0, -2.0), "d2l's bowl")


def exponential(params, options):
    optimizer = torch.optim.SGD(params, lr=options["lr"])
    return optimizer, torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=options["gamma"])


def course_run(gradient, x0, lr, gamma, steps, noise, seed):
    """The learner's answer made of course_lib: trajectories.run with the same noise draws."""

    class Objective:  # the problem, for trajectories.run: its gradient is all a run needs
        def gradient(self, x):
            return gradient(x)

    run = trajectories.run("sgd", Objective(), x0, steps, lr=schedules.exponential_lr(lr, gamma),
                           noise=noise, seed=seed)
    return run.points


def by_hand(gradient, x0, lr, gamma, steps, noise, seed, shift=0, draws="seeded"):
    rng = np.random.default_rng(seed)
    x = np.array(x0, dtype=float)
    path = [x.copy()]
    for t in range(steps):
        if draws == "seeded":
            xi = rng.standard_normal(x.shape)
        elif draws == "none":
            xi = np.zeros_like(x)
        else:  # a new generator every step: the same draw again and again
            xi = np.random.default_rng(seed).standard_normal(x.shape)
        x = x - lr * gamma ** (t + shift) * (gradient(x) + noise * xi)
        path.append(x.copy())
    return np.array(path)


OPTIONS = inputs.draw(2, lr=inputs.uniform(0.05, 0.4), gamma=inputs.uniform(0.85, 0.99),
                      noise=inputs.uniform(0.2, 2.0), seed=lambda rng: int(rng.integers(0, 1000)))


def failure(call) -> str:
    with pytest.raises(checks.CheckFailed) as info:
        call()
    return str(info.value)


def test_the_courses_seeded_noisy_runs_follow_torch_with_a_scheduler():
    checks.scheduled_path(course_run, exponential, name="sgd_path", options=OPTIONS,
                          problems=inputs.quadratics(2), steps=40)
    checks.scheduled_path(by_hand, exponential, name="sgd_path", options=OPTIONS,
                          problems=[BOWL], steps=40)


@pytest.mark.parametrize(("mistake", "words"), [
    ({"shift": 1}, "Your step used the learning rate 0.09, torch's rate for update t=1: the "
                   "first update has t=0"),
    ({"draws": "none"}, "Your step has no noise in it"),
    ({"draws": "fresh"}, "Your noise is not the noise of this step"),
])
def test_the_mistakes_of_a_noisy_scheduled_run_are_named(mistake, words):
    options = [{"lr": 0.1, "gamma": 0.9, "noise": 1.0, "seed": 3}]
    wrong = lambda *args, **kwargs: by_hand(*args, **kwargs, **mistake)  # noqa: E731
    text = failure(lambda: checks.scheduled_path(wrong, exponential, name="sgd_path",
                                                 options=options, problems=[BOWL], steps=20,
                                                 hint="chapter 04"))
    assert text.startswith("`sgd_path` does not follow lr=0.1, gamma=0.9, noise=1, seed=3, "
                           "steps=20 on d2l's bowl:")
    step = "after step 2 (update t=1" if mistake.get("draws") == "fresh" else "after step 1"
    assert step in text and words in text and text.endswith("Hint: chapter 04")


def test_a_scheduled_path_of_the_wrong_shape_or_type():
    options = [{"lr": 0.1, "gamma": 0.9, "noise": 0.0, "seed": 0}]
    short = lambda *args, **kwargs: by_hand(*args, **kwargs)[1:]  # noqa: E731
    assert "it should have shape (21, 2): 21 points" in failure(lambda: checks.scheduled_path(
        short, exponential, name="sgd_path", options=options, problems=[BOWL], steps=20))
    assert "returned None; it should return the path" in failure(lambda: checks.scheduled_path(
        lambda *args, **kwargs: None, exponential, name="sgd_path", options=options,
        problems=[BOWL], steps=20))
    assert "is still `...`" in failure(lambda: checks.scheduled_path(
        ..., exponential, name="sgd_path", options=options, problems=[BOWL], steps=20))


def test_a_scheduled_path_with_another_scheduler_and_a_custom_description():
    def polynomial(params, options):
        optimizer = torch.optim.SGD(params, lr=options["lr"])
        return optimizer, torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda t: (1 + 0.1 * t) ** -0.5)

    def ours(gradient, x0, lr, steps, noise, seed):
        return trajectories.run("sgd", objectives.bowl(), x0, steps, noise=noise, seed=seed,
                                lr=schedules.power_decay(lr, alpha=0.5, beta=0.1)).points

    options = [{"lr": 0.1, "noise": 1.0, "seed": 0}]
    checks.scheduled_path(ours, polynomial, name="run", options=options, problems=[BOWL],
                          steps=50)
    d2l_counter = lambda gradient, x0, lr, steps, noise, seed: trajectories.run(  # noqa: E731
        "sgd", objectives.bowl(), x0, steps, noise=noise, seed=seed,
        lr=lambda t: lr * (1 + 0.1 * (t + 2)) ** -0.5).points
    text = failure(lambda: checks.scheduled_path(
        d2l_counter, polynomial, name="run", options=options, problems=[BOWL], steps=50,
        describe=lambda o: f"SGD(lr={o['lr']}) with LambdaLR"))
    assert text.startswith("`run` does not follow SGD(lr=0.1) with LambdaLR on d2l's bowl:")
    assert f"used the learning rate {0.1 / math.sqrt(1.2):.6g}, torch's rate for update t=2" in text


def test_a_remote_scheduled_path_is_checked_the_same_way():
    cells = ["import numpy as np\n",
             "def sgd_path(gradient, x0, lr, gamma, steps, noise, seed):\n"
             "    rng = np.random.default_rng(seed)\n"
             "    x = np.array(x0, dtype=float)\n"
             "    path = [x.copy()]\n"
             "    for t in range(steps):\n"
             "        g = gradient(x) + noise * rng.standard_normal(x.shape)\n"
             "        x = x - lr * gamma**t * g\n"
             "        path.append(x.copy())\n"
             "    return np.array(path)\n",
             "def late(gradient, x0, lr, gamma, steps, noise, seed):\n"
             "    return sgd_path(gradient, x0, lr * gamma, gamma, steps, noise, seed)\n"]
    with Session(cells, Limits(call_seconds=20.0)) as session:
        session.start()
        checks.scheduled_path(RemoteFunction(session, "sgd_path"), exponential, name="sgd_path",
                              options=OPTIONS, problems=inputs.quadratics(2), steps=30)
        text = failure(lambda: checks.scheduled_path(
            RemoteFunction(session, "late"), exponential, name="late", options=OPTIONS,
            problems=inputs.quadratics(1), steps=30))
        assert "torch's rate for update t=1" in text


def kind(hessian):
    eigenvalues = np.linalg.eigvalsh(hessian)
    return "minimum" if eigenvalues.min() > 0 else "saddle point"


def test_a_function_answer_that_is_a_category():
    cases = [np.diag([1.0, 2.0]), np.diag([1.0, -2.0])]
    checks.function(lambda h: kind(h), cases, kind, name="kind_of_point")
    text = failure(lambda: checks.function(lambda h: "minimum", cases, kind, name="kind_of_point"))
    assert text == "`kind_of_point([1, 0, 0, -2])` should be 'saddle point'; yours is 'minimum'."
    assert "returned None; it should return a string (here 'minimum')" in failure(
        lambda: checks.function(lambda h: None, cases, kind, name="kind_of_point"))
    assert "returned 1; it should return a string" in failure(
        lambda: checks.function(lambda h: 1, cases, kind, name="kind_of_point"))


def test_an_experiment_whose_result_must_stay_below_a_target():
    def distance(choice, seed):  # gradient descent on x² from a seeded start, 10 steps
        x = np.random.default_rng(seed).uniform(1.0, 2.0)
        return abs(x * (1 - 2 * choice["lr"]) ** 10)

    checks.experiment({"lr": 0.5}, distance, name="choice", target=1e-9, at_most=True, seeds=3)
    text = failure(lambda: checks.experiment({"lr": 0.1}, distance, name="choice", target=1e-3,
                                             at_most=True, metric="the distance"))
    assert "the distance is" in text and "it should be at most 0.001." in text
