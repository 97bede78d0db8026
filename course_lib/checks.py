"""Argument checks shared by the analysis modules (conditioning, momentum, line search).

Each returns the checked value in the form the caller computes with, or raises TypeError (not a
number) or ValueError (a number outside its range), naming the argument.

>>> positive_eigenvalues([1, 10.0]).tolist()
[1.0, 10.0]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["finite_real", "positive_eigenvalues"]


def finite_real(value: Any, name: str) -> float:
    """``value`` as a float; TypeError unless it is a real number, ValueError unless finite."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def positive_eigenvalues(eigenvalues: Any) -> np.ndarray:
    """A 1-D float array of eigenvalues > 0 (of a positive definite matrix).

    Accepts a number, a sequence or array of numbers, or a quadratic objective (anything with
    an ``eigenvalues`` attribute, such as :class:`course_lib.objectives.QuadraticObjective`).
    """
    eigenvalues = getattr(eigenvalues, "eigenvalues", eigenvalues)
    if isinstance(eigenvalues, numbers.Real) and not isinstance(eigenvalues, bool):
        eigenvalues = [eigenvalues]
    if isinstance(eigenvalues, str) or not isinstance(eigenvalues, Sequence | np.ndarray):
        raise TypeError(
            "eigenvalues must be a number, a sequence of numbers or a quadratic objective, "
            f"got {eigenvalues!r}"
        )
    values = np.array(
        [finite_real(v, f"eigenvalues[{i}]") for i, v in enumerate(np.ravel(eigenvalues))],
        dtype=np.float64,
    )
    if values.size == 0:
        raise ValueError("eigenvalues must not be empty")
    if np.any(values <= 0):
        raise ValueError(
            f"eigenvalues must all be > 0 (a positive definite matrix), got {values.tolist()}"
        )
    return values
