"""The articles' transcribed code behaves as the articles' formulas say, against torch.optim."""

import math

import numpy as np
import pytest
import torch

from course_lib import objectives, trajectories
from course_lib.articles import article_000 as a000

START = (-5.0, -2.0)


def torch_path(make, steps, objective=None):
    return trajectories.run_torch(make, objective or objectives.stretched_bowl(), START, steps)


def one_step(update, grad, buffers, **hp):
    """The article's first update of x = 0 under gradient ``grad`` (f = grad * x)."""
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (grad * x).sum().backward()
    update([x], *[[torch.zeros_like(x)] for _ in range(buffers)], **hp)
    return float(x.detach())


@pytest.mark.parametrize("rho", [0.9, 0.5])
def test_adadelta_is_torchs_adadelta_at_its_default_lr_bit_for_bit(rho):
    article = a000.run(a000.adadelta, objectives.stretched_bowl(), START, 60, buffers=2, rho=rho)
    torch_run = torch_path(lambda p: torch.optim.Adadelta(p, rho=rho), 60)
    np.testing.assert_array_equal(article.points, torch_run.points)


@pytest.mark.parametrize(("lr", "gamma"), [(0.6, 0.5), (0.4, 0.25), (0.1, 0.9)])
def test_momentum_with_lr_in_the_velocity_equals_torch_while_lr_is_constant(lr, gamma):
    article = a000.run(a000.sgd_momentum, objectives.stretched_bowl(), START, 20,
                       buffers=1, lr=lr, gamma=gamma)
    torch_run = torch_path(lambda p: torch.optim.SGD(p, lr=lr, momentum=gamma), 20)
    np.testing.assert_allclose(article.points, torch_run.points, rtol=0, atol=1e-12)


def test_momentum_with_lr_in_the_velocity_remembers_an_old_lr():
    # Two steps under gradient 1: the article's velocity after a change of lr from 1 to 0 still
    # moves x by gamma * 1; torch's buffer times the new lr 0 moves it by nothing.
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    v = [torch.zeros(1, dtype=torch.float64)]
    for lr in (1.0, 0.0):
        x.grad = torch.ones(1, dtype=torch.float64)
        a000.sgd_momentum([x], v, lr, 0.5)
    assert float(x.detach()) == pytest.approx(-1.5)
    y = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([y], lr=1.0, momentum=0.5)
    for lr in (1.0, 0.0):
        opt.param_groups[0]["lr"] = lr
        y.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
    assert float(y.detach()) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("update", "buffers", "hp", "eps"),
    [
        (a000.sgd_adagrad, 1, {"lr": 1.0}, 1e-10),
        (a000.rmsprop, 1, {"lr": 1.0, "alpha": 0.0}, 1e-10),
        (a000.adam, 2, {"lr": 1.0, "t": 1}, 1e-8),
    ],
)
def test_eps_inside_the_root_shrinks_a_small_gradients_first_step(update, buffers, hp, eps):
    # First step from zero state with gradient g and lr 1: the article's step is
    # g / sqrt(g^2 + eps) (eps inside the root); torch's is g / (|g| + eps).
    g = math.sqrt(eps)  # where eps inside the root matters most: g^2 == eps
    article = -one_step(update, g, buffers, **hp)
    assert article == pytest.approx(g / math.sqrt(g * g + eps), rel=1e-12)
    assert article == pytest.approx(1 / math.sqrt(2), rel=1e-9)
    torch_step = g / (g + eps)
    assert torch_step == pytest.approx(1.0, rel=1e-4)


def test_run_checks_its_arguments():
    with pytest.raises(ValueError, match="steps"):
        a000.run(a000.sgd_update, objectives.stretched_bowl(), START, -1, lr=0.1)
    with pytest.raises(ValueError, match="coordinates"):
        a000.run(a000.sgd_update, objectives.stretched_bowl(), (1.0, 2.0, 3.0), 1, lr=0.1)


def test_run_passes_a_schedule_to_the_article_function_step_by_step():
    # The article's momentum under lr_k, written out by hand: v = gamma v + lr_k g; x -= v.
    f = objectives.stretched_bowl()
    drop = lambda k: 0.6 if k < 10 else 0.06  # noqa: E731
    article = a000.run(a000.sgd_momentum, f, START, 20, buffers=1, lr=drop, gamma=0.5)
    x, v = np.array(START), np.zeros(2)
    for k in range(20):
        v = 0.5 * v + drop(k) * f.gradient(x)
        x = x - v
        np.testing.assert_allclose(article.points[k + 1], x, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(article.learning_rates, [drop(k) for k in range(20)])


def test_under_a_schedule_the_article_follows_keras_and_parts_from_torch():
    # lr inside the velocity is Keras' form (v_keras = -v); torch.optim.SGD with StepLR
    # scales the whole buffer by the new rate. Identical for the first 10 steps, then apart.
    f = objectives.stretched_bowl()
    article = a000.run(a000.sgd_momentum, f, START, 20, buffers=1,
                       lr=lambda k: 0.6 * 0.1 ** (k // 10), gamma=0.5)
    keras = trajectories.run("keras_sgd", f, START, 20, momentum=0.5,
                             lr=lambda k: 0.6 * 0.1 ** (k // 10))
    torch_run = trajectories.run_torch(
        lambda p: torch.optim.SGD(p, lr=0.6, momentum=0.5), f, START, 20,
        make_scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.1))
    np.testing.assert_allclose(article.points, keras.points, rtol=0, atol=1e-12)
    np.testing.assert_allclose(article.points[:11], torch_run.points[:11], rtol=0, atol=1e-12)
    assert np.abs(article.points[11:] - torch_run.points[11:]).min(axis=1).max() > 1e-3
