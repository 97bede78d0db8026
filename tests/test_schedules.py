"""Schedules: equal to torch's schedulers, to d2l's classes, pure, and strict about arguments."""

import math
import random
from collections import Counter

import pytest
import torch

from course_lib import d2l_schedulers, schedules
from course_lib.schedule_parity import SCHEDULE_CASES, schedule_deviation, torch_sequences

lr_scheduler = torch.optim.lr_scheduler


@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=[f"{c.scheduler}-{c.params}"
                                                      for c in SCHEDULE_CASES])
def test_schedule_equals_torch_scheduler(case):
    assert case.steps >= 100
    assert schedule_deviation(case) <= 1e-12


def test_every_torch_scheduler_has_three_parameter_sets():
    counts = Counter(case.scheduler for case in SCHEDULE_CASES)
    expected = {"ConstantLR", "StepLR", "MultiStepLR", "ExponentialLR", "PolynomialLR",
                "LinearLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
                "CyclicLR"}
    assert set(counts) == expected
    assert min(counts.values()) >= 3
    assert all(case.momentum is not None for case in SCHEDULE_CASES
               if case.scheduler == "OneCycleLR")


def test_a_parity_case_fails_when_the_schedule_is_wrong():
    case = next(c for c in SCHEDULE_CASES if c.scheduler == "StepLR")
    wrong = type(case)(**{**case.__dict__, "lr": schedules.step_lr(0.5, 11, 0.5)})
    assert schedule_deviation(wrong) > 1e-3


ALL_SCHEDULES = [
    schedules.constant(0.1),
    schedules.constant_lr(0.2, 0.5, 10),
    schedules.step_lr(0.5, 7, 0.5),
    schedules.multi_step_lr(0.5, [5, 9], 0.1),
    schedules.exponential_lr(1.0, 0.95),
    schedules.polynomial_lr(0.1, 20, 2.0),
    schedules.linear_lr(0.3, 0.25, 1.0, 10),
    schedules.cosine_annealing_lr(0.3, 20, 0.01),
    schedules.cosine_annealing_warm_restarts(0.1, 5, 2),
    schedules.one_cycle_lr(0.8, 50),
    schedules.one_cycle_momentum(50),
    schedules.cyclic_lr(0.01, 0.1, 5, mode="triangular2"),
    schedules.cyclic_momentum(step_size_up=5),
    schedules.power_decay(0.1, 0.5, 0.1),
    schedules.inverse_sqrt(0.1),
    schedules.linear_warmup(schedules.exponential_lr(0.3, 0.9), 5, 0.01),
    schedules.join([schedules.constant(0.1), schedules.step_lr(0.05, 3)], [10]),
    schedules.warmup_cosine(0.3, 20, 5, 0.01),
]


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=repr)
def test_schedules_are_pure_functions_of_t(schedule):
    in_order = [schedule(t) for t in range(50)]
    order = list(range(50))
    random.Random(0).shuffle(order)
    shuffled = {t: schedule(t) for t in order}
    assert [shuffled[t] for t in range(50)] == in_order
    assert schedule(13) == in_order[13]  # and again, after all those calls


def test_cosine_annealing_after_t_max_holds_where_torch_climbs_back():
    """torch's CosineAnnealingLR is periodic; ours holds eta_min unless periodic=True."""
    base, t_max, eta_min = 0.3, 10, 0.01
    weight = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([weight], lr=base)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)
    torch_lrs = []
    for _ in range(3 * t_max + 1):
        torch_lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    held = schedules.cosine_annealing_lr(base, t_max, eta_min)
    periodic = schedules.cosine_annealing_lr(base, t_max, eta_min, periodic=True)
    for t, value in enumerate(torch_lrs):
        assert periodic(t) == pytest.approx(value, abs=1e-12)
        if t <= t_max:
            assert held(t) == pytest.approx(value, abs=1e-12)
        else:
            assert held(t) == eta_min
    assert torch_lrs[2 * t_max] == pytest.approx(base, abs=1e-12)  # torch is back at the top
    assert torch_lrs[t_max + 1] > eta_min


@pytest.mark.parametrize(("peak", "total", "warmup", "final", "start_factor"),
                         [(0.3, 20, 5, 0.01, 0.2), (1.0, 100, 10, 0.0, 0.01),
                          (0.05, 60, 1, 0.001, 0.5)])
def test_warmup_cosine_equals_sequential_lr_where_they_coincide(peak, total, warmup, final,
                                                                start_factor):
    weight = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([weight], lr=peak)
    sched = lr_scheduler.SequentialLR(
        opt,
        [lr_scheduler.LinearLR(opt, start_factor=start_factor, total_iters=warmup),
         lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=final)],
        milestones=[warmup],
    )
    ours = schedules.warmup_cosine(peak, total, warmup, final, start_lr=start_factor * peak)
    for t in range(total + 1):  # after `total`, torch's cosine climbs back; ours holds
        assert ours(t) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-12)
        opt.step()
        sched.step()


def d2l_cosine_formula(t, max_update, base_lr, final_lr, warmup_steps, warmup_begin_lr):
    """d2l's CosineScheduler, restated: linear warmup, cosine to max_update, then final_lr."""
    if t < warmup_steps:
        return warmup_begin_lr + (base_lr - warmup_begin_lr) * t / warmup_steps
    if t > max_update:
        return final_lr
    progress = (t - warmup_steps) / (max_update - warmup_steps)
    return final_lr + (base_lr - final_lr) * (1 + math.cos(math.pi * progress)) / 2


@pytest.mark.parametrize(("max_update", "base_lr", "final_lr", "warmup", "begin"),
                         [(20, 0.3, 0.01, 0, 0.0), (20, 0.3, 0.01, 5, 0.0),
                          (50, 1.0, 0.0, 10, 0.1), (7, 0.02, 0.001, 3, 0.005)])
def test_warmup_cosine_equals_d2l_formula_everywhere(max_update, base_lr, final_lr, warmup,
                                                     begin):
    ours = schedules.warmup_cosine(base_lr, max_update, warmup, final_lr, begin)
    cls = d2l_schedulers.CosineScheduler(max_update, base_lr, final_lr, warmup, begin)
    for t in range(3 * max_update):
        expected = d2l_cosine_formula(t, max_update, base_lr, final_lr, warmup, begin)
        assert ours(t) == pytest.approx(expected, abs=1e-15)
        assert cls(t) == ours(t)


# d2l's printed values for CosineScheduler(20, warmup_steps=5, base_lr=0.3, final_lr=0.01),
# as measured for the course reference (torch-optim-semantics.md, section 3).
D2L_WARMUP_COSINE = [
    0.0000000000, 0.0600000000, 0.1200000000, 0.1800000000, 0.2400000000, 0.3000000000,
    0.2968314021, 0.2874640914, 0.2723074642, 0.2520239379, 0.2275000000, 0.1998074642,
    0.1701566272, 0.1398433728, 0.1101925358, 0.0825000000, 0.0579760621, 0.0376925358,
    0.0225359086, 0.0131685979, 0.0100000000, 0.0100000000, 0.0100000000, 0.0100000000,
    0.0100000000,
]


def test_d2l_warmup_demo_values():
    scheduler = d2l_schedulers.CosineScheduler(20, warmup_steps=5, base_lr=0.3, final_lr=0.01)
    assert [round(scheduler(t), 10) for t in range(25)] == D2L_WARMUP_COSINE


# -- d2l's own classes, transcribed as d2l writes them (stateful), to compare against ----------


class D2LFactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor, self.stop_factor_lr, self.base_lr = factor, stop_factor_lr, base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


class D2LMultiFactorScheduler:
    def __init__(self, step, factor, base_lr):
        self.step, self.factor, self.base_lr = step, factor, base_lr

    def __call__(self, epoch):
        if epoch in self.step:
            self.base_lr = self.base_lr * self.factor
        return self.base_lr


class D2LCosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig, self.max_update, self.final_lr = base_lr, max_update, final_lr
        self.warmup_steps, self.warmup_begin_lr = warmup_steps, warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            increase = (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(
                self.warmup_steps)
            return self.warmup_begin_lr + increase
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (self.base_lr_orig - self.final_lr) * (
                1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr


@pytest.mark.parametrize(("ours", "theirs", "epochs"), [
    (d2l_schedulers.FactorScheduler(0.9, 1e-2, 2.0), D2LFactorScheduler(0.9, 1e-2, 2.0), 50),
    (d2l_schedulers.FactorScheduler(0.5, 1e-3, 1.0), D2LFactorScheduler(0.5, 1e-3, 1.0), 30),
    (d2l_schedulers.MultiFactorScheduler([15, 30], 0.5, 0.5),
     D2LMultiFactorScheduler([15, 30], 0.5, 0.5), 50),
    (d2l_schedulers.CosineScheduler(20, 0.3, 0.01), D2LCosineScheduler(20, 0.3, 0.01), 30),
    (d2l_schedulers.CosineScheduler(20, 0.3, 0.01, 5), D2LCosineScheduler(20, 0.3, 0.01, 5), 30),
], ids=["factor-d2l-demo", "factor", "multifactor", "cosine-d2l-demo", "warmup-d2l-demo"])
def test_d2l_classes_called_in_order_give_d2ls_values(ours, theirs, epochs):
    for epoch in range(epochs):
        assert ours(epoch) == pytest.approx(theirs(epoch), rel=1e-12, abs=1e-15)


def test_square_root_scheduler_d2l_demo():
    scheduler = d2l_schedulers.SquareRootScheduler(lr=0.1)
    assert [scheduler(t) for t in range(30)] == pytest.approx(
        [0.1 * (t + 1.0) ** -0.5 for t in range(30)], rel=1e-15)


def test_multifactor_scheduler_equals_torch_multisteplr():
    weight = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([weight], lr=0.5)
    sched = lr_scheduler.MultiStepLR(opt, milestones=[15, 30], gamma=0.5)
    ours = d2l_schedulers.MultiFactorScheduler(step=[15, 30], factor=0.5, base_lr=0.5)
    for epoch in range(50):
        assert ours(epoch) == opt.param_groups[0]["lr"]
        opt.step()
        sched.step()


def test_d2ls_stateful_cosine_scheduler_pitfall_is_fixed():
    """d2l's object remembers its last value; ours is a function of the epoch alone."""
    with pytest.raises(AttributeError):
        D2LCosineScheduler(20, 0.3, 0.01)(25)  # d2l: a fresh object past max_update fails
    theirs = D2LCosineScheduler(20, 0.3, 0.01)
    theirs(10)
    assert theirs(25) == pytest.approx(0.155)  # ... and an old one returns a stale value
    ours = d2l_schedulers.CosineScheduler(20, 0.3, 0.01)
    assert ours(25) == 0.01
    ours(10)
    assert ours(25) == 0.01


def test_composition_by_hand():
    ramp = schedules.linear_warmup(schedules.constant(1.0), warmup_steps=4, start_lr=0.2)
    assert ramp.values(6) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    joined = schedules.join([schedules.constant(1.0), schedules.exponential_lr(0.5, 0.5)], [3])
    assert joined.values(6) == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.25, 0.125])
    assert schedules.power_decay(1.0, 0.5, 0.1)(10) == pytest.approx(2 ** -0.5)
    assert schedules.inverse_sqrt(0.1)(3) == pytest.approx(0.05)
    assert schedules.as_schedule(0.3)(1000) == 0.3
    assert schedules.as_schedule(math.sqrt) is math.sqrt


BAD_ARGUMENTS = [
    (lambda: schedules.step_lr(0.1, 0, 0.5), "step_size must be a positive integer"),
    (lambda: schedules.step_lr(0.1, -3, 0.5), "step_size must be a positive integer"),
    (lambda: schedules.step_lr(0.1, 2.5, 0.5), "step_size must be a positive integer"),
    (lambda: schedules.step_lr(0.1, 5, 0.0), "gamma must be > 0"),
    (lambda: schedules.exponential_lr(0.1, -0.5), "gamma must be > 0"),
    (lambda: schedules.multi_step_lr(0.1, [5, -1]), "milestones must be integers >= 0"),
    (lambda: schedules.polynomial_lr(0.1, 0), "total_iters must be a positive integer"),
    (lambda: schedules.linear_lr(0.1, start_factor=0.0), r"start_factor must be in \(0, 1\]"),
    (lambda: schedules.constant_lr(0.1, factor=1.5), r"factor must be in \[0, 1\]"),
    (lambda: schedules.cosine_annealing_lr(0.1, 0), "T_max must be a positive integer"),
    (lambda: schedules.cosine_annealing_warm_restarts(0.1, 0), "T_0 must be a positive integer"),
    (lambda: schedules.cosine_annealing_warm_restarts(0.1, 5, 0),
     "T_mult must be a positive integer"),
    (lambda: schedules.warmup_cosine(0.3, 20, 20), "warmup_steps .* must be shorter than"),
    (lambda: schedules.warmup_cosine(0.3, 20, 25), "warmup_steps .* must be shorter than"),
    (lambda: schedules.warmup_cosine(0.3, 0), "total_steps must be a positive integer"),
    (lambda: schedules.one_cycle_lr(0.1, 100, pct_start=1.5), r"pct_start must be in \[0, 1\]"),
    (lambda: schedules.one_cycle_lr(0.1, 100, anneal_strategy="exp"), "anneal_strategy must be"),
    (lambda: schedules.one_cycle_lr(0.1, 0), "total_steps must be a positive integer"),
    (lambda: schedules.one_cycle_lr(0.1, 10)(11), "past the end"),
    (lambda: schedules.cyclic_lr(0.1, 1.0, mode="sawtooth"), "mode must be"),
    (lambda: schedules.cyclic_lr(0.1, 1.0, step_size_up=0), "step_size_up must be a positive"),
    (lambda: schedules.linear_warmup(schedules.constant(1.0), 0), "warmup_steps must be a"),
    (lambda: schedules.join([schedules.constant(1.0)], [5]), "one boundary fewer"),
    (lambda: schedules.join([schedules.constant(1.0)] * 3, [5, 5]), "strictly increasing"),
    (lambda: schedules.constant(-1.0), "value must be >= 0"),
    (lambda: schedules.constant(0.1)(-1), "t must be an integer >= 0"),
    (lambda: schedules.constant(0.1)(1.5), "t must be an integer >= 0"),
    (lambda: schedules.ReduceLROnPlateau(0.1, factor=1.0), r"factor must be in \[0, 1\)"),
    (lambda: schedules.ReduceLROnPlateau(0.1, mode="avg"), "mode must be 'min' or 'max'"),
    (lambda: schedules.ReduceLROnPlateau(0.1, patience=-1), "patience must be an integer"),
]


@pytest.mark.parametrize(("build", "message"), BAD_ARGUMENTS,
                         ids=[m for _, m in BAD_ARGUMENTS])
def test_invalid_schedule_arguments_are_clear_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_stepping_past_one_cycles_total_fails_in_torch_too():
    weight = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([weight], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    ours = schedules.one_cycle_lr(1.0, 10)
    for t in range(10):
        assert ours(t) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-15)
        opt.step()
        sched.step()
    assert ours(10) == pytest.approx(opt.param_groups[0]["lr"], abs=1e-15)
    opt.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        sched.step()
    with pytest.raises(ValueError, match="past the end"):
        ours(11)


METRICS = [
    [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.79999, 0.7] + [0.7] * 20,
    [math.sin(t / 3) + t * 0.01 for t in range(60)],
    [1 / (t + 1) for t in range(40)] + [0.025] * 30,
]


@pytest.mark.parametrize("options", [
    {},
    {"patience": 2},
    {"patience": 1, "cooldown": 3, "factor": 0.5, "min_lr": 0.01},
    {"mode": "max", "patience": 2, "threshold": 0.05},
    {"threshold_mode": "abs", "threshold": 0.01, "patience": 0},
    {"mode": "max", "threshold_mode": "abs", "patience": 3, "eps": 0.05},
], ids=str)
@pytest.mark.parametrize("metrics", METRICS, ids=["plateaus", "wave", "decay"])
def test_reduce_on_plateau_equals_torch(options, metrics):
    weight = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([weight], lr=0.1)
    theirs = lr_scheduler.ReduceLROnPlateau(opt, **options)
    ours = schedules.ReduceLROnPlateau(0.1, **options)
    for metric in metrics:
        opt.step()
        theirs.step(metric)
        assert ours.step(metric) == opt.param_groups[0]["lr"]


def test_torch_sequences_helper_reads_momentum_for_adam_and_sgd():
    case = next(c for c in SCHEDULE_CASES if c.optimizer == "Adam")
    lrs, momenta = torch_sequences(case)
    assert len(lrs) == len(momenta) == case.steps
    assert momenta[0] == pytest.approx(0.9)  # max_momentum of that case
