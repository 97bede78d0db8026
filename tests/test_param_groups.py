"""Parameter groups, coupled against decoupled weight decay, and two optimizers at once."""

import copy

import pytest
import torch

from course_lib import optim
from course_lib.param_groups import parameter_groups


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
        torch.nn.Linear(8, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 1),
    )


def test_no_decay_on_biases_and_norm_layers():
    net = model()
    groups = parameter_groups(net, weight_decay=0.05)
    decayed = {n for g in groups if g["weight_decay"] > 0 for n in g["names"]}
    plain = {n for g in groups if g["weight_decay"] == 0 for n in g["names"]}
    assert decayed == {"0.weight", "3.weight", "5.weight"}
    assert plain == {"0.bias", "1.weight", "1.bias", "3.bias", "4.weight", "4.bias", "5.bias"}
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in net.parameters())  # each exactly once


def test_learning_rate_by_prefix_longest_wins_and_frozen_parameters_are_left_out():
    net = model()
    net[5].bias.requires_grad_(False)
    groups = parameter_groups(net, 0.1, lr_by_prefix={"3.": 0.01, "3.weight": 0.001})
    by_name = {n: g for g in groups for n in g["names"]}
    assert by_name["3.weight"]["lr"] == 0.001 and by_name["3.bias"]["lr"] == 0.01
    assert "lr" not in by_name["0.weight"]
    assert "5.bias" not in by_name
    with pytest.raises(ValueError, match="match no parameter"):
        parameter_groups(net, 0.1, lr_by_prefix={"9.": 0.1})
    with pytest.raises(ValueError, match="weight_decay must be a number >= 0"):
        parameter_groups(net, -0.1)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_groups_work_with_course_lib_and_torch_alike(name):
    nets = [model(), model()]
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(1))
    optimizers = [
        getattr(module, name)(parameter_groups(net, 0.1, lr_by_prefix={"5.": 0.002}), lr=0.01)
        for module, net in zip((torch.optim, optim), nets, strict=True)
    ]
    for _ in range(5):
        for net, opt in zip(nets, optimizers, strict=True):
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            opt.step()
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.equal(a, b)


def test_coupled_l2_and_decoupled_decay_differ_exactly_as_the_math_says():
    """With a zero loss gradient, the only force is the decay.

    Adam, L2 (coupled): g = wd * w, and Adam normalises it: the first step is lr * sign(w),
    whatever wd is. AdamW (decoupled): w <- w (1 - lr * wd), and the zero gradient moves
    nothing else.
    """
    lr, wd = 0.1, 0.01
    for start in (2.0, -0.5):
        coupled = torch.tensor([start], requires_grad=True)
        decoupled = torch.tensor([start], requires_grad=True)
        adam = optim.Adam([coupled], lr=lr, weight_decay=wd, eps=0.0)
        adamw = optim.AdamW([decoupled], lr=lr, weight_decay=wd)
        coupled.grad, decoupled.grad = torch.zeros(1), torch.zeros(1)
        adam.step()
        adamw.step()
        assert coupled.item() == pytest.approx(start - lr * (1 if start > 0 else -1), rel=1e-6)
        assert decoupled.item() == pytest.approx(start * (1 - lr * wd), rel=1e-6)


def test_for_sgd_coupled_and_decoupled_decay_coincide():
    """SGD: w - lr (g + wd w) = w (1 - lr wd) - lr g, the same update either way."""
    torch.manual_seed(0)
    w = torch.randn(5, dtype=torch.float64, requires_grad=True)
    g = torch.randn(5, dtype=torch.float64)
    expected = w.detach() * (1 - 0.1 * 0.3) - 0.1 * g
    opt = optim.SGD([w], lr=0.1, weight_decay=0.3)
    w.grad = g
    opt.step()
    torch.testing.assert_close(w.detach(), expected, rtol=1e-15, atol=1e-15)


def test_two_optimizers_on_disjoint_parameter_sets():
    """As in the seed article: SGD on the first layer, Adam on the rest, stepped together."""
    net, alone = model(), model()
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(2))
    first = list(net[0].parameters())
    rest = [p for p in net.parameters() if all(p is not q for q in first)]
    sgd, adam = optim.SGD(first, lr=0.05, momentum=0.9), optim.Adam(rest, lr=0.01)
    reference = copy.deepcopy(alone)
    ref_first = list(reference[0].parameters())
    ref_rest = [p for p in reference.parameters() if all(p is not q for q in ref_first)]
    ref_sgd = torch.optim.SGD(ref_first, lr=0.05, momentum=0.9)
    ref_adam = torch.optim.Adam(ref_rest, lr=0.01)
    for _ in range(5):
        for network, opts in ((net, (sgd, adam)), (reference, (ref_sgd, ref_adam))):
            for opt in opts:
                opt.zero_grad()
            network(x).pow(2).mean().backward()
            for opt in opts:
                opt.step()
    for a, b in zip(net.parameters(), reference.parameters(), strict=True):
        assert torch.equal(a, b)
    assert set(map(id, sgd.state)) == set(map(id, first))
