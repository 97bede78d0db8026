"""The quantitative claims of chapter 12 (torch.optim in practice), checked independently.

Expected values come from hand-worked math (the formulas in the chapter's prose) or from
torch.optim itself; the notebook's own printed output is never the reference.
"""

import copy
import inspect
import io
import json
import math
import pathlib
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch
from torch.optim.optimizer import (
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)

from course_lib import clipping, data, optim, param_groups, rules, training
from course_lib.articles import article_004

NOTEBOOK = (pathlib.Path(__file__).resolve().parents[1] / "chapters"
            / "12_torch_optim_in_practice.ipynb")
TORCH_NAMES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


@pytest.fixture(scope="module")
def regression():
    return data.regression_data(n_samples=200).as_tensors()


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def full_batch(model, optimizer, X, y, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        training.half_squared_error(model(X), y).backward()
        optimizer.step()
    return model


# -- 1 · the everyday knobs ----------------------------------------------------------------


def test_momentum_step_tends_to_lr_over_one_minus_momentum():
    rule = rules.SGD(lr=0.01, momentum=0.9)
    theta = torch.zeros(1, dtype=torch.float64)
    state = rule.init(theta)
    lengths = []
    for _ in range(200):
        before = theta.item()
        rule.step(theta, torch.ones(1, dtype=torch.float64), state)
        lengths.append(before - theta.item())
    for k in (1, 10, 50):
        assert lengths[k - 1] == pytest.approx(0.01 * sum(0.9**j for j in range(k)), rel=1e-12)
    assert lengths[-1] == pytest.approx(0.01 / (1 - 0.9), rel=1e-8)


def test_sgd_weight_decay_is_the_gradient_of_the_l2_penalty(regression):
    X, y = regression
    decayed, penalised = training.mlp([5, 16, 1], seed=0), training.mlp([5, 16, 1], seed=0)
    sgd_decay = torch.optim.SGD(decayed.parameters(), lr=0.1, weight_decay=0.05)
    sgd_plain = torch.optim.SGD(penalised.parameters(), lr=0.1)
    training.half_squared_error(decayed(X), y).backward()
    sgd_decay.step()
    penalty = sum((p ** 2).sum() for p in penalised.parameters()) * 0.05 / 2
    (training.half_squared_error(penalised(X), y) + penalty).backward()
    sgd_plain.step()
    for a, b in zip(decayed.parameters(), penalised.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)


def test_the_knobs_do_what_the_prose_says(regression):
    X, y = regression
    settings = {
        "slow": dict(lr=0.01), "fast": dict(lr=0.1), "momentum": dict(lr=0.01, momentum=0.9),
        "wd small": dict(lr=0.1, weight_decay=0.05), "wd large": dict(lr=0.1, weight_decay=0.2),
    }
    final, norm = {}, {}
    for label, hp in settings.items():
        model = training.mlp([5, 16, 1], seed=0)
        history = training.train(model, torch.optim.SGD(model.parameters(), **hp), X, y,
                                 epochs=6, batch_size=20, record_every=None)
        final[label] = history.final_loss
        norm[label] = torch.cat([p.flatten() for n, p in model.named_parameters()
                                 if n.endswith("weight")]).norm().item()
    # lr 0.01 has barely moved; lr 0.1 is much lower
    assert final["fast"] < 0.7 * final["slow"]
    # momentum 0.9 at lr 0.01 (effective step 0.1) lands close to lr 0.1
    assert final["momentum"] < 0.7 * final["slow"]
    assert abs(final["momentum"] - final["fast"]) < 0.2 * final["fast"]
    # weight decay: smaller weights, higher training loss, more so for larger decay
    assert norm["fast"] > norm["wd small"] > norm["wd large"]
    assert final["fast"] < final["wd small"] < final["wd large"]


# -- 2 · lr_decay ----------------------------------------------------------------------------


def test_the_articles_lr_decay_line_raises_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr_decay'"):
        article_004.sgd_with_lr_decay(training.mlp([5, 16, 1], seed=0))


@pytest.mark.parametrize("sgd_class", [torch.optim.SGD, optim.SGD])
def test_sgd_rejects_lr_decay_with_a_type_error(sgd_class):
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr_decay'"):
        sgd_class([torch.nn.Parameter(torch.ones(3))], lr=0.01, lr_decay=0.001)


def test_lambda_lr_with_the_articles_numbers_halves_the_rate_after_1000_updates():
    parameter = torch.nn.Parameter(torch.zeros(1))
    sgd = torch.optim.SGD([parameter], lr=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(sgd, lambda t: 1 / (1 + t * 0.001))
    seen = {}
    for update in range(1, 2002):
        seen[update] = sgd.param_groups[0]["lr"]
        parameter.grad = torch.ones(1)
        sgd.step()
        scheduler.step()
    assert seen[1] == 0.01
    assert seen[2] == pytest.approx(0.01 / 1.001, rel=1e-12)
    assert seen[1001] == pytest.approx(0.005, rel=1e-12)  # halved
    assert seen[2001] == pytest.approx(0.01 / 3, rel=1e-12)  # a third


def test_only_adagrad_takes_lr_decay():
    takes = [name for name in TORCH_NAMES
             if "lr_decay" in inspect.signature(getattr(torch.optim, name)).parameters]
    assert takes == ["Adagrad"]


def test_adagrad_lr_decay_divides_the_rate_as_the_formula_says():
    # gamma_t = 0.1 / (1 + (t - 1) * 0.5), worked out by hand
    expected = [0.1, 0.1 / 1.5, 0.1 / 2.0, 0.1 / 2.5, 0.1 / 3.0]
    weights = {d: torch.nn.Parameter(torch.ones(1, dtype=torch.float64)) for d in (0.0, 0.5)}
    adagrads = {d: torch.optim.Adagrad([w], lr=0.1, lr_decay=d) for d, w in weights.items()}
    for t in range(5):
        steps = {}
        for d, w in weights.items():
            before = w.item()
            w.grad = torch.ones(1, dtype=torch.float64)
            adagrads[d].step()
            steps[d] = before - w.item()
        # without decay, the step is 0.1 * g / (sqrt(t * g^2) + 1e-10) ~ 0.1 / sqrt(t)
        assert steps[0.0] == pytest.approx(0.1 / math.sqrt(t + 1), rel=1e-9)
        assert 0.1 * steps[0.5] / steps[0.0] == pytest.approx(expected[t], rel=1e-12)


def test_lambda_lr_gives_sgd_the_adagrad_decay():
    parameter = torch.nn.Parameter(torch.zeros(1))
    sgd = torch.optim.SGD([parameter], lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(sgd, lambda t: 1 / (1 + t * 0.5))
    for t in range(1, 6):
        assert sgd.param_groups[0]["lr"] == pytest.approx(0.1 / (1 + (t - 1) * 0.5), rel=1e-12)
        parameter.grad = torch.ones(1)
        sgd.step()
        scheduler.step()


# -- 3 · parameter groups --------------------------------------------------------------------


def layer_norm_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.LayerNorm(16), torch.nn.ReLU(),
                               torch.nn.Linear(16, 1))


def test_no_decay_on_biases_and_layer_norm():
    groups = param_groups.parameter_groups(layer_norm_net(), weight_decay=0.1)
    assert [(g["weight_decay"], g["names"]) for g in groups] == [
        (0.1, ["0.weight", "3.weight"]),
        (0.0, ["0.bias", "1.weight", "1.bias", "3.bias"]),
    ]


@pytest.mark.parametrize("adamw_class", [torch.optim.AdamW, optim.AdamW])
def test_zero_gradient_adamw_step_only_decays_the_decay_group(adamw_class):
    for use_groups in (True, False):
        net = layer_norm_net()
        before = {n: p.detach().clone() for n, p in net.named_parameters()}
        params = (param_groups.parameter_groups(net, weight_decay=0.1) if use_groups
                  else net.parameters())
        adamw = adamw_class(params, lr=0.01, weight_decay=0.1)
        for p in net.parameters():
            p.grad = torch.zeros_like(p)
        adamw.step()
        for name, p in net.named_parameters():
            # with groups: only the Linear weights (LayerNorm is module "1"); without: all
            decayed = (name in ("0.weight", "3.weight")) or not use_groups
            factor = 1 - 0.01 * 0.1 if decayed else 1.0
            torch.testing.assert_close(p.detach(), before[name] * factor, rtol=1e-6, atol=0)
            if not decayed:
                assert torch.equal(p.detach(), before[name])


def test_learning_rate_per_prefix():
    groups = param_groups.parameter_groups(layer_norm_net(), weight_decay=0.1,
                                           lr_by_prefix={"0.": 1e-3})
    adamw = optim.AdamW(groups, lr=1e-2)
    assert [(g["lr"], g["weight_decay"], g["names"]) for g in adamw.param_groups] == [
        (1e-3, 0.1, ["0.weight"]), (1e-3, 0.0, ["0.bias"]),
        (1e-2, 0.0, ["1.weight", "1.bias", "3.bias"]), (1e-2, 0.1, ["3.weight"]),
    ]


def test_two_optimizers_equal_one_optimizer_with_two_groups(regression):
    X, y = regression

    def steps(model, optimizers):
        for _ in range(30):
            for o in optimizers:
                o.zero_grad()
            training.half_squared_error(model(X), y).backward()
            for o in optimizers:
                o.step()

    two = training.mlp([5, 16, 1], seed=0)
    steps(two, [torch.optim.SGD(two[0].parameters(), lr=0.01, momentum=0.9),
                torch.optim.SGD(two[2].parameters(), lr=0.1, momentum=0.9)])
    one = training.mlp([5, 16, 1], seed=0)
    steps(one, [torch.optim.SGD([{"params": one[0].parameters(), "lr": 0.01},
                                 {"params": one[2].parameters()}], lr=0.1, momentum=0.9)])
    assert same_weights(two, one)
    assert not same_weights(two, training.mlp([5, 16, 1], seed=0))


class Net(torch.nn.Module):
    """The model the article's two-optimizer code assumes: layers fc1 and fc2."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.fc2 = torch.nn.Linear(5, 16), torch.nn.Linear(16, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x))).squeeze(-1)


def count_layer_updates(model, train):
    layer_of = {p: name.split(".")[0] for name, p in model.named_parameters()}
    counts = {}

    def watch(optimizer, args, kwargs):
        for layer in {layer_of[p] for g in optimizer.param_groups for p in g["params"]
                      if p.grad is not None}:
            key = (layer, type(optimizer).__name__)
            counts[key] = counts.get(key, 0) + 1

    handle = register_optimizer_step_pre_hook(watch)
    try:
        train(model)
    finally:
        handle.remove()
    return counts


def test_the_articles_two_optimizers_update_fc2_twice_per_batch(regression):
    X, y = regression
    counts = count_layer_updates(
        Net(), lambda m: article_004.two_optimizers(m, [(X, y)], training.half_squared_error))
    assert counts == {("fc1", "SGD"): 10, ("fc2", "SGD"): 10, ("fc2", "Adam"): 10}


def test_fc2s_first_update_is_an_sgd_step_plus_an_adam_step(regression):
    # Hand-worked: with gradient g of fc2.bias at the start, SGD moves it by -0.01 g and Adam's
    # first step by -0.001 g / (|g| + 1e-8) (m_hat = g, v_hat = g^2).
    X, y = regression
    model = Net()
    start = model.fc2.bias.detach().clone()
    training.half_squared_error(model(X), y).backward()
    g = model.fc2.bias.grad.detach().clone()
    model.zero_grad()
    after = []
    handle = register_optimizer_step_post_hook(
        lambda optimizer, args, kwargs: after.append(model.fc2.bias.detach().clone()))
    try:
        article_004.two_optimizers(model, [(X, y)], training.half_squared_error)
    finally:
        handle.remove()
    sgd_step, adam_step = after[0] - start, after[1] - after[0]
    torch.testing.assert_close(sgd_step, -0.01 * g, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(adam_step, -0.001 * g / (g.abs() + 1e-8), rtol=1e-4, atol=1e-9)


def test_disjoint_parameter_sets_update_each_layer_once(regression):
    X, y = regression

    def disjoint(model):
        optimizer1 = torch.optim.SGD(model.fc1.parameters(), lr=0.01)
        optimizer2 = torch.optim.Adam(model.fc2.parameters(), lr=0.001)
        for _ in range(10):
            loss = training.half_squared_error(model(X), y)
            optimizer1.zero_grad()
            optimizer2.zero_grad()
            loss.backward()
            optimizer1.step()
            optimizer2.step()

    assert count_layer_updates(Net(), disjoint) == {("fc1", "SGD"): 10, ("fc2", "Adam"): 10}


def test_add_param_group_unfreezes_a_layer(regression):
    X, y = regression

    def head_only():
        model = training.mlp([5, 16, 1], seed=0)
        model[0].requires_grad_(False)
        return model, torch.optim.SGD(model[2].parameters(), lr=0.05, momentum=0.9)

    model, sgd = head_only()
    first = model[0].weight.detach().clone()
    full_batch(model, sgd, X, y, 30)
    assert torch.equal(first, model[0].weight)
    model[0].requires_grad_(True)
    sgd.add_param_group({"params": model[0].parameters(), "lr": 0.01})
    assert sgd.param_groups[1]["momentum"] == 0.9 and sgd.param_groups[1]["lr"] == 0.01
    assert model[0].weight not in sgd.state or not sgd.state[model[0].weight]
    full_batch(model, sgd, X, y, 30)
    assert not torch.equal(first, model[0].weight)
    frozen, frozen_sgd = head_only()
    full_batch(frozen, frozen_sgd, X, y, 60)
    loss = training.evaluate(model, X, y)
    assert loss < training.evaluate(frozen, X, y)


# -- 4 · writing your own optimizer ---------------------------------------------------------


def notebook_solution():
    """The MomentumSGD class exactly as the notebook's solution cell defines it."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells
               if "solution" in c.get("metadata", {}).get("tags", [])]
    assert len(sources) == 1
    namespace = {"torch": torch}
    exec(sources[0], namespace)  # noqa: S102 - the course's own notebook
    return namespace["MomentumSGD"]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_the_exercise_solution_equals_torch_sgd_bit_for_bit(regression, momentum):
    X, y = regression
    momentum_sgd = notebook_solution()
    reference = training.mlp([5, 16, 1], seed=0)
    torch_sgd = torch.optim.SGD([{"params": reference[0].parameters(), "lr": 0.01},
                                 {"params": reference[2].parameters()}],
                                lr=0.05, momentum=momentum)
    full_batch(reference, torch_sgd, X, y, 40)
    mine = training.mlp([5, 16, 1], seed=0)
    my_sgd = momentum_sgd([{"params": mine[0].parameters(), "lr": 0.01},
                           {"params": mine[2].parameters()}], lr=0.05, momentum=momentum)
    full_batch(mine, my_sgd, X, y, 40)
    assert same_weights(mine, reference)
    mine_state, torch_state = my_sgd.state_dict()["state"], torch_sgd.state_dict()["state"]
    assert mine_state.keys() == torch_state.keys()
    for index in torch_state:
        assert mine_state[index].keys() == torch_state[index].keys()
        for key in torch_state[index]:
            assert torch.equal(mine_state[index][key], torch_state[index][key])


def test_the_articles_optimizer_at_momentum_09_is_torch_sgd_bit_for_bit(regression):
    X, y = regression
    reference = training.mlp([5, 16, 1], seed=0)
    full_batch(reference, torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9), X, y,
               40)
    article = training.mlp([5, 16, 1], seed=0)
    opt = article_004.MyOptimizer(article.parameters(), lr=0.05, momentum=0.9)
    with warnings.catch_warnings():  # the deprecation warning: checked in a fresh process below
        warnings.simplefilter("ignore", UserWarning)
        full_batch(article, opt, X, y, 40)
    assert same_weights(article, reference)


def test_the_deprecated_add_overload_warns_and_computes_the_keyword_form():
    # In a fresh process, so that torch's once-per-process warning is sure to fire.
    script = textwrap.dedent("""
        import warnings, torch
        p, buf = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
        q = p.clone()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            p.add_(-0.1, buf)
            r = p.clone()
            r.add_(-0.1, buf)  # a second call: torch warns once per process
        q.add_(buf, alpha=-0.1)
        print(torch.equal(p, q), len(caught), caught[0].category.__name__,
              str(caught[0].message))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.startswith("True 1 UserWarning This overload of add_ is deprecated")
    assert "add_(Tensor other, *, Number alpha = 1)" in out


def test_the_articles_optimizer_fails_at_its_default_momentum(regression):
    X, y = regression
    model = training.mlp([5, 16, 1], seed=0)
    with pytest.raises(UnboundLocalError, match="buf"):
        full_batch(model, article_004.MyOptimizer(model.parameters(), lr=0.05), X, y, 1)


def test_course_lib_sgd_and_a_keras_momentum_rule_optimizer(regression):
    X, y = regression

    class KerasMomentum(optim.RuleOptimizer):
        rule_class = rules.KerasSGD

    reference = training.mlp([5, 16, 1], seed=0)
    full_batch(reference, torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9), X, y,
               40)
    course = training.mlp([5, 16, 1], seed=0)
    full_batch(course, optim.SGD(course.parameters(), lr=0.05, momentum=0.9), X, y, 40)
    assert same_weights(course, reference)
    keras = training.mlp([5, 16, 1], seed=0)
    full_batch(keras, KerasMomentum(keras.parameters(), lr=0.05, momentum=0.9), X, y, 40)
    for p, q in zip(keras.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)


# -- 5 · schedulers ----------------------------------------------------------------------------


def rates_seen(train):
    rates = []
    handle = register_optimizer_step_pre_hook(
        lambda optimizer, args, kwargs: rates.append(optimizer.param_groups[0]["lr"]))
    try:
        train(Net())
    finally:
        handle.remove()
    return rates


def step_lr(epoch):
    """StepLR(step_size=5, gamma=0.1) from lr 0.01, by hand: 0.01 * 0.1 ** (epoch // 5)."""
    return 0.01 * 0.1 ** (epoch // 5)


def test_scheduler_before_optimizer_warns_and_decays_one_epoch_early(regression):
    X, y = regression
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        article = rates_seen(lambda m: article_004.step_lr_schedule(
            m, [(X, y)], training.half_squared_error))
    assert article == pytest.approx([step_lr(epoch + 1) for epoch in range(10)], rel=1e-12)
    assert article[:4] == [0.01] * 4 and article[4] == pytest.approx(0.001)
    assert article[9] == pytest.approx(0.0001)


def test_optimizer_then_scheduler_follows_the_schedule(regression):
    X, y = regression

    def correct(model):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.1)
        for _ in range(10):
            loss = training.half_squared_error(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()

    assert rates_seen(correct) == pytest.approx([step_lr(epoch) for epoch in range(10)],
                                                rel=1e-12)
    assert min(rates_seen(correct)) > 0.0002  # never reaches 0.0001 in ten epochs


# -- 6 · saving and resuming -----------------------------------------------------------------


@pytest.fixture(scope="module")
def resume_setup(regression):
    X, y = regression
    batches = list(data.minibatches(X, y, batch_size=50, seed=0))

    def steps(model, opt, first, count):
        for k in range(first, first + count):
            bx, by = batches[k % len(batches)]
            opt.zero_grad()
            training.half_squared_error(model(bx), by).backward()
            opt.step()

    straight = training.mlp([5, 16, 1], seed=0)
    steps(straight, torch.optim.Adam(straight.parameters(), lr=0.01), 0, 40)
    return steps, straight


@pytest.mark.parametrize("first_class,second_class", [
    (torch.optim.Adam, torch.optim.Adam),
    (torch.optim.Adam, optim.Adam),
    (optim.Adam, torch.optim.Adam),
    (optim.Adam, optim.Adam),
])
def test_resuming_from_a_checkpoint_continues_identically(resume_setup, first_class,
                                                          second_class):
    steps, straight = resume_setup
    model = training.mlp([5, 16, 1], seed=0)
    opt = first_class(model.parameters(), lr=0.01)
    steps(model, opt, 0, 20)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    fresh = training.mlp([5, 16, 1], seed=1)
    assert not same_weights(fresh, model)
    fresh.load_state_dict(saved["model"])
    fresh_opt = second_class(fresh.parameters(), lr=0.01)
    fresh_opt.load_state_dict(saved["optimizer"])
    steps(fresh, fresh_opt, 20, 20)
    assert same_weights(fresh, straight)


def test_resuming_without_the_optimizer_state_goes_elsewhere(resume_setup):
    steps, straight = resume_setup
    model = training.mlp([5, 16, 1], seed=0)
    steps(model, torch.optim.Adam(model.parameters(), lr=0.01), 0, 20)
    steps(model, torch.optim.Adam(model.parameters(), lr=0.01), 20, 20)
    largest = max((p - q).abs().max().item()
                  for p, q in zip(model.parameters(), straight.parameters(), strict=True))
    assert 0.06 < largest < 0.1  # "about 0.08"


def test_state_dict_holds_live_tensors():
    w = torch.nn.Parameter(torch.ones(2))
    adam = torch.optim.Adam([w], lr=0.1)
    w.grad = torch.ones(2)
    adam.step()
    snapshot, deep = adam.state_dict(), copy.deepcopy(adam.state_dict())
    adam.step()
    assert snapshot["state"][0]["step"].item() == 2.0
    assert deep["state"][0]["step"].item() == 1.0


def test_adam_state_entries():
    model = training.mlp([5, 16, 1], seed=0)
    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    adam.step()
    state = adam.state_dict()["state"]
    assert list(state) == [0, 1, 2, 3]
    assert list(state[0]) == ["step", "exp_avg", "exp_avg_sq"]
    assert state[0]["exp_avg"].shape == (16, 5) and state[0]["step"].dtype == torch.float32


# -- 7 · clipping ------------------------------------------------------------------------------


@pytest.mark.parametrize("clip", [torch.nn.utils.clip_grad_norm_, clipping.clip_grad_norm_])
def test_clip_by_norm_by_hand(clip):
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([4.0])
    total = clip([a, b], max_norm=1.0)
    assert total.item() == 5.0  # sqrt(9 + 16)
    scale = 1.0 / (5.0 + 1e-6)
    torch.testing.assert_close(a.grad, torch.tensor([3.0 * scale, 0.0]))
    torch.testing.assert_close(b.grad, torch.tensor([4.0 * scale]))


def network_with_gradients(regression):
    X, y = regression
    model = training.mlp([5, 16, 1], seed=0)
    training.half_squared_error(model(X), 10 * y).backward()
    return model


def flat(model):
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def test_clipping_matches_torch_and_keeps_or_changes_the_direction(regression):
    original = flat(network_with_gradients(regression))
    a, b = network_with_gradients(regression), network_with_gradients(regression)
    norm_a = torch.nn.utils.clip_grad_norm_(a.parameters(), max_norm=1.0)
    norm_b = clipping.clip_grad_norm_(b.parameters(), max_norm=1.0)
    assert torch.equal(norm_a, norm_b)
    assert norm_a.item() == pytest.approx(original.double().norm().item(), rel=1e-6)
    assert norm_a.item() > 1.0  # the clipping did something
    assert torch.equal(flat(a), flat(b))
    clipped = flat(a).double().norm().item()
    assert 1.0 - 1e-5 < clipped <= 1.0
    cos = torch.nn.functional.cosine_similarity
    assert cos(original, flat(a), dim=0).item() == pytest.approx(1.0, abs=1e-6)

    c, d = network_with_gradients(regression), network_with_gradients(regression)
    assert torch.nn.utils.clip_grad_value_(c.parameters(), clip_value=0.1) is None
    clipping.clip_grad_value_(d.parameters(), clip_value=0.1)
    assert torch.equal(flat(c), flat(d))
    assert flat(c).abs().max() <= torch.tensor(0.1)  # 0.1 rounded to float32
    assert torch.equal(flat(c), original.clamp(-0.1, 0.1))
    assert cos(original, flat(c), dim=0).item() < 0.9


def test_the_articles_loss_on_random_float_targets_is_the_soft_target_formula():
    # cross_entropy with float targets q: -(1/N) sum_n sum_c q_nc log softmax(o_n)_c.
    torch.manual_seed(1)
    loss = article_004.gradient_clipping().item()
    torch.manual_seed(1)  # the same draws, in the article's order
    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    inputs, target = torch.randn(10, 32), torch.randn(10, 10)
    by_hand = -(target * torch.log_softmax(model(inputs), dim=1)).sum(dim=1).mean().item()
    assert loss == pytest.approx(by_hand, rel=1e-5)
    assert loss < 0


def test_the_articles_loss_is_negative_in_about_half_of_the_draws():
    # q is independent of p and has mean 0, so the loss has mean 0: about half are negative.
    draws = []
    for seed in range(200):
        torch.manual_seed(seed)
        draws.append(article_004.gradient_clipping().item())
    negative = sum(d < 0 for d in draws) / len(draws)
    assert 0.4 < negative < 0.6


def repeat_article_step(target, steps):
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    sgd = torch.optim.SGD(model.parameters(), lr=0.01)
    inputs = torch.randn(10, 32)
    losses = []
    for _ in range(steps):
        sgd.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1)
        sgd.step()
        losses.append(loss.item())
    return losses


def test_random_float_targets_have_no_lower_bound_and_labels_do():
    generator = torch.Generator().manual_seed(0)
    floats = repeat_article_step(torch.randn(10, 10, generator=generator), 1000)
    assert floats[-1] < -100 and floats[-1] < floats[100] < floats[10] < floats[0]
    labels = repeat_article_step(torch.randint(0, 10, (10,), generator=generator), 1000)
    assert abs(labels[0] - math.log(10)) < 0.1  # a fresh network: near ln 10
    assert min(labels) >= 0
    soft = torch.softmax(torch.randn(10, 10, generator=generator), dim=1)
    entropy = -(soft * soft.log()).sum(dim=1).mean().item()
    assert min(repeat_article_step(soft, 1000)) >= entropy - 1e-5


# -- 8 · None versus zero gradients ------------------------------------------------------------


def test_zero_grad_sets_none_by_default(regression):
    X, y = regression
    model = training.mlp([5, 16, 1], seed=0)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    training.half_squared_error(model(X), y).backward()
    sgd.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    training.half_squared_error(model(X), y).backward()
    sgd.zero_grad(set_to_none=False)
    assert all(torch.equal(p.grad, torch.zeros_like(p)) for p in model.parameters())


@pytest.mark.parametrize("adamw_class", [torch.optim.AdamW, optim.AdamW])
def test_adamw_decays_a_zero_gradient_but_skips_a_none_gradient(adamw_class):
    none_grad = torch.nn.Parameter(torch.tensor([1.0]))
    zero_grad = torch.nn.Parameter(torch.tensor([1.0]))
    adamw = adamw_class([none_grad, zero_grad], lr=0.1, weight_decay=0.1)
    zero_grad.grad = torch.zeros(1)
    adamw.step()
    assert none_grad.item() == 1.0
    assert zero_grad.item() == pytest.approx(1 - 0.1 * 0.1, rel=1e-6)
    assert list(adamw.state_dict()["state"]) == [1]


def test_momentum_keeps_moving_a_parameter_with_zero_gradients():
    results = {}
    for set_to_none in (True, False):
        a = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
        b = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
        sgd = torch.optim.SGD([a, b], lr=0.1, momentum=0.9)
        for step in range(6):
            sgd.zero_grad(set_to_none=set_to_none)
            (a ** 2 + b ** 2 if step == 0 else a ** 2).backward()
            sgd.step()
        results[set_to_none] = b.item()
    assert results[True] == pytest.approx(1 - 0.1 * 2, abs=1e-15)
    drift = 0.1 * 2 * sum(0.9**j for j in range(1, 6))
    assert results[False] == pytest.approx(0.8 - drift, abs=1e-12)
    assert round(results[False], 4) == 0.0629


def test_a_fresh_adam_moves_every_coordinate_by_about_lr():
    # first step: m_hat = g, sqrt(v_hat) = |g|, so the step is lr * g / (|g| + eps) ~ lr sign(g)
    w = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    adam = torch.optim.Adam([w], lr=0.01)
    w.grad = torch.tensor([1e-3, -5.0, 200.0, -0.02], dtype=torch.float64)
    adam.step()
    torch.testing.assert_close(w.detach().abs(), torch.full((4,), 0.01, dtype=torch.float64),
                               rtol=1e-4, atol=0)


def test_two_optimizers_loaded_from_one_dict_share_state():
    w = torch.nn.Parameter(torch.ones(2))
    adam = torch.optim.Adam([w], lr=0.1)
    w.grad = torch.ones(2)
    adam.step()
    saved = adam.state_dict()
    u, v = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    first, second = torch.optim.Adam([u], lr=0.1), torch.optim.Adam([v], lr=0.1)
    first.load_state_dict(saved)
    second.load_state_dict(saved)
    u.grad = torch.ones(2)
    first.step()
    assert second.state[v]["step"].item() == 2.0  # moved by first's step
