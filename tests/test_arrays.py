"""The array optimizer: numpy arrays updated in place, dict and Keras-style interfaces."""

import numpy as np
import pytest
import torch

from course_lib import optim, rules
from course_lib.arrays import ArrayOptimizer


def test_update_changes_the_same_arrays_in_place():
    params = {"w": np.array([1.0, 2.0]), "b": np.array(0.5)}
    ids = {k: id(v) for k, v in params.items()}
    opt = ArrayOptimizer("sgd", lr=0.5)
    opt.update(params, {"w": np.array([1.0, -1.0]), "b": np.array(1.0)})
    assert {k: id(v) for k, v in params.items()} == ids
    np.testing.assert_array_equal(params["w"], [0.5, 2.5])
    assert params["b"] == 0.0
    assert opt.iterations == 1


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_update_and_apply_gradients_agree(name):
    rng = np.random.default_rng(3)
    start = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    a = {k: v.copy() for k, v in start.items()}
    b = {k: v.copy() for k, v in start.items()}
    opt_a, opt_b = optim.get(name, lr=0.05), optim.get(name, lr=0.05)
    for _ in range(5):
        grads = {k: 2 * v + 0.1 for k, v in a.items()}
        opt_a.update(a, grads)
        opt_b.apply_gradients((2 * v + 0.1, v) for v in b.values())
    for key in start:
        np.testing.assert_array_equal(a[key], b[key])


def test_a_none_gradient_skips_its_parameter():
    params = {"w": np.ones(2), "b": np.ones(2)}
    opt = ArrayOptimizer("adam", lr=0.1)
    opt.update(params, {"w": np.ones(2), "b": None})
    np.testing.assert_array_equal(params["b"], np.ones(2))
    assert opt.state_of(params["b"]) == {}
    assert opt.state_of(params["w"])["step"] == 1
    opt.update(params, {"w": None, "b": np.ones(2)})
    assert opt.state_of(params["w"])["step"] == 1  # its own count did not advance
    assert opt.state_of(params["b"])["step"] == 1
    assert opt.iterations == 2


def test_float32_arrays_and_gradients_of_another_dtype():
    w = np.ones(3, dtype=np.float32)
    opt = ArrayOptimizer(rules.Adam(lr=0.1))
    opt.apply_gradients([(np.array([1.0, 2.0, 3.0]), w)])  # float64 gradient
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, 0.9, rtol=1e-6)


def test_array_optimizer_matches_torch_optimizer_on_a_least_squares_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3
    w_np = {"w": np.zeros(3), "b": np.zeros(1)}
    w_t = [torch.zeros(3, dtype=torch.float64, requires_grad=True),
           torch.zeros(1, dtype=torch.float64, requires_grad=True)]
    opt_np = ArrayOptimizer("adam", lr=0.05, amsgrad=True)
    opt_t = optim.Adam(w_t, lr=0.05, amsgrad=True)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(100):
        r = x @ w_np["w"] + w_np["b"] - y
        opt_np.update(w_np, {"w": 2 * x.T @ r / len(y), "b": np.array([2 * r.mean()])})
        opt_t.zero_grad()
        ((xt @ w_t[0] + w_t[1] - yt) ** 2).mean().backward()
        opt_t.step()
    np.testing.assert_allclose(w_np["w"], w_t[0].detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(w_np["b"], w_t[1].detach().numpy(), rtol=1e-10)


def test_rule_instance_with_overrides_and_repr():
    opt = ArrayOptimizer(rules.SGD(lr=0.1), momentum=0.9)
    assert opt.hyperparams["lr"] == 0.1 and opt.hyperparams["momentum"] == 0.9
    assert repr(opt).startswith("ArrayOptimizer(SGD(lr=0.1, momentum=0.9")
    with pytest.raises(TypeError, match="rule must be"):
        ArrayOptimizer(42)
