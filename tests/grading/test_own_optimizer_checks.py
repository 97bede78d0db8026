"""The checks of the final project (build your own optimizer): every choice can be passed, and
the mistakes a learner makes in a ``torch.optim.Optimizer`` subclass fail with words that say
which.

A correct learner class is stood in for by ``course_lib.optim``'s class of the same name
(validated bit for bit against ``torch.optim`` elsewhere) and by a hand-written Adam that
computes in another order; the wrong ones below each make one mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import optim
from course_lib.grading import checks, inputs, sandbox
from course_lib.grading.session import Limits, RemoteClass, Session

NAMES = list(inputs.OWN_OPTIMIZERS)
OPTS = [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}]
PROBLEM = inputs.quadratics(1, dims=(3, 4))
GROUPS = [{}, {"lr": 0.05}]


class HandAdam(torch.optim.Optimizer):
    """Adam written from its formulas (m̂ / (√v̂ + ε)), not in torch's order of operations."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad})

    def first_state(self, p):
        state = {"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
        return state

    def count(self, state):
        state["step"] = float(state["step"]) + 1
        return state["step"]

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad + group["weight_decay"] * p
                state = self.state[p]
                if not state:
                    state.update(self.first_state(p))
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                t = self.count(state)
                state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
                state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad**2
                v = state["exp_avg_sq"]
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = torch.maximum(state["max_exp_avg_sq"], v)
                    v = state["max_exp_avg_sq"]
                m_hat, v_hat = state["exp_avg"] / (1 - beta1**t), v / (1 - beta2**t)
                p -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])


class OwnNames(HandAdam):
    """Right steps, but its own names for the state entries."""

    def first_state(self, p):
        return {"t": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(self.first_state(p))
                state["t"] += 1
                t = state["t"]
                state["m"] = beta1 * state["m"] + (1 - beta1) * p.grad
                state["v"] = beta2 * state["v"] + (1 - beta2) * p.grad**2
                p -= group["lr"] * (state["m"] / (1 - beta1**t)) / (
                    (state["v"] / (1 - beta2**t)).sqrt() + group["eps"])


class TensorStepMath(HandAdam):
    """Computes the bias correction with state['step'] as it finds it: after loading torch's
    checkpoint, a float32 tensor."""

    def count(self, state):
        state["step"] = state["step"] + 1
        return state["step"]


class ZeroForNone(HandAdam):
    """Treats a missing gradient as zero, so its moments decay and its step count advances."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
        return super().step(closure)


class OneRate(HandAdam):
    """Reads the learning rate from the defaults instead of the parameter's group."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            group["lr"] = self.defaults["lr"]
        return super().step(closure)


class Forgetful(HandAdam):
    """Keeps its moments in an attribute of its own, which state_dict() does not save."""

    def __init__(self, params, **options):
        super().__init__(params, **options)
        self.mine = {}

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.mine.setdefault(p, self.first_state(p))
                self.state[p] = state
        super().step(closure)
        for p in list(self.state):
            self.mine[p] = self.state.pop(p)


def failure(call) -> str:
    with pytest.raises(checks.CheckFailed) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_every_choice_can_be_passed(name):
    cls = getattr(optim, name)
    hidden = inputs.optimizer_options(name, 2)
    groups = inputs.optimizer_groups(name)
    problems = inputs.quadratics(2, dims=(3, 6))
    checks.optimizer_class(cls, name, name="MyOptimizer", options=[{}, hidden],
                           problems=problems, steps=25)
    checks.optimizer_class(cls, name, name="MyOptimizer", options=hidden, problems=problems,
                           steps=20, groups=groups, resume_at=7,
                           without_grad=[[1, 1], [2, 1], [5, 0], [6, 2]])
    for direction in ("to_torch", "from_torch"):
        checks.optimizer_state_exchange(cls, name, name="MyOptimizer", options=hidden,
                                        problems=problems, direction=direction, steps=20,
                                        at=lambda rng: int(rng.integers(3, 15)), groups=groups)


@pytest.mark.parametrize("name", NAMES)
def test_option_draws_set_every_argument_and_differ(name):
    draws = inputs.optimizer_options(name, 4)(np.random.default_rng(1))
    arguments = inputs.OWN_OPTIMIZERS[name]["arguments"]
    assert all(sorted(d) == sorted(arguments) for d in draws)
    assert len({repr(d) for d in draws}) == 4
    torch_class = getattr(torch.optim, name)
    for d in draws:  # torch accepts each, and each group of a draw
        torch_class([torch.zeros(2, requires_grad=True)], **d)
        groups = inputs.optimizer_groups(name)(np.random.default_rng(2), d)
        torch_class([{"params": [torch.zeros(1, requires_grad=True)], **g} for g in groups], **d)


def test_a_hand_written_adam_in_another_order_passes():
    for _ in range(5):
        checks.optimizer_class(HandAdam, "Adam", name="MyOptimizer",
                               options=inputs.optimizer_options("Adam", 3),
                               problems=inputs.quadratics(3), steps=30)
        checks.optimizer_state_exchange(HandAdam, "Adam", name="MyOptimizer",
                                        options=inputs.optimizer_options("Adam", 2),
                                        problems=inputs.quadratics(2, dims=(3, 6)),
                                        direction="from_torch", steps=20, at=8,
                                        groups=inputs.optimizer_groups("Adam"))


def test_state_entries_under_other_names_are_named_in_both_directions():
    text = failure(lambda: checks.optimizer_state_exchange(
        OwnNames, "Adam", name="MyOptimizer", options=OPTS, problems=PROBLEM,
        direction="to_torch", steps=12, at=5, groups=GROUPS))
    assert "torch.optim.Adam(" in text and "cannot load the state_dict" in text
    assert "Torch's state entries are named 'exp_avg', 'exp_avg_sq', 'step'" in text
    assert "yours: ['m', 't', 'v']" in text
    text = failure(lambda: checks.optimizer_state_exchange(
        OwnNames, "Adam", name="MyOptimizer", options=OPTS, problems=PROBLEM,
        direction="from_torch", steps=12, at=5, groups=GROUPS))
    assert "loaded with torch.optim.Adam's state_dict after step 5" in text
    assert "KeyError" in text


def test_a_float32_step_is_explained_when_the_digits_look_equal():
    text = failure(lambda: checks.optimizer_state_exchange(
        TensorStepMath, "Adam", name="MyOptimizer", options=OPTS, problems=PROBLEM,
        direction="from_torch", steps=12, at=5))
    assert "after step 6" in text and "differ in the last digits only" in text
    assert "float32 state['step']" in text
    checks.optimizer_state_exchange(TensorStepMath, "Adam", name="MyOptimizer", options=OPTS,
                                    problems=PROBLEM, direction="to_torch", steps=12, at=5)


def test_a_missing_gradient_taken_as_zero_is_caught_in_its_group():
    checks.optimizer_class(HandAdam, "Adam", name="MyOptimizer", options=OPTS, problems=PROBLEM,
                           steps=10, groups=GROUPS, without_grad=[[1, 1], [2, 1]])
    text = failure(lambda: checks.optimizer_class(
        ZeroForNone, "Adam", name="MyOptimizer", options=OPTS, problems=PROBLEM, steps=10,
        groups=GROUPS, without_grad=[[1, 1], [2, 1]]))
    assert "no gradient for group 1 at steps 1, 2" in text
    assert "after step 3" in text and "group 1 (its options: {lr=0.05})" in text


def test_a_class_that_ignores_its_groups_is_caught():
    text = failure(lambda: checks.optimizer_class(
        OneRate, "Adam", name="MyOptimizer", options=OPTS, problems=PROBLEM, steps=5,
        groups=GROUPS))
    assert "after step 1" in text and "The first group that parts is group 1" in text


def test_state_kept_outside_the_state_dict_is_lost_on_resuming():
    checks.optimizer_class(Forgetful, "Adam", name="MyOptimizer", options=OPTS,
                           problems=PROBLEM, steps=10)
    text = failure(lambda: checks.optimizer_class(
        Forgetful, "Adam", name="MyOptimizer", options=OPTS, problems=PROBLEM, steps=10,
        resume_at=4))
    assert "saved after step 4 and resumed does not follow torch.optim.Adam" in text
    assert "after step 5" in text


def test_drawn_groups_change_from_draw_to_draw():
    groups = inputs.optimizer_groups("SGD")
    options = {"lr": 0.1}
    first = groups(np.random.default_rng(1), options)
    assert first[0] == {} and set(first[2]) == {"lr"}
    assert first != groups(np.random.default_rng(2), options)


def test_the_driver_skips_missing_gradients_and_loads_a_plain_state():
    kwargs = {"hessian": np.diag([1.0, 2.0, 3.0]), "b": np.ones(3),
              "start": np.array([1.0, -1.0, 2.0]), "options": {"lr": 0.1, "momentum": 0.9},
              "groups": [{}, {}]}
    run = sandbox.drive_optimizer_class(torch.optim.SGD, steps=3, resume_at=1,
                                        without_grad=[[1, 1], [2, 1]], **kwargs)
    assert np.array_equal(run["path"][1][2:], kwargs["start"][2:])  # group 1 did not move
    assert set(run["saved"]) == {"0"}  # only group 0 has a momentum buffer after step 1
    again = sandbox.drive_optimizer_class(torch.optim.SGD, steps=1, load_state=run["state"],
                                          **{**kwargs, "start": run["path"][-1]})
    straight = sandbox.drive_optimizer_class(torch.optim.SGD, steps=4,
                                             without_grad=[[1, 1], [2, 1]], **kwargs)
    assert np.array_equal(again["path"][0], straight["path"][3])


def test_the_project_checks_run_the_same_in_the_child():
    cells = ["import torch\n",
             "from course_lib import optim\n\nclass MyOptimizer(optim.RAdam):\n    pass\n"]
    with Session(cells, Limits(call_seconds=20.0)) as session:
        session.start()
        remote = RemoteClass(session, "MyOptimizer")
        options = inputs.optimizer_options("RAdam", 1)
        groups = inputs.optimizer_groups("RAdam")
        checks.optimizer_class(remote, "RAdam", name="MyOptimizer", options=options,
                               problems=inputs.quadratics(1, dims=(3, 5)), steps=15,
                               groups=groups, resume_at=6, without_grad=[[1, 2], [3, 0]])
        for direction in ("to_torch", "from_torch"):
            checks.optimizer_state_exchange(remote, "RAdam", name="MyOptimizer",
                                            options=options, groups=groups,
                                            problems=inputs.quadratics(1, dims=(3, 5)),
                                            direction=direction, steps=15, at=6)


@pytest.mark.parametrize(("answer", "words"), [
    ("adam", "should be one of 'SGD', 'Adagrad'"), (..., "is still `...`"),
    (None, "is not defined yet"), (["Adam"], "should be one of"), (3, "yours is 3")])
def test_a_choice_outside_the_list_is_named(answer, words):
    assert checks.one_of("Adam", NAMES, name="CHOICE") == "Adam"
    assert words in failure(lambda: checks.one_of(answer, NAMES, name="CHOICE"))


def keras_port(name, **keras_args):
    """The reference of a porting question: course_lib's translation of a Keras optimizer."""
    from course_lib import keras_style

    translation = keras_style.torch_arguments(name.lower(), **keras_args)
    return translation.torch_class, translation.arguments


def test_a_port_is_compared_by_the_settings_torch_builds():
    cases = [(("Adam",), {"learning_rate": 0.1, "weight_decay": 0.01}), (("SGD",), {})]

    def right(name, **keras_args):
        if name == "SGD":  # momentum and nesterov left out: torch's defaults are Keras' here
            return "SGD", {"lr": keras_args.get("learning_rate", 0.01)}
        return "AdamW", {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-7,
                         "weight_decay": keras_args["weight_decay"]}

    checks.optimizer_settings(right, cases, keras_port, name="port")
    literal = failure(lambda: checks.optimizer_settings(
        lambda name, **kw: ("Adam", {"lr": 0.1, "weight_decay": 0.01}), cases[:1], keras_port,
        name="port"))
    assert "should give torch.optim.AdamW(" in literal and "yours is torch.optim.Adam(" in literal
    default = failure(lambda: checks.optimizer_settings(
        lambda name, **kw: ("SGD", {}), cases[1:], keras_port, name="port"))
    assert "yours gives lr=0.001" in default
    refused = failure(lambda: checks.optimizer_settings(
        lambda name, **kw: ("SGD", {"lr": 0.01, "nesterov": True}), cases[1:], keras_port,
        name="port"))
    assert "which torch refuses (ValueError" in refused
    assert "a pair" in failure(lambda: checks.optimizer_settings(
        lambda name, **kw: "SGD", cases[1:], keras_port, name="port"))


def test_a_class_that_parts_before_the_checkpoint_is_not_blamed_on_resuming():
    text = failure(lambda: checks.optimizer_class(
        OneRate, "Adam", name="MyOptimizer", options=OPTS, problems=PROBLEM, steps=8,
        groups=GROUPS, resume_at=4))
    assert "(before it was saved after step 4) does not follow torch.optim.Adam" in text
    assert "after step 1" in text
