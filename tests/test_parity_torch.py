"""course_lib against torch.optim: whole trajectories, every algorithm and option set.

The torch optimizers run torch's own operations in torch's order, so they must agree with
torch.optim bit for bit; the array optimizer (numpy arithmetic) must agree to 1e-10 relative in
float64, and within torch's float32 test tolerance (or the problem's own sensitivity to a
one-ulp change of the start) in float32.
"""

import pytest
import torch

from course_lib import validation

CASES = [
    (algorithm, label, options)
    for algorithm, sets in validation.OPTION_SETS.items()
    for label, options in sets
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("problem_name", list(validation.PROBLEMS))
@pytest.mark.parametrize(
    ("algorithm", "label", "options"), CASES, ids=[f"{a}-{lbl}" for a, lbl, _ in CASES]
)
def test_trajectories_match_torch(algorithm, label, options, problem_name, dtype):
    problem = validation.PROBLEMS[problem_name]()
    comparison = validation.compare(algorithm, options, problem, dtype, steps=200)
    if algorithm == "yogi":
        # The reference is d2l's formula written with plain tensor arithmetic: not the same
        # floating-point operations, so agreement is to rounding, not bitwise.
        if dtype == torch.float64:
            assert comparison.torch.max_rel <= 1e-12
        assert comparison.torch.within_float32_tolerance
    else:
        assert comparison.torch.max_abs == 0.0, "course_lib.optim must equal torch.optim bitwise"
    assert validation._passed(comparison.array, dtype, comparison.sensitivity)
    if dtype == torch.float64:
        assert comparison.array.max_rel <= 1e-10


def test_option_sets_cover_torchs_own_test_inputs():
    """Every CPU input of torch's common_optimizers.py appears among our option sets."""
    common = pytest.importorskip("torch.testing._internal.common_optimizers")
    impl_flags = {"foreach", "fused", "capturable", "differentiable"}
    ours = {
        algorithm: [validation._materialize(o) for _, o in sets]
        for algorithm, sets in validation.OPTION_SETS.items()
    }
    checked = 0
    for info in common.optim_db:
        algorithm = info.optim_cls.__name__.lower()
        if algorithm not in ours:
            continue
        for inp in info.optim_inputs_func(device="cpu", dtype=torch.float64):
            kwargs = {k: v for k, v in inp.kwargs.items() if k not in impl_flags}
            if len(kwargs) != len(inp.kwargs):
                continue
            assert any(_same_options(kwargs, o) for o in ours[algorithm]), (algorithm, kwargs)
            checked += 1
    assert checked >= 50


def _same_options(a, b):
    if set(a) != set(b):
        return False
    for key in a:
        x, y = a[key], b[key]
        if torch.is_tensor(x) or torch.is_tensor(y):
            if not (torch.is_tensor(x) and torch.is_tensor(y) and torch.equal(x, y)):
                return False
        elif x != y:
            return False
    return True


@pytest.mark.parametrize("problem_name", list(validation.PROBLEMS))
def test_problem_gradients_match_autograd(problem_name):
    problem = validation.PROBLEMS[problem_name]()
    params = [p.clone().requires_grad_() for p in problem.initial(torch.float64)]
    expected = torch.autograd.grad(problem.loss(params), params)
    for ours, theirs in zip(problem.gradients(params), expected, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)
