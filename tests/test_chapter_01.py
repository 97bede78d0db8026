"""The quantitative claims of chapters/01_optimization_and_deep_learning.ipynb.

Expected values come from independent math: roots of the hand-written derivatives found by
bracketing (scipy's brentq), closed forms (1 − tanh², geometric sums, the chord's maximum),
published numbers (d2l's tanh'(4) = 0.0013), never from the notebook's own output. The last
test checks that the stored notebook prints the lines its prose quotes.
"""

import json
import math
import pathlib

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from course_lib import objectives, rules, trajectories

NOTEBOOK = (pathlib.Path(__file__).resolve().parents[1] / "chapters"
            / "01_optimization_and_deep_learning.ipynb")
PI = math.pi


def f_risk(x):
    return x * math.cos(PI * x)


def df_risk(x):
    return math.cos(PI * x) - PI * x * math.sin(PI * x)


def d2f_risk(x):
    return -2 * PI * math.sin(PI * x) - PI**2 * x * math.cos(PI * x)


def g_emp(x):
    return f_risk(x) + 0.2 * math.cos(5 * PI * x)


def dg_emp(x):
    return df_risk(x) - PI * math.sin(5 * PI * x)


# Stationary points by bracketing the derivative's sign change (brackets read off the plots).
RISK_MIN = brentq(df_risk, 1.0, 1.2, xtol=1e-14)
RISK_LOCAL_MIN = brentq(df_risk, -0.5, -0.1, xtol=1e-14)
RISK_LOCAL_MAX = brentq(df_risk, 0.1, 0.5, xtol=1e-14)
EMP_MIN = brentq(dg_emp, 0.95, 1.05, xtol=1e-14)
EMP_LEFT = brentq(dg_emp, 0.6, 0.7, xtol=1e-14)
EMP_RIGHT = brentq(dg_emp, 1.28, 1.36, xtol=1e-14)


# -- risk and empirical risk ----------------------------------------------------------------


def test_the_minima_of_risk_and_empirical_risk_differ():
    risk, emp = objectives.x_cos_pi(), objectives.empirical_risk()
    x_risk = trajectories.run("sgd", risk, 1.0, 50, lr=0.05).final[0]
    x_emp = trajectories.run("sgd", emp, 1.0, 50, lr=0.01).final[0]
    assert x_risk == pytest.approx(RISK_MIN, abs=1e-8)
    assert x_emp == pytest.approx(EMP_MIN, abs=1e-8)
    assert round(RISK_MIN, 4) == 1.0904 and round(f_risk(RISK_MIN), 4) == -1.0467
    assert round(EMP_MIN, 4) == 1.0170 and round(g_emp(EMP_MIN), 4) == -1.2085
    # "its true risk is worse by about 0.03"
    assert round(f_risk(EMP_MIN) - f_risk(RISK_MIN), 2) == 0.03


def test_the_empirical_risk_minimum_is_global_on_the_window_and_has_two_extra_dips():
    grid = np.linspace(0.5, 1.5, 200_001)
    values = objectives.empirical_risk().values(grid)
    assert grid[np.argmin(values)] == pytest.approx(EMP_MIN, abs=1e-5)
    assert round(EMP_LEFT, 2) == 0.65 and round(EMP_RIGHT, 2) == 1.32
    # the risk itself has no stationary point near either dip: its slope keeps one sign there
    for dip in (EMP_LEFT, EMP_RIGHT):
        near = np.linspace(dip - 0.05, dip + 0.05, 101)
        slopes = [df_risk(x) for x in near]
        assert all(s < 0 for s in slopes) or all(s > 0 for s in slopes)


def test_answer_4_gradient_descent_from_06_stops_in_the_left_dip():
    path = trajectories.run("sgd", objectives.empirical_risk(), 0.6, 100, lr=0.01)
    assert path.final[0] == pytest.approx(EMP_LEFT, abs=1e-8)
    assert round(EMP_LEFT, 3) == 0.652 and round(g_emp(EMP_LEFT), 3) == -0.437
    assert round(g_emp(EMP_MIN), 3) == -1.208


# -- local minima ---------------------------------------------------------------------------


def test_the_two_starts_reach_the_local_and_the_global_minimum():
    risk = objectives.x_cos_pi()
    left = trajectories.run("sgd", risk, -0.5, 60, lr=0.05).final[0]
    right = trajectories.run("sgd", risk, 1.5, 60, lr=0.05).final[0]
    assert left == pytest.approx(RISK_LOCAL_MIN, abs=1e-9)
    assert right == pytest.approx(RISK_MIN, abs=1e-9)
    assert round(RISK_LOCAL_MIN, 3) == -0.274 and round(f_risk(RISK_LOCAL_MIN), 3) == -0.179
    assert round(RISK_MIN, 3) == 1.090 and round(f_risk(RISK_MIN), 3) == -1.047
    assert d2f_risk(RISK_LOCAL_MIN) > 0 and d2f_risk(RISK_MIN) > 0
    # the printed f'(end) rounds to 0.0000 and the gradient is 0 to 1e-6
    for x in (left, right):
        assert abs(risk.derivative(x)) < 1e-6


def test_the_global_minimum_on_the_window_and_no_lowest_point_on_the_line():
    grid = np.linspace(-1.0, 2.0, 300_001)
    assert grid[np.argmin(objectives.x_cos_pi().values(grid))] == pytest.approx(RISK_MIN,
                                                                                abs=1e-4)
    for k in range(5):  # f(2k + 1) = -(2k + 1)
        assert objectives.x_cos_pi().value(2 * k + 1.0) == pytest.approx(-(2 * k + 1))


# -- saddle points --------------------------------------------------------------------------


def test_gradient_descent_creeps_towards_the_saddle_of_the_cube():
    path = trajectories.run("sgd", objectives.cube(), 1.0, 50, lr=0.1)
    x = path.points[:, 0]
    np.testing.assert_allclose(x[1:], x[:-1] - 0.3 * x[:-1] ** 2, rtol=1e-15)
    increments = 1 / x[1:] - 1 / x[:-1]          # = 0.3 / (1 - 0.3 x), in (0.3, 0.43]
    assert np.all(increments > 0.3) and np.all(increments <= 0.3 / 0.7 + 1e-12)
    assert 1 / (1 + 0.3 / 0.7 * 50) <= x[50] <= 1 / (1 + 0.3 * 50)
    assert round(x[50], 2) == 0.06  # "roughly 1/(0.3 t)" = 0.067 at t = 50


def test_gradient_descent_slides_away_from_the_left_of_the_cube():
    path = trajectories.run("sgd", objectives.cube(), -0.5, 6, lr=0.1)
    x = path.points[:, 0]
    assert np.all(np.diff(x) < 0) and np.all(np.diff(np.diff(x)) < 0)  # faster and faster
    assert x[-1] < -1.5


def test_hessian_eigenvalues_classify_the_stationary_points():
    np.testing.assert_allclose(np.linalg.eigvalsh(objectives.saddle().hessian((0.0, 0.0))),
                               [-2.0, 2.0])
    np.testing.assert_allclose(np.linalg.eigvalsh(objectives.bowl().hessian((0.0, 0.0))),
                               [2.0, 4.0])
    assert objectives.cube().second_derivative(0.0) == 0.0
    assert objectives.cube().derivative(0.0) == 0.0
    # Newton from 0.5 finds the local maximum, the mirror image of the local minimum (f is odd)
    x_max = trajectories.run(rules.Newton(), objectives.x_cos_pi(), 0.5, 10).final[0]
    assert x_max == pytest.approx(RISK_LOCAL_MAX, abs=1e-12)
    assert RISK_LOCAL_MAX == pytest.approx(-RISK_LOCAL_MIN, abs=1e-12)
    assert d2f_risk(RISK_LOCAL_MAX) < 0
    assert round(d2f_risk(RISK_LOCAL_MIN), 3) == 6.526


def test_gradient_descent_at_the_2d_saddle_escapes_only_off_the_axis():
    saddle = objectives.saddle()
    on_axis = trajectories.run("sgd", saddle, (1.0, 0.0), 25, lr=0.1)
    off_axis = trajectories.run("sgd", saddle, (1.0, 0.01), 25, lr=0.1)
    np.testing.assert_allclose(off_axis.final, [0.8**25, 0.01 * 1.2**25], rtol=1e-12)
    assert on_axis.final[1] == 0.0 and on_axis.final[0] == pytest.approx(0.8**25)
    assert f"{0.8**25:f}" == "0.003778" and f"{0.01 * 1.2**25:f}" == "0.953962"


def test_exact_gradient_descent_on_the_axis_converges_into_the_saddle():
    path = trajectories.run("sgd", objectives.saddle(), (1.0, 0.0), 60, lr=0.1)
    assert np.all(path.points[:, 1] == 0.0)              # x2 never moves off the axis
    assert np.linalg.norm(path.final) == pytest.approx(0.8**60, rel=1e-12)  # 1.5e-06
    assert f"{0.8**60:.1e}" == "1.5e-06"


def test_gradient_noise_kicks_every_seed_off_the_saddle_near_the_predicted_step():
    # x2 <- 1.2 x2 - lr sigma xi: std(x2_t) = 0.001 sqrt(sum 1.44^j) ~ 0.001 1.2^t / sqrt(0.44)
    predicted = math.log(math.sqrt(0.44) / 0.001) / math.log(1.2)
    assert round(predicted) == 36
    escapes = []
    for seed in range(20):
        path = trajectories.run("sgd", objectives.saddle(), (1.0, 0.0), 60, lr=0.1,
                                noise=0.01, seed=seed)
        far = np.flatnonzero(np.abs(path.points[:, 1]) > 1.0)
        assert far.size, seed                             # every noisy run leaves
        escapes.append(far[0])
    assert abs(np.median(escapes) - predicted) < 6


def test_random_symmetric_matrices_are_rarely_positive_definite():
    """The chapter's estimates (a million samples per n) against exact values and an
    independent, larger sample."""
    from course_lib import random_hessians

    chapter = {n: random_hessians.minimum_fraction(n, 1_000_000, seed=n) for n in range(1, 6)}
    p2 = (2 - math.sqrt(2)) / 4                           # 2x2: an angular integral, by hand
    assert abs(chapter[2].fraction - p2) < 4 * chapter[2].standard_error
    assert f"{p2:.3g}" == "0.146"
    assert abs(chapter[1].fraction - 0.5) < 4 * chapter[1].standard_error
    for n in range(2, 6):       # "falls faster than 2^-n": the whole interval lies below it
        assert chapter[n].interval[1] < 0.5**n
    assert all(chapter[n].fraction > chapter[n + 1].fraction for n in range(1, 5))
    independent = random_hessians.minimum_fraction(5, 4_000_000, seed=2024)
    assert 5000 < 1 / independent.fraction < 10_000      # "about one sample in seven thousand"
    assert 100 <= 1_000_000 * independent.fraction <= 200  # "only about 150 of them"
    assert 100 <= chapter[5].minima <= 200


# -- vanishing gradients --------------------------------------------------------------------


def test_tanh_derivative_at_4_is_d2ls_00013():
    tanh = objectives.tanh()
    assert round(tanh.derivative(4.0), 4) == 0.0013               # d2l prints 0.0013
    assert tanh.derivative(4.0) == pytest.approx(1 - math.tanh(4.0) ** 2, rel=1e-14)
    assert round(4 * math.exp(-8.0), 4) == 0.0013
    x = torch.tensor(4.0, dtype=torch.float64, requires_grad=True)
    tanh.value(x).backward()
    assert x.grad.item() == pytest.approx(1 - math.tanh(4.0) ** 2, rel=1e-14)
    table = {0: 1.0, 1: 0.42, 2: 0.0707, 3: 0.0099, 4: 0.0013}
    for x0, printed in table.items():
        assert round(1 - math.tanh(x0) ** 2, 4) == printed
    assert round(1 / (1 - math.tanh(4.0) ** 2), -1) == 750  # "roughly a factor 750"


def test_ten_steps_from_4_barely_move_and_from_0_move_more_than_2():
    tanh = objectives.tanh()
    from_4 = trajectories.run("sgd", tanh, 4.0, 10, lr=1.0).final[0]
    from_0 = trajectories.run("sgd", tanh, 0.0, 10, lr=1.0).final[0]
    # each step from near 4 moves by tanh'(x) with x in [3.98, 4]: between 10 f'(4) and 10 f'(3.98)
    moved = 4.0 - from_4
    assert 10 * (1 - math.tanh(4.0) ** 2) < moved < 10 * (1 - math.tanh(3.98) ** 2)
    assert round(moved, 3) == 0.014                          # "about 0.014"
    assert 0.0 - from_0 > 2


# -- convexity ------------------------------------------------------------------------------


def test_chord_gaps_and_second_derivatives():
    a, b = -1.5, 1.0
    lam = np.linspace(0.0, 1.0, 1001)
    x = lam * a + (1 - lam) * b
    half = objectives.half_square()
    gap = half.values(x) - (lam * half.value(a) + (1 - lam) * half.value(b))
    # by hand: f(λa + (1 − λ)b) − chord = −½ λ(1 − λ)(a − b)² ≤ 0
    np.testing.assert_allclose(gap, -0.5 * lam * (1 - lam) * (a - b) ** 2, atol=1e-14)
    # cos(πx) − chord, chord from (−1.5, 0) to (1, −1): the maximum where π sin(πx) = 0.4
    x_star = math.asin(0.4 / PI) / PI
    by_hand = math.cos(PI * x_star) + (x_star + 1.5) / 2.5
    cos = objectives.cos_pi()
    gap_cos = np.max(cos.values(x) - (lam * cos.value(a) + (1 - lam) * cos.value(b)))
    assert gap_cos == pytest.approx(by_hand, abs=1e-5)
    assert round(by_hand, 4) == 1.6081
    ex = objectives.exp_half()
    assert np.max(ex.values(x) - (lam * ex.value(a) + (1 - lam) * ex.value(b))) <= 1e-15
    grid = np.linspace(-2.0, 2.0, 4001)
    assert np.min(half.second_derivative(grid)) == 1.0
    assert np.min(cos.second_derivative(grid)) == pytest.approx(-PI**2)
    assert np.min(ex.second_derivative(grid)) == pytest.approx(math.exp(-1) / 4)
    assert round(math.exp(-1) / 4, 4) == 0.0920 and round(-PI**2, 4) == -9.8696


def test_jensen_on_101_points_by_closed_forms():
    n, a, h = 101, -1.5, 0.025
    points = np.linspace(-1.5, 1.0, n)
    mean = -0.25
    variance = h**2 * (n**2 - 1) / 12                     # of n evenly spaced points
    e_half = 0.5 * (variance + mean**2)
    z = complex(math.cos(PI * h), math.sin(PI * h))          # sum of cos(π(a + kh)): geometric
    e_cos = (complex(math.cos(PI * a), math.sin(PI * a)) * (1 - z**n) / (1 - z)).real / n
    r = math.exp(h / 2)
    e_exp = math.exp(a / 2) * (1 - r**n) / (1 - r) / n
    examples = [(objectives.half_square(), e_half, 0.5 * mean**2),
                (objectives.cos_pi(), e_cos, math.cos(PI * mean)),
                (objectives.exp_half(), e_exp, math.exp(mean / 2))]
    for f, expected_mean, f_of_mean in examples:
        assert f.values(points).mean() == pytest.approx(expected_mean, rel=1e-12, abs=1e-14)
        assert f.value(points.mean()) == pytest.approx(f_of_mean, rel=1e-12)
    assert round(e_half, 4) == 0.2969 and round(e_cos, 4) == -0.1309
    assert round(e_exp, 4) == 0.9423
    assert e_half >= 0.5 * mean**2 and e_exp >= math.exp(mean / 2)
    assert e_cos < math.cos(PI * mean)  # Jensen fails for the non-convex cos(πx)


def test_walk_from_the_local_minimum_climbs_by_twice_its_depth():
    risk = objectives.x_cos_pi()
    segment = np.linspace(RISK_LOCAL_MIN, RISK_MIN, 2001)
    rise = risk.values(segment).max() - f_risk(RISK_LOCAL_MIN)
    # the highest point on the way is the local maximum, f(x_max) = −f(x_min) (f is odd)
    assert rise == pytest.approx(-2 * f_risk(RISK_LOCAL_MIN), abs=1e-6)
    assert round(-2 * f_risk(RISK_LOCAL_MIN), 3) == 0.357
    square = objectives.shifted_square()
    walk = square.values(np.linspace(-1.5, 1.0, 2001))
    assert np.all(np.diff(walk) <= 0)


# -- the stored notebook prints what the prose quotes ---------------------------------------


def test_notebook_prints_the_quoted_lines():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code"
                   for o in c["outputs"])
    for line in ["minimum of the risk f:             x = 1.0904,  f(x) = -1.0467",
                 "minimum of the empirical risk g:   x = 1.0170,  g(x) = -1.2085",
                 "tanh'(4) = 0.0013",
                 "by torch autograd: 0.0013",
                 "start (1, 0.01): step 25, x1: 0.003778, x2: 0.953962",
                 "gradient descent: x2 stays 0 for 60 steps",
                 "with noise 0.01: 20 of 20 seeds leave",
                 "exact for n = 2: (2 - sqrt 2) / 4 = 0.146",
                 "-> saddle point",
                 "E[f(X)] >= f(E[X]): False"]:
        assert line in text, line
    sources = "".join("".join(c["source"]) for c in cells)
    assert "from a local minimum to a lower point" not in sources  # the (x - 1)² walk is not
