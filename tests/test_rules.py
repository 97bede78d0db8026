"""The update rules against the textbook formulas, written out independently here.

Each ``textbook_*`` function below is the algorithm as the papers and textbooks state it
(``m = b1*m + (1-b1)*g``, ``m_hat / (sqrt(v_hat) + eps)``, ...), in plain numpy, with none of
course_lib's code. The rules must agree with them to rounding.
"""

import math

import numpy as np
import pytest
import torch

from course_lib import rules

A = np.diag([0.5, 4.0])  # f(x) = 0.5 x'Ax - b'x, a small ill-conditioned quadratic
B = np.array([1.0, -1.0])
X0 = np.array([3.0, -2.0])


def grad_f(x):
    return A @ x - B


def textbook_sgd(x, steps, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 maximize=False):
    buf = None
    for _ in range(steps):
        g = -grad_f(x) if maximize else grad_f(x)
        g = g + weight_decay * x
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        x = x - lr * g
    return x


def textbook_adagrad(x, steps, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                     eps=1e-10, maximize=False):
    s = np.full_like(x, initial_accumulator_value)
    for t in range(1, steps + 1):
        g = (-grad_f(x) if maximize else grad_f(x)) + weight_decay * x
        s = s + g**2
        x = x - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return x


def textbook_rmsprop(x, steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                     centered=False, maximize=False):
    v, gbar, buf = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    for _ in range(steps):
        g = (-grad_f(x) if maximize else grad_f(x)) + weight_decay * x
        v = alpha * v + (1 - alpha) * g**2
        if centered:
            gbar = alpha * gbar + (1 - alpha) * g
            denom = np.sqrt(v - gbar**2) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * buf + g / denom
            x = x - lr * buf
        else:
            x = x - lr * g / denom
    return x


def textbook_adadelta(x, steps, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    v, u = np.zeros_like(x), np.zeros_like(x)
    for _ in range(steps):
        g = (-grad_f(x) if maximize else grad_f(x)) + weight_decay * x
        v = rho * v + (1 - rho) * g**2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta**2
        x = x - lr * delta
    return x


def textbook_adam(x, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                  amsgrad=False, maximize=False, decoupled_weight_decay=False):
    b1, b2 = betas
    m, v, vmax = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        g = -grad_f(x) if maximize else grad_f(x)
        if decoupled_weight_decay:
            x = x - lr * weight_decay * x
        else:
            g = g + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        vmax = np.maximum(vmax, v)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v_hat) + eps)
    return x


def textbook_adamw(x, steps, weight_decay=1e-2, **options):
    return textbook_adam(x, steps, weight_decay=weight_decay, decoupled_weight_decay=True,
                         **options)


def textbook_adamax(x, steps, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                    maximize=False):
    b1, b2 = betas
    m, u = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        g = (-grad_f(x) if maximize else grad_f(x)) + weight_decay * x
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        x = x - lr / (1 - b1**t) * m / u
    return x


def textbook_nadam(x, steps, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                   momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    m, v = np.zeros_like(x), np.zeros_like(x)
    mu_product = np.float32(1.0)  # torch keeps this product in single precision
    for t in range(1, steps + 1):
        g = -grad_f(x) if maximize else grad_f(x)
        if decoupled_weight_decay:
            x = x - lr * weight_decay * x
        else:
            g = g + weight_decay * x
        mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = np.float32(mu_product * np.float32(mu))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        denom = np.sqrt(v / (1 - b2**t)) + eps
        x = x - lr * (1 - mu) / (1 - float(mu_product)) * g / denom
        x = x - lr * mu_next / (1 - float(mu_product) * mu_next) * m / denom
    return x


def textbook_radam(x, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                   decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    m, v = np.zeros_like(x), np.zeros_like(x)
    rho_inf = 2 / (1 - b2) - 1
    for t in range(1, steps + 1):
        g = -grad_f(x) if maximize else grad_f(x)
        if decoupled_weight_decay:
            x = x - lr * weight_decay * x
        else:
            g = g + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t > 5:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                          / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            x = x - lr * m_hat * r * math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        else:
            x = x - lr * m_hat
    return x


def textbook_yogi(x, steps, lr=1e-2, betas=(0.9, 0.999), eps=1e-3, weight_decay=0,
                  maximize=False):
    b1, b2 = betas
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        g = (-grad_f(x) if maximize else grad_f(x)) + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = v - (1 - b2) * np.sign(v - g**2) * g**2
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return x


TEXTBOOK = {
    "sgd": textbook_sgd, "adagrad": textbook_adagrad, "rmsprop": textbook_rmsprop,
    "adadelta": textbook_adadelta, "adam": textbook_adam, "adamw": textbook_adamw,
    "adamax": textbook_adamax, "nadam": textbook_nadam, "radam": textbook_radam,
    "yogi": textbook_yogi,
}

OPTIONS = {
    "sgd": [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9,
            "dampening": 0.5, "weight_decay": 0.1}, {"lr": 0.05, "momentum": 0.8,
            "nesterov": True}, {"lr": 0.1, "maximize": True}],
    "adagrad": [{"lr": 0.5}, {"lr": 0.5, "lr_decay": 0.1, "weight_decay": 0.1,
                "initial_accumulator_value": 0.2, "eps": 1e-3}, {"lr": 0.5, "maximize": True}],
    "rmsprop": [{"lr": 0.05}, {"lr": 0.05, "alpha": 0.9, "centered": True},
                {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1}, {"maximize": True}],
    "adadelta": [{}, {"rho": 0.95, "eps": 1e-4, "weight_decay": 0.1}, {"lr": 0.5,
                 "maximize": True}],
    "adam": [{"lr": 0.1}, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-4}, {"lr": 0.1,
             "amsgrad": True, "weight_decay": 0.1}, {"lr": 0.1, "weight_decay": 0.1,
             "decoupled_weight_decay": True}, {"lr": 0.1, "maximize": True}],
    "adamw": [{"lr": 0.1}, {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True}],
    "adamax": [{"lr": 0.1}, {"lr": 0.1, "weight_decay": 0.1, "maximize": True}],
    "nadam": [{"lr": 0.1}, {"lr": 0.1, "momentum_decay": 6e-3, "weight_decay": 0.1},
              {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True}],
    "radam": [{"lr": 0.1}, {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True},
              {"lr": 0.1, "betas": (0.9, 0.99), "maximize": True}],
    "yogi": [{"lr": 0.1}, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}],
}

CASES = [(name, opts) for name, grid in OPTIONS.items() for opts in grid]


def run_rule(rule, x0, steps):
    x = np.array(x0, dtype=float)
    state = rule.init(x)
    for _ in range(steps):
        g = grad_f(x)
        rule.step(x, -g if rule.hyperparams.get("maximize") else g, state)
    return x


def run_rule_with_maximize(rule, x0, steps):
    """maximize=True is the rule's job: hand it the plain gradient."""
    x = np.array(x0, dtype=float)
    state = rule.init(x)
    for _ in range(steps):
        rule.step(x, grad_f(x), state)
    return x


@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_rule_matches_textbook_formula(name, options):
    steps = 40
    ours = run_rule_with_maximize(rules.make(name, **options), X0, steps)
    expected = TEXTBOOK[name](X0.copy(), steps, **options)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_same_rule_object_on_numpy_and_torch(name, options):
    rule = rules.make(name, **options)
    x_np = np.array(X0)
    x_t = torch.tensor(X0)
    s_np, s_t = rule.init(x_np), rule.init(x_t)
    for _ in range(25):
        rule.step(x_np, grad_f(x_np), s_np)
        rule.step(x_t, torch.from_numpy(grad_f(x_t.numpy())), s_t)
    np.testing.assert_allclose(x_np, x_t.numpy(), rtol=1e-13, atol=1e-14)
    assert set(s_np) == set(s_t)


@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}-{o}" for n, o in CASES])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_rules_never_modify_the_gradient(name, options, backend):
    rule = rules.make(name, **options)
    x = np.array(X0) if backend == "numpy" else torch.tensor(X0)
    state = rule.init(x)
    for _ in range(3):
        grad = np.array([0.3, -0.7]) if backend == "numpy" else torch.tensor([0.3, -0.7]).double()
        kept = grad.copy() if backend == "numpy" else grad.clone()
        rule.step(x, grad, state)
        assert (grad == kept).all()


def test_sgd_first_step_skips_dampening():
    # torch's convention: the buffer starts as a copy of g, not (1 - dampening) g.
    rule = rules.SGD(lr=1.0, momentum=0.9, dampening=0.5)
    x = np.array([0.0])
    state = rule.init(x)
    rule.step(x, np.array([1.0]), state)
    assert state["momentum_buffer"][0] == 1.0 and x[0] == -1.0
    rule.step(x, np.array([1.0]), state)  # b = 0.9 * 1 + 0.5 * 1
    assert state["momentum_buffer"][0] == pytest.approx(1.4) and x[0] == pytest.approx(-2.4)


def test_adam_bias_correction_makes_the_first_step_lr_sized():
    # m1 = (1-b1) g, v1 = (1-b2) g^2: corrected, m/sqrt(v) = sign(g), so the step is lr.
    rule = rules.Adam(lr=0.01, eps=0.0)
    x = np.array([1.0, -3.0, 1e-3])
    rule.step(x, np.array([5.0, -0.2, 1e-4]), rule.init(x))
    np.testing.assert_allclose(x, [0.99, -2.99, 1e-3 - 0.01], rtol=1e-14)


def test_nadam_keeps_mu_product_in_single_precision():
    rule = rules.NAdam()
    x = np.array([1.0])
    state = rule.init(x)
    rule.step(x, np.array([1.0]), state)
    assert state["mu_product"].dtype == np.float32
    assert rule.init(torch.zeros(1))["mu_product"].dtype == torch.float32


def test_newton_solves_a_quadratic_in_one_step():
    rule = rules.Newton()
    x = X0.copy()
    rule.step(x, grad_f(x), rule.init(x), hessian=A)
    np.testing.assert_allclose(x, np.linalg.solve(A, B), rtol=1e-15)


def test_newton_on_cosh_by_hand():
    # f(x) = cosh(x/2): f' = sinh(x/2)/2, f'' = cosh(x/2)/4, so x <- x - 2 tanh(x/2).
    rule = rules.Newton(lr=1.0)
    x = np.array([10.0])
    for _ in range(3):
        expected = x[0] - 2 * math.tanh(x[0] / 2)
        rule.step(x, np.sinh(x / 2) / 2, {}, hessian=math.cosh(x[0] / 2) / 4)
        assert x[0] == pytest.approx(expected, rel=1e-14)


def test_newton_damped_and_on_torch():
    rule = rules.Newton(lr=0.5)
    x = torch.tensor(X0)
    rule.step(x, torch.from_numpy(grad_f(X0)), {}, hessian=torch.from_numpy(A))
    expected = X0 - 0.5 * np.linalg.solve(A, grad_f(X0))
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-15)
    with pytest.raises(TypeError, match="needs the Hessian"):
        rule.step(x, x, {})


def test_rule_objects():
    rule = rules.Adam(lr=0.1)
    assert rule.hyperparams["betas"] == (0.9, 0.999)
    assert rule.with_hyperparams(lr=0.2).hyperparams["lr"] == 0.2
    assert rule.hyperparams["lr"] == 0.1  # unchanged: rules are immutable
    assert rule == rules.make("ADAM", lr=0.1)
    assert "decoupled_weight_decay" not in repr(rules.AdamW())
    assert rules.AdamW().hyperparams["decoupled_weight_decay"] is True
    with pytest.raises(TypeError, match="unexpected hyperparameter"):
        rules.AdamW(decoupled_weight_decay=False)
    with pytest.raises(TypeError, match="not writable|does not support item assignment"):
        rule.hyperparams["lr"] = 1.0
    with pytest.raises(TypeError, match="not numpy arrays or torch tensors|numpy arrays or torch"):
        rule.step([1.0], [1.0], {})


def test_float32_arrays_stay_float32():
    for name, cls in rules.RULES.items():
        if cls.needs_hessian:
            continue
        rule = rules.make(name)
        x = np.ones(3, dtype=np.float32)
        state = rule.init(x)
        rule.step(x, np.full(3, 0.5, dtype=np.float32), state)
        assert x.dtype == np.float32
        assert all(v.dtype == np.float32 for v in state.values() if isinstance(v, np.ndarray))
