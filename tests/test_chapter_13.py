"""The quantitative claims of chapter 13 (Keras-style and numpy), checked independently.

Expected values are worked out by hand (in the comments), from closed forms (least squares,
eigenvalues of the 2x2 Hessian), or from torch.optim; never copied from the notebook's output.
"""

import math

import numpy as np
import pytest
import torch

from course_lib import data, optim, rules, schedules
from course_lib.arrays import ArrayOptimizer

# -- 1 · optimizers by name, apply_gradients ------------------------------------------------


def test_get_without_params_gives_an_array_optimizer_with_torch_defaults():
    opt = optim.get("adam")
    assert isinstance(opt, ArrayOptimizer)
    assert isinstance(opt.rule, rules.Adam)
    assert opt.hyperparams["lr"] == 1e-3 and opt.hyperparams["eps"] == 1e-8


def test_get_with_params_gives_a_torch_optimizer():
    w = torch.zeros(3, requires_grad=True)
    opt = optim.get("Adam", [w], lr=0.01)
    assert type(opt) is optim.Adam
    assert isinstance(opt, torch.optim.Optimizer)
    assert opt.defaults["lr"] == 0.01


def test_get_with_an_unknown_name_names_it():
    with pytest.raises(ValueError, match="'adamm'"):
        optim.get("adamm")


def test_apply_gradients_one_sgd_step_by_hand():
    W, b = np.array([[1.0, -1.0]]), np.array([0.5])
    sgd = optim.get("sgd", lr=0.1)
    sgd.apply_gradients(zip([np.array([[0.2, 0.4]]), np.array([1.0])], [W, b], strict=True))
    np.testing.assert_allclose(W, [[1.0 - 0.02, -1.0 - 0.04]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(b, [0.5 - 0.1], rtol=0, atol=1e-15)
    assert sgd.iterations == 1


def test_adam_on_arrays_equals_adam_on_tensors():
    start = np.array([1.0, -2.0, 3.0])
    array_param = start.copy()
    adam_arrays = optim.get("adam", lr=0.1)
    tensors = {cls: torch.tensor(start, requires_grad=True)
               for cls in (optim.Adam, torch.optim.Adam)}
    adams = {cls: cls([p], lr=0.1) for cls, p in tensors.items()}
    for step in range(3):
        adam_arrays.apply_gradients([(2 * array_param, array_param)])
        for cls, p in tensors.items():
            p.grad = 2 * p.detach()
            adams[cls].step()
        if step == 0:
            # Adam's first step has length lr in every coordinate: x - 0.1 sign(x)
            np.testing.assert_allclose(array_param, [0.9, -1.9, 2.9], rtol=1e-9)
    for p in tensors.values():
        np.testing.assert_allclose(p.detach().numpy(), array_param, rtol=1e-12, atol=0)


# -- 2 · the numpy line fit ----------------------------------------------------------------


def fit_line(name, steps=1000, lr=0.1):
    x, y = data.line_with_noise()
    params = {"w": np.array(0.0), "b": np.array(0.0)}
    opt = ArrayOptimizer(name, lr=lr)
    for _ in range(steps):
        r = params["w"] * x + params["b"] - y
        opt.update(params, {"w": 2 * np.mean(r * x), "b": 2 * np.mean(r)})
    return float(params["w"]), float(params["b"])


def least_squares_line():
    # closed form: slope = cov(x, y) / var(x), intercept = mean(y) - slope * mean(x)
    x, y = data.line_with_noise()
    slope = np.mean((x - x.mean()) * (y - y.mean())) / np.mean((x - x.mean()) ** 2)
    return slope, y.mean() - slope * x.mean()


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_the_fitted_line_is_the_least_squares_line_close_to_3x_plus_4(name):
    slope, intercept = least_squares_line()
    w, b = fit_line(name)
    assert abs(w - slope) < 1e-6 and abs(b - intercept) < 1e-6
    # close to the true line: the slope's standard error here is about 1 / (10 * 0.58) = 0.17
    assert abs(w - 3) < 0.2 and abs(b - 4) < 0.25
    assert (round(w, 4), round(b, 4)) == (round(slope, 4), round(intercept, 4))


def test_the_fitted_values_quoted_in_the_summary():
    slope, intercept = least_squares_line()
    assert f"{slope:.4f}, {intercept:.4f}" == "2.9346, 3.9925"


def test_the_loss_levels_off_at_the_noise_variance():
    x, y = data.line_with_noise()
    slope, intercept = least_squares_line()
    floor = np.mean((slope * x + intercept - y) ** 2)
    assert 0.8 < floor < 1.1  # the noise has variance 1
    assert round(floor, 2) == 0.94


# -- 3 · three points by hand ---------------------------------------------------------------


def three_point_gradients(params):
    x, y = data.three_points()
    r = params["a"] * x + params["b"] - y
    return {"a": np.sum(r * x), "b": np.sum(r)}


def test_three_points_first_step_by_hand():
    params = {"a": np.array(2.0), "b": np.array(2.0)}
    g = three_point_gradients(params)
    assert (float(g["a"]), float(g["b"])) == (8.0, 6.0)  # residuals 1, 2, 3
    ArrayOptimizer("sgd", lr=0.1).update(params, g)
    assert float(params["a"]) == pytest.approx(1.2, abs=1e-15)
    assert float(params["b"]) == pytest.approx(1.4, abs=1e-15)


def test_the_articles_loop_stops_where_a_first_increases():
    # Worked by hand: residuals at (a, b) are (b - 1, a + b - 2, 2a + b - 3), and so on.
    hand_a = [1.2, 0.98, 0.924, 0.914, 0.91656]
    hand_b = [1.4, 1.22, 1.16, 1.1348, 1.12016]
    params = {"a": np.array(2.0), "b": np.array(2.0)}
    sgd = ArrayOptimizer("sgd", lr=0.1)
    a_values, b_values = [], []
    for _ in range(1000):
        a_old = float(params["a"])
        sgd.update(params, three_point_gradients(params))
        a_values.append(float(params["a"]))
        b_values.append(float(params["b"]))
        if a_old - float(params["a"]) < 1e-6:
            break
    np.testing.assert_allclose(a_values, hand_a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b_values, hand_b, rtol=0, atol=1e-12)
    # it stops at step 5, the first step at which a increases, far from (1, 1)
    increases = [k for k in range(1, len(a_values)) if a_values[k] > a_values[k - 1]]
    assert len(a_values) == increases[0] + 1 == 5
    assert a_values[1] < 1  # a overshoots below 1 at step 2
    assert abs(a_values[-1] - 1) > 0.05 and abs(b_values[-1] - 1) > 0.1


def test_hessian_eigenvalues_and_the_slow_direction():
    x, _ = data.three_points()
    hessian = np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), len(x)]])
    assert hessian.tolist() == [[5.0, 3.0], [3.0, 3.0]]
    low, high = np.linalg.eigvalsh(hessian)
    assert low == pytest.approx(4 - math.sqrt(10)) and high == pytest.approx(4 + math.sqrt(10))
    assert 1 - 0.1 * high == pytest.approx(0.28, abs=0.01)
    assert 1 - 0.1 * low == pytest.approx(0.92, abs=0.01)
    _, vectors = np.linalg.eigh(hessian)
    slow = vectors[:, 0] / vectors[0, 0]
    assert slow[1] == pytest.approx(-1.39, abs=0.01)
    assert 2 / high == pytest.approx(0.279, abs=1e-3)


def fixed_loop(lr=0.1, max_steps=1000):
    params = {"a": np.array(2.0), "b": np.array(2.0)}
    sgd = ArrayOptimizer("sgd", lr=lr)
    for step in range(1, max_steps + 1):
        a_old = float(params["a"])
        sgd.update(params, three_point_gradients(params))
        if abs(a_old - float(params["a"])) < 1e-6:
            return step, float(params["a"]), float(params["b"])
    return None, float(params["a"]), float(params["b"])


def test_the_fixed_loop_converges_to_one_one_in_about_a_hundred_steps():
    steps, a, b = fixed_loop()
    assert steps is not None and 80 <= steps <= 130
    assert abs(a - 1) < 1e-4 and abs(b - 1) < 1e-4
    assert (f"{a:.4f}", f"{b:.4f}") == ("1.0000", "1.0000")


def test_above_the_stability_limit_only_the_cap_stops_the_loop():
    steps, a, b = fixed_loop(lr=0.3, max_steps=100)
    assert steps is None
    # the error grows by |1 - 0.3 (4 + sqrt 10)| ~ 1.149 per step: about 1e6 after 100 steps
    assert 1e5 < abs(a) < 1e7 and 1e5 < abs(b) < 1e7
    assert abs(1 - 0.3 * (4 + math.sqrt(10))) == pytest.approx(1.15, abs=0.01)


# -- 4 · porting between Keras and torch ---------------------------------------------------


def test_default_learning_rates():
    assert rules.SGD().hyperparams["lr"] == 1e-3 and rules.KerasSGD().hyperparams["lr"] == 0.01
    assert optim.get("sgd").hyperparams["lr"] == 1e-3
    assert rules.RMSprop().hyperparams["lr"] == 1e-2 and rules.Adagrad().hyperparams["lr"] == 1e-2
    assert rules.Adadelta().hyperparams["lr"] == 1.0 and rules.Adam().hyperparams["lr"] == 1e-3
    assert rules.KerasAdam().hyperparams["eps"] == 1e-7 and rules.Adam().hyperparams["eps"] == 1e-8
    # the same defaults as torch's constructors
    for name, cls in [("SGD", rules.SGD), ("RMSprop", rules.RMSprop), ("Adagrad", rules.Adagrad),
                      ("Adadelta", rules.Adadelta), ("Adam", rules.Adam)]:
        torch_opt = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)])
        assert torch_opt.defaults["lr"] == cls().hyperparams["lr"]


def test_keras_default_lr_gets_much_closer_in_200_steps():
    distances = {}
    for label, opt in [("keras", ArrayOptimizer(rules.KerasSGD())), ("torch", optim.get("sgd"))]:
        params = {"a": np.array(2.0), "b": np.array(2.0)}
        for _ in range(200):
            opt.update(params, three_point_gradients(params))
        distances[label] = math.hypot(float(params["a"]) - 1, float(params["b"]) - 1)
    assert distances["keras"] < distances["torch"] / 5


def momentum_step_lengths(rule):
    schedule = schedules.multi_step_lr(0.1, milestones=[10], gamma=0.1)
    theta = np.array([0.0])
    sgd = ArrayOptimizer(rule, lr=schedule)
    lengths = []
    for _ in range(40):
        before = theta[0]
        sgd.update({"theta": theta}, {"theta": np.array([1.0])})
        lengths.append(before - theta[0])
    return lengths


def test_momentum_conventions_part_when_the_rate_drops():
    torch_steps = momentum_step_lengths(rules.SGD(momentum=0.9))
    keras_steps = momentum_step_lengths(rules.KerasSGD(momentum=0.9))
    np.testing.assert_allclose(torch_steps[:10], keras_steps[:10], rtol=1e-12, atol=0)
    buffer_10 = sum(0.9**j for j in range(10))  # 6.513
    assert buffer_10 == pytest.approx(6.513, abs=1e-3)
    assert torch_steps[9] == pytest.approx(0.1 * buffer_10, rel=1e-12)
    # right after the drop: torch -gamma' (mu b + g), Keras -(mu gamma b + gamma' g)
    assert torch_steps[10] == pytest.approx(0.01 * (0.9 * buffer_10 + 1), rel=1e-12)
    assert keras_steps[10] == pytest.approx(0.9 * 0.1 * buffer_10 + 0.01, rel=1e-12)
    assert torch_steps[10] / torch_steps[9] == pytest.approx(0.1, abs=0.01)   # tenfold drop
    assert keras_steps[10] / keras_steps[9] == pytest.approx(0.9, abs=0.03)   # 10% drop
    # afterwards the excess over gamma'/(1 - mu) = 0.1 shrinks by 0.9 per step
    excess = [s - 0.1 for s in keras_steps[10:]]
    for k in range(1, len(excess)):
        assert excess[k] == pytest.approx(0.9 * excess[k - 1], rel=1e-9)
    assert 0.2 < keras_steps[39] / 0.1 - 1 < 0.25      # "still about 20% too long"
    assert abs(torch_steps[39] - 0.1) < 0.002


@pytest.mark.parametrize("g", [1.0, 1e-3, 1e-5, 1e-7])
def test_adam_first_step_closed_forms(g):
    eps = 1e-7
    torch_form = g / (g + eps)
    keras_form = g / (g + eps / math.sqrt(1 - 0.999))
    steps = []
    for rule in (rules.Adam(lr=1e-3, eps=eps), rules.KerasAdam(lr=1e-3, eps=eps)):
        theta = np.array([0.0])
        rule.step(theta, np.array([g]), rule.init(theta))
        steps.append(-theta[0] / 1e-3)
    assert steps[0] == pytest.approx(torch_form, rel=1e-9)
    assert steps[1] == pytest.approx(keras_form, rel=1e-9)
    # and the same step on torch.optim.Adam
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([w], lr=1e-3, eps=eps)
    w.grad = torch.tensor([g], dtype=torch.float64)
    adam.step()
    assert -w.item() / 1e-3 == pytest.approx(torch_form, rel=1e-9)


def test_adam_tiny_gradient_numbers_in_the_prose():
    assert 1e-7 / (1e-7 + 1e-7) == 0.5
    assert 1e-7 / (1e-7 + 1e-7 / math.sqrt(1 - 0.999)) == pytest.approx(0.0307, abs=1e-4)
    factors = [1 / math.sqrt(1 - 0.999**t) for t in (1, 10, 100, 1000, 10000)]
    assert [round(f, 2) for f in factors] == [31.62, 10.02, 3.24, 1.26, 1.0]


def test_weight_decay_coupled_versus_decoupled():
    results = {}
    for label, name, extra in [("coupled", "adam", {}), ("adamw", "adamw", {}),
                               ("decoupled", "adam", {"decoupled_weight_decay": True})]:
        theta = np.array([1.0])
        ArrayOptimizer(name, lr=0.1, weight_decay=0.01, **extra).update({"w": theta},
                                                                         {"w": np.zeros(1)})
        results[label] = theta[0]
    # coupled: g = 0.01, first Adam step 0.1 * 0.01 / (0.01 + 1e-8)
    assert results["coupled"] == pytest.approx(1 - 0.1 * 0.01 / (0.01 + 1e-8), rel=1e-12)
    assert results["adamw"] == pytest.approx(1 - 0.1 * 0.01, rel=1e-15)
    assert results["decoupled"] == results["adamw"]
    # the same on torch.optim
    for cls, kwargs, expected in [(torch.optim.Adam, {}, results["coupled"]),
                                  (torch.optim.AdamW, {}, results["adamw"])]:
        w = torch.ones(1, dtype=torch.float64, requires_grad=True)
        opt = cls([w], lr=0.1, weight_decay=0.01, **kwargs)
        w.grad = torch.zeros(1, dtype=torch.float64)
        opt.step()
        assert w.item() == pytest.approx(expected, rel=1e-12)


def test_plain_sgd_coupled_equals_decoupled():
    theta = np.array([1.0])
    ArrayOptimizer("sgd", lr=0.1, weight_decay=0.01).update({"w": theta}, {"w": np.array([0.5])})
    assert theta[0] == pytest.approx((1 - 0.1 * 0.01) * 1.0 - 0.1 * 0.5, rel=1e-15)
    assert round(theta[0], 6) == 0.949


def test_global_iterations_versus_per_parameter_steps():
    adam = ArrayOptimizer("adam", lr=0.1)
    a, b = np.zeros(1), np.zeros(1)
    adam.update({"a": a, "b": b}, {"a": np.ones(1), "b": None})
    assert adam.state_of(b) == {} and b[0] == 0.0
    adam.update({"a": a, "b": b}, {"a": np.ones(1), "b": np.ones(1)})
    assert adam.iterations == 2
    assert int(adam.state_of(a)["step"]) == 2 and int(adam.state_of(b)["step"]) == 1
