"""The quantitative claims of chapters/11_lr_scheduling.ipynb.

Expected values come from formulas worked out by hand (closed forms of the schedules, geometric
sums, the d2l loop's one-epoch shift), from torch's own schedulers stepped in torch's order,
from a literal transcription of d2l's training loop (the rate set *after* each epoch), or from
invariants of the runs (an epoch at rate 0 changes nothing); never from the notebook's output.
Where a test also reads the notebook's stored output, it checks that the printed numbers are the
ones computed here.
"""

import itertools
import json
import math
import pathlib
import re

import numpy as np
import pytest
import torch

from course_lib import d2l_schedulers, data, objectives, optim, schedules, training, trajectories
from course_lib.articles import article_001
from course_lib.torch_schedules import ScheduledLR

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "chapters" / "11_lr_scheduling.ipynb"
lr_scheduler = torch.optim.lr_scheduler

EPOCHS, BATCH, D2L_EPOCHS = 20, 128, 30
STEPS_PER_EPOCH = 11  # ceil(1347 / 128)
TOTAL_STEPS = EPOCHS * STEPS_PER_EPOCH


def printed():
    """Every line the stored notebook printed (stdout), in order."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(out.get("text", "")) for cell in cells if cell["cell_type"] == "code"
                   for out in cell["outputs"] if out.get("output_type") == "stream")
    return text.splitlines()


def printed_lines(prefix):
    lines = [line for line in printed() if line.startswith(prefix)]
    assert lines, f"the notebook prints no line starting with {prefix!r}"
    return lines


def printed_line(prefix):
    return printed_lines(prefix)[0]


def cosine_by_hand(t, t_max=20, base=0.3, final=0.01):
    t = min(t, t_max)
    return final + (base - final) * (1 + math.cos(math.pi * t / t_max)) / 2


def warmup_by_hand(t):
    return 0.3 * t / 5 if t < 5 else (0.01 if t > 20 else cosine_by_hand(t - 5, t_max=15))


def torch_rates(make_scheduler, base_lr, steps):
    """The rate in group["lr"] before each of `steps` updates, torch's order."""
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=base_lr, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    rates, momenta = [], []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
        weight.grad = torch.zeros(1)
        optimizer.step()
        scheduler.step()
    return rates, momenta


# -- section 1 -----------------------------------------------------------------------------------


def test_the_noise_floor_quoted_from_chapter_04():
    """E f -> sum_i eta / (2 (2 - eta lambda_i)) for lambda = 2, 4 (x1^2 + 2 x2^2, unit noise)."""
    eta = 0.1
    floor = eta / (2 * (2 - eta * 2)) + eta / (2 * (2 - eta * 4))
    assert round(floor, 3) == 0.059
    run = trajectories.run("sgd", objectives.bowl(), (-5.0, -2.0), steps=20_000, lr=eta,
                           noise=1.0, seed=0)
    assert run.values[200:].mean() == pytest.approx(floor, rel=0.05)


# -- section 2: the gallery, with d2l's demo parameters ------------------------------------------


def test_factor_scheduler_demo():
    factor = d2l_schedulers.FactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0)
    expected = [2 * 0.9, 2 * 0.9**2, 2 * 0.9**11, 2 * 0.9**50, 0.01]
    assert [factor(t) for t in (0, 1, 10, 49, 50)] == pytest.approx(expected, rel=1e-12)
    # the floor takes over first at t = 50: 2 * 0.9**(t + 1) <= 0.01 first for t + 1 = 51
    first_floor = math.ceil(math.log(0.01 / 2) / math.log(0.9)) - 1
    assert first_floor == 50
    assert all(factor(t) > 0.01 for t in range(50))
    # ... and above the floor it is torch's ExponentialLR one step ahead
    exponential, _ = torch_rates(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9), 2.0, 51)
    assert [factor(t) for t in range(50)] == pytest.approx(exponential[1:], rel=1e-12)
    line = printed_line("factor     at t = 0, 1, 10, 49, 50:")
    assert line.endswith(str([round(v, 4) for v in expected]))


def test_multi_step_demo_equals_torch_multisteplr():
    multi_step = d2l_schedulers.MultiFactorScheduler(step=[15, 30], factor=0.5, base_lr=0.5)
    rates, _ = torch_rates(lambda o: lr_scheduler.MultiStepLR(o, [15, 30], gamma=0.5), 0.5, 40)
    assert [multi_step(t) for t in range(40)] == rates
    assert printed_line("multi-step at").endswith("[0.5, 0.5, 0.25, 0.25, 0.125]")


def test_smooth_decays_and_the_polynomial_naming_clash():
    exponential = [0.3 * math.exp(-0.1 * t) for t in (0, 10, 20, 30)]
    torch_poly = [0.3 * (1 - min(t, 20) / 20) for t in (0, 10, 20, 30)]
    d2l_poly = [0.3 / math.sqrt(1 + 0.1 * t) for t in (0, 10, 20, 30)]
    assert d2l_poly[-1] == pytest.approx(0.15)  # 1 + 0.1 * 30 = 4: halved at t = 30
    assert torch_poly[2:] == [0.0, 0.0]  # torch's reaches 0 at T = 20 and stays there
    ours_poly = schedules.polynomial_lr(0.3, total_iters=20, power=1.0)
    torch_values, _ = torch_rates(lambda o: lr_scheduler.PolynomialLR(o, total_iters=20), 0.3, 31)
    assert [ours_poly(t) for t in range(31)] == pytest.approx(torch_values, abs=1e-12)
    checks = [("exponential      at", exponential, schedules.exponential_lr(0.3, math.exp(-0.1))),
              ("torch polynomial at", torch_poly, ours_poly),
              ("d2l polynomial   at", d2l_poly, schedules.power_decay(0.3, 0.5, 0.1))]
    for prefix, expected, schedule in checks:
        assert [schedule(t) for t in (0, 10, 20, 30)] == pytest.approx(expected, abs=1e-12)
        assert printed_line(prefix).endswith(str([round(v, 4) for v in expected]))
    square_root = d2l_schedulers.SquareRootScheduler(lr=0.1)
    expected = [0.1 / math.sqrt(t + 1) for t in (0, 1, 3, 29)]
    assert [square_root(t) for t in (0, 1, 3, 29)] == pytest.approx(expected, rel=1e-12)
    assert printed_line("square root      at").endswith(str([round(v, 4) for v in expected]))


def test_cosine_and_warmup_demos():
    cosine = d2l_schedulers.CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01)
    warm = d2l_schedulers.CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01,
                                          warmup_steps=5)
    ts = (0, 5, 10, 15, 20, 25)
    expected = [cosine_by_hand(t) for t in ts]
    assert expected[2] == pytest.approx(0.155)  # cos(pi/2) = 0: halfway between 0.3 and 0.01
    assert [cosine(t) for t in ts] == pytest.approx(expected, abs=1e-15)
    assert printed_line("cosine at").endswith(str([round(v, 4) for v in expected]))
    ramp = [warmup_by_hand(t) for t in range(7)]
    assert ramp[:6] == pytest.approx([0.0, 0.06, 0.12, 0.18, 0.24, 0.3])
    assert [warm(t) for t in range(7)] == pytest.approx(ramp, abs=1e-15)
    assert printed_line("warmup at t = 0, ..., 6:").endswith(str([round(v, 4) for v in ramp]))
    later = [warmup_by_hand(t) for t in (10, 15, 20, 25)]
    assert later[:2] == pytest.approx([0.01 + 0.29 * 0.75, 0.01 + 0.29 * 0.25])  # cos(pi/3)
    assert [warm(t) for t in (10, 15, 20, 25)] == pytest.approx(later, abs=1e-15)
    assert printed_line("warmup at t = 10").endswith(str([round(v, 4) for v in later]))
    assert schedules.warmup_cosine(0.3, 20, 5, 0.01).values(40) == [warm(t) for t in range(40)]


def test_one_cycle_and_restarts_equal_torch():
    rates, momenta = torch_rates(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.3,
                                                                   total_steps=TOTAL_STEPS),
                                 0.3, TOTAL_STEPS)
    one_cycle = schedules.one_cycle_lr(0.3, TOTAL_STEPS)
    momentum = schedules.one_cycle_momentum(TOTAL_STEPS)
    assert one_cycle.values(TOTAL_STEPS) == pytest.approx(rates, abs=1e-12)
    assert momentum.values(TOTAL_STEPS) == pytest.approx(momenta, abs=1e-12)
    peak = round(0.3 * TOTAL_STEPS) - 1  # the first phase ends at pct_start * total - 1
    assert peak == 65
    assert (rates[0], rates[peak], rates[-1]) == pytest.approx((0.3 / 25, 0.3, 0.3 / 25 / 1e4))
    assert (momenta[0], momenta[peak], momenta[-1]) == pytest.approx((0.95, 0.85, 0.95))
    assert printed_line("one-cycle lr ").endswith("0.0120, 0.3000, 1.20e-06")
    assert printed_line("one-cycle momentum").endswith("0.95, 0.85, 0.95")

    def cycle(t_cur, t_i):
        return 0.3 * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    for t_mult, ts, expected in [(1, (9, 10, 19, 20), [cycle(9, 10), 0.3, cycle(9, 10), 0.3]),
                                 (2, (9, 10, 29, 30), [cycle(9, 10), 0.3, cycle(19, 20), 0.3])]:
        ours = schedules.cosine_annealing_warm_restarts(0.3, T_0=10, T_mult=t_mult)
        theirs, _ = torch_rates(lambda o, m=t_mult: lr_scheduler.CosineAnnealingWarmRestarts(
            o, T_0=10, T_mult=m), 0.3, 31)
        assert ours.values(31) == pytest.approx(theirs, abs=1e-12)
        assert [ours(t) for t in ts] == pytest.approx(expected, abs=1e-15)
        line = printed_line(f"restarts, T_mult={t_mult}")
        assert line.endswith(str([round(v, 4) for v in expected]))


# -- section 3: the order of the two calls -------------------------------------------------------


def test_setting_the_rate_by_hand():
    assert printed_line("learning rate is now") == "learning rate is now 0.10"


def rates_seen(schedule, scheduler_first, updates):
    weight = torch.zeros(1, requires_grad=True)
    optimizer = optim.SGD([weight], lr=0.3)
    scheduler = ScheduledLR(optimizer, schedule)
    seen = []
    for _ in range(updates):
        weight.grad = torch.ones(1)
        if scheduler_first:
            scheduler.step()
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if not scheduler_first:
            scheduler.step()
    return seen


def test_wrong_order_skips_the_first_value_and_torch_warns():
    warm = schedules.warmup_cosine(0.3, 20, 5, 0.01)
    right = rates_seen(warm, scheduler_first=False, updates=6)
    assert right == pytest.approx([warmup_by_hand(t) for t in range(6)], abs=1e-15)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before "
                                         r"`optimizer.step\(\)`") as record:
        swapped = rates_seen(warm, scheduler_first=True, updates=6)
    assert swapped == pytest.approx([warmup_by_hand(t) for t in range(1, 7)], abs=1e-15)
    assert swapped[0] == pytest.approx(0.06)
    assert "skipping the first value" in str(record[0].message).splitlines()[0]
    assert printed_line("optimizer.step() first:").endswith("[0.0, 0.06, 0.12, 0.18, 0.24, 0.3]")
    assert printed_line("scheduler.step() first:").endswith(
        str([round(warmup_by_hand(t), 4) for t in range(1, 7)]))
    assert printed_line("Detected call of `lr_scheduler.step()`")


def test_step_lr_with_the_wrong_order_drops_one_update_early():
    """Answer 3: the first drop comes at update index 9 instead of 10."""
    step = schedules.step_lr(0.1, step_size=10, gamma=0.1)
    with pytest.warns(UserWarning):
        swapped = rates_seen(step, scheduler_first=True, updates=12)
    right = rates_seen(step, scheduler_first=False, updates=12)
    assert [i for i, lr in enumerate(right) if lr < 0.1][0] == 10
    assert [i for i, lr in enumerate(swapped) if lr < 0.1][0] == 9
    assert swapped[0] == right[0] == 0.1


# -- sections 4 and 5: training the MLP ----------------------------------------------------------


@pytest.fixture(scope="module")
def setup():
    digits = data.digits().as_tensors()
    pixels = digits.x_train.double()
    mean, std = pixels.mean(0), pixels.std(0)
    std[std == 0] = 1.0
    x, x_test = (pixels - mean) / std, (digits.x_test.double() - mean) / std
    assert math.ceil(len(x) / BATCH) == STEPS_PER_EPOCH
    return x, digits.y_train, x_test, digits.y_test


def model_and_optimizer(lr=0.3, momentum=0.0):
    model = training.mlp([64, 32, 10], seed=0, dtype=torch.float64)
    return model, optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def fit(setup, model, optimizer, scheduler=None, every="epoch", epochs=EPOCHS):
    x, y, x_test, y_test = setup
    return training.train(model, optimizer, x, y, epochs=epochs, batch_size=BATCH,
                          loss=torch.nn.functional.cross_entropy, record_every=None,
                          scheduler=scheduler, scheduler_every=every,
                          eval_fn=lambda m: {"test accuracy": training.accuracy(m, x_test, y_test),
                                             "lr": optimizer.param_groups[0]["lr"]})


WARMUP = d2l_schedulers.CosineScheduler(20, 0.3, 0.01, warmup_steps=5)
PLAIN_RUNS = {  # name: (schedule, stepped every)
    "constant 0.3": (schedules.constant(0.3), "epoch"),
    "square root (d2l)": (d2l_schedulers.SquareRootScheduler(0.1), "epoch"),
    "factor (d2l)": (d2l_schedulers.FactorScheduler(0.9, 1e-2, 2.0), "epoch"),
    "multi-step (d2l)": (d2l_schedulers.MultiFactorScheduler([15, 30], 0.5, 0.5), "epoch"),
    "exponential": (schedules.exponential_lr(0.3, math.exp(-0.1)), "epoch"),
    "torch polynomial": (schedules.polynomial_lr(0.3, EPOCHS, 1.0), "epoch"),
    "d2l polynomial": (schedules.power_decay(0.3, 0.5, 0.1), "epoch"),
    "cosine (d2l)": (d2l_schedulers.CosineScheduler(20, 0.3, 0.01), "epoch"),
    "warmup + cosine (d2l)": (WARMUP, "epoch"),
    "warmup + cosine": (schedules.warmup_cosine(0.3, 20 * STEPS_PER_EPOCH, 5 * STEPS_PER_EPOCH,
                                                0.01), "batch"),
    "warm restarts": (schedules.cosine_annealing_warm_restarts(0.3, T_0=10), "epoch"),
}


@pytest.fixture(scope="module")
def runs(setup):
    histories = {}
    for name, (schedule, every) in PLAIN_RUNS.items():
        model, optimizer = model_and_optimizer()
        histories[name] = fit(setup, model, optimizer, ScheduledLR(optimizer, schedule), every)
    model, optimizer = model_and_optimizer(momentum=0.9)
    histories["one-cycle, with momentum"] = fit(
        setup, model, optimizer,
        ScheduledLR(optimizer, schedules.one_cycle_lr(0.3, TOTAL_STEPS),
                    momentum=schedules.one_cycle_momentum(TOTAL_STEPS)), "batch")
    return histories


def rate_sum(schedule, every):
    if every == "epoch":
        return sum(schedule(t) for t in range(EPOCHS))
    return sum(schedule(t) for t in range(TOTAL_STEPS)) / STEPS_PER_EPOCH


def test_rate_sums_by_hand():
    sums = {name: rate_sum(*spec) for name, spec in PLAIN_RUNS.items()}
    assert sums["constant 0.3"] == pytest.approx(6.0)
    assert sums["factor (d2l)"] == pytest.approx(2 * 0.9 * (1 - 0.9**20) / (1 - 0.9))  # 15.81
    assert sums["multi-step (d2l)"] == pytest.approx(15 * 0.5 + 5 * 0.25)
    assert sums["exponential"] == pytest.approx(0.3 * (1 - math.exp(-2)) / (1 - math.exp(-0.1)))
    assert sums["torch polynomial"] == pytest.approx(0.3 * sum(1 - t / 20 for t in range(20)))


def test_final_losses_follow_the_sum_of_rates(runs):
    """Sorted by final training loss, the plain-SGD runs are in reverse order of sum(eta)."""
    by_loss = sorted(PLAIN_RUNS, key=lambda name: runs[name].loss[-1])
    by_sum = sorted(PLAIN_RUNS, key=lambda name: -rate_sum(*PLAIN_RUNS[name]))
    assert by_loss == by_sum
    assert by_loss[0] == "factor (d2l)" and by_loss[-1] == "square root (d2l)"
    assert min(runs, key=lambda name: runs[name].loss[-1]) == "one-cycle, with momentum"
    assert abs(runs["warmup + cosine"].loss[-1] - runs["warmup + cosine (d2l)"].loss[-1]) < 1e-3
    assert round(runs["one-cycle, with momentum"].loss[-1], 3) == 0.002
    # a warmup from 0 wastes its first update: one minibatch here, a whole epoch per epoch
    per_batch = PLAIN_RUNS["warmup + cosine"][0]
    assert per_batch(0) == 0.0 and per_batch(1) == pytest.approx(0.3 / (5 * STEPS_PER_EPOCH))


def test_the_printed_table_shows_these_runs(runs):
    lines = printed()
    start = next(i for i, line in enumerate(lines) if line.startswith("schedule "))
    rows = [re.split(r"\s{2,}", row) for row in lines[start + 2:start + 2 + len(runs)]]
    assert [row[0] for row in rows] == sorted(runs, key=lambda name: runs[name].loss[-1])
    for name, every, rates, loss, accuracy in rows:
        history = runs[name]
        assert loss == f"{history.loss[-1]:.4f}"
        assert accuracy == f"{100 * history.metrics['test accuracy'][-1]:.1f}"
        if name in PLAIN_RUNS:
            assert (every, rates) == (PLAIN_RUNS[name][1], f"{rate_sum(*PLAIN_RUNS[name]):.2f}")


def test_test_accuracy_hardly_depends_on_the_schedule(runs, setup):
    n_test = len(setup[3])
    right = {name: round(h.metrics["test accuracy"][-1] * n_test) for name, h in runs.items()}
    others = [v for name, v in right.items() if name != "square root (d2l)"]
    assert (min(others), max(others)) == (433, 439)
    assert right["square root (d2l)"] < min(others)
    assert printed_line("all runs but square root:").endswith(
        f"{min(others)} to {max(others)} of {n_test} test images right")



def dead_units(model, x):
    hidden, dead = x, 0
    for layer in model:
        hidden = layer(hidden)
        if isinstance(layer, torch.nn.ReLU):
            dead += int((hidden == 0).all(dim=0).sum())
    return dead


def adam_run(setup, sizes, warmup_steps, seed, peak=0.1, epochs=10):
    x, y, x_test, y_test = setup
    model = training.mlp(sizes, seed=seed, dtype=torch.float64)
    optimizer = optim.Adam(model.parameters(), lr=peak)
    total = epochs * STEPS_PER_EPOCH
    schedule = (schedules.warmup_cosine(peak, total, warmup_steps, final_lr=0.0) if warmup_steps
                else schedules.cosine_annealing_lr(peak, total))
    return training.train(model, optimizer, x, y, epochs=epochs, batch_size=BATCH,
                          loss=torch.nn.functional.cross_entropy, record_every=None,
                          scheduler=ScheduledLR(optimizer, schedule), scheduler_every="batch",
                          eval_fn=lambda m: {"test accuracy": training.accuracy(m, x_test, y_test),
                                             "dead units": dead_units(m, x)})


DEEP, SHALLOW = [64, 64, 64, 64, 10], [64, 32, 10]


@pytest.fixture(scope="module")
def warmup_runs(setup):
    return {(name, steps): [adam_run(setup, sizes, steps, seed) for seed in range(4)]
            for name, sizes in [("deep", DEEP), ("shallow", SHALLOW)]
            for steps in (0, STEPS_PER_EPOCH)}


def test_the_deeper_network_needs_its_warmup(warmup_runs):
    peak, warm = warmup_runs[("deep", 0)], warmup_runs[("deep", STEPS_PER_EPOCH)]
    for a, b in zip(peak, warm, strict=True):  # every seed
        assert a.loss[-1] > b.loss[-1]
        assert a.metrics["dead units"][1] > 2 * b.metrics["dead units"][1]
    losses = [round(h.loss[-1], 2) for h in peak], [round(h.loss[-1], 2) for h in warm]
    assert (min(losses[0]), max(losses[0]), min(losses[1]), max(losses[1])) == (0.09, 0.42, 0.04,
                                                                                0.10)

    def mean_accuracy(runs):
        return sum(h.metrics["test accuracy"][-1] for h in runs) / len(runs)

    assert round(mean_accuracy(peak), 3) == 0.883 and round(mean_accuracy(warm), 3) == 0.931
    dead = [h.metrics["dead units"][1] for h in peak], [h.metrics["dead units"][1] for h in warm]
    assert (min(dead[0]), max(dead[0]), min(dead[1]), max(dead[1])) == (57, 75, 10, 20)
    assert 0.28 < sum(dead[0]) / len(dead[0]) / 192 < 0.4  # "about a third of its 192 units"
    # the shallow network does not care
    for steps in (0, STEPS_PER_EPOCH):
        for h in warmup_runs[("shallow", steps)]:
            assert round(h.loss[-1], 3) <= 0.001
            assert max(h.metrics["dead units"]) == 0
    # the printed table
    row = printed_lines("64-64-64-64-10, from the peak  ")[0]
    assert "  ".join(f"{h.loss[-1]:.3f}" for h in peak) in row
    assert row.endswith("  ".join(str(d) for d in dead[0]))


def test_adams_first_steps_and_the_initial_weights(setup):
    x, y = setup[0], setup[1]
    model = training.mlp(DEEP, seed=0, dtype=torch.float64)
    before = [p.detach().clone() for p in model.parameters()]
    # torch's default initialisation: weights within +-1/sqrt(fan_in)
    for layer in model[2::2]:
        assert layer.weight.abs().max().item() <= 1 / math.sqrt(64) == 0.125
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x[:BATCH]), y[:BATCH]).backward()
    grads = [p.grad.detach().clone() for p in model.parameters()]
    optimizer.step()
    moved = torch.cat([(p.detach() - p0).abs().flatten()
                       for p, p0 in zip(model.parameters(), before, strict=True)])
    g = torch.cat([grad.abs().flatten() for grad in grads])
    # chapter 10: the first step is lr * |g| / (|g| + eps), i.e. lr unless |g| is tiny
    torch.testing.assert_close(moved, 0.1 * g / (g + 1e-8), rtol=1e-6, atol=1e-15)
    assert (moved > 0.099).double().mean().item() > 0.9


def test_a_smaller_peak_needs_no_warmup(setup, warmup_runs):
    smaller = [adam_run(setup, DEEP, 0, seed, peak=0.05) for seed in range(4)]
    warm = warmup_runs[("deep", STEPS_PER_EPOCH)]
    assert all(h.loss[-1] < 0.05 for h in smaller)
    assert (sum(h.metrics["test accuracy"][-1] for h in smaller)
            >= sum(h.metrics["test accuracy"][-1] for h in warm))

def test_constant_rates_too_small_and_too_large(setup):
    losses = {}
    for lr in (0.01, 0.3, 4.0):
        model, optimizer = model_and_optimizer(lr=lr)
        losses[lr] = fit(setup, model, optimizer, epochs=10).loss
    start = losses[0.3][0]
    assert 2.3 < start < 2.4  # about ln 10 = 2.303: a fresh network guesses almost uniformly
    assert losses[0.01][-1] > 0.85 * start  # 10 epochs at 0.01 barely move the loss
    assert losses[0.3][-1] < 0.1
    assert losses[4.0][1] > 1e3 and all(b > a for a, b in itertools.pairwise(losses[4.0][1:]))
    assert printed_line("constant η = 0.01").endswith(f"{losses[0.01][-1]:.4f}")
    assert printed_line("constant η = 4.0").endswith("diverged")


class D2LLoopTranscription:
    """d2l's train(): run the epoch's minibatches, then set every group's lr = scheduler(epoch)."""

    def __init__(self, setup, scheduler):
        self.x, self.y = setup[0], setup[1]
        self.scheduler = scheduler

    def run(self, model, optimizer, epochs=EPOCHS):
        used, losses = [], [training.evaluate(model, self.x, self.y,
                                              torch.nn.functional.cross_entropy)]
        for epoch in range(epochs):
            used.append(optimizer.param_groups[0]["lr"])
            for xb, yb in data.minibatches(self.x, self.y, BATCH, seed=0, epoch=epoch):
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(xb), yb).backward()
                optimizer.step()
            losses.append(training.evaluate(model, self.x, self.y,
                                            torch.nn.functional.cross_entropy))
            for group in optimizer.param_groups:
                group["lr"] = self.scheduler(epoch)
        return used, losses


def test_d2ls_loop_applies_the_warmup_one_epoch_late(setup, runs):
    model, optimizer = model_and_optimizer(lr=0.3)  # d2l builds the optimizer with lr = 0.3
    used, losses = D2LLoopTranscription(setup, WARMUP).run(model, optimizer)
    # epoch 0 at the optimizer's own rate (the peak), then epoch e at scheduler(e - 1)
    expected = [0.3] + [warmup_by_hand(e - 1) for e in range(1, EPOCHS)]
    assert used == pytest.approx(expected, abs=1e-15)
    assert used[:8] == pytest.approx([0.3, 0.0, 0.06, 0.12, 0.18, 0.24, 0.3,
                                      cosine_by_hand(1, t_max=15)])
    shifted = schedules.join([schedules.constant(0.3), WARMUP], boundaries=[1])
    assert used == shifted.values(EPOCHS)
    # an epoch at rate 0 changes nothing: the late run stands still in epoch 1, ...
    assert losses[2] == losses[1] and losses[1] < losses[0]
    # ... the on-time run in epoch 0
    right = runs["warmup + cosine (d2l)"]
    assert right.metrics["lr"][1:] == pytest.approx([warmup_by_hand(e) for e in range(EPOCHS)],
                                                    abs=1e-15)
    assert right.loss[1] == right.loss[0] and right.loss[2] < right.loss[1]
    # here the late run even ends slightly lower (one extra epoch at the peak)
    assert losses[-1] < right.loss[-1]


def test_the_notebooks_after_epoch_hook_is_d2ls_loop(setup):
    """The notebook's SetRateAfterEpoch inside training.train gives d2l's loop, loss for loss."""

    class SetRateAfterEpoch:  # as in the notebook
        def __init__(self, optimizer, schedule):
            self.optimizer, self.schedule, self.epochs_done = optimizer, schedule, 0

        def step(self):
            for group in self.optimizer.param_groups:
                group["lr"] = self.schedule(self.epochs_done)
            self.epochs_done += 1

    model, optimizer = model_and_optimizer(lr=0.3)
    _, reference = D2LLoopTranscription(setup, WARMUP).run(model, optimizer)
    model, optimizer = model_and_optimizer(lr=0.3)
    history = fit(setup, model, optimizer, SetRateAfterEpoch(optimizer, WARMUP))
    assert history.loss == pytest.approx(reference, rel=1e-12)
    rate_line, *_, loss_line = printed_lines("d2l's loop ")
    assert rate_line.split()[2:] == [f"{v:.3f}" for v in [0.3, 0.0, 0.06, 0.12, 0.18, 0.24, 0.3,
                                                           cosine_by_hand(1, t_max=15)]]
    assert loss_line.split()[2:] == [f"{reference[n]:.4f}" for n in (0, 1, 2, EPOCHS)]


def test_a_scheduler_stepped_for_a_plot_trains_at_its_final_rate(setup, runs):
    model, optimizer = model_and_optimizer(lr=0.5)
    scheduler = lr_scheduler.MultiStepLR(optimizer, milestones=[15, 30], gamma=0.5)
    plotted = []
    for _ in range(D2L_EPOCHS):
        plotted.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert plotted == [0.5] * 15 + [0.25] * 15
    assert optimizer.param_groups[0]["lr"] == 0.5 * 0.5**2  # past both milestones: 0.125
    after_plot = fit(setup, model, optimizer, scheduler)
    assert after_plot.metrics["lr"][1:] == [0.125] * EPOCHS

    model, optimizer = model_and_optimizer(lr=0.5)
    fresh = fit(setup, model, optimizer,
                lr_scheduler.MultiStepLR(optimizer, milestones=[15, 30], gamma=0.5))
    assert fresh.metrics["lr"][1:] == [0.5] * 15 + [0.25] * 5
    pure = runs["multi-step (d2l)"]  # the pure schedule: the same rates, the same floats
    assert pure.metrics["lr"][1:] == fresh.metrics["lr"][1:]
    assert pure.loss == fresh.loss
    assert after_plot.loss[-1] > fresh.loss[-1]
    assert printed_line("rates used, scheduler after plot:").endswith(f"0.125 × {EPOCHS}")
    assert printed_line("rates used, fresh scheduler:").endswith("0.5 × 15, 0.25 × 5")
    assert printed_line("final training loss: after plot").endswith(
        f"after plot {after_plot.loss[-1]:.4f}, fresh {fresh.loss[-1]:.4f}")


def test_d2ls_factor_scheduler_ignores_its_argument():
    """d2l's FactorScheduler (article_001) multiplies on every call, whatever it is asked."""
    d2l_factor = article_001.FactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0)
    assert [d2l_factor(0) for _ in range(3)] == pytest.approx([1.8, 1.62, 1.458])
    plotted = [d2l_factor(t) for t in range(50)]
    assert plotted == pytest.approx([max(0.01, 2 * 0.9 ** (t + 4)) for t in range(50)])
    assert d2l_factor(0) == 0.01  # after d2l's plot: at the floor for good
    # called once per epoch from 0 on a fresh object it gives the course's stateless values
    fresh = article_001.FactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0)
    ours = d2l_schedulers.FactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=2.0)
    assert [fresh(t) for t in range(60)] == pytest.approx([ours(t) for t in range(60)], rel=1e-12)
    assert [ours(0) for _ in range(3)] == [1.8, 1.8, 1.8]
    assert printed_line("FactorScheduler asked for update 0, three times:").endswith(
        "[1.8, 1.62, 1.458]")
    assert printed_line("the same object after d2l's plot, update 0:").endswith("0.01")
    assert printed_line("FactorScheduler after a plot, update 0 three times:").endswith(
        "[1.8, 1.8, 1.8]")
    # d2l's MultiFactorScheduler (TensorFlow code) has the same flaw: a milestone asked twice
    multi = article_001.MultiFactorScheduler(step=[15, 30], factor=0.5, base_lr=0.5)
    assert [multi(15), multi(15)] == [0.25, 0.125]


def test_d2ls_cosine_scheduler_fails_live_and_depends_on_order():
    with pytest.raises(AttributeError, match="base_lr"):
        article_001.CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01)(25)
    assert printed_line("a fresh CosineScheduler asked for epoch 25:").endswith(
        "AttributeError: 'CosineScheduler' object has no attribute 'base_lr'")
    d2l_cosine = article_001.CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01)
    order = [10, 25, 3, 25, 20, 25]
    answers = [d2l_cosine(t) for t in order]
    # past max_update it repeats the last value it computed up to max_update
    expected = [cosine_by_hand(10), cosine_by_hand(10), cosine_by_hand(3), cosine_by_hand(3),
                0.01, 0.01]
    assert answers == pytest.approx(expected, abs=1e-15)
    assert {round(a, 4) for a in answers[1::2]} == {0.155, 0.2842, 0.01}
    assert printed_line("one CosineScheduler asked for epochs").endswith(
        str([round(v, 4) for v in expected]))
    # called in order from epoch 0, d2l's class gives the course's values (its plots look right)
    in_order = article_001.CosineScheduler(20, 0.3, 0.01, warmup_steps=5)
    ours = d2l_schedulers.CosineScheduler(20, 0.3, 0.01, warmup_steps=5)
    assert [in_order(t) for t in range(30)] == pytest.approx([ours(t) for t in range(30)],
                                                              abs=1e-15)
    # the fix: a function of the epoch
    fixed = d2l_schedulers.CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01)
    assert fixed(25) == 0.01
    assert [fixed(t) for t in order] == pytest.approx([cosine_by_hand(t) for t in order])
    assert printed_line("a fresh CosineScheduler, epoch 25:").endswith("0.01")


def test_the_transcription_keeps_d2ls_text():
    """article_001's CosineScheduler is the seed article's, with only its lost characters back."""
    import inspect

    source = inspect.getsource(article_001.CosineScheduler)
    for line in ["if epoch < self.warmup_steps:", "if epoch <= self.max_update:",
                 "self.max_steps = self.max_update - self.warmup_steps",
                 "return self.warmup_begin_lr + increase", "return self.base_lr"]:
        assert line in source
    assert "def __call__(self, num_update):" in inspect.getsource(article_001.FactorScheduler)


# -- section 6: torch's cosine after T_max -------------------------------------------------------


def test_torch_cosine_climbs_back_after_t_max():
    rates, _ = torch_rates(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.01),
                           0.3, 61)

    def unclamped(t):
        return 0.01 + 0.29 * (1 + math.cos(math.pi * t / 20)) / 2

    assert rates == pytest.approx([unclamped(t) for t in range(61)], abs=1e-12)
    assert [rates[t] for t in (20, 30, 40, 60)] == pytest.approx([0.01, 0.155, 0.3, 0.01])
    assert rates[25] == pytest.approx(0.0525, abs=5e-5)  # answer 1
    held = schedules.cosine_annealing_lr(0.3, T_max=20, eta_min=0.01)
    assert [held(t) for t in range(21, 61)] == [0.01] * 40
    assert held(25) == 0.01
    periodic = schedules.cosine_annealing_lr(0.3, T_max=20, eta_min=0.01, periodic=True)
    assert periodic.values(61) == pytest.approx(rates, abs=1e-12)
    assert printed_line("t = 40:") == "t = 40: torch 0.3000, course_lib 0.0100"


# -- section 7: reduce on plateau ----------------------------------------------------------------


@pytest.fixture(scope="module")
def regression():
    x, y = (t.double() for t in data.regression_data().as_tensors())
    x_fit, y_fit, x_val, y_val = x[:1200], y[:1200], x[1200:], y[1200:]
    # the least-squares fit, with numpy (independent of the notebook's torch.linalg.lstsq)
    design = np.column_stack([x_fit.numpy(), np.ones(1200)])
    w = np.linalg.lstsq(design, y_fit.numpy(), rcond=None)[0]
    least_squares = float(np.mean((np.column_stack([x_val.numpy(), np.ones(300)]) @ w
                                   - y_val.numpy()) ** 2) / 2)
    return x_fit, y_fit, x_val, y_val, least_squares


def plateau_run(regression, follow, lr=1.0, seed_offset=0, epochs=10):
    x_fit, y_fit, x_val, y_val, _ = regression
    plateau = schedules.ReduceLROnPlateau(lr=lr, factor=0.1, patience=1)
    model = training.linear_regression(5, seed=0, dtype=torch.float64)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    rates, losses = [], []
    for epoch in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        training.train(model, optimizer, x_fit, y_fit, epochs=1, batch_size=20,
                       record_every=None, seed=seed_offset + epoch)
        losses.append(training.evaluate(model, x_val, y_val))
        new_lr = plateau.step(losses[-1])
        if follow:
            for group in optimizer.param_groups:
                group["lr"] = new_lr
    return rates, losses


def torch_plateau_decisions(losses, lr=1.0):
    """torch's ReduceLROnPlateau fed the same metric: the rate before each epoch."""
    weight = torch.zeros(1, requires_grad=True)
    reference = torch.optim.SGD([weight], lr=lr)
    scheduler = lr_scheduler.ReduceLROnPlateau(reference, factor=0.1, patience=1)
    used = []
    for loss in losses:
        used.append(reference.param_groups[0]["lr"])
        scheduler.step(loss)
    return used


def test_a_cut_on_a_plateau_helps(regression):
    least_squares = regression[4]
    rates, cut = plateau_run(regression, follow=True)
    constant_rates, constant = plateau_run(regression, follow=False)
    assert rates == pytest.approx(torch_plateau_decisions(cut), rel=1e-12)  # torch decides alike
    assert constant_rates == [1.0] * 10
    first_cut = next(e for e in range(1, 10) if rates[e] < rates[e - 1])
    assert first_cut == 4 and rates[first_cut] == pytest.approx(0.1)
    # two epochs without a new best (more than patience = 1) before the cut
    assert min(cut[:2]) < min(cut[2:4])
    assert cut[:first_cut] == constant[:first_cut]  # the same run until the cut
    # the very next epoch beats everything the constant rate reaches in all ten
    assert cut[first_cut] < min(constant)
    # the last three epochs: at least squares' level with the cut, well above it without
    assert abs(np.mean(cut[-3:]) - least_squares) < 0.002
    assert np.mean(constant[-3:]) - least_squares > 0.05
    assert printed_line("rates used: ").endswith("1 × 4, 0.1 × 6")
    table = printed_lines("reduce on plateau  ")[-1].split()
    assert table[-3:] == [f"{min(cut[:4]):.4f}", f"{min(cut[4:]):.4f}", f"{np.mean(cut[-3:]):.4f}"]
    table = printed_lines("constant 1.0  ")[-1].split()
    assert table[-3:] == [f"{min(constant[:4]):.4f}", f"{min(constant[4:]):.4f}",
                          f"{np.mean(constant[-3:]):.4f}"]
    assert printed_line("validation loss (least squares:").startswith(
        f"validation loss (least squares: {least_squares:.4f})")


@pytest.mark.parametrize("seed_offset", [100, 200, 300])
def test_the_cut_helps_for_other_minibatch_orders_too(regression, seed_offset):
    least_squares = regression[4]
    rates, cut = plateau_run(regression, follow=True, seed_offset=seed_offset)
    _, constant = plateau_run(regression, follow=False, seed_offset=seed_offset)
    assert rates[-1] < 1.0
    assert np.mean(cut[-3:]) - least_squares < 0.01 < np.mean(constant[-3:]) - least_squares


def test_the_noise_level_grows_with_the_rate(regression):
    """Section 1's noise term: a constant rate 10 times smaller bounces far closer to the fit."""
    least_squares = regression[4]
    excess = {}
    for lr in (1.0, 0.1):
        _, losses = plateau_run(regression, follow=False, lr=lr)
        excess[lr] = np.mean(losses[-5:]) - least_squares
    assert excess[1.0] > 5 * excess[0.1]


# -- the schedule explorer (end of section 4) -----------------------------------------------------


# the peaks as the text gives them, and as the slider (10 values a decade) has them
@pytest.mark.parametrize("peak", [0.5, 10**-0.3, 1.0, 2.0, 10**0.3])
def test_the_explorers_cosine_decay_against_the_constant_peak(peak):
    """The "Build a schedule" page: with 6 warmup updates, the cosine decay ends above the
    constant peak rate at 0.5 (less Σ η), below it at 1, and at 2 the constant rate blows up
    (its loss ends far above the untrained network's) while the cosine decay still trains."""
    from course_lib import explorations
    from course_lib.widgets import schedule

    cosine = explorations.schedule_training(schedule.build(("cosine", 6, peak, 0)))
    constant = explorations.schedule_training(schedule.build(("constant", 0, peak, 0)))
    start = cosine.loss[0]
    assert constant.loss[0] == start                          # the same network, untrained
    assert cosine.rates.sum() < constant.rates.sum()
    if peak < 0.6:
        assert constant.loss[-1] < cosine.loss[-1]
    elif peak < 1.5:
        assert cosine.loss[-1] < constant.loss[-1]
    else:
        assert constant.loss[-1] > 10 * start and cosine.loss[-1] < start / 5
