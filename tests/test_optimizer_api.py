"""The torch optimizers behave like torch.optim's: signatures, groups, closures, state_dicts."""

import copy
import inspect

import pytest
import torch
from conftest import TORCH_NAMES

from course_lib import optim
from course_lib.arrays import ArrayOptimizer

IMPL_FLAGS = {"foreach", "fused", "capturable", "differentiable"}

#: One option set per optimizer with every state entry it can have.
RICH_OPTIONS = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    "Adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "RMSprop": {"centered": True, "momentum": 0.5, "weight_decay": 0.1},
    "Adadelta": {"rho": 0.95, "weight_decay": 0.1},
    "Adam": {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1},
    "AdamW": {"lr": 0.01, "amsgrad": True},
    "Adamax": {"lr": 0.01, "weight_decay": 0.1},
    "NAdam": {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1},
    "RAdam": {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1},
}


def make_model(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    ).to(dtype)


BATCH = torch.randn(16, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def loss_of(model):
    return (model(BATCH) ** 2).mean() + model[0].weight.abs().sum() * 0.01


def train(model, opt, steps, drop=None):
    for step in range(steps):
        opt.zero_grad()
        loss_of(model).backward()
        if drop is not None and drop(step):
            model[2].bias.grad = None
        opt.step()


def params_equal(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def states_equal(sd_a, sd_b):
    if set(sd_a["state"]) != set(sd_b["state"]):
        return False
    for key, state in sd_a["state"].items():
        other = sd_b["state"][key]
        if set(state) != set(other):
            return False
        if not all(torch.equal(torch.as_tensor(state[k]), torch.as_tensor(other[k]))
                   for k in state):
            return False
    return True


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_constructor_signature_matches_torch(name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    wanted = {k: p for k, p in theirs.items() if k not in IMPL_FLAGS}
    assert list(ours) == list(wanted)
    for key, param in wanted.items():
        assert ours[key].default == param.default, key
    # A positional call that is valid for ours means the same thing for torch's.
    positional = [k for k, p in ours.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    torch_positional = [k for k, p in theirs.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == torch_positional[: len(positional)]


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_param_groups_and_state_dict_match_torch(name):
    ours_model, torch_model = make_model(), make_model()
    options = RICH_OPTIONS[name]
    ours = getattr(optim, name)(ours_model.parameters(), **options)
    theirs = getattr(torch.optim, name)(torch_model.parameters(), **options)
    train(ours_model, ours, 12, drop=lambda s: s % 3 == 1)
    train(torch_model, theirs, 12, drop=lambda s: s % 3 == 1)
    assert params_equal(ours_model, torch_model)
    sd_ours, sd_torch = ours.state_dict(), theirs.state_dict()
    assert sd_ours["param_groups"] == sd_torch["param_groups"]
    assert states_equal(sd_ours, sd_torch)
    pairs = zip(sd_ours["state"].values(), sd_torch["state"].values(), strict=True)
    for state_ours, state_torch in pairs:
        for key in state_torch:
            assert state_ours[key].dtype == state_torch[key].dtype, key


@pytest.mark.parametrize("direction", ["torch->ours", "ours->torch"])
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_state_dict_loads_across_and_continues_the_same_trajectory(name, direction):
    options = RICH_OPTIONS[name]
    first_cls, second_cls = getattr(torch.optim, name), getattr(optim, name)
    if direction == "ours->torch":
        first_cls, second_cls = second_cls, first_cls

    # Ten steps with the first implementation, then a save.
    straight = make_model()
    straight_opt = first_cls(straight.parameters(), **options)
    train(straight, straight_opt, 10)
    saved = copy.deepcopy(straight_opt.state_dict())
    start = copy.deepcopy(straight)
    train(straight, straight_opt, 10, drop=lambda s: s == 4)

    # Each implementation loads the saved state and takes ten more steps.
    def resume(cls):
        model = copy.deepcopy(start)
        opt = cls(model.parameters(), **options)
        opt.load_state_dict(copy.deepcopy(saved))
        train(model, opt, 10, drop=lambda s: s == 4)
        return model, opt

    (other, other_opt), (same, same_opt) = resume(second_cls), resume(first_cls)
    assert params_equal(other, same)
    assert states_equal(other_opt.state_dict(), same_opt.state_dict())
    if name != "NAdam":
        # Resuming continues the uninterrupted run exactly. (torch's load_state_dict casts
        # NAdam's float32 mu_product to the parameter's dtype, so there torch itself continues
        # slightly differently after a reload, and course_lib does the same.)
        assert params_equal(straight, other)


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_parameter_groups_and_add_param_group(name):
    def build(module, model):
        first, second = list(model[0].parameters()), list(model[2].parameters())
        opt = getattr(module, name)([{"params": first, "lr": 0.02}], lr=0.005)
        train(model, opt, 3)
        opt.add_param_group({"params": second, "weight_decay": 0.05})
        train(model, opt, 5, drop=lambda s: s == 2)
        return opt

    ours_model, torch_model = make_model(), make_model()
    ours, theirs = build(optim, ours_model), build(torch.optim, torch_model)
    assert params_equal(ours_model, torch_model)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]
    assert states_equal(ours.state_dict(), theirs.state_dict())


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_step_with_closure_returns_the_loss(name):
    model = make_model()
    opt = getattr(optim, name)(model.parameters())
    calls = []

    def closure():
        opt.zero_grad()
        loss = loss_of(model)
        loss.backward()  # needs grad mode: step() must re-enable it for the closure
        calls.append(loss.item())
        return loss

    returned = opt.step(closure)
    assert calls and returned.item() == calls[0]


@pytest.mark.parametrize("name", TORCH_NAMES + ["Yogi"])
def test_parameter_without_grad_is_left_alone(name):
    model = make_model()
    opt = getattr(optim, name)(model.parameters(), **RICH_OPTIONS.get(name, {}))
    frozen = model[2].bias
    before = frozen.detach().clone()
    train(model, opt, 4, drop=lambda s: True)  # the frozen bias never has a grad
    assert torch.equal(frozen, before)
    assert frozen not in opt.state or name == "Adagrad"  # torch's Adagrad builds state eagerly
    # A parameter that had state keeps it unchanged while its grad is None.
    other = model[0].bias
    saved = {k: torch.as_tensor(v).clone() for k, v in opt.state.get(other, {}).items()}
    other_before = other.detach().clone()
    opt.zero_grad(set_to_none=True)
    opt.step()
    assert torch.equal(other, other_before)
    for key, value in saved.items():
        assert torch.equal(torch.as_tensor(opt.state[other][key]), value)


def test_adagrad_builds_state_at_construction_like_torch():
    a, b = make_model(), make_model()
    ours = optim.Adagrad(a.parameters(), initial_accumulator_value=0.3)
    theirs = torch.optim.Adagrad(b.parameters(), initial_accumulator_value=0.3)
    assert states_equal(ours.state_dict(), theirs.state_dict())
    assert len(ours.state) == len(list(a.parameters()))


def test_adamw_decays_a_parameter_with_zero_gradient():
    # Reference section 1: AdamW at lr = wd = 0.1 takes 1 to 0.99 on a zero gradient.
    w = torch.ones(1, requires_grad=True)
    opt = optim.AdamW([w], lr=0.1, weight_decay=0.1)
    w.grad = torch.zeros(1)
    opt.step()
    assert w.item() == pytest.approx(0.99, abs=1e-7)


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_torch_lr_scheduler_drives_our_optimizers(name):
    def run(module, model):
        opt = getattr(module, name)(model.parameters(), lr=0.05)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        for _ in range(9):
            opt.zero_grad()
            loss_of(model).backward()
            opt.step()
            sched.step()
        return sched.get_last_lr()

    a, b = make_model(), make_model()
    assert run(optim, a) == run(torch.optim, b)
    assert params_equal(a, b)


def test_step_hooks_and_zero_grad_are_inherited():
    model = make_model()
    opt = optim.Adam(model.parameters())
    seen = []
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(type(o).__name__))
    loss_of(model).backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    assert seen == ["Adam"]
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("name", ["sgd", "SGD", "Adam", "adamw", "RMSprop", "NADAM", "radam",
                                  "adagrad", "Adadelta", "adamax", "Yogi"])
def test_get_by_name_any_case(name):
    params = [torch.zeros(2, requires_grad=True)]
    opt = optim.get(name, params, lr=0.1)
    assert isinstance(opt, optim.OPTIMIZERS[name.lower()])
    assert opt.param_groups[0]["lr"] == 0.1
    arrays = optim.get(name, lr=0.1)
    assert isinstance(arrays, ArrayOptimizer)
    assert arrays.rule.name == name.lower()


def test_get_passes_hyperparameters_through():
    params = [torch.zeros(2, requires_grad=True)]
    opt = optim.get("adam", params, betas=(0.5, 0.9), amsgrad=True)
    assert opt.param_groups[0]["betas"] == (0.5, 0.9)
    assert opt.param_groups[0]["amsgrad"] is True
