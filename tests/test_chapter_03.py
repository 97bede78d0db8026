"""The quantitative claims of chapters/03_conditioning.ipynb, checked against hand-worked math.

Each test names the claim it checks. Expected values come from formulas worked out by hand
(the factors 1 − ηλᵢ raised to a power, logarithms of rates) or, for Deep Learning from
Scratch, from a plain transcription of that book's optimizer classes (dicts of floats, as in
its ``common/optimizer.py``), never from the notebook's own output.
"""

import math

import numpy as np
import pytest
import torch

from course_lib import conditioning, objectives, rules, trajectories

VALLEY = objectives.quadratic((1.0, 10.0), angle=math.pi / 6)
Z0 = np.array([-4.0, 1.5])
START = conditioning.rotate(Z0, math.pi / 6)


def distance_ratio_by_hand(lr, steps, z0=Z0, eigenvalues=(1.0, 10.0)):
    """‖z_k‖ / ‖z_0‖ with z_i,k = (1 − lr λ_i)^k z_i,0."""
    zk = [(1 - lr * lam) ** steps * z for lam, z in zip(eigenvalues, z0, strict=True)]
    return math.hypot(*zk) / math.hypot(*z0)


# -- section 1: one factor per eigendirection --------------------------------------------------


def test_eigencomponents_shrink_by_085_and_minus_05_at_lr_015():
    run = trajectories.run("sgd", VALLEY, START, steps=30, lr=0.15)
    z = conditioning.eigen_coordinates(VALLEY, run)
    np.testing.assert_allclose(z[1:, 0] / z[:-1, 0], 0.85, rtol=1e-10)
    # z2 falls to 1e-9 by step 30, where rounding (1e-16 of the start) shows in the ratio
    np.testing.assert_allclose(z[1:21, 1] / z[:20, 1], -0.5, rtol=1e-10)
    np.testing.assert_allclose(z[:, 1], 1.5 * (-0.5) ** np.arange(31), rtol=1e-6, atol=1e-15)
    # the printed table: z after 5 steps
    np.testing.assert_allclose(z[5], [-4 * 0.85**5, 1.5 * (-0.5) ** 5], rtol=1e-12)


def test_the_valley_matrix_has_the_stated_spectrum():
    np.testing.assert_allclose(np.linalg.eigvalsh(VALLEY.matrix), [1.0, 10.0])
    assert VALLEY.condition_number == 10.0


# -- section 2: the stability limit ------------------------------------------------------------


def test_stability_limit_is_02_below_converges_above_diverges():
    assert conditioning.stable_lr_limit(VALLEY.eigenvalues) == pytest.approx(2 / 10)
    below = trajectories.run("sgd", VALLEY, START, steps=300, lr=0.19)
    above = trajectories.run("sgd", VALLEY, START, steps=300, lr=0.21)
    start_distance = np.linalg.norm(START)
    assert np.linalg.norm(below.final) < 1e-12 * start_distance
    assert np.linalg.norm(above.final) > 1e10 * start_distance
    # f shrinks by 0.81 and grows by 1.21 per step in the long run
    assert below.values[-1] / below.values[-2] == pytest.approx(0.81, rel=1e-6)
    assert above.values[-1] / above.values[-2] == pytest.approx(1.21, rel=1e-6)


@pytest.mark.parametrize(("lr", "printed"), [(0.19, 0.005194), (0.21, 15.89)])
def test_the_printed_distance_ratios_after_40_steps(lr, printed):
    run = trajectories.run("sgd", VALLEY, START, steps=40, lr=lr)
    by_hand = distance_ratio_by_hand(lr, 40)
    assert np.linalg.norm(run.final) / np.linalg.norm(START) == pytest.approx(by_hand, rel=1e-10)
    assert by_hand == pytest.approx(printed, rel=1e-3)


# -- section 3: the best fixed step -------------------------------------------------------------


def test_best_step_is_2_over_11_with_rate_9_over_11():
    assert VALLEY.optimal_lr == pytest.approx(2 / 11)
    assert conditioning.gd_rate(VALLEY.optimal_lr, VALLEY.eigenvalues) == pytest.approx(9 / 11)
    assert conditioning.optimal_rate(VALLEY.condition_number) == pytest.approx(9 / 11)


def test_best_step_beats_the_nearby_steps_015_and_019():
    rates = {lr: conditioning.gd_rate(lr, VALLEY.eigenvalues) for lr in (0.15, 2 / 11, 0.19)}
    assert rates[0.15] == pytest.approx(0.85) and rates[0.19] == pytest.approx(0.9)
    assert rates[2 / 11] < min(rates[0.15], rates[0.19])
    ratios = {}
    for lr in rates:
        run = trajectories.run("sgd", VALLEY, START, steps=30, lr=lr)
        ratios[lr] = np.linalg.norm(run.final) / np.linalg.norm(START)
        assert ratios[lr] == pytest.approx(distance_ratio_by_hand(lr, 30), rel=1e-9)
    assert ratios[2 / 11] < min(ratios[0.15], ratios[0.19])
    # the printed values 7.145e-03, 2.429e-03, 1.498e-02
    assert [ratios[lr] for lr in (0.15, 2 / 11, 0.19)] == pytest.approx(
        [7.145e-3, 2.429e-3, 1.498e-2], rel=1e-3)


def test_a_start_on_an_eigenvector_is_solved_in_one_step_by_1_over_lambda():
    on_q2 = conditioning.rotate([0.0, 2.0], VALLEY.angle)
    run = trajectories.run("sgd", VALLEY, on_q2, steps=1, lr=1 / 10)
    assert np.linalg.norm(run.final) < 1e-14


# -- section 4: steps grow linearly with kappa --------------------------------------------------

#: ⌈ln(1e6) / ln((κ+1)/(κ−1))⌉ worked out by hand (ln 1e6 = 13.81551).
STEPS_BY_HAND = {2: 13, 10: 69, 100: 691, 1000: 6908}


@pytest.mark.parametrize("kappa", [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
def test_measured_steps_equal_the_prediction(kappa):
    q = objectives.quadratic((1.0, float(kappa)))
    predicted = conditioning.steps_to_tolerance(q.optimal_lr, q.eigenvalues, 1e-6)
    run = trajectories.run("sgd", q, (1.0, 1.0), steps=predicted + 5, lr=q.optimal_lr)
    assert conditioning.measured_steps(run, 1e-6) == predicted
    if kappa in STEPS_BY_HAND:
        assert predicted == STEPS_BY_HAND[kappa]
    if kappa == 1:
        assert predicted == 1
    else:  # close to (κ/2) ln(1/tol)
        assert predicted == pytest.approx(kappa / 2 * math.log(1e6), rel=0.1)


def test_steps_are_linear_in_kappa_and_1_over_lambda_max_needs_about_twice_as_many():
    def steps(kappa, lr):
        return conditioning.steps_to_tolerance(lr, (1.0, kappa), 1e-6)

    assert steps(1000.0, 2 / 1001) / steps(100.0, 2 / 101) == pytest.approx(10, rel=0.01)
    for kappa in (20.0, 100.0, 1000.0):
        # rate 1 − 1/κ: ln(1e6) / −ln(1 − 1/κ) ≈ κ ln(1e6)
        assert steps(kappa, 1 / kappa) / steps(kappa, 2 / (1 + kappa)) == pytest.approx(2, rel=0.05)


# -- section 5: rotation ------------------------------------------------------------------------


@pytest.mark.parametrize("angle", [math.pi / 12, math.pi / 6, math.pi / 4])
def test_gradient_descent_on_the_turned_valley_is_the_aligned_run_turned(angle):
    aligned = trajectories.run("sgd", objectives.quadratic((1.0, 10.0)), Z0, steps=50, lr=2 / 11)
    turned = trajectories.run("sgd", objectives.quadratic((1.0, 10.0), angle=angle),
                              conditioning.rotate(Z0, angle), steps=50, lr=2 / 11)
    back = np.array([conditioning.rotate(p, -angle) for p in turned.points])
    np.testing.assert_allclose(back, aligned.points, atol=1e-12)
    # distance after 50 steps: (9/11)^50 · ‖z0‖, printed as 0.000188
    assert np.linalg.norm(turned.final) == pytest.approx((9 / 11) ** 50 * math.hypot(*Z0),
                                                         rel=1e-9)
    assert (9 / 11) ** 50 * math.hypot(*Z0) == pytest.approx(0.000188, rel=3e-3)


def final_distance(rule, angle, eigenvalues=(1.0, 10.0), steps=50):
    bowl = objectives.quadratic(eigenvalues, angle=angle)
    return np.linalg.norm(trajectories.run(rule, bowl, conditioning.rotate(Z0, angle),
                                           steps=steps).final)


@pytest.mark.parametrize("rule", [rules.Adagrad(lr=1.0), rules.RMSprop(lr=0.1)])
def test_adagrad_and_rmsprop_end_30_to_170_times_closer_on_the_aligned_valley(rule):
    aligned = final_distance(rule, 0.0)
    for angle in (math.pi / 12, math.pi / 6, math.pi / 4):
        assert 30 < final_distance(rule, angle) / aligned < 170


def test_adam_depends_on_the_angle_but_not_monotonically():
    distances = [final_distance(rules.Adam(lr=0.3), a)
                 for a in (0.0, math.pi / 12, math.pi / 6, math.pi / 4)]
    assert max(distances) / min(distances) > 2
    assert distances[1] < distances[0] < distances[2]
    # it stays at a distance of the order of its learning rate, 0.3
    assert all(0.05 < d < 0.4 for d in distances)


def test_adagrad_on_an_aligned_valley_ignores_the_eigenvalues():
    mild = trajectories.run("adagrad", objectives.quadratic((1.0, 10.0)), Z0, steps=50, lr=1.0)
    harsh = trajectories.run("adagrad", objectives.quadratic((1.0, 1000.0)), Z0, steps=50, lr=1.0)
    gap = np.abs(mild.points - harsh.points).max()
    assert 0 < gap < 1e-10
    # while gradient descent at lr = 1/λ_max is left with 4 (1 − 1/κ)^50 along λ = 1
    for kappa, printed in ((10.0, 0.0206), (1000.0, 3.8048)):
        run = trajectories.run("sgd", objectives.quadratic((1.0, kappa)), Z0, steps=50,
                               lr=1 / kappa)
        assert np.linalg.norm(run.final) == pytest.approx(4 * (1 - 1 / kappa) ** 50, rel=1e-9)
        assert 4 * (1 - 1 / kappa) ** 50 == pytest.approx(printed, abs=6e-5)


# -- section 6: Deep Learning from Scratch -------------------------------------------------------


class BookSGD:
    def __init__(self, lr):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]


class BookMomentum:
    def __init__(self, lr, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = dict.fromkeys(params, 0.0)
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class BookAdaGrad:
    def __init__(self, lr):
        self.lr, self.h = lr, None

    def update(self, params, grads):
        if self.h is None:
            self.h = dict.fromkeys(params, 0.0)
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (math.sqrt(self.h[key]) + 1e-7)


class BookAdam:
    def __init__(self, lr, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2, self.iter, self.m, self.v = lr, beta1, beta2, 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = dict.fromkeys(params, 0.0), dict.fromkeys(params, 0.0)
        self.iter += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (math.sqrt(self.v[key]) + 1e-7)


def book_path(optimizer, steps=30):
    """The book's loop on f = x²/20 + y² from (−7, 2), keeping every point."""
    params = {"x": -7.0, "y": 2.0}
    points = [(params["x"], params["y"])]
    for _ in range(steps):
        grads = {"x": params["x"] / 10.0, "y": 2.0 * params["y"]}
        optimizer.update(params, grads)
        points.append((params["x"], params["y"]))
    return np.array(points)


BOOK = {
    "SGD": (BookSGD(0.95), rules.SGD(lr=0.95)),
    "Momentum": (BookMomentum(0.1), rules.KerasSGD(lr=0.1, momentum=0.9)),
    "AdaGrad": (BookAdaGrad(1.5), rules.Adagrad(lr=1.5, eps=1e-7)),
    "Adam": (BookAdam(0.3), rules.KerasAdam(lr=0.3, eps=1e-7)),
}


@pytest.mark.parametrize("name", list(BOOK))
def test_course_lib_rules_reproduce_the_books_optimizers(name):
    book, rule = BOOK[name]
    expected = book_path(type(book)(**{"lr": book.lr}))
    run = trajectories.run(rule, objectives.dlfs_bowl(), (-7.0, 2.0), steps=30)
    np.testing.assert_allclose(run.points, expected, rtol=1e-12, atol=1e-14)


def test_the_printed_final_points_of_the_comparison():
    printed = {"SGD": (-0.350393, 0.084782), "Momentum": (0.896414, 0.088086),
               "AdaGrad": (-0.120162, 0.0), "Adam": (0.136007, 0.318245)}
    for name, (book, _) in BOOK.items():
        final = book_path(type(book)(**{"lr": book.lr}))[-1]
        np.testing.assert_allclose(final, printed[name], atol=6e-7)


def test_sgd_095_is_just_below_the_limit_and_almost_the_best_step():
    f = objectives.dlfs_bowl()
    assert conditioning.stable_lr_limit(f.eigenvalues) == pytest.approx(1.0)
    assert f.optimal_lr == pytest.approx(2 / 2.1)
    assert abs(0.95 - f.optimal_lr) < 0.003
    assert conditioning.gd_rate(0.95, f.eigenvalues) == pytest.approx(0.905)
    assert conditioning.optimal_rate(f.condition_number) == pytest.approx(19 / 21)
    # the final point by hand
    run = trajectories.run("sgd", f, (-7.0, 2.0), steps=30, lr=0.95)
    np.testing.assert_allclose(run.final, [-7 * 0.905**30, 2 * 0.9**30], rtol=1e-12)


def test_turning_the_book_valley_changes_adagrad_and_adam_but_not_sgd_or_momentum():
    aligned = objectives.dlfs_bowl()
    turned = objectives.quadratic((0.1, 2.0), angle=math.pi / 4)
    start = conditioning.rotate((-7.0, 2.0), math.pi / 4)
    for name, (_, rule) in BOOK.items():
        d_aligned = np.linalg.norm(trajectories.run(rule, aligned, (-7.0, 2.0), steps=30).final)
        d_turned = np.linalg.norm(trajectories.run(rule, turned, start, steps=30).final)
        if name in ("SGD", "Momentum"):
            assert d_turned == pytest.approx(d_aligned, rel=1e-10)
        else:
            assert d_turned > 5 * d_aligned


def test_torch_conventions_same_for_sgd_and_momentum_close_for_adagrad_and_adam():
    makers = {
        "SGD": lambda p: torch.optim.SGD(p, lr=0.95),
        "Momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        "AdaGrad": lambda p: torch.optim.Adagrad(p, lr=1.5),
        "Adam": lambda p: torch.optim.Adam(p, lr=0.3),
    }
    for name, make in makers.items():
        book, _ = BOOK[name]
        expected = book_path(type(book)(**{"lr": book.lr}))
        gap = np.abs(trajectories.run_torch(make, objectives.dlfs_bowl(), (-7.0, 2.0),
                                            steps=30).points - expected).max()
        if name in ("SGD", "Momentum"):
            assert gap < 1e-12
        else:  # a real difference, but below 1e-5 on this problem
            assert 1e-9 < gap < 1e-5


# -- the answers of "Check your understanding" ---------------------------------------------------


def test_answer_1_eigenvalues_2_and_50():
    q = objectives.quadratic((2.0, 50.0))
    assert conditioning.stable_lr_limit(q.eigenvalues) == pytest.approx(0.04)
    assert q.optimal_lr == pytest.approx(1 / 26)
    assert conditioning.gd_rate(q.optimal_lr, q.eigenvalues) == pytest.approx(24 / 26)


def test_answer_5_sgd_at_105_diverges_on_the_book_valley():
    run = trajectories.run("sgd", objectives.dlfs_bowl(), (-7.0, 2.0), steps=30, lr=1.05)
    assert abs(run.final[1]) == pytest.approx(2 * 1.1**30, rel=1e-9)
    assert abs(run.final[0]) < 7


# -- the limit on a real network -------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_network():
    """The chapter's set-up, rebuilt: a 64-32-10 tanh MLP on the digits, 100 warm-up steps."""
    import copy

    from course_lib import data, training

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the chapter does: small tensors, and thread-count-free sums
    digits = data.digits().as_tensors()
    images = digits.x_train.double()
    targets = torch.nn.functional.one_hot(digits.y_train, 10).double()
    network = training.mlp([64, 32, 10], seed=0, activation=torch.nn.Tanh, dtype=torch.float64)
    full = len(images)
    training.train(network, torch.optim.SGD(network.parameters(), lr=0.5), images, targets,
                   epochs=100, batch_size=full, record_every=None, progress=False)

    def sharpness(model, seed=0, tol=1e-6):
        return conditioning.hessian_top_eigenvalue(
            lambda: training.half_squared_error(model(images), targets),
            list(model.parameters()), tol=tol, seed=seed)

    top = sharpness(network)
    limit = 2 / top.eigenvalue
    runs = {}
    for factor in (0.5, 0.9, 1.3, 2.0):
        model = copy.deepcopy(network)
        history = training.train(model, torch.optim.SGD(model.parameters(), lr=factor * limit),
                                 images, targets, epochs=100, batch_size=full,
                                 record_every=None, progress=False)
        runs[factor] = (model, np.array(history.loss))
    yield {"network": network, "images": images, "top": top, "sharpness": sharpness,
           "runs": runs}
    torch.set_num_threads(threads)


def test_the_network_and_its_data_are_the_stated_size(digits_network):
    assert sum(p.numel() for p in digits_network["network"].parameters()) == 2410
    assert len(digits_network["images"]) == 1347
    assert round(2410**2 / 1e6, 1) == 5.8


def test_power_iteration_converges_to_the_same_sharpness_from_another_start(digits_network):
    top = digits_network["top"]
    other = digits_network["sharpness"](digits_network["network"], seed=1)
    assert top.converged and other.converged and top.eigenvalue > 0
    assert other.eigenvalue == pytest.approx(top.eigenvalue, rel=1e-4)


def test_below_the_limit_the_loss_falls_at_every_step(digits_network):
    half, most = digits_network["runs"][0.5][1], digits_network["runs"][0.9][1]
    assert np.all(np.diff(half) < 0) and np.all(np.diff(most) < 0)
    assert most[-1] < half[-1]                          # faster for the larger step


def test_at_twice_the_limit_the_run_diverges_within_a_few_dozen_steps(digits_network):
    loss = digits_network["runs"][2.0][1]
    blown = np.flatnonzero(~(loss < 1e3))
    assert blown.size and blown[0] <= 40
    assert not loss[-1] < 1e6


def test_just_above_the_limit_the_loss_jumps_then_falls_in_a_flatter_region(digits_network):
    model, loss = digits_network["runs"][1.3]
    assert loss.max() > loss[0]                          # the jump
    assert loss[-1] < loss[0]                            # and it trains again
    end = digits_network["sharpness"](model, tol=1e-5).eigenvalue
    assert end < digits_network["top"].eigenvalue        # flatter where it ended


def test_the_stable_runs_sharpen(digits_network):
    start = digits_network["top"].eigenvalue
    for factor in (0.5, 0.9):
        model, _ = digits_network["runs"][factor]
        assert digits_network["sharpness"](model, tol=1e-5).eigenvalue > start


def test_headings_have_no_latex_and_the_chapter_links_to_04():
    import json
    import pathlib

    notebook = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "03_conditioning.ipynb"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    texts = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    assert not [line for t in texts for line in t.splitlines()
                if line.startswith("#") and "$" in line]
    assert "[Next: 04 · Stochastic gradient descent](04_sgd.ipynb)" in "\n".join(texts[-3:])


# -- the Try-it explorer ------------------------------------------------------------------------


def test_the_explorer_is_fastest_at_the_best_step_and_reports_divergence_past_the_limit():
    """The Try-it text and notes: the steps-to-1e-6 read-out is lowest at η* = 0.182; past 0.2
    the rate exceeds 1, and from 0.208 on the path leaves for good within the 30 steps, so the
    explorer says the run diverged (at some step) instead of drawing it."""
    from course_lib import widgets

    ui = widgets.conditioning_explorer(VALLEY, START, lr=0.15, steps=30)
    grid = np.round(np.arange(ui.lr.min, ui.lr.max + 1e-9, ui.lr.step), 3)
    steps = {lr: conditioning.steps_at_rate(conditioning.gd_rate(lr, VALLEY.eigenvalues), 1e-6)
             for lr in grid}
    fewest = min(steps.values())
    assert steps[0.182] == fewest and round(VALLEY.optimal_lr, 3) == 0.182
    assert ui.lr.max > 0.2
    for lr, diverges in ((0.19, False), (0.199, False), (0.207, False), (0.208, True),
                         (0.21, True)):
        ui.lr.value = lr
        assert (ui.frame.rate > 1) == (lr > 0.2)
        assert (ui.diverged_at is not None) == diverges, lr
        assert ("diverged at step" in ui.readout.value) == diverges
    ui.lr.value = 0.182
    assert ui.frame.steps_needed == fewest
