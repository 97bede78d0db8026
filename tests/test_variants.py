"""The other sources' variants: hand-worked steps and their exact relation to torch's rules.

The variants are torch's rules with one convention switched (ε inside the root, ε before the
bias correction), so each test pins the switch's effect: equal to torch's rule where the switch
cannot matter, different where it does.
"""

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
    # d2l's 2-D demos print (chapter "Adagrad" and "RMSProp", eps 1e-6 inside the root), in
    # d2l's own words ("epoch" for what are steps)
    for rule in (rules.D2LAdagrad(lr=0.4), rules.D2LAdagrad(lr=2.0),
                 rules.D2LRMSProp(lr=0.4, gamma=0.9)):
        trajectories.report(trajectories.run(rule, stretched_bowl(), (-5, -2), 20), unit="epoch")
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


def test_the_variants_are_the_torch_rules_with_a_switch():
    """Not a parallel set: each variant subclasses the torch rule whose formula it uses."""
    assert issubclass(rules.D2LAdagrad, rules.Adagrad) and rules.D2LAdagrad.eps_inside_root
    assert issubclass(rules.KerasAdagrad, rules.Adagrad) and rules.KerasAdagrad.eps_inside_root
    assert issubclass(rules.D2LRMSProp, rules.RMSprop) and rules.D2LRMSProp.eps_inside_root
    assert issubclass(rules.KerasRMSprop, rules.RMSprop)
    assert rules.KerasRMSprop.eps_inside_root and rules.KerasRMSprop.lr_inside_momentum
    assert issubclass(rules.KerasAdam, rules.Adam) and rules.KerasAdam.eps_before_bias_correction
    assert issubclass(rules.KerasAdamax, rules.Adamax) and rules.KerasAdamax.eps_outside_max
    assert issubclass(rules.KerasNadam, rules.NAdam)
    assert rules.KerasNadam(lr=0.1).hyperparams["momentum_decay"] == 1.0
    assert not rules.Adam.eps_before_bias_correction and not rules.RMSprop.eps_inside_root


@pytest.mark.parametrize("name", ["keras_sgd", "keras_adam", "d2l_adagrad", "d2l_rmsprop"])
def test_the_old_names_still_work(name):
    """Chapters use the variants by these names (trajectories.run("keras_sgd", ...))."""
    path = trajectories.run(name, stretched_bowl(), (-5.0, -2.0), 5, lr=0.1)
    assert np.isfinite(path.points).all()


def test_a_hand_written_d2l_state_without_a_step_count():
    x = np.zeros(1)
    rules.D2LAdagrad(lr=1.0, eps=1e-6).step(x, np.array([1e-9]), {"sum": np.zeros(1)})
    assert -x[0] == pytest.approx(1e-9 / np.sqrt(1e-18 + 1e-6))


def test_keras_rmsprop_puts_the_learning_rate_in_the_buffer():
    """At a constant rate, b ← μb + γg/d; θ ← θ − b equals torch's; after a rate drop it does
    not (the same story as Keras' SGD)."""
    rule_k = rules.KerasRMSprop(lr=0.1, alpha=0.9, eps=0.0, momentum=0.9)
    rule_t = rules.RMSprop(lr=0.1, alpha=0.9, eps=0.0, momentum=0.9)
    np.testing.assert_allclose(run(rule_k, 20), run(rule_t, 20), rtol=1e-12)
    lrs = schedules.step_lr(0.1, 5, 0.1).values(20)
    assert np.abs(run(rule_k, 20, lrs) - run(rule_t, 20, lrs)).max() > 1e-3
