"""The quantitative claims of chapters/02_gradient_descent.ipynb.

Expected values come from d2l's printed outputs (`epoch 10, x: 0.060466`, ...), from closed forms
worked out by hand (x_t = (1 − 2η)^t x_0, the Newton step tanh(cx)/c, the exact step gᵀg/gᵀHg,
the 2-D steepest-descent ratio 1 − (gᵀg)²/(gᵀHg · gᵀH⁻¹g)), and from stationary points found by
bracketing the hand-written derivative (scipy's brentq); never from the notebook's own output.
The last test checks that the stored notebook prints the lines its prose quotes.
"""

import json
import math
import pathlib

import numpy as np
import pytest
import torch
from scipy.optimize import brentq, minimize_scalar

from course_lib import line_search, objectives, optim, rules, trajectories

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "02_gradient_descent.ipynb"
C = 0.15 * math.pi


def printed(path, unit="epoch"):
    """The line d2l prints after the last step (its word, "epoch"; the course says "step")."""
    point = path.points[-1]
    if point.size == 1:
        return f"{unit} {path.steps}, x: {point[0]:f}"
    return f"{unit} {path.steps}, " + ", ".join(f"x{i + 1}: {v:f}" for i, v in enumerate(point))


def df_wavy(x):          # f = x cos(cx)
    return math.cos(C * x) - C * x * math.sin(C * x)


def d2f_wavy(x):
    return -2 * C * math.sin(C * x) - C * C * x * math.cos(C * x)


WAVY_LEFT_MIN = brentq(df_wavy, -3.0, -1.0, xtol=1e-14)
WAVY_HILL = brentq(df_wavy, 1.0, 3.0, xtol=1e-14)
WAVY_MIN = brentq(df_wavy, 6.0, 8.0, xtol=1e-14)
WAVY_MAX = brentq(df_wavy, 26.0, 28.0, xtol=1e-14)


# -- 1-D gradient descent on x² ---------------------------------------------------------------


@pytest.mark.parametrize(("lr", "d2l"), [(0.2, "epoch 10, x: 0.060466"),
                                         (0.05, "epoch 10, x: 3.486784"),
                                         (1.1, "epoch 10, x: 61.917364")])
def test_the_three_runs_print_d2ls_lines_and_follow_the_formula(lr, d2l):
    path = trajectories.run("sgd", objectives.square(), 10.0, 10, lr=lr)
    assert printed(path) == d2l
    np.testing.assert_allclose(path.points[:, 0], 10 * (1 - 2 * lr) ** np.arange(11), rtol=1e-12)


def test_taylor_step_lowers_x_squared_by_the_predicted_amount():
    f = objectives.square()
    for eta in (1e-3, 0.05, 0.2):
        x = 3.0
        new = x - eta * f.derivative(x)
        # f(x - η f') = f - η f'² + η² f'² (the O(η²) term is exact for x²)
        assert f.value(new) == pytest.approx(x * x - eta * 36 + eta**2 * 36, rel=1e-14)
        assert f.value(new) < f.value(x)


def test_stability_regimes_of_x_squared():
    square = objectives.square()
    assert trajectories.run("sgd", square, 10.0, 1, lr=0.5).final[0] == 0.0   # one step
    at_one = trajectories.run("sgd", square, 10.0, 6, lr=1.0).points[:, 0]
    np.testing.assert_array_equal(at_one, [10, -10, 10, -10, 10, -10, 10])   # forever ±10
    assert abs(trajectories.run("sgd", square, 10.0, 5000, lr=0.999).final[0]) < 1e-3
    assert abs(trajectories.run("sgd", square, 10.0, 5000, lr=1.001).final[0]) > 1e3
    diverging = np.abs(trajectories.run("sgd", square, 10.0, 10, lr=1.1).points[:, 0])
    np.testing.assert_allclose(diverging[1:] / diverging[:-1], 1.2, rtol=1e-12)
    assert round(10 * 0.9**10, 2) == 3.49 and round(10 * 1.2**10, 1) == 61.9
    # the table: lr 0.8 gives the same |x_10| as lr 0.2, since (-0.6)^10 = 0.6^10
    assert f"{10 * (-0.6) ** 10:f}" == "0.060466"


@pytest.mark.parametrize("lr", [0.2, 0.05, 1.1])
def test_torch_optim_sgd_gives_the_same_trajectory(lr):
    ours = trajectories.run("sgd", objectives.square(), 10.0, 10, lr=lr)
    theirs = trajectories.run_torch(lambda p: torch.optim.SGD(p, lr=lr), objectives.square(),
                                    10.0, 10)
    np.testing.assert_allclose(theirs.points, ours.points, rtol=1e-12, atol=0)
    assert printed(theirs) == printed(ours)
    bit_for_bit = trajectories.run_torch(lambda p: optim.SGD(p, lr=lr), objectives.square(),
                                         10.0, 10)
    np.testing.assert_array_equal(bit_for_bit.points, theirs.points)


# -- the non-convex x cos(cx) ---------------------------------------------------------------


def test_lr_2_jumps_over_the_hill_into_a_worse_valley():
    wavy = objectives.x_cos(C)
    path = trajectories.run("sgd", wavy, 10.0, 10, lr=2.0)
    assert printed(path) == "epoch 10, x: -1.528166"                      # d2l
    assert wavy.derivative(10.0) == pytest.approx(1.5 * math.pi, rel=1e-14)
    assert path.points[1, 0] == pytest.approx(10 - 3 * math.pi, rel=1e-14)
    assert round(10 - 3 * math.pi, 3) == 0.575
    assert round(WAVY_HILL, 2) == 1.83 and d2f_wavy(WAVY_HILL) < 0
    assert path.points[1, 0] < WAVY_HILL
    assert round(WAVY_MIN, 2) == 7.27 and round(WAVY_MIN * math.cos(C * WAVY_MIN), 2) == -6.98
    assert round(WAVY_LEFT_MIN, 2) == -1.83
    assert round(WAVY_LEFT_MIN * math.cos(C * WAVY_LEFT_MIN), 2) == -1.19
    stays = trajectories.run("sgd", wavy, 10.0, 10, lr=0.3)
    assert stays.final[0] == pytest.approx(WAVY_MIN, abs=1e-3)
    assert torch_matches(wavy, 10.0, 10, 2.0)


def test_lr_2_converges_slowly_to_the_left_minimum():
    wavy = objectives.x_cos(C)
    long = trajectories.run("sgd", wavy, 10.0, 500, lr=2.0)
    assert long.final[0] == pytest.approx(WAVY_LEFT_MIN, abs=1e-6)
    factor = 1 - 2 * d2f_wavy(WAVY_LEFT_MIN)
    assert round(factor, 3) == -0.958            # "close to -1": shrinks by about 4% per step
    # two steps at a time (the one-step ratios alternate around it while the error is large)
    errors = np.abs(long.points[200:212, 0] - WAVY_LEFT_MIN)
    np.testing.assert_allclose(errors[2:] / errors[:-2], factor**2, rtol=1e-3)


def torch_matches(objective, start, steps, lr):
    ours = trajectories.run("sgd", objective, start, steps, lr=lr)
    theirs = trajectories.run_torch(lambda p: torch.optim.SGD(p, lr=lr), objective, start, steps)
    return np.allclose(theirs.points, ours.points, rtol=1e-12, atol=1e-15)


# -- 2-D ------------------------------------------------------------------------------------


def test_2d_bowl_prints_d2ls_line_and_each_coordinate_shrinks_by_its_factor():
    bowl = objectives.bowl()
    path = trajectories.run("sgd", bowl, (-5.0, -2.0), 20, lr=0.1)
    assert printed(path) == "epoch 20, x1: -0.057646, x2: -0.000073"      # d2l
    t = np.arange(21)
    np.testing.assert_allclose(path.points, np.column_stack([-5 * 0.8**t, -2 * 0.6**t]),
                               rtol=1e-12)
    theirs = trajectories.run_torch(lambda p: torch.optim.SGD(p, lr=0.1), bowl, (-5.0, -2.0), 20)
    assert printed(theirs) == printed(path)
    # the steep x2 limits the learning rate to 2/4
    assert np.abs(trajectories.run("sgd", bowl, (-5.0, -2.0), 400, lr=0.49).final).max() < 1e-3
    assert np.abs(trajectories.run("sgd", bowl, (-5.0, -2.0), 400, lr=0.51).final[1]) > 1


# -- Newton ---------------------------------------------------------------------------------


def test_newton_finishes_a_quadratic_in_one_step_with_the_autograd_hessian():
    bowl = objectives.bowl()
    assert np.array_equal(trajectories.run(rules.Newton(), bowl, (-5.0, -2.0), 1).final, [0, 0])
    point = torch.tensor([-5.0, -2.0], dtype=torch.float64)
    np.testing.assert_array_equal(torch.autograd.functional.hessian(bowl.value, point).numpy(),
                                  [[2.0, 0.0], [0.0, 4.0]])


def test_newton_on_cosh_walks_by_2_then_converges_cubically_to_exactly_zero():
    path = trajectories.run(rules.Newton(), objectives.cosh(0.5), 10.0, 10)
    x = path.points[:, 0]
    # the step is tanh(cx)/c with c = 0.5, at most 1/c = 2
    np.testing.assert_allclose(x[1:], x[:-1] - np.tanh(0.5 * x[:-1]) / 0.5, rtol=1e-9,
                               atol=1e-20)
    assert x[1] == pytest.approx(10 - 2 * math.tanh(5.0), rel=1e-15)
    assert np.all(x[:-1] - x[1:] <= 2.0)
    # near 0: x - tanh(cx)/c = c²x³/3 - 2c⁴x⁵/15 + ...; c²/3 = 1/12
    assert x[7] / x[6] ** 3 == pytest.approx(1 / 12, rel=1e-3)
    assert round(x[6] / x[5] ** 3, 2) == round(1 / 12 - 2 * 0.5**4 * x[5] ** 2 / 15, 2)
    assert x[10] == 0.0 and printed(path) == "epoch 10, x: 0.000000"   # d2l: tensor(0.)


def test_newton_on_x_cos_undamped_climbs_to_a_maximum_and_damped_finds_the_minimum():
    wavy = objectives.x_cos(C)
    undamped = trajectories.run(rules.Newton(lr=1.0), wavy, 10.0, 10)
    damped = trajectories.run(rules.Newton(lr=0.5), wavy, 10.0, 10)
    assert printed(undamped) == "epoch 10, x: 26.834133"                  # d2l
    assert printed(damped) == "epoch 10, x: 7.269860"                     # d2l
    # by hand: at x = 10, f' = 1.5π and f'' = 2c = 0.3π, so the step is -5
    assert undamped.points[1, 0] == pytest.approx(5.0, rel=1e-14)
    assert damped.points[1, 0] == pytest.approx(7.5, rel=1e-14)
    # f''(5) = -2c sin(0.75π) - 5c² cos(0.75π) = √2 (2.5c² - c): tiny, so the step is about +20
    f2_at_5 = math.sqrt(2) * (2.5 * C * C - C)
    assert wavy.second_derivative(5.0) == pytest.approx(f2_at_5, rel=1e-12)
    assert round(f2_at_5, 2) == 0.12
    assert round(-df_wavy(5.0) / f2_at_5) == 20
    assert d2f_wavy(undamped.points[2, 0]) < 0
    # it converges to the local maximum; the damped run to the local minimum
    assert undamped.final[0] == pytest.approx(WAVY_MAX, abs=1e-9)
    assert round(d2f_wavy(WAVY_MAX), 1) == -6.0
    assert damped.final[0] == pytest.approx(WAVY_MIN, abs=1e-3)
    long = trajectories.run(rules.Newton(lr=0.5), wavy, 10.0, 60)
    assert long.final[0] == pytest.approx(WAVY_MIN, abs=1e-12)
    errors = np.abs(long.points[:, 0] - WAVY_MIN)
    np.testing.assert_allclose(errors[4:12] / errors[3:11], 0.5, atol=0.01)  # 1 - η


def test_damping_does_not_fix_negative_curvature():
    wavy = objectives.x_cos(C)
    assert d2f_wavy(25.0) < 0
    path = trajectories.run(rules.Newton(lr=0.5), wavy, 25.0, 30)
    assert path.final[0] == pytest.approx(WAVY_MAX, abs=1e-7)
    assert printed(path, "step") == f"step 30, x: {WAVY_MAX:f}" == "step 30, x: 26.834133"


# -- preconditioning ------------------------------------------------------------------------


def test_diagonal_preconditioning_makes_the_stretched_bowl_round():
    stretched = objectives.stretched_bowl()
    gd = trajectories.run("sgd", stretched, (-5.0, -2.0), 20, lr=0.4)
    t = np.arange(21)
    # x1 × (1 - 0.4 · 0.2) = 0.92, x2 × (1 - 0.4 · 4) = -0.6
    np.testing.assert_allclose(gd.points, np.column_stack([-5 * 0.92**t, -2 * (-0.6) ** t]),
                               rtol=1e-12)
    assert printed(gd, "step") == "step 20, x1: -0.943467, x2: -0.000073"
    assert torch_matches(stretched, (-5.0, -2.0), 20, 0.4)
    pre = trajectories.run(line_search.DiagonalNewton(lr=0.5), stretched, (-5.0, -2.0), 20)
    np.testing.assert_allclose(pre.points, np.column_stack([-5 * 0.5**t, -2 * 0.5**t]),
                               rtol=1e-14)
    assert printed(pre, "step") == "step 20, x1: -0.000005, x2: -0.000002"
    one = trajectories.run(line_search.DiagonalNewton(lr=1.0), stretched, (-5.0, -2.0), 1)
    np.testing.assert_array_equal(one.final, [0.0, 0.0])
    assert 1 - 0.2 * 0.5 == 0.9   # x1's best factor with η < 0.5
    assert np.linalg.cond(stretched.hessian((0, 0))) == pytest.approx(20.0)
    assert np.linalg.cond(line_search.preconditioned_hessian(stretched.hessian((0, 0)))) == 1.0


def test_diagonal_preconditioning_does_nothing_for_the_rotated_bowl():
    rotated = objectives.quadratic((0.2, 4.0), angle=math.pi / 4)
    hessian = rotated.hessian((0.0, 0.0))
    # R diag(0.2, 4) Rᵀ at 45°: diagonal (0.2 + 4)/2 = 2.1, off-diagonal (0.2 - 4)/2 = -1.9
    np.testing.assert_allclose(hessian, [[2.1, -1.9], [-1.9, 2.1]], rtol=1e-14)
    after = line_search.preconditioned_hessian(hessian)
    assert np.linalg.cond(after) == pytest.approx(20.0, rel=1e-12)
    gd = trajectories.run("sgd", rotated, (-5.0, -2.0), 20, lr=0.4)
    pre = trajectories.run(line_search.DiagonalNewton(lr=0.84), rotated, (-5.0, -2.0), 20)
    np.testing.assert_allclose(pre.points, gd.points, rtol=1e-12, atol=1e-15)
    newton = trajectories.run(rules.Newton(), rotated, (-5.0, -2.0), 1)
    np.testing.assert_allclose(newton.final, [0.0, 0.0], atol=1e-12)


# -- line search ----------------------------------------------------------------------------


def phi_by_hand(alpha):
    """f(x0 - α g0) on 0.1 x1² + 2 x2² with x0 = (-5, -2), g0 = (-1, -8)."""
    return 0.1 * (-5 + alpha) ** 2 + 2 * (-2 + 8 * alpha) ** 2


def test_the_first_line_search_by_hand():
    stretched = objectives.stretched_bowl()
    x0 = np.array([-5.0, -2.0])
    g0 = stretched.gradient(x0)
    assert phi_by_hand(1.0) == pytest.approx(73.6) and round(10.5 - 1e-4 * 65, 4) == 10.4935
    assert phi_by_hand(0.5) == pytest.approx(10.025) and round(10.5 - 0.5e-4 * 65, 4) == 10.4968
    assert line_search.backtracking(stretched, x0, -g0) == 0.5
    alpha = line_search.exact_quadratic_step(stretched.hessian(x0), g0, -g0)
    best = minimize_scalar(phi_by_hand, bounds=(0, 1), method="bounded",
                           options={"xatol": 1e-12})
    assert alpha == pytest.approx(best.x, abs=1e-8)
    assert alpha == pytest.approx(65 / 256.2, rel=1e-15)
    assert round(alpha, 4) == 0.2537 and round(phi_by_hand(alpha), 4) == 2.2545
    assert line_search.backtracking(stretched, x0, -g0, c=0.5) == 0.25


def test_backtracking_stalls_at_the_edge_of_stability():
    stretched = objectives.stretched_bowl()
    path = line_search.run(stretched, (-5.0, -2.0), 20)
    np.testing.assert_array_equal(path.learning_rates, 0.5)            # 0.5 = 2 / λmax
    np.testing.assert_array_equal(path.points[:, 1], -2.0 * (-1.0) ** np.arange(21))
    # f = 0.1 (5 · 0.9^t)² + 2 · 2²: it never gets below 8
    np.testing.assert_allclose(path.values, 0.1 * (5 * 0.9 ** np.arange(21)) ** 2 + 8,
                               rtol=1e-14)
    for x, alpha in zip(path.points[:-1], path.learning_rates, strict=True):
        assert line_search.sufficient_decrease(stretched, x, -stretched.gradient(x), alpha)


def test_exact_line_search_zigzags_at_right_angles_with_a_constant_ratio():
    stretched = objectives.stretched_bowl()
    path = line_search.run(stretched, (-5.0, -2.0), 20, method="exact")
    rates = path.learning_rates
    np.testing.assert_allclose(rates[0::2], 65 / 256.2, rtol=1e-9)   # alternating steps
    np.testing.assert_allclose(rates[1::2], rates[1], rtol=1e-9)
    assert round(rates[1], 3) == 3.869
    grads = np.array([stretched.gradient(p) for p in path.points[:6]])
    for a, b in zip(grads, grads[1:], strict=False):
        assert abs(a @ b) <= 1e-12 * np.linalg.norm(a) * np.linalg.norm(b)
    # 1 - (gᵀg)² / (gᵀHg · gᵀH⁻¹g) with g = (-1, -8), H = diag(0.2, 4): 1 - 65² / (256.2 · 21)
    ratio = 1 - 65**2 / (256.2 * 21)
    assert round(ratio, 4) == 0.2147
    np.testing.assert_allclose(path.values[1:] / path.values[:-1], ratio, rtol=1e-8)
    assert f"{10.5 * ratio**20:.2e}" == f"{path.values[-1]:.2e}" == "4.55e-13"
    fixed = trajectories.run("sgd", stretched, (-5.0, -2.0), 20, lr=0.4)
    by_hand = 0.1 * (5 * 0.92**20) ** 2 + 2 * (2 * 0.6**20) ** 2
    assert fixed.values[-1] == pytest.approx(by_hand, rel=1e-12)
    assert f"{by_hand:.2e}" == "8.90e-02"


def test_worst_start_exact_line_search_is_no_better_than_the_best_fixed_step():
    stretched = objectives.stretched_bowl()
    worst = (-5.0, -0.25)                     # ∝ (1/λ1, 1/λ2) = (5, 0.25)
    target = (19 / 21) ** 2                   # ((κ - 1)/(κ + 1))², κ = 20
    assert round(target, 4) == 0.8186
    exact = line_search.run(stretched, worst, 10, method="exact")
    np.testing.assert_allclose(exact.values[1:] / exact.values[:-1], target, rtol=1e-10)
    assert stretched.optimal_lr == pytest.approx(2 / 4.2)
    fixed = trajectories.run("sgd", stretched, worst, 10, lr=2 / 4.2)
    np.testing.assert_allclose(fixed.values[1:] / fixed.values[:-1], target, rtol=1e-10)
    # the best fixed step reaches that factor from any start
    other = trajectories.run("sgd", stretched, (3.0, 1.0), 10, lr=2 / 4.2)
    np.testing.assert_allclose(other.values[1:] / other.values[:-1], target, rtol=1e-10)


# -- the stored notebook prints what the prose quotes ---------------------------------------


def test_notebook_prints_the_quoted_lines():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code"
                   for o in c["outputs"])
    for line in ["epoch 10, x: 0.060466", "epoch 10, x: 3.486784", "epoch 10, x: 61.917364",
                 "epoch 10, x: -1.528166", "epoch 20, x1: -0.057646, x2: -0.000073",
                 "Newton, lr 1.0  epoch 10, x: 26.834133", "Newton, lr 0.5  epoch 10, x: 7.269860",
                 "torch.optim.SGD, lr 2  epoch 10, x: -1.528166",
                 "torch.optim.SGD:  epoch 20, x1: -0.057646, x2: -0.000073",
                 "x_10 == 0.0 exactly: True",
                 "torch.optim.SGD, lr 0.4           step 20, x1: -0.943467, x2: -0.000073",
                 "damped Newton from x0 = 25 (f'' = -3.26):  step 30, x: 26.834133",
                 "step 7, x: 0.000000",
                 "bit for bit: True", "κ after preconditioning = 1.0",
                 "κ after preconditioning = 20.0",
                 "every accepted step passes Armijo's test: True"]:
        assert line in text, line
    assert text.count("same trajectory as course_lib to 1e-12: True") == 3
    # d2l's word "epoch" only on the lines that reproduce d2l's printed output
    epoch_lines = [line for line in text.splitlines() if "epoch" in line]
    assert len(epoch_lines) == 12, epoch_lines


def test_chapter_ends_with_a_link_to_the_next_chapter_and_headings_have_no_latex():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    link = "[Next: 03 · Conditioning and the learning rate](03_conditioning.ipynb)"
    assert any(link in m for m in markdown[-3:])
    for m in markdown:
        for line in m.splitlines():
            if line.startswith("#"):
                assert "$" not in line, line
