"""The datasets: shapes, dtypes, standardisation, determinism, batching and bad arguments."""

import math

import numpy as np
import pytest
import torch

from course_lib import data


def linear_fit_r2(features, targets, extra=()):
    """R² of least squares on the features (plus extra columns) with an intercept, in float64."""
    design = np.column_stack([features.astype(np.float64), *extra, np.ones(len(features))])
    y = targets.astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return 1 - np.var(y - design @ coef) / np.var(y)


# -- regression ------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_samples", "n_features"), [(1500, 5), (200, 1), (64, 12)])
def test_regression_data_is_standardised_float32(n_samples, n_features):
    X, y = data.regression_data(n_samples, n_features, seed=3)
    assert X.shape == (n_samples, n_features) and y.shape == (n_samples,)
    assert X.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(X.std(axis=0, dtype=np.float64), 1, atol=1e-5)
    assert abs(y.mean()) < 1e-6 and y.std(dtype=np.float64) == pytest.approx(1, abs=1e-5)


def test_regression_data_defaults_match_d2ls_airfoil_shape():
    X, y = data.regression_data()
    assert X.shape == (1500, 5) and y.shape == (1500,)


def test_regression_data_is_only_partly_linear():
    X, y = data.regression_data()
    r2 = linear_fit_r2(X, y)
    assert 0.5 < r2 < 0.65  # documented: about 57%
    # The documented nonlinear terms explain part of the rest ...
    nonlinear = (np.sin(2 * X[:, 0]), X[:, 0] * X[:, -1])
    assert linear_fit_r2(X, y, nonlinear) > r2 + 0.05
    # ... and neighbouring features are correlated (Σ = 0.2^|i-j| before the transforms).
    corr = np.corrcoef(X.T)
    assert np.all(np.diag(corr, 1) > 0.1) and np.all(np.abs(np.diag(corr, 1)) < 0.35)
    # Without noise the full model is exact: the process is what the docstring says.
    X0, y0 = data.regression_data(noise=0.0)
    assert linear_fit_r2(X0, y0, (np.sin(2 * X0[:, 0]), X0[:, 0] * X0[:, -1])) > 1 - 1e-10


def test_regression_data_gaussian_columns_have_the_documented_correlation():
    # columns 1.. are standardised Gaussians with correlation 0.2^|i-j|; a large sample shows it
    X, _ = data.regression_data(n_samples=200_000, seed=1)
    corr = np.corrcoef(X[:, 1:].astype(np.float64).T)
    lags = np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    np.testing.assert_allclose(corr, 0.2**lags, atol=0.01)


def half_squared_loss_hessian(X):
    """The Hessian of mean(½(Xw + b − y)²) in (w, b): [X, 1]ᵀ[X, 1] / n, in float64."""
    design = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    return design.T @ design / len(X)


def test_regression_data_curvature_lets_d2ls_learning_rates_converge():
    X, y = data.regression_data()
    eigenvalues = np.linalg.eigvalsh(half_squared_loss_hessian(X))
    # documented: eigenvalues between about 0.70 and 1.40, stable for lr < 2 / 1.40 ≈ 1.42
    assert round(eigenvalues[0], 2) == 0.70 and round(eigenvalues[-1], 2) == 1.40
    assert round(2 / eigenvalues[-1], 2) == 1.42
    assert 2 / eigenvalues[-1] > 1.0  # d2l's full-batch learning rate 1 is stable
    # and the least-squares floor of the half squared loss, documented near 0.216
    design = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)
    floor = np.mean((design @ coef - y.astype(np.float64)) ** 2) / 2
    assert round(floor, 3) == 0.216
    assert floor == pytest.approx((1 - linear_fit_r2(X, y)) / 2, rel=1e-6)  # var(y) = 1


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_regression_data_other_seeds_are_alike(seed):
    X, y = data.regression_data(seed=seed)
    assert np.linalg.eigvalsh(half_squared_loss_hessian(X))[-1] < 1.5
    assert 0.5 < linear_fit_r2(X, y) < 0.65


def test_regression_data_skewed_first_feature():
    X, _ = data.regression_data()
    skew = lambda col: np.mean(col.astype(np.float64) ** 3)  # noqa: E731 (standardised column)
    assert skew(X[:, 0]) > 1.0  # the log-normal column
    assert all(abs(skew(X[:, j])) < 0.3 for j in range(1, 5))


def test_regression_data_is_deterministic_per_seed():
    a, b, c = (data.regression_data(seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert not np.allclose(a.features, c.features)


def test_regression_data_leaves_global_random_state_alone():
    # the legacy global state is read here only to check that nothing draws from it
    _, key, pos, *_ = np.random.get_state()  # noqa: NPY002
    before = (key.copy(), pos)
    torch_before = torch.random.get_rng_state()
    data.regression_data()
    list(data.minibatches(*data.regression_data(50), 8))
    data.line_with_noise()
    _, key, pos, *_ = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(key, before[0])
    assert pos == before[1]
    assert torch.equal(torch.random.get_rng_state(), torch_before)


@pytest.mark.parametrize("dtype", [None, torch.float64])
def test_regression_as_tensors(dtype):
    d = data.regression_data(100, 3)
    X, y = d.as_tensors(dtype)
    assert X.dtype == (dtype or torch.float32) and y.dtype == X.dtype
    np.testing.assert_array_equal(X.numpy().astype(np.float32), d.features)
    np.testing.assert_array_equal(y.numpy().astype(np.float32), d.targets)


def test_diabetes_is_the_bundled_set_standardised():
    from sklearn.datasets import load_diabetes

    X, y = data.diabetes()
    assert X.shape == (442, 10) and y.shape == (442,)
    assert X.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(X.std(axis=0, dtype=np.float64), 1, atol=1e-5)
    raw = load_diabetes(scaled=False)
    # the first patient's target: 151 in the published data
    assert raw.target[0] == 151
    expected = (raw.target - raw.target.mean()) / raw.target.std()
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)


# -- minibatches -----------------------------------------------------------------------------


def collect(batches):
    xs, ys = zip(*batches, strict=True)
    return list(xs), list(ys)


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (10, 1), (10, 10), (7, 100)])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_minibatches_cover_every_sample_once(n, batch_size, shuffle, kind):
    X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    y = np.arange(n)
    if kind == "torch":
        X, y = torch.from_numpy(X), torch.from_numpy(y)
    xs, ys = collect(data.minibatches(X, y, batch_size, shuffle=shuffle, seed=1))
    sizes = [len(b) for b in ys]
    assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    order = np.concatenate([np.asarray(b) for b in ys])
    assert sorted(order.tolist()) == list(range(n))
    if not shuffle:
        assert order.tolist() == list(range(n))
    for xb, yb in zip(xs, ys, strict=True):  # rows stay paired
        assert type(xb) is type(X)
        np.testing.assert_array_equal(np.asarray(xb)[:, 0], 2 * np.asarray(yb))


def test_minibatches_are_reproducible_per_seed_and_epoch():
    X, y = np.arange(100.0)[:, None], np.arange(100)

    def order(**kw):
        return np.concatenate(collect(data.minibatches(X, y, 16, **kw))[1]).tolist()

    assert order(seed=3, epoch=2) == order(seed=3, epoch=2)
    assert order(seed=3, epoch=2) != order(seed=3, epoch=1)
    assert order(seed=3, epoch=2) != order(seed=4, epoch=2)
    assert order() != list(range(100))


def test_minibatches_same_order_for_numpy_and_torch():
    X, y = np.arange(30.0)[:, None], np.arange(30)
    a = collect(data.minibatches(X, y, 4, seed=5, epoch=3))[1]
    b = collect(data.minibatches(torch.from_numpy(X), torch.from_numpy(y), 4, seed=5, epoch=3))[1]
    for xa, xb in zip(a, b, strict=True):
        np.testing.assert_array_equal(xa, xb.numpy())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
        ({"batch_size": True}, TypeError, "batch_size must be an integer"),
        ({"batch_size": 2, "seed": -1}, ValueError, "seed must be >= 0"),
        ({"batch_size": 2, "epoch": -1}, ValueError, "epoch must be >= 0"),
        ({"batch_size": 2, "shuffle": "yes"}, TypeError, "shuffle must be True or False"),
        ({"batch_size": 2, "targets": np.arange(4)}, ValueError, "same number of rows, got 5 and"),
        ({"batch_size": 2, "targets": [1, 2, 3, 4, 5]}, TypeError, "targets must be a numpy"),
        ({"batch_size": 2, "targets": np.array(1.0)}, ValueError, "at least one dimension"),
    ],
)
def test_minibatches_reject_bad_arguments_when_called(kwargs, error, match):
    arguments = {"features": np.zeros((5, 2)), "targets": np.zeros(5)} | kwargs
    with pytest.raises(error, match=match):
        data.minibatches(**arguments)  # raises before the first batch is requested


# -- small demos -----------------------------------------------------------------------------


def test_line_with_noise_recovers_its_line():
    x, y = data.line_with_noise()
    assert x.shape == y.shape == (100,) and x.dtype == y.dtype == np.float64
    assert x.min() >= 0 and x.max() < 2
    slope, intercept = np.polyfit(x, y, 1)
    assert slope == pytest.approx(3.0, abs=0.5) and intercept == pytest.approx(4.0, abs=0.5)
    residual = y - (3 * x + 4)
    assert residual.std() == pytest.approx(1.0, abs=0.2)


@pytest.mark.parametrize(("slope", "intercept"), [(3.0, 4.0), (-1.5, 0.25)])
def test_line_without_noise_is_exact(slope, intercept):
    x, y = data.line_with_noise(n=20, slope=slope, intercept=intercept, noise=0.0, seed=4)
    np.testing.assert_allclose(y, slope * x + intercept, rtol=1e-15)


def test_line_with_noise_deterministic():
    a, b, c = (data.line_with_noise(seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])


def test_three_points_and_the_keras_articles_first_step():
    x, y = data.three_points()
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(y, [1.0, 2.0, 3.0])
    # From a = b = 2, SSE loss sum((a x + b - y)^2): residuals (1, 2, 3), so
    # dL/da = 2 * (0*1 + 1*2 + 2*3) = 16 and dL/db = 2 * (1 + 2 + 3) = 12; lr 0.1 gives
    # a = 2 - 1.6 = 0.4 and b = 2 - 1.2 = 0.8.
    a, b = 2.0, 2.0
    residual = a * x + b - y
    a, b = a - 0.1 * 2 * np.sum(residual * x), b - 0.1 * 2 * np.sum(residual)
    assert (a, b) == pytest.approx((0.4, 0.8))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: data.regression_data(1), ValueError, "n_samples must be >= 2"),
        (lambda: data.regression_data(10, 0), ValueError, "n_features must be >= 1"),
        (lambda: data.regression_data(10.0), TypeError, "n_samples must be an integer"),
        (lambda: data.regression_data(noise=-0.1), ValueError, "noise must be >= 0"),
        (lambda: data.regression_data(noise=math.nan), ValueError, "noise must be finite"),
        (lambda: data.regression_data(seed=-2), ValueError, "seed must be >= 0"),
        (lambda: data.regression_data().as_tensors(torch.int64), TypeError, "floating torch"),
        (lambda: data.line_with_noise(n=0), ValueError, "n must be >= 1"),
        (lambda: data.line_with_noise(slope="3"), TypeError, "slope must be a real number"),
        (lambda: data.line_with_noise(noise=-1), ValueError, "noise must be >= 0"),
        (lambda: data.digits(test_fraction=0.0), ValueError, "between 0.01 and 0.99"),
        (lambda: data.digits(test_fraction=1.0), ValueError, "between 0.01 and 0.99"),
        (lambda: data.digits(seed=1.5), TypeError, "seed must be an integer"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- digits ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def split():
    return data.digits()


def test_digits_shapes_dtypes_and_range(split):
    x_train, y_train, x_test, y_test = split
    assert len(x_train) + len(x_test) == 1797
    assert len(x_test) == math.ceil(0.25 * 1797) == 450
    assert x_train.shape[1:] == x_test.shape[1:] == (64,)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0  # raw intensities 0..16
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))


def test_digits_split_is_stratified(split):
    _, y_train, _, y_test = split
    full = np.bincount(np.concatenate([y_train, y_test]), minlength=10) / 1797
    for labels in (y_train, y_test):
        share = np.bincount(labels, minlength=10) / len(labels)
        np.testing.assert_allclose(share, full, atol=0.003)


def sorted_rows(images, labels):
    table = np.column_stack([images.astype(np.float64), labels])
    return table[np.lexsort(table.T[::-1])]


def test_digits_split_is_deterministic_and_a_partition_of_the_bundled_set(split):
    from sklearn.datasets import load_digits

    again = data.digits(seed=0)
    for a, b in zip(split, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(split.y_test, data.digits(seed=1).y_test)
    raw = load_digits()
    combined = sorted_rows(np.vstack([split.x_train, split.x_test]),
                           np.concatenate([split.y_train, split.y_test]))
    np.testing.assert_array_equal(combined, sorted_rows(raw.data / 16.0, raw.target))


def test_digits_as_tensors(split):
    tensors = split.as_tensors()
    assert tensors.x_train.dtype == torch.float32 and tensors.y_train.dtype == torch.int64
    for array, tensor in zip(split, tensors, strict=True):
        np.testing.assert_array_equal(array, tensor.numpy())
