"""course_lib.line_search: step sizes checked by hand, Armijo's condition, the exact step, and
diagonal preconditioning, with the errors for bad arguments."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from course_lib import line_search, objectives, trajectories
from course_lib.line_search import (
    DiagonalNewton,
    backtracking,
    exact_quadratic_step,
    preconditioned_hessian,
    sufficient_decrease,
)

STRETCHED = objectives.stretched_bowl()      # 0.1 x1² + 2 x2², Hessian diag(0.2, 4)
X0 = np.array([-5.0, -2.0])
G0 = np.array([-1.0, -8.0])                  # its gradient at X0, by hand


class Wall:
    """f(x) = x² for |x| < 1 and nan beyond: a step that leaves the domain must be rejected."""

    dim = 1

    @staticmethod
    def value(x):
        x = float(np.asarray(x).reshape(-1)[0])
        return x * x if abs(x) < 1 else math.nan

    @staticmethod
    def gradient(x):
        return np.array([2.0 * float(np.asarray(x).reshape(-1)[0])])


# -- backtracking ---------------------------------------------------------------------------


def test_backtracking_on_the_square_by_hand():
    # f = x², x = 10, d = -20: α = 1 gives x = -10, f = 100 > 100 - 1e-4 * 400: rejected;
    # α = 0.5 gives x = 0, f = 0: accepted.
    assert backtracking(objectives.square(), 10.0, -20.0) == 0.5
    # with lr0 = 0.8: x = 10 - 16 = -6, f = 36 <= 100 - 0.032: accepted at once
    assert backtracking(objectives.square(), 10.0, -20.0, lr0=0.8) == 0.8


def test_backtracking_on_the_stretched_bowl_by_hand():
    np.testing.assert_array_equal(STRETCHED.gradient(X0), G0)
    # α = 1: (-4, 6), f = 1.6 + 72 = 73.6 > 10.5 - 1e-4 * 65; α = 0.5: (-4.5, 2), f = 10.025
    assert backtracking(STRETCHED, X0, -G0) == 0.5
    # c = 0.5 asks for f <= 10.5 - 0.5 α 65: 0.5 fails (10.025 > -5.75); α = 0.25 gives
    # (-4.75, 0), f = 2.25625 <= 10.5 - 8.125 = 2.375
    assert backtracking(STRETCHED, X0, -G0, c=0.5) == 0.25
    # shrink 0.3: α = 1 fails, 0.3 gives (-4.7, 0.4): f = 2.209 + 0.32 = 2.529 <= 10.498
    assert backtracking(STRETCHED, X0, -G0, shrink=0.3) == pytest.approx(0.3)


@pytest.mark.parametrize("c", [1e-4, 0.1, 0.5, 0.9])
@pytest.mark.parametrize("shrink", [0.1, 0.5, 0.8])
def test_backtracking_returns_the_first_step_that_passes_armijo(c, shrink):
    f = objectives.rosenbrock()
    for x in ([-1.2, 1.0], [0.0, 0.0], [1.5, 2.0]):
        d = -f.gradient(x)
        alpha = backtracking(f, x, d, lr0=1.0, shrink=shrink, c=c)
        slope = f.gradient(x) @ d
        assert f.value(np.array(x) + alpha * d) <= f.value(x) + c * alpha * slope
        assert sufficient_decrease(f, x, d, alpha, c)
        k = round(math.log(alpha) / math.log(shrink))
        assert alpha == pytest.approx(shrink**k, rel=1e-12)
        # every larger step tried before it failed the test
        for j in range(k):
            assert not sufficient_decrease(f, x, d, shrink**j, c)


def test_backtracking_treats_nan_as_failure():
    alpha = backtracking(Wall(), 0.5, -1.0, lr0=4.0, shrink=0.5)
    # α = 4, 2 leave the domain (nan), α = 1 gives x = -0.5 with f = 0.25 > 0.25 - 1e-4:
    # rejected; α = 0.5 gives x = 0: accepted
    assert alpha == 0.5
    assert not sufficient_decrease(Wall(), 0.5, -1.0, 4.0)


def test_backtracking_errors():
    square = objectives.square()
    with pytest.raises(ValueError, match="downhill"):
        backtracking(square, 10.0, 20.0)
    with pytest.raises(ValueError, match="downhill"):
        backtracking(square, 0.0, -1.0)            # zero slope
    with pytest.raises(ValueError, match="lr0"):
        backtracking(square, 10.0, -20.0, lr0=0.0)
    with pytest.raises(ValueError, match="lr0"):
        backtracking(square, 10.0, -20.0, lr0=math.inf)
    with pytest.raises(TypeError, match="lr0"):
        backtracking(square, 10.0, -20.0, lr0="1")
    for shrink in (0.0, 1.0, -0.5, 2.0):
        with pytest.raises(ValueError, match="shrink"):
            backtracking(square, 10.0, -20.0, shrink=shrink)
    for c in (0.0, 1.0):
        with pytest.raises(ValueError, match="c must"):
            backtracking(square, 10.0, -20.0, c=c)
    with pytest.raises(ValueError, match="max_trials"):
        backtracking(square, 10.0, -20.0, max_trials=0)
    with pytest.raises(ValueError, match="shape"):
        backtracking(STRETCHED, X0, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        backtracking(square, math.nan, -1.0)
    with pytest.raises(TypeError, match="x must"):
        backtracking(square, True, -1.0)
    with pytest.raises(RuntimeError, match="Armijo"):
        backtracking(square, 10.0, -20.0, lr0=100.0, max_trials=3)   # 100, 50, 25 all fail


def test_sufficient_decrease_errors():
    with pytest.raises(ValueError, match="step"):
        sufficient_decrease(objectives.square(), 1.0, -1.0, 0.0)
    with pytest.raises(ValueError, match="c must"):
        sufficient_decrease(objectives.square(), 1.0, -1.0, 0.1, c=1.5)


# -- the exact step -------------------------------------------------------------------------


def test_exact_step_by_hand():
    # stretched bowl at (-5, -2): gᵀg = 65, gᵀHg = 0.2 + 4 * 64 = 256.2
    alpha = exact_quadratic_step(STRETCHED.hessian(X0), G0, -G0)
    assert alpha == pytest.approx(65 / 256.2, rel=1e-15)
    # a direction other than -g: d = (1, 0): α = -gᵀd / dᵀHd = 1 / 0.2 = 5 (x1 goes to 0)
    assert exact_quadratic_step(STRETCHED.hessian(X0), G0, [1.0, 0.0]) == pytest.approx(5.0)
    assert exact_quadratic_step(2.0, [4.0], [-1.0]) == 2.0    # f = x², x = 2: to 0


@pytest.mark.parametrize("angle", [0.0, 0.4, 2.0])
def test_exact_step_minimises_the_quadratic_along_the_direction(angle):
    f = objectives.quadratic((0.5, 30.0), angle=angle)
    rng = np.random.default_rng(7)
    for _ in range(5):
        x, d = rng.normal(size=2) * 3, rng.normal(size=2)
        g = f.gradient(x)
        if g @ d > 0:
            d = -d
        alpha = exact_quadratic_step(f.hessian(x), g, d)
        best = minimize_scalar(lambda a, x=x, d=d: f.value(x + a * d), bracket=(0.0, 1e-3),
                               tol=1e-12)
        assert alpha == pytest.approx(best.x, rel=1e-6, abs=1e-9)
        # at the minimiser the new gradient is orthogonal to the direction
        assert f.gradient(x + alpha * d) @ d == pytest.approx(0.0, abs=1e-10 * np.abs(g @ d))


def test_exact_step_errors():
    with pytest.raises(ValueError, match="curvature"):
        exact_quadratic_step([[1.0, 0.0], [0.0, -1.0]], [0.0, 1.0], [0.0, -1.0])
    with pytest.raises(ValueError, match="curvature"):
        exact_quadratic_step([[1.0, 0.0], [0.0, 0.0]], [0.0, 1.0], [0.0, -1.0])
    with pytest.raises(ValueError, match="shape"):
        exact_quadratic_step([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="hessian must have shape"):
        exact_quadratic_step([[1.0, 0.0, 0.0]], [1.0, 1.0], [-1.0, -1.0])
    with pytest.raises(ValueError, match="hessian must be finite"):
        exact_quadratic_step([[math.inf, 0.0], [0.0, 1.0]], [1.0, 1.0], [-1.0, -1.0])


# -- the runner -----------------------------------------------------------------------------


def test_run_exact_first_step_by_hand_and_trajectory_fields():
    path = line_search.run(objectives.bowl(), (-5.0, -2.0), 1, method="exact")
    # g = (-10, -8): α = 164 / (2 * 100 + 4 * 64) = 164 / 456
    assert path.learning_rates[0] == pytest.approx(164 / 456, rel=1e-15)
    np.testing.assert_allclose(path.final, [-5 + 10 * 164 / 456, -2 + 8 * 164 / 456], rtol=1e-15)
    assert isinstance(path, trajectories.Trajectory)
    assert path.label == "exact line search" and path.steps == 1


def test_run_exact_on_a_2d_quadratic_shrinks_f_by_a_constant_factor():
    # 2-D steepest descent with exact steps: f ratio 1 - (gᵀg)² / (gᵀHg · gᵀH⁻¹g), the same
    # at every step; from (5, 0.25) ∝ (1/λ1, 1/λ2) it is ((κ - 1)/(κ + 1))²
    for start in [(-5.0, -2.0), (-5.0, -0.25)]:
        path = line_search.run(STRETCHED, start, 12, method="exact")
        g = STRETCHED.gradient(start)
        h = STRETCHED.hessian(start)
        expected = 1 - (g @ g) ** 2 / ((g @ h @ g) * (g @ np.linalg.solve(h, g)))
        np.testing.assert_allclose(path.values[1:] / path.values[:-1], expected, rtol=1e-8)
    assert expected == pytest.approx((19 / 21) ** 2, rel=1e-12)


def test_run_backtracking_steps_pass_armijo_and_decrease_f():
    f = objectives.rosenbrock()
    path = line_search.run(f, (-1.2, 1.0), 40, lr0=1.0, shrink=0.5)
    assert path.label == "backtracking, lr0=1"
    assert np.all(np.diff(path.values) < 0)
    for x, alpha in zip(path.points[:-1], path.learning_rates, strict=True):
        assert sufficient_decrease(f, x, -f.gradient(x), alpha)


def test_run_stays_at_a_stationary_point():
    path = line_search.run(objectives.bowl(), (0.0, 0.0), 3)
    np.testing.assert_array_equal(path.points, np.zeros((4, 2)))
    np.testing.assert_array_equal(path.learning_rates, [0.0, 0.0, 0.0])
    one_d = line_search.run(objectives.square(), 10.0, 2, label="mine")
    assert one_d.points.shape == (3, 1) and one_d.label == "mine"
    assert one_d.points[1, 0] == 0.0                 # α = 0.5 lands on the minimum


def test_run_errors():
    with pytest.raises(ValueError, match="method"):
        line_search.run(objectives.bowl(), (1.0, 1.0), 3, method="golden")
    with pytest.raises(ValueError, match="steps"):
        line_search.run(objectives.bowl(), (1.0, 1.0), -1)
    with pytest.raises(ValueError, match="steps"):
        line_search.run(objectives.bowl(), (1.0, 1.0), 2.0)
    with pytest.raises(ValueError, match="coordinate"):
        line_search.run(objectives.bowl(), (1.0, 1.0, 1.0), 2)
    with pytest.raises(ValueError, match="shrink"):
        line_search.run(objectives.bowl(), (1.0, 1.0), 2, shrink=1.0)
    with pytest.raises(ValueError, match="curvature"):
        line_search.run(objectives.saddle(), (0.0, 1.0), 1, method="exact")


# -- diagonal preconditioning ---------------------------------------------------------------


def test_preconditioned_hessian_by_hand():
    np.testing.assert_array_equal(preconditioned_hessian([[0.2, 0.0], [0.0, 4.0]]), np.eye(2))
    # [[4, 2], [2, 9]]: off-diagonal 2 / sqrt(4 * 9) = 1/3
    np.testing.assert_allclose(preconditioned_hessian([[4.0, 2.0], [2.0, 9.0]]),
                               [[1.0, 1 / 3], [1 / 3, 1.0]], rtol=1e-15)
    rotated = objectives.quadratic((0.2, 4.0), angle=math.pi / 4)
    after = preconditioned_hessian(rotated.matrix)
    np.testing.assert_allclose(after, rotated.matrix / 2.1, rtol=1e-14)
    assert np.linalg.cond(after) == pytest.approx(20.0)


def test_preconditioned_hessian_errors():
    with pytest.raises(ValueError, match="square"):
        preconditioned_hessian([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="square"):
        preconditioned_hessian([1.0, 2.0])
    with pytest.raises(ValueError, match="diagonal"):
        preconditioned_hessian([[1.0, 0.0], [0.0, -1.0]])


def test_diagonal_newton_steps_by_hand():
    path = trajectories.run(DiagonalNewton(), STRETCHED, (-5.0, -2.0), 1)
    np.testing.assert_array_equal(path.final, [0.0, 0.0])    # one step on a diagonal Hessian
    half = trajectories.run(DiagonalNewton(lr=0.5), STRETCHED, (-5.0, -2.0), 10)
    np.testing.assert_allclose(half.points, np.outer(0.5 ** np.arange(11), [-5.0, -2.0]),
                               rtol=1e-15)
    one_d = trajectories.run(DiagonalNewton(), objectives.cosh(), 10.0, 3)
    newton = trajectories.run("newton", objectives.cosh(), 10.0, 3)
    np.testing.assert_allclose(one_d.points, newton.points, rtol=1e-15)   # 1-D: Newton itself


def test_diagonal_newton_on_a_rotated_bowl_is_rescaled_gradient_descent():
    rotated = objectives.quadratic((0.2, 4.0), angle=math.pi / 4)
    gd = trajectories.run("sgd", rotated, (-5.0, -2.0), 20, lr=0.4)
    pre = trajectories.run(DiagonalNewton(lr=0.84), rotated, (-5.0, -2.0), 20)
    np.testing.assert_allclose(pre.points, gd.points, rtol=1e-12, atol=1e-15)


def test_diagonal_newton_on_tensors_and_scalars():
    rule = DiagonalNewton(lr=0.5)
    x = torch.tensor([-5.0, -2.0], dtype=torch.float64)
    rule.step(x, torch.tensor([-1.0, -8.0], dtype=torch.float64), rule.init(x),
              hessian=torch.diag(torch.tensor([0.2, 4.0], dtype=torch.float64)))
    torch.testing.assert_close(x, torch.tensor([-2.5, -1.0], dtype=torch.float64))
    y = np.array([3.0])
    rule.step(y, np.array([6.0]), rule.init(y), hessian=2.0)
    np.testing.assert_array_equal(y, [1.5])


def test_diagonal_newton_errors_and_hyperparameters():
    rule = DiagonalNewton()
    assert rule.hyperparams["lr"] == 1.0 and rule.needs_hessian
    assert rule.with_hyperparams(lr=0.3).hyperparams["lr"] == 0.3
    with pytest.raises(ValueError, match="learning rate"):
        DiagonalNewton(lr=-1.0)
    with pytest.raises(TypeError, match="unexpected"):
        DiagonalNewton(momentum=0.9)
    x = np.array([1.0, 1.0])
    with pytest.raises(TypeError, match="Hessian"):
        rule.step(x, x, rule.init(x))
    with pytest.raises(ValueError, match="positive Hessian diagonal"):
        rule.step(x, x, rule.init(x), hessian=np.diag([1.0, -2.0]))
    with pytest.raises(ValueError, match="positive Hessian diagonal"):
        trajectories.run(DiagonalNewton(), objectives.saddle(), (1.0, 1.0), 1)
