"""Datasets for the chapters, generated here or bundled with scikit-learn; never downloaded.

* :func:`regression_data`: a 1500 x 5 standardised regression problem standing in for d2l's
  airfoil data (which d2l downloads); :func:`diabetes`: scikit-learn's bundled diabetes set.
* :func:`minibatches`: shuffled (X, y) batches, reproducible from ``(seed, epoch)``.
* :func:`line_with_noise`: ``y = 3x + 4 + noise`` for the numpy Adam demo.
* :func:`three_points`: the three points of the Keras article's hand-worked regression.
* :func:`digits`: scikit-learn's bundled 8x8 digits, split into train and test.

Every random draw comes from a numpy ``Generator`` seeded by the ``seed`` argument; no function
touches numpy's or torch's global random state. Arrays are numpy; ``as_tensors()`` gives torch
tensors (torch is imported only then).

>>> X, y = regression_data()
>>> X.shape, y.shape, X.dtype
((1500, 5), (1500,), dtype('float32'))
>>> batches = list(minibatches(X, y, batch_size=512))
>>> [len(xb) for xb, _ in batches]
[512, 512, 476]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "DigitsData",
    "RegressionData",
    "diabetes",
    "digits",
    "line_with_noise",
    "minibatches",
    "regression_data",
    "three_points",
]


# -- argument checks -------------------------------------------------------------------------


def _integer(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _real(value: Any, name: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}, got {value:g}")
    return value


def _standardise(a: np.ndarray) -> np.ndarray:
    """(a − mean) / std per column (population std), computed in float64, returned float32."""
    a = np.asarray(a, dtype=np.float64)
    return ((a - a.mean(axis=0)) / a.std(axis=0)).astype(np.float32)


# -- regression ------------------------------------------------------------------------------


class RegressionData(NamedTuple):
    """Features and targets of a regression problem; unpacks as ``X, y = data``.

    Attributes:
        features: shape (n_samples, n_features), float32, each column with mean 0, std 1.
        targets: shape (n_samples,), float32, mean 0, std 1. For a model whose output has
            shape (n, 1) (``torch.nn.Linear(d, 1)``) compare with ``targets[:, None]``.
    """

    features: Any
    targets: Any

    def as_tensors(self, dtype: torch.dtype | None = None) -> RegressionData:
        """The same data as torch tensors (float32 unless ``dtype`` is given).

        Args:
            dtype: a floating torch dtype, e.g. ``torch.float64``; None keeps float32.
        """
        import torch

        dtype = torch.float32 if dtype is None else dtype
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch dtype, got {dtype!r}")
        return RegressionData(torch.as_tensor(self.features, dtype=dtype),
                              torch.as_tensor(self.targets, dtype=dtype))


def regression_data(
    n_samples: int = 1500, n_features: int = 5, *, noise: float = 0.75, seed: int = 0
) -> RegressionData:
    r"""A standardised regression problem with correlated features, a nonlinearity and noise.

    It stands in for the airfoil self-noise data of d2l's minibatch-SGD section (1500 x 5,
    standardised), which d2l downloads. As there, linear regression fits it only partly: with
    the defaults the best linear model explains about 57% of the target's variance, so its
    half squared loss (d2l's ``squared_loss``) levels off near 0.216, well above zero. The
    nonlinear terms below are what a linear model cannot fit. The generating process, with
    d = ``n_features``, rng = ``np.random.default_rng(seed)``::

        Z ~ N(0, Σ),  Σᵢⱼ = 0.2^|i−j|         (neighbouring features mildly correlated)
        Z₀ ← exp(Z₀ / 2)                     (one skewed, log-normal feature, like a frequency)
        X = standardise(Z)                   (each column mean 0, std 1)
        s = Σⱼ wⱼ Xⱼ + ½ sin(2X₀) + 0.4 X₀ X_{d−1},   wⱼ = (−1)ʲ / (1 + j/2)
        s ← s / std(s)                       (the noiseless signal has unit variance)
        y = standardise(s + noise · ε),  ε ~ N(0, 1)

    The correlation is kept mild so that d2l's learning rates work here as on airfoil: with
    the defaults the Hessian of the averaged half squared loss of a linear model with bias,
    ``[X, 1]ᵀ[X, 1] / n``, has eigenvalues between about 0.70 and 1.40, so full-batch
    gradient descent is stable for learning rates below 2 / 1.40 ≈ 1.42 (d2l uses 1).

    Args:
        n_samples: the number of rows (an integer >= 2).
        n_features: the number of columns (an integer >= 1).
        noise: the noise's standard deviation relative to the signal's (>= 0).
        seed: the seed of the numpy Generator (an integer >= 0).

    Returns:
        :class:`RegressionData` with float32 ``features`` (n_samples, n_features) and
        ``targets`` (n_samples,).
    """
    n = _integer(n_samples, "n_samples", 2)
    d = _integer(n_features, "n_features", 1)
    noise = _real(noise, "noise", minimum=0.0)
    rng = np.random.default_rng(_integer(seed, "seed", 0))
    lags = np.abs(np.subtract.outer(np.arange(d), np.arange(d)))
    chol = np.linalg.cholesky(0.2**lags)
    z = rng.standard_normal((n, d)) @ chol.T
    z[:, 0] = np.exp(z[:, 0] / 2)
    x = _standardise(z).astype(np.float64)
    weights = (-1.0) ** np.arange(d) / (1 + np.arange(d) / 2)
    signal = x @ weights + 0.5 * np.sin(2 * x[:, 0]) + 0.4 * x[:, 0] * x[:, -1]
    signal /= signal.std()
    y = signal + noise * rng.standard_normal(n)
    return RegressionData(x.astype(np.float32), _standardise(y))


def diabetes() -> RegressionData:
    """scikit-learn's bundled diabetes data (442 patients x 10 features), standardised.

    The target is a measure of disease progression one year after baseline. Features and
    target are standardised here (mean 0, std 1, float32), like :func:`regression_data`;
    the file ships with scikit-learn, so nothing is downloaded.
    """
    from sklearn.datasets import load_diabetes

    raw = load_diabetes(scaled=False)
    return RegressionData(_standardise(raw.data), _standardise(raw.target))


# -- minibatches -----------------------------------------------------------------------------


def _length(array: Any, name: str) -> int:
    shape = getattr(array, "shape", None)
    if shape is None:
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(array)}")
    if len(shape) == 0:
        raise ValueError(f"{name} must have at least one dimension (one row per sample)")
    return int(shape[0])


def _take(array: Any, index: np.ndarray) -> Any:
    if isinstance(array, np.ndarray):
        return array[index]
    import torch

    return array[torch.from_numpy(index).to(array.device)]


def minibatches(
    features: Any,
    targets: Any,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
) -> Iterator[tuple[Any, Any]]:
    """Yield ``(X, y)`` minibatches that together hold every sample exactly once.

    With ``shuffle`` the order is a permutation drawn from
    ``np.random.default_rng([seed, epoch])``: the same ``(seed, epoch)`` gives the same batches,
    and passing ``epoch=0, 1, 2, ...`` gives a fresh, reproducible order each epoch. Without it
    the batches are consecutive slices. The last batch is shorter when ``batch_size`` does
    not divide the number of samples (it is kept, as d2l and torch's DataLoader keep it).

    The arguments are checked when this is called, before the first batch.

    Args:
        features: numpy array or torch tensor, one row per sample.
        targets: numpy array or torch tensor with as many rows as ``features``.
        batch_size: samples per batch (an integer >= 1; larger than the data gives one batch).
        shuffle: draw a random order (True) or keep the stored order (False).
        seed: the seed of the order (an integer >= 0).
        epoch: the epoch number (an integer >= 0), mixed into the seed.

    >>> import numpy as np
    >>> X, y = np.arange(5.0)[:, None], np.arange(5)
    >>> [yb.tolist() for _, yb in minibatches(X, y, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    n = _length(features, "features")
    n_targets = _length(targets, "targets")
    if n != n_targets:
        raise ValueError(
            f"features and targets must have the same number of rows, got {n} and {n_targets}"
        )
    size = _integer(batch_size, "batch_size", 1)
    seed = _integer(seed, "seed", 0)
    epoch = _integer(epoch, "epoch", 0)
    if not isinstance(shuffle, bool | np.bool_):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else None

    def batches() -> Iterator[tuple[Any, Any]]:
        for start in range(0, n, size):
            if order is None:
                yield features[start:start + size], targets[start:start + size]
            else:
                index = order[start:start + size]
                yield _take(features, index), _take(targets, index)

    return batches()


# -- small demos -----------------------------------------------------------------------------


def line_with_noise(
    n: int = 100,
    slope: float = 3.0,
    intercept: float = 4.0,
    noise: float = 1.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Points on the line y = slope·x + intercept with Gaussian noise (the numpy Adam demo).

    With rng = ``np.random.default_rng(seed)``: x ~ Uniform[0, 2), then
    y = intercept + slope·x + noise·ε with ε ~ N(0, 1). Both arrays are float64, shape (n,).

    Args:
        n: the number of points (an integer >= 1).
        slope: the line's slope (finite).
        intercept: the line's intercept (finite).
        noise: the noise's standard deviation (>= 0).
        seed: the seed of the numpy Generator (an integer >= 0).

    >>> x, y = line_with_noise(noise=0.0)
    >>> bool(np.allclose(y, 3 * x + 4))
    True
    """
    n = _integer(n, "n", 1)
    slope = _real(slope, "slope")
    intercept = _real(intercept, "intercept")
    noise = _real(noise, "noise", minimum=0.0)
    rng = np.random.default_rng(_integer(seed, "seed", 0))
    x = 2.0 * rng.random(n)
    y = intercept + slope * x + noise * rng.standard_normal(n)
    return x, y


def three_points() -> tuple[np.ndarray, np.ndarray]:
    """The Keras article's data: x = [0, 1, 2], y = [1, 2, 3] (so y = x + 1), float64.

    >>> three_points()
    (array([0., 1., 2.]), array([1., 2., 3.]))
    """
    return np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])


# -- classification --------------------------------------------------------------------------


class DigitsData(NamedTuple):
    """A train/test split of the 8x8 digits; unpacks as ``x_train, y_train, x_test, y_test``.

    Attributes:
        x_train: shape (n_train, 64), float32 in [0, 1]; ``reshape(-1, 8, 8)`` gives images.
        y_train: shape (n_train,), int64 labels 0..9.
        x_test: shape (n_test, 64), float32 in [0, 1].
        y_test: shape (n_test,), int64 labels 0..9.
    """

    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any

    def as_tensors(self) -> DigitsData:
        """The same split as torch tensors (float32 images, int64 labels)."""
        import torch

        return DigitsData(
            torch.as_tensor(self.x_train, dtype=torch.float32),
            torch.as_tensor(self.y_train, dtype=torch.int64),
            torch.as_tensor(self.x_test, dtype=torch.float32),
            torch.as_tensor(self.y_test, dtype=torch.int64),
        )


#: The allowed range of ``digits(test_fraction=...)``: both splits keep every class.
TEST_FRACTION_RANGE = (0.01, 0.99)


def digits(test_fraction: float = 0.25, seed: int = 0) -> DigitsData:
    """scikit-learn's bundled handwritten digits (1797 8x8 images, 10 classes), split.

    The split is stratified (each class keeps its share in both parts) and shuffled with
    ``random_state=seed``; pixel intensities 0..16 are scaled to [0, 1]. The test part holds
    ``ceil(test_fraction * 1797)`` images (450 with the default). It stands in for d2l's
    Fashion-MNIST, which is downloaded.

    Args:
        test_fraction: the test share, between 0.01 and 0.99.
        seed: the seed of the split (an integer >= 0).
    """
    low, high = TEST_FRACTION_RANGE
    fraction = _real(test_fraction, "test_fraction")
    if not low <= fraction <= high:
        raise ValueError(f"test_fraction must be between {low} and {high}, got {fraction:g}")
    seed = _integer(seed, "seed", 0)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    raw = load_digits()
    images = (raw.data / 16.0).astype(np.float32)
    labels = raw.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=fraction, stratify=labels, random_state=seed, shuffle=True
    )
    return DigitsData(x_train, y_train, x_test, y_test)
