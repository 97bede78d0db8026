"""The other sources' variants: hand-worked steps and their exact relation to torch's rules."""

import numpy as np
import pytest

from course_lib import rules, schedules, trajectories
from course_lib.objectives import stretched_bowl

A = np.array([0.2, 4.0])  # gradient of 0.1 x1^2 + 2 x2^2 is A * x


def run(rule, steps, lrs=None, eps_of_t=None):
    x = np.array([-5.0, -2.0])
    state = rule.init(x)
    for t in range(steps):
        hp = dict(rule.hyperparams)
        if lrs is not None:
            hp["lr"] = lrs[t]
        if eps_of_t is not None:
            hp["eps"] = eps_of_t(t + 1)
        rule.step(x, A * x, state, hp)
    return x


@pytest.mark.parametrize("nesterov", [False, True])
def test_keras_momentum_equals_torch_momentum_at_constant_lr(nesterov):
    keras = run(rules.KerasSGD(lr=0.05, momentum=0.9, nesterov=nesterov), 30)
    torch_sgd = run(rules.SGD(lr=0.05, momentum=0.9, nesterov=nesterov), 30)
    np.testing.assert_allclose(keras, torch_sgd, rtol=1e-12)


def test_keras_momentum_differs_from_torch_when_lr_changes():
    lrs = schedules.step_lr(0.1, 5, 0.1).values(20)
    keras = run(rules.KerasSGD(lr=0.1, momentum=0.9), 20, lrs)
    torch_sgd = run(rules.SGD(lr=0.1, momentum=0.9), 20, lrs)
    assert np.abs(keras - torch_sgd).max() > 1e-3


def test_keras_momentum_by_hand():
    # v = 0.5 v - 0.1 g, x = x + v on f = x^2 (g = 2x), from x = 1.
    rule = rules.KerasSGD(lr=0.1, momentum=0.5)
    x = np.array([1.0])
    state = rule.init(x)
    expected_x, v = 1.0, 0.0
    for _ in range(5):
        v = 0.5 * v - 0.1 * 2 * expected_x
        expected_x += v
        rule.step(x, 2 * x, state)
    assert x[0] == pytest.approx(expected_x, rel=1e-14)


def test_keras_adam_is_torch_adam_with_a_shrinking_eps():
    betas, eps = (0.9, 0.999), 1e-2
    keras = run(rules.KerasAdam(lr=0.1, betas=betas, eps=eps), 50)
    torch_adam = run(rules.Adam(lr=0.1, betas=betas, eps=eps), 50,
                     eps_of_t=lambda t: eps / np.sqrt(1 - betas[1] ** t))
    np.testing.assert_allclose(keras, torch_adam, rtol=1e-11)
    plain = run(rules.Adam(lr=0.1, betas=betas, eps=eps), 50)
    assert np.abs(keras - plain).max() > 1e-4  # a different algorithm early on


@pytest.mark.parametrize(("variant", "torch_rule"), [
    (rules.D2LAdagrad(lr=0.4, eps=0.0), rules.Adagrad(lr=0.4, eps=0.0)),
    (rules.D2LRMSProp(lr=0.4, gamma=0.9, eps=0.0), rules.RMSprop(lr=0.4, alpha=0.9, eps=0.0)),
])
def test_eps_inside_equals_torch_when_eps_is_zero(variant, torch_rule):
    np.testing.assert_allclose(run(variant, 20), run(torch_rule, 20), rtol=1e-13)


def test_d2l_adagrad_and_rmsprop_printed_numbers(capsys):
    # d2l's 2-D demos print (chapter "Adagrad" and "RMSProp", eps 1e-6 inside the root)
    trajectories.report(trajectories.run(rules.D2LAdagrad(lr=0.4), stretched_bowl(), (-5, -2),
                                         20))
    trajectories.report(trajectories.run(rules.D2LAdagrad(lr=2.0), stretched_bowl(), (-5, -2),
                                         20))
    trajectories.report(trajectories.run(rules.D2LRMSProp(lr=0.4, gamma=0.9), stretched_bowl(),
                                         (-5, -2), 20))
    assert capsys.readouterr().out.splitlines() == [
        "epoch 20, x1: -2.382563, x2: -0.158591",
        "epoch 20, x1: -0.002295, x2: -0.000000",
        "epoch 20, x1: -0.010599, x2: 0.000000",
    ]


def test_variant_arguments_are_checked():
    with pytest.raises(ValueError, match="momentum must be in"):
        rules.KerasSGD(momentum=1.5)
    with pytest.raises(ValueError, match="gamma must be in"):
        rules.D2LRMSProp(gamma=-0.1)
    with pytest.raises(ValueError, match="Invalid beta"):
        rules.KerasAdam(betas=(1.0, 0.9))
