"""Copies of an optimizer step on like the original, and old state_dicts load as in torch.

torch's ``__getstate__`` keeps ``defaults``, ``state`` and ``param_groups`` only; course_lib's
optimizers rebuild their update rule from them. A state_dict saved before an option existed
(no ``maximize``, ``amsgrad``, ``centered``, ...) loads, and the option's default is filled in,
as torch's ``__setstate__`` does. Every optimizer is checked mid-training, against the run that
was never copied and against torch.optim doing the same.
"""

import copy
import io
import pickle

import pytest
import torch
from conftest import TORCH_NAMES

from course_lib import optim

#: Option sets with every state entry each optimizer can have.
OPTIONS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "RMSprop": {"centered": True, "momentum": 0.5, "weight_decay": 0.1},
    "Adadelta": {"rho": 0.95, "weight_decay": 0.1},
    "Adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1},
    "AdamW": {"lr": 0.01, "amsgrad": True},
    "Adamax": {"lr": 0.01, "weight_decay": 0.1},
    "NAdam": {"lr": 0.01, "weight_decay": 0.1},
    "RAdam": {"lr": 0.01, "weight_decay": 0.1},
    "Yogi": {"lr": 0.01},
}

#: Options added to torch's optimizers over the years; a state_dict from before lacks them.
LATER_OPTIONS = ("maximize", "amsgrad", "centered", "nesterov", "decoupled_weight_decay",
                 "foreach", "capturable", "differentiable", "fused")


def set_grads(params, step):
    gen = torch.Generator().manual_seed(100 + step)
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen, dtype=p.dtype) + 0.1 * p.detach()


def start_params():
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(3, 2, generator=gen, dtype=torch.float64).requires_grad_(),
            torch.randn(2, generator=gen, dtype=torch.float64).requires_grad_()]


def run(opt, params, first, count):
    for step in range(first, first + count):
        set_grads(params, step)
        opt.step()


def torch_save_load(opt):
    buffer = io.BytesIO()
    torch.save(opt, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


COPIERS = {
    "deepcopy": copy.deepcopy,
    "pickle": lambda opt: pickle.loads(pickle.dumps(opt)),
    "torch.save": torch_save_load,
}


@pytest.mark.parametrize("how", list(COPIERS))
@pytest.mark.parametrize("name", list(OPTIONS))
def test_a_copy_made_mid_training_steps_on_like_the_original(name, how):
    params = start_params()
    opt = getattr(optim, name)(params, **OPTIONS[name])
    run(opt, params, 0, 6)
    twin = COPIERS[how](opt)
    assert type(twin) is type(opt) and twin.rule == opt.rule
    twin_params = twin.param_groups[0]["params"]
    assert twin_params[0] is not params[0]  # a copy, with its own tensors
    run(opt, params, 6, 6)
    run(twin, twin_params, 6, 6)
    for ours, theirs in zip(params, twin_params, strict=True):
        assert torch.equal(ours.detach(), theirs.detach())
    for ours, theirs in zip(opt.state.values(), twin.state.values(), strict=True):
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(torch.as_tensor(ours[k]), torch.as_tensor(theirs[k]))
                   for k in ours)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_a_copy_made_before_the_first_step_works(name):
    params = start_params()
    twin = copy.deepcopy(getattr(optim, name)(params, **OPTIONS[name]))
    run(twin, twin.param_groups[0]["params"], 0, 3)  # no AttributeError: the rule is rebuilt


def old_state_dict(opt):
    """The state_dict as a version without the later options (at their defaults) saved it."""
    saved = copy.deepcopy(opt.state_dict())
    for group in saved["param_groups"]:
        for key in LATER_OPTIONS:
            if key in group and group[key] in (False, None):
                del group[key]
    return saved


@pytest.mark.parametrize("direction", ["torch to course_lib", "course_lib to torch"])
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_an_old_state_dict_loads_and_continues_as_in_torch(name, direction):
    source_cls, target_cls = getattr(torch.optim, name), getattr(optim, name)
    if direction == "course_lib to torch":
        source_cls, target_cls = target_cls, source_cls
    params = start_params()
    source = source_cls(params, **OPTIONS[name])
    run(source, params, 0, 6)
    saved = old_state_dict(source)
    assert not any(key in saved["param_groups"][0] for key in ("maximize", "foreach"))
    loaded = {}
    for label, cls in (("course_lib", getattr(optim, name)), ("torch", getattr(torch.optim, name))):
        copies = [p.detach().clone().requires_grad_() for p in params]
        opt = cls(copies, **OPTIONS[name])
        opt.load_state_dict(copy.deepcopy(saved))
        group = opt.param_groups[0]
        assert group["maximize"] is False and "foreach" in group  # the defaults filled in
        run(opt, copies, 6, 6)
        loaded[label] = copies
    for ours, theirs in zip(loaded["course_lib"], loaded["torch"], strict=True):
        assert torch.equal(ours.detach(), theirs.detach())


@pytest.mark.parametrize("name", list(OPTIONS))
def test_an_unpickled_optimizer_without_later_options_fills_them_in(name):
    params = start_params()
    opt = getattr(optim, name)(params, **OPTIONS[name])
    run(opt, params, 0, 3)
    state = opt.__getstate__()
    state = {**state, "defaults": dict(state["defaults"]),
             "param_groups": [dict(g) for g in state["param_groups"]]}
    for target in (state["defaults"], *state["param_groups"]):
        target.pop("maximize", None)
    for param_state in state["state"].values():
        if "step" in param_state:
            param_state["step"] = int(param_state["step"].item())  # an old int step count
    revived = object.__new__(type(opt))
    revived.__setstate__(state)
    assert revived.defaults["maximize"] is False and revived.rule == opt.rule
    for param_state in revived.state.values():
        if "step" in param_state:
            assert torch.is_tensor(param_state["step"])
            assert param_state["step"].dtype == torch.float32
    run(revived, params, 3, 2)


def test_adamw_stays_decoupled_after_loading():
    params = start_params()
    opt = optim.AdamW(params)
    saved = old_state_dict(opt)
    for group in saved["param_groups"]:
        group.pop("decoupled_weight_decay", None)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
