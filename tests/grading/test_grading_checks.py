"""The checks of course_lib.grading, in the learner's own process: verdicts against torch, and
messages that say what is wrong (never a traceback of the machinery).

Correct learner rules are built from course_lib's numpy rules (validated against torch.optim
elsewhere), so these tests show that every algorithm's exercise can be passed to the
comparison's tolerance, and that wrong ones fail with the right words.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import objectives, optim, rules, schedules, validation
from course_lib.grading import checks, inputs
from course_lib.grading.notebook import CaseResult, PublicResult, failure_message
from course_lib.grading.session import Limits, RemoteClass, RemoteFunction, Session

BOWL = inputs.Quadratic.from_objective(objectives.stretched_bowl(), (-5.0, -2.0), "the bowl")


def learner_rule(name):
    """A learner's ``step(param, grad, state, **options)`` made of course_lib's numpy rule."""

    def step(param, grad, state, **options):
        rule = rules.make(name, **options)
        state = state or rule.init(param)
        param = param.copy()
        rule.step(param, grad, state)
        return param, state

    return step


def nesterov(param, grad, state, lr, momentum):
    buf = state.get("momentum_buffer")
    buf = grad.copy() if buf is None else momentum * buf + grad
    state["momentum_buffer"] = buf
    return param - lr * (grad + momentum * buf), state


def failure(call) -> str:
    with pytest.raises(checks.CheckFailed) as info:
        call()
    return str(info.value)


OPTION_CASES = [(name, label, options) for name, sets in validation.OPTION_SETS.items()
                if name != "yogi" for label, options in sets
                if "maximize" not in options and not isinstance(options.get("lr"), str)]


@pytest.mark.parametrize(("name", "label", "options"), OPTION_CASES,
                         ids=[f"{n}-{label}" for n, label, _ in OPTION_CASES])
def test_a_correct_numpy_rule_passes_against_torch(name, label, options):
    checks.rule(learner_rule(name), validation.TORCH_NAMES[name], name="step",
                options=[options], problems=inputs.quadratics(2), steps=30)


def test_yogi_is_checked_against_d2ls_formula():
    checks.rule(learner_rule("yogi"), "Yogi", name="yogi_step", options=[{"lr": 0.1}],
                problems=inputs.quadratics(2), steps=30)


def test_the_nesterov_first_step_message():
    def wrong(param, grad, state, lr, momentum):
        buf = momentum * state.get("momentum_buffer", np.zeros_like(param)) + 0.9 * grad
        state["momentum_buffer"] = buf
        return param - lr * (grad + momentum * buf), state

    text = failure(lambda: checks.rule(
        wrong, "SGD", name="nesterov_step", torch_options={"nesterov": True},
        options=[{"lr": 0.3, "momentum": 0.5}], problems=[BOWL], steps=20,
        state=["momentum_buffer"], labels={"momentum_buffer": "the momentum buffer"},
        first_step_notes={"momentum_buffer": "torch copies it, with no dampening"},
        hint="chapter 06"))
    assert text == (
        "`nesterov_step` does not follow torch.optim.SGD(lr=0.3, momentum=0.5, nesterov=True) "
        "on the bowl:\n  after step 1, the momentum buffer should equal the gradient, [-1, -8] "
        "(torch copies it, with no dampening); yours is 0.9 × the gradient, [-0.9, -7.2]."
        "\nHint: chapter 06")


def test_heavy_ball_instead_of_nesterov_is_caught_and_its_step_measured():
    text = failure(lambda: checks.rule(
        learner_rule("sgd"), "SGD", name="nesterov_step", torch_options={"nesterov": True},
        options=[{"lr": 0.3, "momentum": 0.5}], problems=[BOWL], steps=5))
    assert "after step 1, the parameter should be [-4.55, 1.6]; yours is [-4.7, 0.4]" in text
    assert "your step is 0.6667 × torch's step" in text


def test_a_wrong_sign_is_named():
    def ascent(param, grad, state, lr):
        return param + lr * grad, state

    text = failure(lambda: checks.rule(ascent, "SGD", name="gd", options=[{"lr": 0.1}],
                                       problems=[BOWL], steps=3))
    assert "your step is -1 × torch's step" in text


def test_hidden_inputs_change_from_draw_to_draw_and_repeat_with_a_seed():
    draw = inputs.quadratics(1)
    assert not np.array_equal(inputs.resolve(draw)[0].hessian, inputs.resolve(draw)[0].hessian)
    with inputs.grading_seed(7):
        first = inputs.resolve(draw, inputs.hidden_rng())[0].hessian
    with inputs.grading_seed(7):
        again = inputs.resolve(draw, inputs.hidden_rng())[0].hessian
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize(("answer", "words"), [
    (None, "is not defined yet"),
    (..., "is still `...`"),
    ("0.5", "should be one number"),
    ([1.0, 2.0], "should be one number"),
    (float("nan"), "should be a finite number"),
])
def test_number_answers_that_are_not_numbers(answer, words):
    assert words in failure(lambda: checks.number(answer, 0.5, name="x"))


def test_a_wrong_number_and_a_right_one():
    assert failure(lambda: checks.number(0.25, 0.5, name="x", hint="h")) == (
        "`x` is not right: yours is 0.25.\nHint: h")
    checks.number(np.float32(0.5), 0.5, name="x")
    checks.number(torch.tensor(0.5), 0.5, name="x")


def test_a_preview_checks_form_only():
    checks.preview_number(3.0, name="x", low=0, high=10)
    assert "cannot be right" in failure(lambda: checks.preview_number(30.0, name="x", high=10))


@pytest.mark.parametrize(("fn", "words"), [
    (None, "is not defined yet"),
    (..., "is still `...`"),
    (3.0, "should be a function"),
    (lambda h: None, "returned None; it should return one number"),
    (lambda h: 1 / 0, "raised ZeroDivisionError: division by zero"),
    (lambda: 1.0, "raised TypeError"),
])
def test_function_answers_that_fail(fn, words):
    text = failure(lambda: checks.function(fn, [np.diag([2.0, 4.0])], lambda h: 0.5,
                                           name="largest_stable_lr"))
    assert words in text and "Traceback" not in text


def test_rule_answers_that_return_the_wrong_things():
    assert "returned None; it should return (new_param, state)" in failure(
        lambda: checks.rule(lambda p, g, s, lr: None, "SGD", name="f", options=[{"lr": 0.1}],
                            problems=[BOWL]))
    assert "returned a parameter of shape (3,)" in failure(
        lambda: checks.rule(lambda p, g, s, lr: (np.zeros(3), s), "SGD", name="f",
                            options=[{"lr": 0.1}], problems=[BOWL]))
    assert "as the state; it should be the state dict" in failure(
        lambda: checks.rule(lambda p, g, s, lr: (p, None), "SGD", name="f",
                            options=[{"lr": 0.1}], problems=[BOWL]))


def test_a_path_is_checked_point_by_point():
    def gradient_descent(gradient, x0, lr, steps):
        path = [np.array(x0, dtype=float)]
        for _ in range(steps):
            path.append(path[-1] - lr * gradient(path[-1]))
        return np.array(path)

    checks.path(gradient_descent, "SGD", name="gd", options=inputs.draw(2, lr=inputs.uniform(
        0.05, 1.5)), problems=inputs.quadratics(2), steps=15)
    text = failure(lambda: checks.path(lambda g, x0, lr, steps: gradient_descent(g, x0, lr,
                                                                                 steps)[1:],
                                       "SGD", name="gd", options=[{"lr": 0.1}], problems=[BOWL],
                                       steps=5))
    assert "returned an array of shape (5, 2); it should have shape (6, 2)" in text


@pytest.mark.parametrize(("scheduler", "ours", "options"), [
    ("StepLR", lambda t, lr, step_size, gamma: schedules.step_lr(lr, step_size, gamma)(t),
     {"step_size": 7, "gamma": 0.5}),
    ("ExponentialLR", lambda t, lr, gamma: schedules.exponential_lr(lr, gamma)(t),
     {"gamma": 0.9}),
])
def test_a_schedule_against_lr_scheduler(scheduler, ours, options):
    checks.schedule(ours, scheduler, name="lr_at", options=[options], steps=40, base_lr=0.1)
    late = lambda t, lr, **kw: ours(max(t - 1, 0), lr, **kw)  # noqa: E731 - one step late
    text = failure(lambda: checks.schedule(late, scheduler, name="lr_at", options=[options],
                                           steps=40, base_lr=0.1))
    assert "does not match torch.optim.lr_scheduler." + scheduler in text
    assert "at update t=" in text


def test_an_experiment_is_rerun_with_hidden_seeds():
    def final_loss(choice, seed):  # gradient descent from a seeded start on x1² + 2x2²
        x = np.random.default_rng(seed).normal(size=2)
        for _ in range(choice["steps"]):
            x = x - choice["lr"] * np.array([2.0, 4.0]) * x
        return -float(x @ (np.array([1.0, 2.0]) * x))

    def budget(choice):
        return "at most 20 steps" if choice.get("steps", 0) > 20 else None

    checks.experiment({"lr": 0.25, "steps": 20}, final_loss, name="choice", target=-1e-6,
                      seeds=3, budget=budget, metric="minus the final loss")
    assert "at most 20 steps" in failure(lambda: checks.experiment(
        {"lr": 0.25, "steps": 50}, final_loss, name="choice", target=-1e-6, budget=budget))
    assert "it should be at least" in failure(lambda: checks.experiment(
        {"lr": 0.01, "steps": 20}, final_loss, name="choice", target=-1e-6))
    assert "is still `...`" in failure(lambda: checks.experiment(
        ..., final_loss, name="choice", target=0.0))


class Forgetful(torch.optim.Optimizer):
    """Momentum SGD that keeps its buffers outside ``self.state``: right until it is resumed."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})
        self.buffers = {}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                buf = self.buffers.get(p)
                buf = p.grad.clone() if buf is None else group["momentum"] * buf + p.grad
                self.buffers[p] = buf
                p.add_(buf, alpha=-group["lr"])


def test_an_optimizer_class_is_checked_for_parity_and_resuming():
    options = [{"lr": 0.05, "momentum": 0.9}]
    checks.optimizer_class(optim.SGD, "SGD", name="MySGD", options=options, problems=[BOWL],
                           steps=12, resume_at=5)
    checks.optimizer_class(Forgetful, "SGD", name="Forgetful", options=options, problems=[BOWL],
                           steps=12)
    text = failure(lambda: checks.optimizer_class(Forgetful, "SGD", name="Forgetful",
                                                  options=options, problems=[BOWL], steps=12,
                                                  resume_at=5))
    assert "saved after step 5 and resumed does not follow torch.optim.SGD" in text
    assert "after step 6" in text


def test_an_optimizer_class_with_parameter_groups():
    groups = [{"lr": 0.02}, {"lr": 0.2, "weight_decay": 0.1}]
    checks.optimizer_class(optim.Adam, "Adam", name="MyAdam", options=[{"lr": 0.1}],
                           problems=inputs.quadratics(2, dims=(3, 5)), steps=10, resume_at=4,
                           groups=groups)

    class OneRate(torch.optim.Adam):  # ignores each group's own learning rate
        def step(self, closure=None):
            for group in self.param_groups:
                group["lr"] = self.defaults["lr"]
            return super().step(closure)

    text = failure(lambda: checks.optimizer_class(OneRate, "Adam", name="OneRate",
                                                  options=[{"lr": 0.1}], problems=[BOWL],
                                                  steps=5, groups=groups))
    assert "parameter groups" in text and "after step 1" in text


def test_remote_answers_are_checked_the_same_way():
    """The same checks, with the answers living in a confined child process."""
    cells = ["import numpy as np\nimport torch\n",
             "def nesterov_step(param, grad, state, lr, momentum):\n"
             "    buf = state.get('momentum_buffer')\n"
             "    buf = grad.copy() if buf is None else momentum * buf + grad\n"
             "    state['momentum_buffer'] = buf\n"
             "    return param - lr * (grad + momentum * buf), state\n",
             "class MyAdam(torch.optim.Adam):\n    pass\n",
             "answer = np.float64(0.75)"]
    with Session(cells, Limits(call_seconds=20.0)) as session:
        session.start()
        assert session.describe(["nesterov_step", "MyAdam", "answer", "nothing"]) == {
            "nesterov_step": {"kind": "function"}, "MyAdam": {"kind": "class", "type": "MyAdam"},
            "answer": {"kind": "value", "value": 0.75}, "nothing": {"kind": "missing"}}
        checks.rule(RemoteFunction(session, "nesterov_step"), "SGD", name="nesterov_step",
                    torch_options={"nesterov": True}, problems=inputs.quadratics(2), steps=20,
                    options=inputs.draw(2, lr=inputs.uniform(0.05, 0.5),
                                        momentum=inputs.uniform(0.5, 0.95)))
        checks.optimizer_class(RemoteClass(session, "MyAdam"), "Adam", name="MyAdam",
                               options=[{"lr": 0.1}], problems=[BOWL], steps=8, resume_at=3)


def test_the_learner_sees_public_checks_passed_never_all_tests_passed():
    passed = PublicResult("q3", [CaseResult("q3 - 1", True, ""), CaseResult("q3 - 2", True, "")])
    assert repr(passed).startswith("q3: public checks passed (2 of 2).")
    assert "hidden checks" in repr(passed) and "all" not in repr(passed).lower().split("(")[0]
    failed = PublicResult("q3", [CaseResult("q3 - 1", False, "after step 1 ...")])
    assert repr(failed) == "q3: 1 of 1 public checks failed.\n\n✗ after step 1 ..."
    assert "public checks passed" in passed._repr_html_()


def test_otters_failure_framing_is_removed():
    otter_text = ("❌ Test case failed\nError at line 7 in test q3:\n  checks.rule(x)\n"
                  "CheckFailed: after step 1, the buffer should equal the gradient.\nHint: h")
    assert failure_message(otter_text) == ("after step 1, the buffer should equal the gradient."
                                           "\nHint: h")
    assert failure_message(otter_text.replace("CheckFailed", "KeyError")).startswith(
        "the check could not run (KeyError")
