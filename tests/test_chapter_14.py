"""Claims of chapter 14 (capstone: every optimizer on the digits), recomputed with course_lib.

The chapter's study is `course_lib.capstone`: a search on seeds 0-2 (its results committed in
course_lib/capstone_tuning.json by tools/tune_capstone.py), then a race on the fresh seeds
3-12. These tests rerun part of the search and compare it with the committed file, then rerun
the race and check every claim the prose makes about it: the tiers, the paired ablations, the
curves, what the schedule buys, torch.optim's identical histories, and the float64 note.
Independent references: torch.optim itself, torch's own default learning rates, Student's t
(via course_lib.stats, itself tested against published tables), RAdam's rectification formula
written out from the paper, and hand arithmetic. The test classes run on separate
pytest-xdist workers.
"""

import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import capstone, stats, training
from course_lib.arrays import ArrayOptimizer

LN10 = math.log(10)
WITHOUT_MOMENTUM = {"SGD", "Adagrad", "RMSprop", "Adadelta", "Adam, beta1 = 0"}
KIND = "warmup-cosine"


@functools.cache
def tuning():
    return capstone.load_tuning()


def peak(name):
    return tuning().chosen[KIND][name]


# -- set-up facts (hand arithmetic) ------------------------------------------------------------


def test_network_size_steps_and_starting_loss():
    x_train, y_train, x_test, _ = capstone.digits()
    assert (len(x_train), len(x_test)) == (1347, 450)
    model = training.mlp(list(capstone.SIZES), seed=0, dtype=torch.float64)
    assert sum(p.numel() for p in model.parameters()) == 64 * 32 + 32 + 32 * 10 + 10 == 2410
    assert math.ceil(1347 / 64) == capstone.STEPS_PER_EPOCH == 22
    assert capstone.EPOCHS * capstone.STEPS_PER_EPOCH == 220
    start = training.evaluate(model, x_train, y_train, F.cross_entropy)
    assert abs(start - LN10) < 0.05  # near-uniform predictions: loss ≈ ln 10


def test_the_search_has_1008_trainings_and_ten_fresh_report_seeds():
    grid_points = {len(capstone.rates(name)) for name in capstone.CONTESTANTS}
    assert grid_points == {12}
    assert len(capstone.CONTESTANTS) * 12 * len(capstone.TUNING_SEEDS) * 2 == 1008
    assert set(capstone.REPORT_SEEDS).isdisjoint(capstone.TUNING_SEEDS)
    assert len(capstone.REPORT_SEEDS) == 10
    assert capstone.rates("Adadelta") == pytest.approx([10 * r for r in capstone.rates("SGD")])


def test_every_contestant_gets_the_same_schedule_shape():
    for peak_lr in (0.03, 1.0):
        schedule = capstone.schedule(peak_lr)
        rates = [schedule(t) for t in range(221)]
        assert rates[0] == 0 and rates[22] == pytest.approx(peak_lr)
        assert rates[11] == pytest.approx(peak_lr / 2)  # linear warmup over the first epoch
        assert rates[22 + 99] == pytest.approx(peak_lr / 2, rel=1e-2)  # cosine: half way down
        assert rates[220] == pytest.approx(0.0, abs=1e-15)


def test_the_batched_run_is_the_ordinary_run():
    batched = capstone.run("Adam", 0.1, capstone.REPORT_SEEDS, epochs=2)
    single = capstone.run_single("Adam", 0.1, seed=7, epochs=2)
    row = batched.seeds.index(7)
    np.testing.assert_allclose(batched.loss[row], single.loss, rtol=1e-12, atol=0)


def test_gradients_are_small():
    # "about 0.008 per entry on seed 0's first minibatch"
    x_train, y_train, _, _ = capstone.digits()
    model = training.mlp(list(capstone.SIZES), seed=0, dtype=torch.float64)
    F.cross_entropy(model(x_train[:64]), y_train[:64]).backward()
    size = float(torch.cat([p.grad.flatten() for p in model.parameters()]).pow(2).mean().sqrt())
    assert round(size, 3) == 0.008


# -- the committed search --------------------------------------------------------------------


class TestSearch:
    def test_the_file_is_what_the_search_code_computes(self):
        stored = tuning()
        checks = [(KIND, "Adam", r) for r in (0.03, 0.1, 0.3)] + [
            ("constant", "RMSprop", stored.chosen["constant"]["RMSprop"]),
            (KIND, "Adadelta", peak("Adadelta")),
        ]
        for kind, name, lr in checks:
            runs = capstone.run(name, lr, capstone.TUNING_SEEDS,
                                scheduled=capstone.KINDS[kind])
            recomputed = [capstone.score(row[None, :]) for row in runs.loss]
            index = stored.rates[kind][name].index(lr)
            np.testing.assert_allclose(stored.seed_scores[kind][name][index], recomputed,
                                       rtol=1e-9, atol=0)

    def test_the_file_records_the_protocol_of_the_code(self):
        import json

        protocol = json.loads(capstone.TUNING_FILE.read_text())["protocol"]
        assert protocol["sizes"] == list(capstone.SIZES)
        assert (protocol["epochs"], protocol["batch_size"]) == (capstone.EPOCHS,
                                                                capstone.BATCH_SIZE)
        assert protocol["tuning_seeds"] == list(capstone.TUNING_SEEDS)
        for kind in capstone.KINDS:
            for name in capstone.CONTESTANTS:
                assert tuning().rates[kind][name] == list(capstone.rates(name))

    @pytest.mark.parametrize("kind", list(capstone.KINDS))
    def test_each_choice_is_the_lowest_score_and_not_at_the_grid_edge(self, kind):
        for name in capstone.CONTESTANTS:
            scores = tuning().scores(kind, name)
            index = int(np.argmin(scores))
            assert tuning().chosen[kind][name] == tuning().rates[kind][name][index]
            assert 0 < index < len(scores) - 1, (kind, name)

    def test_the_save_load_round_trip_keeps_infinities(self, tmp_path):
        table = {KIND: {"SGD": np.array([[0.5, math.inf, 0.7], [0.2, 0.3, 0.4]])}}
        original = capstone.Tuning({KIND: {"SGD": [0.1, 0.3]}}, table, {KIND: {"SGD": 0.3}})
        capstone.save_tuning(original, tmp_path / "t.json")
        loaded = capstone.load_tuning(tmp_path / "t.json")
        np.testing.assert_array_equal(loaded.seed_scores[KIND]["SGD"], table[KIND]["SGD"])
        assert loaded.scores(KIND, "SGD").tolist() == [math.inf, 0.3]

    def test_tuned_peaks_are_1_to_1000_times_torch_defaults(self):
        ratios = {name: peak(name) / capstone.default_lr(name) for name in capstone.CONTESTANTS}
        assert [n for n, r in ratios.items() if r == pytest.approx(1)] == ["RMSprop + momentum"]
        others = {n: r for n, r in ratios.items() if n != "RMSprop + momentum"}
        assert min(others.values()) == pytest.approx(3) == others["RMSprop"]
        assert max(ratios.values()) == pytest.approx(1000)
        assert {n for n, r in ratios.items() if r == pytest.approx(1000)} == {"SGD", "RAdam"}

    def test_sweet_spots(self):
        assert (peak("SGD"), peak("Momentum"), peak("Adam"), peak("RMSprop")) == (
            1.0, 0.3, 0.1, 0.03)
        assert peak("RAdam") == 10 * peak("Adam")  # RAdam's built-in warmup

    def test_too_large_is_much_worse_than_too_small(self):
        above, below = {}, {}
        for name in capstone.CONTESTANTS:
            rates, scores = tuning().rates[KIND][name], tuning().scores(KIND, name)
            i = rates.index(peak(name))
            above[name], below[name] = scores[i + 2], scores[i - 2]  # ten times, a tenth
        assert min(above.values()) >= 1.4
        assert sum(abs(v - LN10) < 0.02 for v in above.values()) == 8  # nothing learned
        assert max(below.values()) < 1.2
        assert max(v for n, v in below.items() if n != "SGD") < 0.5

    def test_the_good_range_is_narrow(self):
        width = {}
        for name in capstone.CONTESTANTS:
            scores = tuning().scores(KIND, name)
            width[name] = int(np.sum(scores < 2 * scores.min()))
        assert max(width.values()) == 2  # the best point and at most one neighbour
        assert {n for n, w in width.items() if w == 1} == {"Momentum", "Adam", "Adamax", "Yogi"}

    def test_the_best_peak_is_above_the_best_constant_rate(self):
        constant = tuning().chosen["constant"]
        assert [(constant[n], peak(n)) for n in ("SGD", "Momentum", "RMSprop", "Adam")] == [
            (0.3, 1.0), (0.3, 0.3), (0.01, 0.03), (0.03, 0.1)]


def test_radam_rectification_matches_the_paper_formula():
    # Liu et al. (2020): rho_inf = 2/(1-b2) - 1, rho_t = rho_inf - 2 t b2^t / (1 - b2^t),
    # r_t = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t)) once rho_t > 5.
    b2 = 0.999
    rho_inf = 2 / (1 - b2) - 1

    def r(t):
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))

    def step_sizes(name, n):
        weights, sizes = np.zeros(1), []
        opt = ArrayOptimizer(name, lr=0.1)
        for _ in range(n):
            before = weights.copy()
            opt.update({"w": weights}, {"w": np.ones(1)})
            sizes.append(float((before - weights)[0]))
        return np.array(sizes)

    ratio = step_sizes("radam", 2200) / step_sizes("adam", 2200)
    assert ratio[:5] == pytest.approx(1.0, abs=1e-6)  # five plain momentum steps
    for t in (6, 22, 110, 220, 2200):
        assert ratio[t - 1] == pytest.approx(r(t), rel=1e-6)
    assert r(6) == pytest.approx(0.026, abs=5e-4)
    assert 0.30 < r(220) < 0.34  # "about a third"
    assert r(2200) == pytest.approx(0.85, abs=0.01)


# -- the race on fresh seeds (one xdist worker) ------------------------------------------------


@functools.cache
def race():
    return {name: capstone.run(name, peak(name), capstone.REPORT_SEEDS)
            for name in capstone.CONTESTANTS}


def final(name):
    return race()[name].final_loss


def ratio(a, b):
    return stats.paired_ratio(final(a), final(b))


def geometric_curve(name):
    return np.exp(np.log(race()[name].loss).mean(axis=0))


class TestRace:
    def test_four_tiers(self):
        means = {name: final(name).mean() for name in capstone.CONTESTANTS}
        ranking = sorted(means, key=means.get)
        assert set(ranking[:4]) == {"Adam", "AdamW", "Yogi", "Adamax"} and ranking[0] == "Adam"
        assert all(0.015 < means[n] < 0.022 for n in ranking[:4])
        intervals = [stats.mean_interval(final(n)) for n in ranking[:4]]
        assert max(i.low for i in intervals) < min(i.high for i in intervals)  # overlapping
        assert ranking[4] == "RAdam"
        assert set(ranking[5:9]) == {"RMSprop + momentum", "NAdam", "Nesterov", "Momentum"}
        assert all(0.03 < means[n] < 0.04 for n in ranking[5:9])
        assert set(ranking[9:13]) == {"Adadelta", "RMSprop", "Adam, beta1 = 0", "Adagrad"}
        assert all(0.065 < means[n] < 0.085 for n in ranking[9:13])
        assert ranking[13] == "SGD" and 9 < means["SGD"] / means["Adam"] < 13

    def test_the_slow_ones_are_the_ones_without_momentum(self):
        ranking = sorted(capstone.CONTESTANTS, key=lambda n: final(n).mean())
        assert set(ranking[-5:]) == WITHOUT_MOMENTUM

    def test_accuracy_spread(self):
        accuracy = {n: race()[n].metrics["test accuracy"][:, -1].mean()
                    for n in capstone.CONTESTANTS}
        assert min(accuracy, key=accuracy.get) == "SGD" and round(accuracy["SGD"], 3) == 0.937
        assert max(accuracy, key=accuracy.get) == "AdamW" and round(accuracy["AdamW"], 3) == 0.974
        assert 16 < 450 * (accuracy["AdamW"] - accuracy["SGD"]) < 18  # about 17 images

    @pytest.mark.parametrize(("a", "b", "factor"), [
        ("Momentum", "SGD", 5.2), ("RMSprop + momentum", "RMSprop", 2.5),
        ("Adam", "Adam, beta1 = 0", 4.5), ("RMSprop", "SGD", 2.6), ("Adam", "Momentum", 2.2),
    ])
    def test_momentum_and_scaling_help_on_every_seed(self, a, b, factor):
        paired = ratio(a, b)
        assert paired.below == 10 and paired.interval.high < 1
        assert round(1 / paired.mean, 1) == factor

    def test_momentum_alone_beats_scaling_alone(self):
        paired = ratio("Momentum", "RMSprop")
        assert paired.below == 10 and paired.interval.high < 1
        assert 0.45 < paired.mean < 0.55  # "half the loss"

    @pytest.mark.parametrize(("a", "b"), [("Nesterov", "Momentum"), ("Adam, beta1 = 0", "RMSprop"),
                                          ("Adam", "AdamW")])
    def test_the_controls_show_no_difference(self, a, b):
        assert ratio(a, b).interval.contains(1.0)

    def test_adam_against_adamw_as_the_answers_say(self):
        paired = ratio("Adam", "AdamW")
        assert paired.interval.format(".2f") == "0.90 [0.77, 1.05]" and paired.below == 7

    def test_the_runs_without_momentum_make_no_progress_near_the_peak(self):
        for without, with_ in [("SGD", "Momentum"), ("RMSprop", "RMSprop + momentum"),
                               ("Adam, beta1 = 0", "Adam")]:
            slow, fast = geometric_curve(without), geometric_curve(with_)
            assert slow[5] / slow[3] > 0.95
            assert fast[5] / fast[3] < 0.61
            assert np.all(fast[4:] < slow[4:])  # ahead by epoch 4, and to the end
        adam_zero, adam = geometric_curve("Adam, beta1 = 0"), geometric_curve("Adam")
        assert (round(adam_zero[3], 2), round(adam_zero[5], 2)) == (0.33, 0.37)
        assert (round(adam[3], 2), round(adam[5], 3)) == (0.14, 0.076)

    def test_what_the_schedule_buys(self):
        paired = {}
        for name in ("SGD", "Momentum", "RMSprop", "Adam"):
            constant = capstone.run(name, tuning().chosen["constant"][name],
                                    capstone.REPORT_SEEDS, scheduled=False)
            paired[name] = stats.paired_ratio(final(name), constant.final_loss)
        assert paired["Adam"].below == 10 and round(paired["Adam"].mean, 2) == 0.35
        for name in ("Momentum", "RMSprop"):
            assert paired[name].interval.high < 1 and 0.5 < paired[name].mean < 0.6
        assert paired["SGD"].interval.contains(1.0)
        assert paired["SGD"].interval.format(".2f") == "0.85 [0.52, 1.38]"
        factors = sorted(1 / paired[n].mean for n in ("Momentum", "RMSprop", "Adam"))
        assert round(factors[0], 1) == 1.8 and round(factors[-1], 1) == 2.9


# -- torch.optim and float64 (the other xdist worker) -----------------------------------------


class TestTorchAndPrecision:
    @pytest.mark.parametrize("name", [n for n in capstone.CONTESTANTS if n != "Yogi"])
    def test_torch_optim_gives_the_same_histories(self, name):
        ours = capstone.run(name, peak(name), capstone.REPORT_SEEDS, epochs=2)
        twin = capstone.run(name, peak(name), capstone.REPORT_SEEDS, epochs=2, library="torch")
        assert np.array_equal(ours.loss, twin.loss)
        for key in ours.metrics:
            assert np.array_equal(ours.metrics[key], twin.metrics[key])

    def test_a_last_bit_change_barely_moves_the_final_loss_in_float64(self):
        # Scaling the first layer's initial weights by 1 + 2^-24 (one float32 rounding) moves
        # each contestant's final loss by at most about 3e-8; by 1 + 2^-52, by less than 1e-14.
        # Both runs are float64, so the measured effect is the same on every machine.
        float32_sized, float64_sized = {}, {}
        for name in capstone.CONTESTANTS:
            base = capstone.run_single(name, peak(name), seed=0).final_loss
            for nudge, found in ((2.0**-24, float32_sized), (2.0**-52, float64_sized)):
                moved = capstone.run_single(name, peak(name), seed=0,
                                            scale_first_layer=1 + nudge).final_loss
                found[name] = abs(moved - base)
        assert 1e-8 < max(float32_sized.values()) < 1e-7
        assert max(float64_sized.values()) < 1e-14
