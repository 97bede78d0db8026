"""Figures of the analysis modules: a run read one eigencomponent at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from course_lib.plotting.base import (
    LINE_WIDTH,
    MARKER_SIZE,
    _array,
    _axes,
    _finish,
    _legend_place,
    _text,
)
from course_lib.plotting.palette import path_style

__all__ = ["eigen_components"]

#: Colours of the eigencomponents (no optimizer is meant, so not the optimizer palette).
COMPONENT_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a")


def eigen_components(
    components: Any,
    *,
    factors: Sequence[float] | None = None,
    eigenvalues: Sequence[float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "step k",
    ylabel: str = "size of the eigencomponent",
    legend: str | None = "outside",
) -> Axes:
    r"""The size |z_{i,k}| of each eigencomponent of a run against the step, on a log axis,
    with the prediction |c_i|^k |z_{i,0}| dashed when the factors c_i are given.

    On a quadratic, gradient descent multiplies the component along eigenvector i by
    cᵢ = 1 − ηλᵢ every step (:func:`course_lib.conditioning.gd_contraction`); the measured
    components (:func:`course_lib.conditioning.eigen_coordinates`) then lie on the dashed
    lines. A component that is exactly 0 has no point on a log axis and is left out.

    Args:
        components: shape (n, d): row k holds z_k, the run's coordinates along the eigenvectors.
        factors: the d factors cᵢ per step, or None (no prediction drawn).
        eigenvalues: the d eigenvalues, for the legend, or None.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "Each eigencomponent of the run".
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        legend: where the legend goes (:func:`~course_lib.plotting.legend`).
    """
    z = _array(components, "components")
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"components must have shape (n, d), got {z.shape}")
    d = z.shape[1]
    c = None if factors is None else _array(factors, "factors").reshape(-1)
    lam = None if eigenvalues is None else _array(eigenvalues, "eigenvalues").reshape(-1)
    for name, arr in (("factors", c), ("eigenvalues", lam)):
        if arr is not None and arr.size != d:
            raise ValueError(f"{name} must hold {d} values (one per component), got {arr.size}")
    _legend_place(legend)
    ax = _axes(ax)
    steps = np.arange(z.shape[0])
    size = np.abs(z)
    for i in range(d):
        name = f"$|z_{{{i + 1}}}|$" + ("" if lam is None else f", $\\lambda_{{{i + 1}}} = "
                                                                f"{lam[i]:g}$")
        shown = size[:, i] > 0
        style = path_style(i)
        ax.plot(steps[shown], size[shown, i], lw=LINE_WIDTH, ms=MARKER_SIZE + 1,
                color=COMPONENT_COLORS[i % len(COMPONENT_COLORS)], label=name,
                marker=style["marker"] if z.shape[0] <= 40 else None, ls="-")
    if c is not None:
        for i in range(d):
            predicted = size[0, i] * np.abs(c[i]) ** steps
            shown = predicted > 0
            ax.plot(steps[shown], predicted[shown], "--", color="black", lw=1.2, zorder=4,
                    label=r"prediction $|c_i|^k\,|z_{i,0}|$" if i == 0 else None)
    ax.set_yscale("log")
    return _finish(ax, _text(title, "title") or "Each eigencomponent of the run",
                   _text(xlabel, "xlabel"), _text(ylabel, "ylabel"), legend)
