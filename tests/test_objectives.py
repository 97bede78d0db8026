"""The test functions against torch autograd, hand-worked values and the numbers d2l prints.

The gradients and Hessians in course_lib.objectives are written by hand; here torch
differentiates the objectives' own formulas (evaluated on float64 tensors) and the two must
agree to rounding. The d2l numbers are copied from the book's printed outputs.
"""

import math

import numpy as np
import pytest
import torch

from course_lib import objectives
from course_lib.objectives import OBJECTIVES, Objective, QuadraticObjective

NAMES = list(OBJECTIVES)
#: Extra parameter sets, so the parametrised formulas are checked away from their defaults.
VARIANTS = [(name, {}) for name in NAMES] + [
    ("x_cos", {"c": 0.7}),
    ("cosh", {"c": -1.3}),
    ("rosenbrock", {"a": -0.5, "b": 7.0}),
    ("quadratic", {"eigenvalues": (0.5, 30.0), "angle": 0.6}),
    ("quadratic", {"eigenvalues": (4.0, 1.0), "angle": -2.0}),
    ("plateau", {"width": 0.7}),
]
VARIANT_IDS = [name + "".join(f"-{k}={v}" for k, v in p.items()) for name, p in VARIANTS]


def points_in(obj: Objective, count: int = 5) -> np.ndarray:
    """Seeded points spread over the objective's window (never exactly on a grid line)."""
    rng = np.random.default_rng(1234)
    lows = np.array([lo for lo, _ in obj.domain])
    highs = np.array([hi for _, hi in obj.domain])
    return lows + (highs - lows) * rng.uniform(0.05, 0.95, size=(count, obj.dim))


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=VARIANT_IDS)
def test_gradient_and_hessian_match_torch_autograd(name, params):
    obj = objectives.get(name, **params)
    for point in points_in(obj):
        x = torch.tensor(point, dtype=torch.float64)
        auto_grad = torch.autograd.functional.jacobian(obj.value, x)
        auto_hess = torch.autograd.functional.hessian(obj.value, x)
        scale = 1 + float(auto_hess.abs().max())
        np.testing.assert_allclose(obj.gradient(point), auto_grad.numpy(), rtol=1e-12,
                                   atol=1e-12 * scale)
        np.testing.assert_allclose(obj.hessian(point), auto_hess.numpy(), rtol=1e-12,
                                   atol=1e-12 * scale)


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=VARIANT_IDS)
def test_numpy_and_torch_evaluations_agree(name, params):
    obj = objectives.get(name, **params)
    for point in points_in(obj, 3):
        x = torch.tensor(point, dtype=torch.float64)
        assert obj.value(point) == pytest.approx(float(obj.value(x)), rel=1e-14, abs=1e-14)
        np.testing.assert_allclose(obj.gradient(x).numpy(), obj.gradient(point), rtol=1e-14,
                                   atol=1e-14)
        np.testing.assert_allclose(obj.hessian(x).numpy(), obj.hessian(point), rtol=1e-14,
                                   atol=1e-14)
        assert obj.gradient(x).shape == (obj.dim,)
        assert obj.hessian(x).shape == (obj.dim, obj.dim)


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=VARIANT_IDS)
def test_vectorised_evaluations_match_pointwise(name, params):
    obj = objectives.get(name, **params)
    pts = points_in(obj, 6).reshape(2, 3, obj.dim)
    pointwise = np.array([[obj.value(p) for p in row] for row in pts])
    if obj.dim == 1:
        np.testing.assert_allclose(obj.values(pts[..., 0]), pointwise, rtol=1e-14, atol=1e-15)
        grads = np.array([[obj.gradient(p)[0] for p in row] for row in pts])
        hess = np.array([[obj.hessian(p)[0, 0] for p in row] for row in pts])
        np.testing.assert_allclose(obj.derivative(pts[..., 0]), grads, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(obj.second_derivative(pts[..., 0]), hess, rtol=1e-14,
                                   atol=1e-15)
    else:
        np.testing.assert_allclose(obj.values(pts), pointwise, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(obj.value_grid(pts[..., 0], pts[..., 1]), pointwise,
                                   rtol=1e-14, atol=1e-15)
        g1, g2 = obj.gradient_field(pts[..., 0], pts[..., 1])
        grads = np.array([[obj.gradient(p) for p in row] for row in pts])
        np.testing.assert_allclose(np.stack([g1, g2], axis=-1), grads, rtol=1e-14, atol=1e-15)


WITH_MINIMIZER = [(n, p) for n, p in VARIANTS if objectives.get(n, **p).minimizer is not None]


@pytest.mark.parametrize(("name", "params"), WITH_MINIMIZER,
                         ids=[n + "".join(f"-{k}={v}" for k, v in p.items())
                              for n, p in WITH_MINIMIZER])
def test_minimizers_are_stationary_minima(name, params):
    obj = objectives.get(name, **params)
    x = np.array(obj.minimizer)
    np.testing.assert_allclose(obj.gradient(x), 0.0, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(obj.hessian(x)) > 0)
    for point in points_in(obj):  # nothing nearby in the window is lower
        assert obj.value(point) >= obj.value(x)


def test_one_dimensional_inputs_accept_numbers_zero_d_and_length_one_arrays():
    f = objectives.x_cos()
    expected = 2.0 * math.cos(0.15 * math.pi * 2.0)
    for x in (2.0, 2, np.float64(2.0), np.array(2.0), np.array([2.0]), [2.0]):
        assert f.value(x) == pytest.approx(expected, rel=1e-15)
        assert f.gradient(x).shape == (1,)
        assert f.hessian(x).shape == (1, 1)
    assert f.derivative(2.0) == pytest.approx(float(f.gradient(2.0)[0]), rel=1e-15)


def test_dtype_follows_the_input():
    bowl = objectives.bowl()
    assert bowl.gradient(np.array([1.0, 2.0], dtype=np.float32)).dtype == np.float32
    assert bowl.hessian(np.array([1.0, 2.0], dtype=np.float32)).dtype == np.float32
    assert bowl.gradient(np.array([1, 2])).dtype == np.float64
    assert bowl.gradient(torch.tensor([1.0, 2.0])).dtype == torch.float32


# -- hand-worked values and the books' printed numbers ------------------------------------


@pytest.mark.parametrize(
    ("name", "x", "value", "slope", "curvature"),
    [
        # f = x^2 at 3: 9, 6, 2
        ("square", 3.0, 9.0, 6.0, 2.0),
        # x cos(0.15 pi x) at 10/3: cos(pi/2) = 0, so f = 0, f' = -0.15 pi * 10/3 = -pi/2
        ("x_cos", 10 / 3, 0.0, -math.pi / 2, -0.3 * math.pi),
        # cosh(0.5 x) at 0: 1, 0, 1/4
        ("cosh", 0.0, 1.0, 0.0, 0.25),
        # x cos(pi x) at 1: -1, cos(pi) = -1, -pi^2 cos(pi) = pi^2
        ("x_cos_pi", 1.0, -1.0, -1.0, math.pi**2),
        # + 0.2 cos(5 pi) = -0.2 and 5 pi^2 more curvature at x = 1
        ("empirical_risk", 1.0, -1.2, -1.0, math.pi**2 + 5 * math.pi**2),
        ("cube", -2.0, -8.0, 12.0, -12.0),
        ("tanh", 0.0, 0.0, 1.0, 0.0),
        ("half_square", -4.0, 8.0, -4.0, 1.0),
        ("cos_pi", 0.5, 0.0, -math.pi, 0.0),
        ("exp_half", 2.0, math.e, math.e / 2, math.e / 4),
        ("shifted_square", -1.0, 4.0, -4.0, 2.0),
    ],
)
def test_hand_worked_one_dimensional_values(name, x, value, slope, curvature):
    f = objectives.get(name)
    assert f.value(x) == pytest.approx(value, abs=1e-12)
    assert f.derivative(x) == pytest.approx(slope, abs=1e-12)
    assert f.second_derivative(x) == pytest.approx(curvature, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "x", "value", "grad", "hess"),
    [
        ("bowl", (-5.0, -2.0), 33.0, (-10.0, -8.0), ((2, 0), (0, 4))),
        ("stretched_bowl", (-5.0, -2.0), 10.5, (-1.0, -8.0), ((0.2, 0), (0, 4))),
        ("dlfs_bowl", (-7.0, 2.0), 49 / 20 + 4, (-0.7, 4.0), ((0.1, 0), (0, 2))),
        ("saddle", (1.0, 2.0), -3.0, (2.0, -4.0), ((2, 0), (0, -2))),
        # (1 - 0)^2 + 100 (1 - 0)^2 at (0, 1)
        ("rosenbrock", (0.0, 1.0), 101.0, (-2.0, 200.0), ((2 - 400, 0), (0, 200))),
        ("plateau", (0.0, 0.0), 0.0, (0.0, 0.0), ((2, 0), (0, 2))),
    ],
)
def test_hand_worked_two_dimensional_values(name, x, value, grad, hess):
    f = objectives.get(name)
    assert f.value(x) == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(f.gradient(x), grad, rtol=1e-14)
    np.testing.assert_allclose(f.hessian(x), hess, rtol=1e-14)


def test_tanh_gradient_vanishes_as_d2l_prints():
    # d2l: "the gradient of tanh at x = 4 is 0.0013"; 1 - tanh(4)^2 = 4 e^8 / (e^8 + 1)^2
    slope = objectives.tanh().derivative(4.0)
    assert round(slope, 4) == 0.0013
    assert slope == pytest.approx(4 * math.exp(8) / (math.exp(8) + 1) ** 2, rel=1e-12)


def gradient_descent(obj, x0, lr, steps):
    x = np.array(x0, dtype=np.float64)
    for _ in range(steps):
        x = x - lr * obj.gradient(x)
    return x


def newton(obj, x0, lr, steps):
    x = np.array(x0, dtype=np.float64)
    for _ in range(steps):
        x = x - lr * np.linalg.solve(obj.hessian(x), obj.gradient(x))
    return x


@pytest.mark.parametrize(
    ("name", "x0", "lr", "printed"),
    [
        # d2l "Gradient Descent": f = x^2 from 10, 10 steps: "epoch 10, x: ..."
        ("square", [10.0], 0.2, [0.060466]),
        ("square", [10.0], 0.05, [3.486784]),
        ("square", [10.0], 1.1, [61.917364]),
        # non-convex x cos(cx), c = 0.15 pi, lr 2: "epoch 10, x: -1.528166"
        ("x_cos", [10.0], 2.0, [-1.528166]),
    ],
)
def test_d2l_one_dimensional_gradient_descent(name, x0, lr, printed):
    x = gradient_descent(objectives.get(name), x0, lr, 10)
    np.testing.assert_allclose(x, printed, atol=5e-7)


@pytest.mark.parametrize(
    ("name", "lr", "lr_steps", "printed"),
    [
        # d2l "Gradient Descent", 2-D from (-5, -2), 20 steps: "epoch 20, x1: ..., x2: ..."
        ("bowl", 0.1, 20, (-0.057646, -0.000073)),
        # d2l "Momentum": plain GD on 0.1 x1^2 + 2 x2^2, lr 0.4 then 0.6 (diverges along x2)
        ("stretched_bowl", 0.4, 20, (-0.943467, -0.000073)),
        ("stretched_bowl", 0.6, 20, (-0.387814, -1673.365109)),
    ],
)
def test_d2l_two_dimensional_gradient_descent(name, lr, lr_steps, printed):
    x = gradient_descent(objectives.get(name), [-5.0, -2.0], lr, lr_steps)
    np.testing.assert_allclose(x, printed, atol=5e-7)


@pytest.mark.parametrize(
    ("name", "lr", "printed", "decimals"),
    [
        ("cosh", 1.0, 0.0, 4),  # d2l: "epoch 10, x: tensor(0.)"
        ("x_cos", 1.0, 26.8341, 4),  # undamped Newton runs to a maximum: "tensor(26.8341)"
        ("x_cos", 0.5, 7.2699, 4),  # damped: "tensor(7.2699)", a local minimum
    ],
)
def test_d2l_newton(name, lr, printed, decimals):
    obj = objectives.get(name)
    x = newton(obj, [10.0], lr, 10)
    assert round(float(x[0]), decimals) == printed


def test_damped_newton_on_x_cos_ends_at_a_local_minimum():
    f = objectives.x_cos()
    x = newton(f, [10.0], 0.5, 60)
    assert f.derivative(x[0]) == pytest.approx(0.0, abs=1e-12)
    assert f.second_derivative(x[0]) > 0


# -- the quadratic ---------------------------------------------------------------------------


@pytest.mark.parametrize("eigenvalues", [(1.0, 10.0), (0.2, 4.0), (25.0, 0.5)])
@pytest.mark.parametrize("angle", [0.0, math.pi / 6, -1.0, 2.5])
def test_quadratic_matrix_spectrum_and_condition_number(eigenvalues, angle):
    q = objectives.quadratic(eigenvalues, angle)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    expected = rotation @ np.diag(eigenvalues) @ rotation.T
    np.testing.assert_allclose(q.matrix, expected, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.matrix), sorted(eigenvalues), rtol=1e-13)
    np.testing.assert_allclose(q.matrix @ rotation[:, 0], eigenvalues[0] * rotation[:, 0],
                               rtol=1e-13, atol=1e-13)
    assert q.condition_number == pytest.approx(max(eigenvalues) / min(eigenvalues), rel=1e-15)
    assert q.condition_number == pytest.approx(np.linalg.cond(q.matrix), rel=1e-12)
    x = np.array([0.3, -1.7])
    assert q.value(x) == pytest.approx(0.5 * x @ expected @ x, rel=1e-13)
    np.testing.assert_allclose(q.hessian(x), expected, rtol=1e-14, atol=1e-14)
    assert isinstance(q, QuadraticObjective)
    assert not q.matrix.flags.writeable


def test_bowls_are_the_quadratics_with_their_hessian_eigenvalues():
    for obj, eigenvalues, kappa in [
        (objectives.bowl(), (2.0, 4.0), 2.0),
        (objectives.stretched_bowl(), (0.2, 4.0), 20.0),
        (objectives.dlfs_bowl(), (0.1, 2.0), 20.0),
    ]:
        np.testing.assert_array_equal(obj.matrix, np.diag(eigenvalues))
        assert obj.condition_number == pytest.approx(kappa, rel=1e-15)


def spectral_radius(matrix):
    return max(abs(np.linalg.eigvals(matrix)))


@pytest.mark.parametrize("eigenvalues", [(1.0, 10.0), (1.0, 100.0), (0.2, 4.0)])
def test_optimal_step_sizes_achieve_the_published_rates(eigenvalues):
    q = objectives.quadratic(eigenvalues, angle=0.4)
    kappa = q.condition_number
    # Gradient descent: x <- (I - lr A) x contracts at (kappa - 1) / (kappa + 1) at best.
    lr = q.optimal_lr
    assert lr == pytest.approx(2 / sum(eigenvalues), rel=1e-15)
    identity = np.eye(2)
    assert spectral_radius(identity - lr * q.matrix) == pytest.approx((kappa - 1) / (kappa + 1))
    for worse in (0.9 * lr, 1.1 * lr):
        assert spectral_radius(identity - worse * q.matrix) > (kappa - 1) / (kappa + 1)
    # Heavy ball b <- mu b + A x, x <- x - lr b: the iteration on (x, b) contracts at
    # sqrt(mu) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)  (Polyak; Distill's "Why Momentum").
    lr, mu = q.optimal_momentum
    rate = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    assert mu == pytest.approx(rate**2, rel=1e-14)
    step = np.block([[identity - lr * q.matrix, -lr * mu * identity], [q.matrix, mu * identity]])
    assert spectral_radius(step) == pytest.approx(rate, rel=1e-6)


def test_distill_optimal_momentum_for_kappa_100_by_hand():
    lr, mu = objectives.quadratic((1.0, 100.0)).optimal_momentum
    assert lr == pytest.approx((2 / 11) ** 2, rel=1e-15)  # (2 / (1 + 10))^2
    assert mu == pytest.approx((9 / 11) ** 2, rel=1e-15)  # ((10 - 1) / (10 + 1))^2


def test_plateau_is_flat_far_from_its_basin():
    f = objectives.plateau()
    far = np.array([2.5, 2.5])
    assert np.linalg.norm(f.gradient(far)) < 1e-4
    assert f.value(far) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(f.gradient([0.5, 0.0])) > 0.5


# -- the registry and bad arguments ------------------------------------------------------


def test_registry_builds_every_objective_with_a_consistent_description():
    for name, factory in OBJECTIVES.items():
        obj = factory()
        assert obj.name == name
        assert obj.dim in (1, 2)
        assert obj.formula and "$" not in obj.formula
        assert len(obj.domain) == obj.dim
        assert objectives.get(name).name == name
    assert {name for name in OBJECTIVES if OBJECTIVES[name]().dim == 1} == {
        "square", "x_cos", "cosh", "x_cos_pi", "empirical_risk", "cube", "tanh",
        "half_square", "cos_pi", "exp_half", "shifted_square",
    }


def test_get_passes_parameters():
    assert objectives.get("x_cos", c=2.0).params["c"] == 2.0
    assert objectives.get("rosenbrock", a=2.0).minimizer == (2.0, 4.0)
    assert objectives.get("quadratic", eigenvalues=(1, 4)).condition_number == 4.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: objectives.get("nope"), ValueError, "unknown objective 'nope'.*bowl"),
        (lambda: objectives.get("square", c=1.0), TypeError, "square.*unexpected.*c"),
        (lambda: objectives.get("x_cos", d=1.0), TypeError, "d; it takes c"),
        (lambda: objectives.x_cos(c=0), ValueError, "c must be nonzero"),
        (lambda: objectives.x_cos(c="1"), TypeError, "c must be a real number"),
        (lambda: objectives.cosh(c=math.inf), ValueError, "c must be finite"),
        (lambda: objectives.rosenbrock(b=0), ValueError, "b must be > 0"),
        (lambda: objectives.rosenbrock(a=True), TypeError, "a must be a real number"),
        (lambda: objectives.plateau(width=-1), ValueError, "width must be > 0"),
        (lambda: objectives.quadratic((1.0, 0.0)), ValueError, r"eigenvalues\[1\] must be > 0"),
        (lambda: objectives.quadratic((1.0,)), TypeError, "eigenvalues must be a pair"),
        (lambda: objectives.quadratic(angle=math.nan), ValueError, "angle must be finite"),
        (lambda: objectives.bowl().value([1.0]), ValueError, r"shape \(2,\).*got shape \(1,\)"),
        (lambda: objectives.bowl().gradient(np.zeros((2, 1))), ValueError, r"shape \(2, 1\)"),
        (lambda: objectives.square().hessian([1.0, 2.0]), ValueError, r"number or shape \(1,\)"),
        (lambda: objectives.square().value("1"), TypeError, "x must be real numbers"),
        (lambda: objectives.square().value(True), TypeError, "x must be a number"),
        (lambda: objectives.bowl().values(np.zeros(3)), ValueError, r"shape \(\.\.\., 2\)"),
        (lambda: objectives.square().value_grid(1.0, 2.0), TypeError, "2-D objectives"),
        (lambda: objectives.bowl().derivative(1.0), TypeError, "1-D objectives"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_objective_checks_its_own_description():
    parts = {"formula": "x", "expr": None, "grad_expr": None, "hess_expr": None}
    with pytest.raises(ValueError, match="dim must be 1 or 2"):
        Objective(name="bad", dim=3, domain=((0, 1),) * 3, **parts)
    with pytest.raises(ValueError, match="domain must hold 1"):
        Objective(name="bad", dim=1, domain=((1.0, 0.0),), **parts)
    with pytest.raises(ValueError, match="minimizer must have 1"):
        Objective(name="bad", dim=1, domain=((0.0, 1.0),), minimizer=(0.0, 0.0), **parts)


@pytest.mark.parametrize(("objective", "point", "kind"), [
    (objectives.bowl(), (0.0, 0.0), "minimum"),
    (objectives.saddle(), (0.0, 0.0), "saddle point"),
    (objectives.cube(), 0.0, "undecided: an eigenvalue is 0"),
    (objectives.cos_pi(), 1.0, "minimum"),
    (objectives.cos_pi(), 0.0, "maximum"),
])
def test_stationary_points_are_classified_by_hessian_eigenvalues(objective, point, kind):
    eigenvalues, found = objectives.classify_stationary_point(objective.hessian(point))
    assert found == kind
    assert eigenvalues.tolist() == sorted(np.linalg.eigvalsh(
        np.atleast_2d(objective.hessian(point))).tolist())


@pytest.mark.parametrize(("hessian", "kind"), [
    # Both signs decide a saddle even with a zero eigenvalue: f = x² - y² + z³ at 0 rises
    # along x and falls along y.
    (np.diag([2.0, -2.0, 0.0]), "saddle point"),
    (np.diag([0.0, 1.0, -3.0]), "saddle point"),
    # One sign and a zero: flat to second order, the test cannot decide (x² + y³ at 0).
    (np.diag([2.0, 0.0]), "undecided: an eigenvalue is 0"),
    (np.diag([-2.0, 0.0]), "undecided: an eigenvalue is 0"),
    (np.diag([-1.0, -4.0]), "maximum"),
])
def test_a_zero_eigenvalue_leaves_undecided_only_points_without_both_signs(hessian, kind):
    assert objectives.classify_stationary_point(hessian)[1] == kind
