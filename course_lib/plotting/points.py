"""Point clouds: one marker per item (a pixel, a weight, a run), one group per colour.

Where a curve would suggest an order the items do not have (pixels of an image, weights of a
layer), :func:`scatter` draws each item as a marker at (x, y). Groups get the colour of the
optimizer their label names (:func:`~course_lib.plotting.palette.colors_for`) and their own
marker shapes, so overlapping groups stay distinguishable.

>>> import numpy as np
>>> ax = scatter({"Adagrad": (np.array([0.1, 0.5, 0.9]), np.array([3.0, 1.0, 0.5]))},
...              xlabel="share of images", ylabel="multiplier", logy=True)
>>> ax.get_yscale(), len(ax.collections[0].get_offsets())
('log', 3)
>>> plt.close(ax.figure)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt  # noqa: F401  (the doctest closes its figure)
import numpy as np
from matplotlib.axes import Axes

from course_lib.plotting.base import (
    MARKER_SIZE,
    _array,
    _axes,
    _finish,
    _legend_place,
    _series,
    _text,
)
from course_lib.plotting.lines import _colors
from course_lib.plotting.palette import colors_for, path_style

__all__ = ["scatter"]


def scatter(
    groups: Mapping[str, tuple[Any, Any]],
    *,
    xlabel: str = "x",
    ylabel: str = "y",
    logx: bool = False,
    logy: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
    legend: str | None = "outside",
) -> Axes:
    """One marker per item at (x, y), a colour and a marker shape per group.

    Args:
        groups: legend label -> (xs, ys), two 1-D sequences of the same length.
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        logx: a logarithmic x axis (every x must then be > 0).
        logy: a logarithmic y axis (every y must then be > 0).
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<Ylabel> against <xlabel>".
        colors: label -> colour for some groups, overriding the palette.
        legend: where the legend goes (:func:`~course_lib.plotting.legend`).
    """
    clouds = {}
    for key, pair in _series(groups, "groups").items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"groups[{key!r}] must be a pair (xs, ys), got {pair!r}")
        xs, ys = _array(pair[0], f"groups[{key!r}] xs"), _array(pair[1], f"groups[{key!r}] ys")
        if xs.ndim != 1 or xs.shape != ys.shape or xs.size == 0:
            raise ValueError(f"groups[{key!r}] must be two non-empty 1-D sequences of the same "
                             f"length, got shapes {xs.shape} and {ys.shape}")
        if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
            raise ValueError(f"groups[{key!r}] holds inf or nan")
        for values, on, axis in ((xs, logx, "x"), (ys, logy, "y")):
            if on and np.any(values <= 0):
                raise ValueError(f"log{axis}=True needs {axis} > 0; groups[{key!r}] has "
                                 f"values <= 0")
        clouds[key] = (xs, ys)
    _legend_place(legend)
    palette = {**colors_for(clouds), **_colors(colors, clouds)}
    ax = _axes(ax)
    for i, (key, (xs, ys)) in enumerate(clouds.items()):
        ax.scatter(xs, ys, s=(MARKER_SIZE + 2) ** 2, color=palette[key], label=key, alpha=0.8,
                   marker=path_style(i)["marker"], edgecolors="black", linewidths=0.4, zorder=3)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ylabel, xlabel = _text(ylabel, "ylabel"), _text(xlabel, "xlabel")
    default = f"{ylabel[:1].upper()}{ylabel[1:]} against {xlabel}"
    return _finish(ax, _text(title, "title") or default, xlabel, ylabel, legend)
