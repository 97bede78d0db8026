"""Complex parameters and sparse gradients, handled as torch.optim handles them.

torch updates a complex parameter of SGD with complex arithmetic and, in every other optimizer,
as a pair of reals (``view_as_real`` of the parameter, gradient and state). SGD and Adagrad take
sparse gradients; the others raise a RuntimeError naming themselves. course_lib must give the
same trajectories (bit for bit: the same torch operations) and the same errors.
"""

import pytest
import torch
from conftest import TORCH_NAMES

from course_lib import optim

OPTIONS = {
    "SGD": [{"lr": 0.05}, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
            {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "maximize": True}],
    "Adagrad": [{"lr": 0.1}, {"lr": 0.1, "initial_accumulator_value": 0.1, "lr_decay": 0.01},
                {"lr": 0.1, "maximize": True}],
    "RMSprop": [{}, {"centered": True, "momentum": 0.5, "weight_decay": 0.1}],
    "Adadelta": [{}, {"rho": 0.95, "weight_decay": 0.1}],
    "Adam": [{"lr": 0.01}, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}],
    "AdamW": [{"lr": 0.01}, {"lr": 0.01, "amsgrad": True}],
    "Adamax": [{}, {"weight_decay": 0.1, "maximize": True}],
    "NAdam": [{}, {"weight_decay": 0.1, "decoupled_weight_decay": True}],
    "RAdam": [{}, {"weight_decay": 0.1, "decoupled_weight_decay": True}],
}
CASES = [(name, options) for name, sets in OPTIONS.items() for options in sets]
# every coupled weight decay with maximize too: torch adds it in complex arithmetic, or not
CASES += [(name, {"weight_decay": 0.1, "maximize": True}) for name in OPTIONS if name != "SGD"]


def complex_run(module, name, options, dtype, steps=40):
    gen = torch.Generator().manual_seed(0)
    param = torch.randn(6, dtype=dtype, generator=gen).requires_grad_()
    opt = getattr(module, name)([param], **options)
    for _ in range(steps):
        # the gradient of |p|^2 / 2 plus noise, so the run goes somewhere
        param.grad = param.detach() + 0.5 * torch.randn(6, dtype=dtype, generator=gen)
        opt.step()
    return param.detach(), opt.state_dict()["state"].get(0, {})


@pytest.mark.parametrize("dtype", [torch.complex128, torch.complex64], ids=["c128", "c64"])
@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}-{i}" for n, i in
                                                          ((n, str(o)) for n, o in CASES)])
def test_complex_parameters_follow_torchs_trajectory_bit_for_bit(name, options, dtype):
    ours, our_state = complex_run(optim, name, options, dtype)
    theirs, their_state = complex_run(torch.optim, name, options, dtype)
    assert torch.equal(ours, theirs)
    assert our_state.keys() == their_state.keys()
    for key, value in their_state.items():
        assert our_state[key].dtype == value.dtype, key  # complex state stays complex
        assert torch.equal(our_state[key], value), key


def test_complex_means_a_pair_of_reals():
    """Adam on a + ib equals Adam on the real pair (a, b): the second moment is (a², b²)."""
    z = torch.tensor([3.0 + 4.0j], dtype=torch.complex128, requires_grad=True)
    pair = torch.tensor([[3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    opt_z, opt_pair = optim.Adam([z], lr=0.1), optim.Adam([pair], lr=0.1)
    z.grad = torch.tensor([1.0 + 1e-3j], dtype=torch.complex128)
    pair.grad = torch.tensor([[1.0, 1e-3]], dtype=torch.float64)
    opt_z.step()
    opt_pair.step()
    assert torch.equal(torch.view_as_real(z.detach()), pair.detach())
    # a first Adam step has length lr in *each* real coordinate, however small its gradient
    assert torch.allclose(torch.view_as_real(z.detach()), torch.tensor([[2.9, 3.9]],
                          dtype=torch.float64), rtol=0, atol=1e-6)


def sparse_grad(step, size=7):
    # index 2 twice (the values add up when coalesced), a moving index, one step without 0
    indices = [[2, 2, step % size] + ([0] if step % 3 else [])]
    values = [1.0, 0.5, -2.0] + ([0.25] if step % 3 else [])
    return torch.sparse_coo_tensor(indices, torch.tensor(values, dtype=torch.float64), (size,),
                                   check_invariants=True)


def sparse_run(module, name, options, steps=12):
    param = torch.linspace(-1, 1, 7, dtype=torch.float64).requires_grad_()
    opt = getattr(module, name)([param], **options)
    for step in range(steps):
        param.grad = sparse_grad(step)
        opt.step()
    return param.detach(), opt.state_dict()["state"]


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")
@pytest.mark.parametrize("options", [
    {"lr": 0.1}, {"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "momentum": 0.5, "dampening": 0.5, "maximize": True},
])
def test_sgd_takes_sparse_gradients_as_torch_does(options):
    ours, our_state = sparse_run(optim, "SGD", options)
    theirs, their_state = sparse_run(torch.optim, "SGD", options)
    assert torch.equal(ours, theirs)
    if "momentum" in options:
        ours_buf, theirs_buf = our_state[0]["momentum_buffer"], their_state[0]["momentum_buffer"]
        assert ours_buf.is_sparse and theirs_buf.is_sparse  # the buffer is sparse, as torch's
        assert torch.equal(ours_buf.to_dense(), theirs_buf.to_dense())


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")
@pytest.mark.parametrize("options", [
    {"lr": 0.1}, {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.2},
    {"lr": 0.5, "maximize": True, "eps": 1e-3},
])
def test_adagrad_takes_sparse_gradients_as_torch_does(options):
    ours, our_state = sparse_run(optim, "Adagrad", options)
    theirs, their_state = sparse_run(torch.optim, "Adagrad", options)
    assert torch.equal(ours, theirs)
    assert torch.equal(our_state[0]["sum"], their_state[0]["sum"])


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")
def test_sparse_adagrad_changes_only_the_touched_entries():
    param = torch.ones(5, dtype=torch.float64, requires_grad=True)
    opt = optim.Adagrad([param], lr=0.5)
    param.grad = torch.sparse_coo_tensor([[1, 3]], torch.tensor([2.0, -4.0],
                                         dtype=torch.float64), (5,))
    opt.step()
    # by hand: s = g², step = lr g / (|g| + eps) = ±0.5 at the touched entries only
    expected = torch.tensor([1.0, 0.5, 1.0, 1.5, 1.0], dtype=torch.float64)
    assert torch.allclose(param.detach(), expected, rtol=0, atol=1e-9)


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")
@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_sparse_gradients_with_weight_decay_raise_torchs_error(name):
    messages = []
    for module in (torch.optim, optim):
        param = torch.ones(4, dtype=torch.float64, requires_grad=True)
        opt = getattr(module, name)([param], lr=0.1, weight_decay=0.1)
        param.grad = torch.sparse_coo_tensor([[1]], torch.tensor([1.0], dtype=torch.float64),
                                             (4,))
        with pytest.raises(RuntimeError) as error:
            opt.step()
        messages.append(str(error.value))
        assert torch.equal(param.detach(), torch.ones(4, dtype=torch.float64))
    assert messages[1].startswith(messages[0])


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")
@pytest.mark.parametrize("name", [n for n in TORCH_NAMES if n not in ("SGD", "Adagrad")]
                         + ["Yogi"])
def test_other_optimizers_refuse_sparse_gradients_with_torchs_message(name):
    ours_param = torch.ones(4, dtype=torch.float64, requires_grad=True)
    dense = torch.ones(2, dtype=torch.float64, requires_grad=True)
    opt = getattr(optim, name)([dense, ours_param])
    dense.grad = torch.ones(2, dtype=torch.float64)
    ours_param.grad = torch.sparse_coo_tensor([[1]], torch.tensor([1.0], dtype=torch.float64),
                                              (4,))
    with pytest.raises(RuntimeError, match="does not support sparse gradients") as ours:
        opt.step()
    assert torch.equal(dense.detach(), torch.ones(2, dtype=torch.float64))  # nothing moved
    if name != "Yogi":
        theirs_param = torch.ones(4, dtype=torch.float64, requires_grad=True)
        torch_opt = getattr(torch.optim, name)([theirs_param])
        theirs_param.grad = ours_param.grad
        with pytest.raises(RuntimeError) as theirs:
            torch_opt.step()
        assert str(ours.value) == str(theirs.value)
