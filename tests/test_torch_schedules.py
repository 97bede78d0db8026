"""A course_lib schedule drives any torch optimizer through a torch LRScheduler."""

import io

import pytest
import torch

from course_lib import optim, schedules
from course_lib.torch_schedules import ScheduledLR

lr_scheduler = torch.optim.lr_scheduler


def lrs_and_momenta(opt, scheduler, steps):
    weight = opt.param_groups[0]["params"][0]
    seen = []
    for _ in range(steps):
        group = opt.param_groups[0]
        seen.append((group["lr"], group["betas"][0] if "betas" in group else group["momentum"]))
        weight.grad = torch.ones_like(weight)
        opt.step()
        scheduler.step()
    return seen


@pytest.mark.parametrize("module", [torch.optim, optim], ids=["torch.optim", "course_lib"])
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_one_cycle_through_the_adapter_equals_onecyclelr(module, name):
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    w1, w2 = torch.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    native = getattr(torch.optim, name)([w1], lr=0.1, **kwargs)
    adapted = getattr(module, name)([w2], lr=0.1, **kwargs)
    expected = lrs_and_momenta(native, lr_scheduler.OneCycleLR(native, 1.0, total_steps=60), 60)
    ours = ScheduledLR(adapted, schedules.one_cycle_lr(1.0, 60),
                       momentum=schedules.one_cycle_momentum(60))
    got = lrs_and_momenta(adapted, ours, 60)
    for (lr_a, m_a), (lr_b, m_b) in zip(got, expected, strict=True):
        assert lr_a == pytest.approx(lr_b, abs=1e-12) and m_a == pytest.approx(m_b, abs=1e-12)
    assert torch.equal(w1, w2)


def test_one_schedule_per_group_and_get_last_lr():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=1.0)
    sched = ScheduledLR(opt, [schedules.constant(0.1), schedules.exponential_lr(1.0, 0.5)])
    for _ in range(3):
        a.grad, b.grad = torch.ones(1), torch.ones(1)
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.1, 0.125]
    with pytest.raises(ValueError, match="one per parameter group"):
        ScheduledLR(opt, [schedules.constant(0.1)])


def test_wrong_call_order_gets_torchs_warning():
    w = torch.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    sched = ScheduledLR(opt, schedules.step_lr(0.1, 1, 0.5))
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_state_dict_saves_without_the_schedule_code():
    w = torch.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    sched = ScheduledLR(opt, lambda t: 0.1 / (t + 1), momentum=lambda t: 0.9)
    buffer = io.BytesIO()
    torch.save(sched.state_dict(), buffer)
    assert "lr_schedules" not in sched.state_dict()
    with pytest.raises(ValueError, match="momentum or betas"):
        ScheduledLR(optim.Adagrad([w]), schedules.constant(0.1), momentum=schedules.constant(0.9))


def test_schedule_drives_the_array_optimizer_like_the_torch_optimizer():
    import numpy as np

    from course_lib.arrays import ArrayOptimizer

    schedule = schedules.warmup_cosine(0.5, 30, 5, 0.01)
    x = np.array([2.0, -1.0])
    arrays = ArrayOptimizer("sgd", lr=schedule, momentum=0.9)
    w = torch.tensor([2.0, -1.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([w], lr=1.0, momentum=0.9)
    sched = ScheduledLR(opt, schedule)
    for _ in range(40):
        arrays.update({"x": x}, {"x": 2 * x})
        w.grad = 2 * w.detach()
        opt.step()
        sched.step()
    np.testing.assert_allclose(x, w.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="lr schedule gave -1"):
        ArrayOptimizer("sgd", lr=lambda t: -1.0)
