"""checks.sequence and checks.schedule with a composed reference (SequentialLR): verdicts
against torch, and messages that name the first entry that differs.

The correct answers are course_lib's schedules (validated against lr_scheduler elsewhere) or
torch itself; the wrong ones are the mistakes the exercise sets of chapters 11 and 12 ask
about (a warmup one epoch late, a scheduler stepped before the optimizer).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from course_lib import schedules
from course_lib.grading import checks, inputs, references
from course_lib.grading.session import Limits, RemoteFunction, Session


def failure(call) -> str:
    with pytest.raises(checks.CheckFailed) as info:
        call()
    return str(info.value)


def warmup_then_cosine(optimizer, warmup_steps, total_steps, start_factor, eta_min):
    """torch's linear warmup + cosine: SequentialLR of LinearLR and CosineAnnealingLR."""
    lr_scheduler = torch.optim.lr_scheduler
    return lr_scheduler.SequentialLR(optimizer, [
        lr_scheduler.LinearLR(optimizer, start_factor=start_factor, total_iters=warmup_steps),
        lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps,
                                       eta_min=eta_min)], milestones=[warmup_steps])


def ours(t, base_lr, warmup_steps, total_steps, start_factor, eta_min):
    return schedules.warmup_cosine(base_lr, total_steps, warmup_steps, eta_min,
                                   start_lr=start_factor * base_lr)(t)


SETTINGS = [{"warmup_steps": 5, "total_steps": 40, "start_factor": 0.1, "eta_min": 0.001},
            {"warmup_steps": 17, "total_steps": 60, "start_factor": 0.5, "eta_min": 0.02}]


def test_a_composed_scheduler_is_a_reference():
    lrs = references.schedule_lrs(warmup_then_cosine, SETTINGS[0], 41, 0.3)
    assert lrs[0] == pytest.approx(0.03) and lrs[5] == pytest.approx(0.3)
    assert lrs[40] == pytest.approx(0.001)
    checks.schedule(ours, warmup_then_cosine, name="lr_at", options=SETTINGS, steps=41,
                    base_lr=0.3)


def test_a_composed_scheduler_names_itself_and_the_first_wrong_update():
    def cosine_from_zero(t, base_lr, warmup_steps, total_steps, start_factor, eta_min):
        # the cosine counted from t = 0 instead of from the end of the warmup
        if t < warmup_steps:
            return ours(t, base_lr, warmup_steps, total_steps, start_factor, eta_min)
        return schedules.cosine_annealing_lr(base_lr, total_steps, eta_min)(t)

    text = failure(lambda: checks.schedule(
        cosine_from_zero, warmup_then_cosine, name="lr_at", options=SETTINGS[:1], steps=41,
        base_lr=0.3, describe=lambda o: f"SequentialLR(warmup_steps={o['warmup_steps']})"))
    assert "does not match SequentialLR(warmup_steps=5) with base lr 0.3" in text
    assert "at update t=5 the learning rate should be 0.3;" in text
    text = failure(lambda: checks.schedule(cosine_from_zero, warmup_then_cosine, name="lr_at",
                                           options=SETTINGS[:1], steps=41, base_lr=0.3))
    assert "does not match warmup_then_cosine(warmup_steps=5, total_steps=40" in text


def step_lr_rates(lr, step_size, gamma, epochs, scheduler_first=False):
    """The rate each epoch's update used, with scheduler.step() after (or before) it."""
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs):
            if scheduler_first:
                scheduler.step()
            param.grad = torch.ones(1)
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if not scheduler_first:
                scheduler.step()
    return rates


def reference(lr, step_size, gamma, epochs):
    return references.schedule_lrs("StepLR", {"step_size": step_size, "gamma": gamma}, epochs,
                                   lr)


def test_a_sequence_passes_and_its_first_wrong_entry_is_named():
    cases = [(0.01, 5, 0.1, 10), (0.5, 3, 0.5, 12)]
    checks.sequence(step_lr_rates, cases, reference, name="rates", what="the learning rate",
                    index="epoch")

    def one_early(got, expected):
        return "one epoch early" if np.allclose(got[:-1], expected[1:]) else None

    early = lambda *case: step_lr_rates(*case, scheduler_first=True)  # noqa: E731
    text = failure(lambda: checks.sequence(
        early, cases, reference, name="rates", what="the learning rate", index="epoch",
        explain=lambda case, got, expected: one_early(got, expected), hint="section 5"))
    assert text.startswith("`rates(0.01, 5, 0.1, 10)`: at epoch 4, the learning rate should "
                           "be 0.01; yours is 0.001. one epoch early")
    assert text.endswith("Hint: section 5")


@pytest.mark.parametrize(("answer", "words"), [
    (lambda *case: None, "returned None; it should return a list of 10 numbers"),
    (lambda *case: 0.01, "it should return a list of 10 numbers, the value at each step"),
    (lambda *case: [0.01] * 9, "returned 9 numbers; it should return 10, the value at each "
                               "step from 0 to 9"),
    (lambda *case: {"lr": 0.01}, "it should return a list of 10 numbers"),
    (lambda *case: 1 / 0, "raised ZeroDivisionError"),
    (..., "is still `...`"),
])
def test_sequence_answers_that_are_not_sequences(answer, words):
    assert words in failure(lambda: checks.sequence(answer, [(0.01, 5, 0.1, 10)], reference,
                                                    name="rates"))


def test_hidden_cases_are_drawn_when_the_check_runs():
    seen = []

    def record(lr, step_size, gamma, epochs):
        seen.append((lr, step_size))
        return step_lr_rates(lr, step_size, gamma, epochs)

    draw = inputs.Draw(2, lambda rng: (float(rng.uniform(0.01, 1)), int(rng.integers(2, 6)),
                                       0.5, 12))
    checks.sequence(record, draw, reference, name="rates")
    checks.sequence(record, draw, reference, name="rates")
    assert len(set(seen)) == 4
    with inputs.grading_seed(7):
        checks.sequence(record, draw, reference, name="rates")
    with inputs.grading_seed(7):
        checks.sequence(record, draw, reference, name="rates")
    assert seen[4:6] == seen[6:8]


def test_a_remote_sequence_is_checked_the_same_way():
    cells = ["import torch\n",
             "def rates(lr, step_size, gamma, epochs):\n"
             "    p = torch.zeros(1, requires_grad=True)\n"
             "    opt = torch.optim.SGD([p], lr=lr)\n"
             "    sched = torch.optim.lr_scheduler.StepLR(opt, step_size, gamma)\n"
             "    out = []\n"
             "    for _ in range(epochs):\n"
             "        p.grad = torch.ones(1)\n"
             "        out.append(opt.param_groups[0]['lr'])\n"
             "        opt.step()\n"
             "        sched.step()\n"
             "    return out\n"]
    with Session(cells, Limits(call_seconds=20.0)) as session:
        session.start()
        checks.sequence(RemoteFunction(session, "rates"), [(0.01, 5, 0.1, 10)], reference,
                        name="rates")
        text = failure(lambda: checks.sequence(RemoteFunction(session, "rates"),
                                               [(0.01, 5, 0.1, 10)],
                                               lambda *c: reference(*c) * 2, name="rates"))
        assert "at step 0, the value should be 0.02; yours is 0.01" in text


def test_the_warmup_experiment_of_set_11_separates_warmup_from_none():
    """11 q5's claims: started at the peak, the deep network ends well below the target of
    0.88; with the chapter's one-epoch warmup (11 updates) it reaches it, with a margin."""
    from course_lib.grading.experiments import digits_warmup_accuracy

    none = [digits_warmup_accuracy({"warmup_steps": 0, "start_lr": 0.0}, seed) for seed in
            range(3)]
    warm = [digits_warmup_accuracy({"warmup_steps": 11, "start_lr": 0.0}, seed) for seed in
            range(3)]
    assert max(none) < 0.86 and min(warm) > 0.895
    assert digits_warmup_accuracy({"warmup_steps": 11, "start_lr": 0.0}, 1) == warm[1]


def test_a_tiny_state_is_not_called_a_multiple_of_the_gradient():
    """Adadelta's u is about 1e-12 after a first step that forgot ε's place; the message
    must show it as it is, not as "-1.4e-13 × the gradient" (a tolerance of 1e-12 in absolute
    terms once made any tiny value a multiple of anything)."""
    from course_lib import objectives

    def eps_outside(param, grad, state, lr, rho, eps):
        zero = np.zeros_like(param)
        v = rho * state.get("square_avg", zero) + (1 - rho) * grad**2
        u = state.get("acc_delta", zero)
        delta = (np.sqrt(u) + eps) / (np.sqrt(v) + eps) * grad
        state.update(square_avg=v, acc_delta=rho * u + (1 - rho) * delta**2)
        return param - lr * delta, state

    bowl = inputs.Quadratic.from_objective(objectives.stretched_bowl(), (-5.0, -2.0), "the bowl")
    text = failure(lambda: checks.rule(eps_outside, "Adadelta", name="adadelta_step",
                                       options=[{"lr": 1.0, "rho": 0.9, "eps": 1e-6}],
                                       problems=[bowl], steps=5, state=["square_avg", "acc_delta"]))
    assert "after step 1, state['acc_delta'] should be [9.9999e-07, 1e-06]; yours is [" in text
    assert "× the gradient" not in text
