"""training.fit: many seeds at once are the ordinary runs, one per seed (training.train)."""

import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import optim, schedules, training
from course_lib.torch_schedules import ScheduledLR

SIZES = [6, 8, 3]


@pytest.fixture(scope="module")
def toy():
    generator = torch.Generator().manual_seed(0)
    features = torch.rand(50, 6, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 3, (50,), generator=generator)
    test = (torch.rand(20, 6, generator=generator, dtype=torch.float64),
            torch.randint(0, 3, (20,), generator=generator))
    return features, labels, test


def test_stacked_mlp_holds_each_seeds_network():
    stack = training.StackedMLP(SIZES, seeds=[4, 0, 9], dtype=torch.float64)
    x = torch.rand(5, 6, dtype=torch.float64)
    out = stack(x)
    assert out.shape == (3, 5, 3)
    for row, seed in enumerate([4, 0, 9]):
        reference = training.mlp(SIZES, seed=seed, dtype=torch.float64)
        for mine, theirs in zip(stack.member(row).parameters(), reference.parameters(),
                                strict=True):
            assert torch.equal(mine, theirs)
        torch.testing.assert_close(out[row], reference(x), rtol=1e-13, atol=1e-15)
    assert [name for name, _ in stack.named_parameters()] == ["weight0", "bias0", "weight1",
                                                              "bias1"]


@pytest.mark.parametrize("make", [
    functools.partial(optim.SGD, lr=0.3, momentum=0.9),
    functools.partial(optim.Adam, lr=0.05),
    functools.partial(optim.Adadelta, lr=5.0),
    functools.partial(optim.AdamW, lr=0.05),
    functools.partial(torch.optim.RAdam, lr=0.3),
])
@pytest.mark.parametrize("scheduled", [False, True])
def test_each_seed_is_the_ordinary_run(toy, make, scheduled):
    features, labels, test = toy
    seeds = [2, 5, 7]
    schedule = schedules.warmup_cosine(make.keywords["lr"], 21, 7) if scheduled else None
    runs = training.fit(make, features, labels, sizes=SIZES, seeds=seeds, epochs=3,
                        batch_size=8, schedule=schedule, test=test)
    assert runs.loss.shape == (3, 4) and runs.epochs.tolist() == [0, 1, 2, 3]
    for row, seed in enumerate(seeds):
        model = training.mlp(SIZES, seed=seed, dtype=torch.float64)
        optimizer = make(model.parameters())
        scheduler = ScheduledLR(optimizer, schedule) if scheduled else None
        history = training.train(
            model, optimizer, features, labels, epochs=3, batch_size=8, loss=F.cross_entropy,
            record_every=None, scheduler=scheduler, scheduler_every="batch", seed=seed,
            eval_fn=lambda m: {"accuracy": training.accuracy(m, *test),
                               "loss": training.evaluate(m, *test, F.cross_entropy)})
        np.testing.assert_allclose(runs.loss[row], history.loss, rtol=1e-12, atol=0)
        np.testing.assert_allclose(runs.metrics["test loss"][row], history.metrics["loss"],
                                   rtol=1e-12, atol=0)
        np.testing.assert_allclose(runs.metrics["test accuracy"][row],
                                   history.metrics["accuracy"], rtol=1e-6, atol=0)
        np.testing.assert_allclose(runs.lr, history.lr, rtol=1e-15)


def test_course_lib_and_torch_optimizers_give_identical_stacked_runs(toy):
    features, labels, _ = toy
    kwargs = dict(sizes=SIZES, seeds=[0, 1], epochs=2, batch_size=8)
    ours = training.fit(functools.partial(optim.NAdam, lr=0.02), features, labels, **kwargs)
    theirs = training.fit(functools.partial(torch.optim.NAdam, lr=0.02), features, labels,
                          **kwargs)
    assert np.array_equal(ours.loss, theirs.loss)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"seeds": []}, "seeds must be one or more"),
    ({"seeds": [1, 1]}, "different from each other"),
    ({"seeds": [-1]}, "seeds must be one or more integers >= 0"),
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
])
def test_fit_refuses_bad_arguments(toy, kwargs, match):
    features, labels, _ = toy
    with pytest.raises(ValueError, match=match):
        training.fit(functools.partial(optim.SGD, lr=0.1), features, labels,
                     **{"sizes": SIZES, **kwargs})


def test_fit_refuses_mismatched_data(toy):
    features, labels, _ = toy
    with pytest.raises(ValueError, match="same number of rows"):
        training.fit(functools.partial(optim.SGD, lr=0.1), features, labels[:-1], sizes=SIZES)
