"""The handful of array operations the update rules are written in, for numpy and torch.

Every rule in :mod:`course_lib.rules` is written once, against the small set of functions below.
Plain arithmetic (``a * b``, ``x += y``, ``-g``) is written with Python operators, which numpy
arrays and torch tensors both understand. The functions here cover what operators cannot say in
one step: fused updates such as ``lerp_`` or ``addcdiv_``, and constructors for state.

On torch tensors each function calls the torch method that ``torch.optim``'s single-tensor path
calls, so a rule applied to tensors performs exactly torch's floating-point operations in
torch's order, and agrees with ``torch.optim`` bit for bit. On numpy arrays each function is
the textbook expression (``x += w * (y - x)`` for ``lerp_``); results then agree with torch to
rounding (about 1e-16 relative per step in float64).

Functions whose names end in ``_`` change their first argument in place and return it; the
others return a new array.

>>> import numpy as np
>>> x = np.array([1.0, 2.0])
>>> ops = ops_for(x)
>>> ops.lerp_(x, np.array([3.0, 4.0]), 0.25)
array([1.5, 2.5])
>>> x
array([1.5, 2.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NumpyOps", "TorchOps", "ops_for", "is_torch_tensor"]


def is_torch_tensor(x: Any) -> bool:
    """True if ``x`` is a ``torch.Tensor``, without importing torch when it is not loaded."""
    return type(x).__module__.startswith("torch") and hasattr(x, "addcdiv_")


class NumpyOps:
    """Array operations on numpy arrays (float32 or float64), written as textbook formulas."""

    name = "numpy"

    @staticmethod
    def zeros_like(x):
        return np.zeros_like(x)

    @staticmethod
    def full_like(x, value: float):
        return np.full_like(x, value)

    @staticmethod
    def clone(x):
        return np.array(x, copy=True)

    @staticmethod
    def counter():
        """A fresh step counter (torch keeps a float32 scalar; here a plain Python float)."""
        return 0.0

    @staticmethod
    def scalar_state(value: float):
        """A scalar kept in the state in single precision, as torch keeps ``mu_product``."""
        return np.float32(value)

    @staticmethod
    def scalar_like(x, value: float):
        """A scalar kept in the state in the precision of ``x`` (Keras keeps ``u_product`` so)."""
        return np.asarray(value, dtype=x.dtype)[()]

    @staticmethod
    def is_sparse(x) -> bool:
        """numpy arrays are never sparse."""
        return False

    @staticmethod
    def in_dtype(x, value: float) -> float:
        """``value`` rounded to the precision of ``x`` (as a Python float)."""
        return float(np.asarray(value, dtype=x.dtype))

    @staticmethod
    def one_minus_power(x, base: float, exponent: float) -> float:
        """``1 - base**exponent`` computed in the precision of ``x`` (Keras' bias corrections)."""
        one, base, exponent = (np.asarray(v, dtype=x.dtype) for v in (1.0, base, exponent))
        return float(one - base**exponent)

    @staticmethod
    def item(x) -> float:
        return float(x)

    @staticmethod
    def add(x, y, alpha: float = 1.0):
        """Return ``x + alpha * y``."""
        return x + alpha * y

    @staticmethod
    def add_(x, y, alpha: float = 1.0):
        """``x <- x + alpha * y``."""
        if alpha == 1:
            x += y
        else:
            x += alpha * y
        return x

    @staticmethod
    def mul_(x, factor):
        """``x <- factor * x``."""
        x *= factor
        return x

    @staticmethod
    def lerp_(x, y, weight: float):
        """``x <- x + weight * (y - x)``, in torch's two forms (exact at both ends)."""
        if abs(weight) < 0.5:
            x += weight * (y - x)
        else:
            x[...] = y - (y - x) * (1 - weight)
        return x

    @staticmethod
    def addcmul(x, a, b, value: float = 1.0):
        """Return ``x + value * a * b``."""
        return x + value * (a * b)

    @staticmethod
    def addcmul_(x, a, b, value: float = 1.0):
        """``x <- x + value * a * b``."""
        x += value * (a * b)
        return x

    @staticmethod
    def addcdiv_(x, a, b, value: float = 1.0):
        """``x <- x + value * a / b``."""
        x += value * (a / b)
        return x

    @staticmethod
    def maximum_(x, y):
        """``x <- max(x, y)`` elementwise."""
        return np.maximum(x, y, out=x)

    @staticmethod
    def sqrt(x):
        return np.sqrt(x)

    @staticmethod
    def abs(x):
        return np.abs(x)

    @staticmethod
    def sign(x):
        return np.sign(x)

    @staticmethod
    def solve(matrix, vector):
        """Return ``matrix^{-1} vector`` (the Newton direction)."""
        return np.linalg.solve(matrix, vector)

    @staticmethod
    def vector_norm(x, ord: float = 2.0):
        """The p-norm of ``x`` flattened (``ord`` may be inf, -inf or 0), as a 0-d array."""
        return np.asarray(np.linalg.norm(np.ravel(x), ord=ord), dtype=np.result_type(x, 1.0))

    @staticmethod
    def stack(xs):
        return np.stack(xs)

    @staticmethod
    def clamp_max(x, high: float):
        return np.minimum(x, high)

    @staticmethod
    def clamp_(x, low: float, high: float):
        """``x <- min(max(x, low), high)`` elementwise (NaN stays NaN)."""
        return np.clip(x, low, high, out=x)

    @staticmethod
    def is_finite(x) -> bool:
        return bool(np.all(np.isfinite(x)))


class TorchOps:
    """Array operations on torch tensors: the exact calls of torch.optim's single-tensor path."""

    name = "torch"

    @staticmethod
    def zeros_like(x):
        import torch

        return torch.zeros_like(x, memory_format=torch.preserve_format)

    @staticmethod
    def full_like(x, value: float):
        import torch

        return torch.full_like(x, value, memory_format=torch.preserve_format)

    @staticmethod
    def clone(x):
        return x.detach().clone()

    @staticmethod
    def counter():
        """torch's step counter: a 0-dim CPU tensor, float32 (float64 under a float64 default)."""
        import torch

        return torch.tensor(0.0, dtype=_torch_scalar_dtype())

    @staticmethod
    def scalar_state(value: float):
        import torch

        return torch.tensor(value, dtype=_torch_scalar_dtype())

    @staticmethod
    def scalar_like(x, value: float):
        import torch

        return torch.tensor(value, dtype=x.dtype)

    @staticmethod
    def is_sparse(x) -> bool:
        return bool(x.is_sparse)

    @staticmethod
    def in_dtype(x, value: float) -> float:
        import torch

        return torch.tensor(value, dtype=x.dtype).item()

    @staticmethod
    def one_minus_power(x, base: float, exponent: float) -> float:
        import torch

        base, exponent = (torch.tensor(v, dtype=x.dtype) for v in (base, exponent))
        return (1 - base**exponent).item()

    # -- sparse gradients (torch only): the calls torch's Adagrad makes ------------------------
    @staticmethod
    def coalesce(x):
        """A sparse tensor with each index once (duplicates summed)."""
        return x.coalesce()

    @staticmethod
    def sparse_values(x):
        """The stored values of a coalesced sparse tensor."""
        return x._values()

    @staticmethod
    def sparse_like(x, values):
        """A sparse tensor with the indices and size of ``x`` and new ``values``."""
        import torch

        return torch.sparse_coo_tensor(x._indices(), values, x.size(), check_invariants=False)

    @staticmethod
    def sparse_mask(dense, pattern):
        """The entries of ``dense`` at the indices of the sparse tensor ``pattern``."""
        return dense.sparse_mask(pattern)

    @staticmethod
    def item(x) -> float:
        return x.item() if hasattr(x, "item") else x

    @staticmethod
    def add(x, y, alpha: float = 1.0):
        return x.add(y, alpha=alpha)

    @staticmethod
    def add_(x, y, alpha: float = 1.0):
        return x.add_(y, alpha=alpha)

    @staticmethod
    def mul_(x, factor):
        return x.mul_(factor)

    @staticmethod
    def lerp_(x, y, weight: float):
        return x.lerp_(y, weight)

    @staticmethod
    def addcmul(x, a, b, value: float = 1.0):
        return x.addcmul(a, b, value=value)

    @staticmethod
    def addcmul_(x, a, b, value: float = 1.0):
        return x.addcmul_(a, b, value=value)

    @staticmethod
    def addcdiv_(x, a, b, value: float = 1.0):
        return x.addcdiv_(a, b, value=value)

    @staticmethod
    def maximum_(x, y):
        import torch

        return torch.maximum(x, y, out=x)

    @staticmethod
    def sqrt(x):
        return x.sqrt()

    @staticmethod
    def abs(x):
        return x.abs()

    @staticmethod
    def sign(x):
        return x.sign()

    @staticmethod
    def solve(matrix, vector):
        import torch

        return torch.linalg.solve(matrix, vector)

    @staticmethod
    def vector_norm(x, ord: float = 2.0):
        import torch

        return torch.linalg.vector_norm(x, ord)

    @staticmethod
    def stack(xs):
        import torch

        return torch.stack(xs)

    @staticmethod
    def clamp_max(x, high: float):
        import torch

        return torch.clamp(x, max=high)

    @staticmethod
    def clamp_(x, low: float, high: float):
        return x.clamp_(min=low, max=high)

    @staticmethod
    def is_finite(x) -> bool:
        import torch

        return bool(torch.isfinite(x).all())


def _torch_scalar_dtype():
    import torch

    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def ops_for(x: Any) -> type[NumpyOps] | type[TorchOps]:
    """The operations for ``x``: :class:`TorchOps` for a tensor, :class:`NumpyOps` for an array.

    Raises:
        TypeError: ``x`` is neither a floating-point numpy array nor a torch tensor.
    """
    if is_torch_tensor(x):
        return TorchOps
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(
                f"parameters must be floating-point arrays, got dtype {x.dtype}; "
                "convert with np.asarray(x, dtype=float)"
            )
        return NumpyOps
    raise TypeError(
        f"parameters must be numpy arrays or torch tensors, got {type(x).__name__}; "
        "wrap numbers with np.array(x, dtype=float) so they can be updated in place"
    )

