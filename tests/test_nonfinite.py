"""NaN and inf gradients do in course_lib exactly what they do in torch.optim."""

import math

import pytest
import torch
from conftest import TORCH_NAMES


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_nonfinite_gradients_propagate_as_in_torch(name, bad):
    from course_lib import optim

    results = []
    for module in (torch.optim, optim):
        w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
        opt = getattr(module, name)([w], lr=0.1)
        for step in range(3):
            w.grad = torch.tensor([0.5, bad if step == 1 else 0.25, -1.0], dtype=torch.float64)
            opt.step()
        results.append((w.detach().clone(), opt.state_dict()["state"]))
    (w_torch, state_torch), (w_ours, state_ours) = results
    assert torch.equal(w_torch.isnan(), w_ours.isnan())
    torch.testing.assert_close(w_ours, w_torch, equal_nan=True, rtol=0, atol=0)
    for key, value in state_torch.get(0, {}).items():
        torch.testing.assert_close(state_ours[0][key], value, equal_nan=True, rtol=0, atol=0)
