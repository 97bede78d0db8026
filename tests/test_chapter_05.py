"""The quantitative claims of chapters/05_minibatch_sgd.ipynb, checked independently.

Independent references: the flop count by hand; the least-squares floor by scikit-learn; the
Hessian by torch autograd; gradient descent on the (exactly quadratic) loss written out in
float64 numpy; per-example gradients by torch.func; the minibatch variance by the formula of
sampling without replacement.
"""

import math
import time

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression

from course_lib import data, optim, training

N = 1500
D2L_SETTINGS = {"GD": (1.0, 1500, 10), "SGD": (0.005, 1, 2), "minibatch 100": (0.4, 100, 2),
                "minibatch 10": (0.05, 10, 2)}
STOCHASTIC = ("SGD", "minibatch 100", "minibatch 10")


@pytest.fixture(scope="module")
def tensors():
    return data.regression_data().as_tensors()


@pytest.fixture(scope="module")
def design(tensors):
    X, y = tensors
    return np.column_stack([X.double().numpy(), np.ones(N)]), y.double().numpy()


@pytest.fixture(scope="module")
def eigenvalues(design):
    tilde, _ = design
    return np.linalg.eigvalsh(tilde.T @ tilde / N)


def fit(tensors, lr, batch_size, epochs, make_optimizer=optim.SGD):
    X, y = tensors
    model = training.linear_regression(X.shape[1], seed=0)
    return training.train(model, make_optimizer(model.parameters(), lr=lr), X, y, epochs=epochs,
                          batch_size=batch_size, record_every=200, seed=0, progress=False)


@pytest.fixture(scope="module")
def histories(tensors):
    return {name: fit(tensors, *setting) for name, setting in D2L_SETTINGS.items()}


@pytest.fixture(scope="module")
def floor(design):
    tilde, targets = design
    model = LinearRegression().fit(tilde[:, :5], targets)
    return np.mean((model.predict(tilde[:, :5]) - targets) ** 2) / 2


# -- section 1: the cost of vectorisation ----------------------------------------------------


def test_flop_counts():
    flops = 2 * 256**3
    assert flops == 33_554_432
    assert round(flops / 1e9, 4) == 0.0336
    assert round(2 / (flops / 1e9)) == 60  # "older printings ... overstate about 60-fold"
    assert round(2 * 256 / 3) == 171  # flops per number loaded: 2n^3 / 3n^2
    assert 256 * 256 * 4 == 256 * 1024  # B is 256 KB in float32


def test_four_ways_of_computing_a_product_agree():
    generator = torch.Generator().manual_seed(0)
    B = torch.randn(256, 256, generator=generator)
    C = torch.randn(256, 256, generator=generator)
    reference = (B.double() @ C.double()).float()
    by_element = torch.stack([torch.stack([torch.dot(B[i], C[:, j]) for j in range(256)])
                              for i in range(4)])
    by_column = torch.stack([torch.mv(B, C[:, j]) for j in range(256)], dim=1)
    by_block = torch.cat([B @ C[:, j:j + 64] for j in range(0, 256, 64)], dim=1)
    for result, rows in [(by_element, 4), (by_column, 256), (by_block, 256), (B @ C, 256)]:
        torch.testing.assert_close(result, reference[:rows], rtol=0, atol=1e-4)


def test_one_product_is_faster_than_many_dot_products():
    # a timing, but with a margin of orders of magnitude: 1024 calls against one
    generator = torch.Generator().manual_seed(0)
    B, C = torch.randn(256, 256, generator=generator), torch.randn(256, 256, generator=generator)
    A = torch.zeros(256, 256)

    def best(run, repeats=5):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    def four_rows():
        for i in range(4):
            for j in range(256):
                A[i, j] = torch.dot(B[i], C[:, j])

    assert best(four_rows) > best(lambda: B @ C)  # 1/64 of the element-wise loop already loses


# -- section 2: four ways to train -----------------------------------------------------------


def test_data_shape_and_least_squares_floor(tensors, design, floor):
    X, y = tensors
    assert tuple(X.shape) == (1500, 5) and tuple(y.shape) == (1500,)
    assert f"{floor:.4f}" == "0.2163" and round(floor, 3) == 0.216
    # the notebook's lstsq on [X, 1] gives the same floor as scikit-learn
    tilde, targets = design
    theta = np.linalg.lstsq(tilde, targets, rcond=None)[0]
    assert np.mean((tilde @ theta - targets) ** 2) / 2 == pytest.approx(floor, rel=1e-10)


def test_hessian_eigenvalues_and_learning_rate_limits(tensors, design, eigenvalues):
    X, y = tensors
    tilde, _ = design

    def loss(theta):
        return ((X.double() @ theta[:5] + theta[5] - y.double()) ** 2 / 2).mean()

    hessian = torch.autograd.functional.hessian(loss, torch.zeros(6, dtype=torch.float64))
    np.testing.assert_allclose(hessian.numpy(), tilde.T @ tilde / N, rtol=1e-10, atol=1e-12)
    assert list(np.round(np.linalg.eigvalsh(hessian.numpy()), 3)) == \
        [0.703, 0.797, 0.932, 1.0, 1.163, 1.404]
    assert round(eigenvalues[0], 2) == 0.70 and round(eigenvalues[-1], 2) == 1.40
    assert 1 < round(2 / eigenvalues[-1], 3) == 1.424 < 1.5  # lr 1 below the limit, 1.5 above
    assert round(2 / (eigenvalues[0] + eigenvalues[-1]), 3) == 0.949  # close to d2l's 1
    assert round(1 - 1 / (2 / eigenvalues[-1]), 2) == 0.30  # lr 1 is 30% below the limit
    assert round(np.abs(1 - eigenvalues).max(), 3) == 0.404
    assert 1 / 0.404**2 > 6 and round(0.404**2, 2) == 0.16  # "at least sixfold"


def gd_by_hand(design, lr, steps):
    """Gradient descent on the half squared error, float64, from d2l's initial parameters."""
    tilde, targets = design
    model = training.linear_regression(5, seed=0)
    theta = np.append(model.weight.detach().double().numpy(), 0.0)
    losses = [np.mean((tilde @ theta - targets) ** 2) / 2]
    for _ in range(steps):
        theta = theta - lr * tilde.T @ (tilde @ theta - targets) / N
        losses.append(np.mean((tilde @ theta - targets) ** 2) / 2)
    return np.array(losses)


def test_d2ls_gradient_descent_converges_here(histories, design, eigenvalues, floor):
    history = histories["GD"]
    by_hand = gd_by_hand(design, 1.0, 10)
    np.testing.assert_allclose(history.loss, by_hand, rtol=1e-4)
    assert [f"{v:.4f}" for v in history.loss] == [
        "0.4967", "0.2338", "0.2178", "0.2164"] + ["0.2163"] * 7
    gaps = by_hand - floor
    assert np.all(gaps > 0) and gaps[3] < 0.001  # within 0.001 after three updates
    # each update multiplies the gap by at most max (1 - lambda)^2 ~ 0.16
    assert np.all(gaps[1:] / gaps[:-1] <= np.abs(1 - eigenvalues).max() ** 2 + 1e-12)
    assert history.examples[3] == 4500


def test_just_above_the_limit_it_diverges(tensors, design, eigenvalues, floor):
    lr = 1.5
    assert lr > 2 / eigenvalues[-1]
    assert np.sum(np.abs(1 - lr * eigenvalues) < 1) == 5  # five of six directions converge
    assert round(1 - lr * eigenvalues[-1], 3) == -1.107
    history = fit(tensors, lr, 1500, 30)
    by_hand = gd_by_hand(design, lr, 30)
    np.testing.assert_allclose(history.loss, by_hand, rtol=1e-4)
    assert [f"{v:.3f}" for v in history.loss[::5]] == [
        "0.497", "0.225", "0.235", "0.268", "0.359", "0.610", "1.300"]
    assert f"{min(history.loss):.3f}" == "0.225"  # it bottoms out ...
    lowest = int(np.argmin(by_hand))
    assert np.all(np.diff(by_hand[lowest:]) > 0)  # ... and then climbs every epoch
    growth = (history.loss[-1] - floor) / (history.loss[-2] - floor)
    assert f"{growth:.3f}" == f"{(1 - lr * eigenvalues[-1]) ** 2:.3f}" == "1.225"
    # at first almost as fast as lr 1
    assert by_hand[1] - gd_by_hand(design, 1.0, 1)[1] < 0.02


def test_final_losses(histories, floor):
    finals = {name: f"{h.final_loss:.3f}" for name, h in histories.items()}
    assert finals == {"GD": "0.216", "SGD": "0.217", "minibatch 100": "0.218",
                      "minibatch 10": "0.217"}
    for name in STOCHASTIC:  # none below the least-squares floor
        assert histories[name].final_loss > floor
    steps = {"GD": 10, "SGD": 3000, "minibatch 100": 30, "minibatch 10": 300}
    for name, (_, batch, epochs) in D2L_SETTINGS.items():
        assert epochs * N // batch == steps[name]


def test_torch_optim_sgd_gives_identical_losses(tensors, histories):
    for name, setting in D2L_SETTINGS.items():
        assert fit(tensors, *setting, make_optimizer=torch.optim.SGD).loss == \
            histories[name].loss


def test_progress_per_example(histories, floor):
    def loss_at(name, examples):
        history = histories[name]
        return history.loss[history.examples.index(examples)]

    at_1400 = [loss_at(name, 1400) for name in STOCHASTIC]
    assert [f"{v:.3f}" for v in at_1400] == ["0.217"] * 3
    assert f"{loss_at('GD', 1500):.3f}" == "0.234"
    # gradient descent needs three updates, 4,500 examples, to get as close
    assert loss_at("GD", 3000) > max(at_1400) and loss_at("GD", 4500) < min(at_1400)
    assert histories["GD"].examples[-1] == 15000
    # then gradient descent sits on the floor, the stochastic methods jitter above it
    assert f"{histories['GD'].final_loss:.3f}" == f"{floor:.3f}" == "0.216"
    for name in STOCHASTIC:
        history = histories[name]
        later = history.loss[history.examples.index(1400):]
        assert 0.2165 <= min(later) and max(later) < 0.2255  # "between 0.217 and 0.225"
        assert max(later) > floor + 0.005
    # about the same weight per example, eta / b
    assert 0.005 / 1 == 0.05 / 10 == 0.005 and 0.4 / 100 == 0.004
    assert np.abs(np.subtract(histories["SGD"].loss, histories["minibatch 10"].loss)).max() < 0.003


def test_the_shuffled_order_does_not_depend_on_the_batch_size():
    index = np.arange(N)
    for epoch in range(2):
        orders = [np.concatenate([batch for batch, _ in
                                  data.minibatches(index, index, b, seed=0, epoch=epoch)])
                  for b in (1, 10, 100)]
        np.testing.assert_array_equal(orders[0], orders[1])
        np.testing.assert_array_equal(orders[0], orders[2])


def test_sgd_is_the_slowest_per_epoch(histories):
    per_epoch = {name: h.seconds[-1] / h.epochs[-1] for name, h in histories.items()}
    assert per_epoch["SGD"] > 3 * max(per_epoch["minibatch 100"], per_epoch["GD"])


# -- section 4: the variance of a minibatch gradient ----------------------------------------


@pytest.fixture(scope="module")
def per_example(tensors, design):
    X, y = tensors
    model = training.linear_regression(5, seed=0)
    params = {k: v.detach().double() for k, v in model.named_parameters()}

    def loss(p, x, target):
        prediction = torch.func.functional_call(model.double(), p, (x[None],))
        return training.half_squared_error(prediction, target[None])

    grads = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(
        params, X.double(), y.double())
    autograd = torch.cat([grads["weight"].reshape(N, -1), grads["bias"].reshape(N, -1)], dim=1)
    # the notebook's formula: residual times (x_i, 1)
    tilde, targets = design
    theta = np.append(params["weight"].numpy(), params["bias"].numpy())
    formula = (tilde @ theta - targets)[:, None] * tilde
    np.testing.assert_allclose(formula, autograd.numpy(), rtol=1e-10, atol=1e-12)
    return formula


def test_sigma_squared(per_example):
    mean = per_example.mean(axis=0)
    assert round(np.mean(np.sum((per_example - mean) ** 2, axis=1)), 4) == 7.3086


def measured_variance(per_example, b, batches=3000):
    mean, index = per_example.mean(axis=0), np.arange(N)
    epochs = -(-batches * b // N)
    return np.mean([np.sum((per_example[batch].mean(axis=0) - mean) ** 2)
                    for epoch in range(epochs)
                    for batch, _ in data.minibatches(index, index, b, seed=1, epoch=epoch)])


@pytest.mark.parametrize("b", [1, 5, 10, 50, 100, 500])
def test_minibatch_variance_is_sigma2_over_b_times_the_finite_population_factor(per_example, b):
    mean = per_example.mean(axis=0)
    sigma2 = np.mean(np.sum((per_example - mean) ** 2, axis=1))
    exact = sigma2 / b * (N - b) / (N - 1)
    measured = measured_variance(per_example, b)
    assert measured == pytest.approx(exact, rel=0.08)
    if b <= 100:  # "b x measured stays close to sigma^2" for b << N
        assert b * measured == pytest.approx(sigma2, rel=0.08)
    if b == 500:  # visibly below sigma^2/b: a third of the noise removed
        assert measured < 0.75 * sigma2 / b
        assert (N - b) / (N - 1) == pytest.approx(2 / 3, abs=0.001)


def test_a_batch_of_everything_has_no_noise(per_example):
    index = np.arange(N)
    for epoch in range(3):
        [(batch, _)] = list(data.minibatches(index, index, N, seed=1, epoch=epoch))
        np.testing.assert_allclose(per_example[batch].mean(axis=0), per_example.mean(axis=0),
                                   rtol=0, atol=1e-12)
    assert (N - N) / (N - 1) == 0


def test_check_your_understanding_numbers(eigenvalues):
    assert round((N - 100) / (N - 1), 3) == 0.934
    assert round(eigenvalues[-1], 2) == 1.40 and round(2 / eigenvalues[-1], 3) == 1.424
    assert round(eigenvalues[-1], 3) == 1.404 and round(1 - 1.5 * eigenvalues[-1], 3) == -1.107
    assert math.isclose(1400 / 1499, (N - 100) / (N - 1))


# -- the distance to the floor, L - L*, of full-batch gradient descent (figure of section 2) -----


def float64_fit(tensors, lr, epochs):
    X, y = tensors
    model = training.linear_regression(X.shape[1], seed=0, dtype=torch.float64)
    return training.train(model, optim.SGD(model.parameters(), lr=lr), X.double(), y.double(),
                          epochs=epochs, batch_size=N, record_every=200, seed=0, progress=False)


def predicted_gap(design, floor, lr, steps):
    """½ Σ λ_i z_i(t)², z_i(t) = (1 − ηλ_i)^t z_i(0), with z(0) the initial error in the
    eigenvector basis of H (numpy's eigh, independent of course_lib.conditioning)."""
    tilde, targets = design
    lams, vectors = np.linalg.eigh(tilde.T @ tilde / N)
    theta_star = np.linalg.lstsq(tilde, targets, rcond=None)[0]
    model = training.linear_regression(5, seed=0)
    theta0 = np.append(model.weight.detach().double().numpy(), 0.0)
    z0 = vectors.T @ (theta0 - theta_star)
    return np.array([0.5 * np.sum(lams * ((1 - lr * lams) ** t * z0) ** 2)
                     for t in range(steps + 1)])


@pytest.mark.parametrize(("lr", "epochs"), [(1.0, 10), (1.5, 30)])
def test_measured_distance_to_the_floor_is_the_predicted_one(tensors, design, floor, lr, epochs):
    measured = np.array(float64_fit(tensors, lr, epochs).loss) - floor
    np.testing.assert_allclose(measured, gd_by_hand(design, lr, epochs) - floor, rtol=1e-6,
                               atol=1e-15)
    np.testing.assert_allclose(measured, predicted_gap(design, floor, lr, epochs), rtol=1e-5)
    assert np.all(measured > 0)


def test_the_distance_to_the_floor_numbers_in_the_text(design, floor, eigenvalues):
    at_1 = predicted_gap(design, floor, 1.0, 10)
    assert f"{at_1[-1]:.0e}" == "4e-11"  # "down to 4 · 10^-11 after 10"
    assert np.all(at_1[1:] / at_1[:-1] < 1 / 6)  # "at least sixfold per update"
    at_15 = predicted_gap(design, floor, 1.5, 30)
    assert int(np.argmin(at_15)) == 5 and f"{at_15.min():.4f}" == "0.0085"
    ratios = at_15[6:] / at_15[5:-1]
    assert np.all(ratios > 1) and np.all(np.diff(ratios) > 0)  # grows, faster and faster,
    assert ratios[-1] < (1 - 1.5 * eigenvalues[-1]) ** 2 < ratios[-1] + 0.01  # towards 1.225


def test_float32_cannot_follow_the_distance_below_1e_8(tensors, floor):
    assert 1e-8 < np.spacing(np.float32(floor)) < 2e-8  # a loss near 0.22 in float32
    measured32 = np.array(fit(tensors, 1.0, 1500, 10).loss) - floor
    assert measured32.min() <= 0 or np.abs(measured32[-3:]).max() < 3e-8
