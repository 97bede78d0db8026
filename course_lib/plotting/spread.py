"""Curves over several seeded runs: the mean as a line, the runs' range as a shaded band.

A training run is one sample; another seed gives another curve. With a few seeds (three, five)
the honest picture is every run: :func:`mean_and_range` draws the mean of each setting as a
line (the colours, dashes and markers of :func:`~course_lib.plotting.loss_curves`) and shades,
in the same colour, the band from the lowest to the highest run at every point, so no run lies
outside what is drawn.

>>> import numpy as np
>>> runs = {"SGD": np.array([[1.0, 0.5, 0.3], [1.0, 0.6, 0.2]]),
...         "momentum 0.9": np.array([[1.0, 0.3, 0.1], [1.0, 0.2, 0.1]])}
>>> ax = mean_and_range(runs, xlabel="epoch", title="Two settings, two seeds each")
>>> [line.get_label() for line in ax.get_lines()]
['SGD', 'momentum 0.9']
>>> plt.close(ax.figure)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt  # noqa: F401  (the doctest closes its figure)
import numpy as np
from matplotlib.axes import Axes

from course_lib.plotting.base import _array, _legend_place, _series, legend
from course_lib.plotting.lines import loss_curves
from course_lib.plotting.palette import colors_for

__all__ = ["mean_and_range"]

#: Opacity of the bands.
BAND_ALPHA = 0.2


def _runs(values: Any, name: str) -> np.ndarray:
    arr = _array(values, name)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (runs, points), got {arr.shape}")
    return arr


def mean_and_range(
    runs: Mapping[str, Any],
    *,
    x: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "step",
    ylabel: str = "loss",
    log: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
    legend_place: str | None = "outside",
    logx: bool = False,
    lines: Mapping[str, float] | None = None,
) -> Axes:
    """Each setting's mean over its runs as a line, and the band from its lowest to its
    highest run, shaded in the line's colour.

    Args:
        runs: legend label -> values of shape ``(runs, points)``, one row per run (seed).
        x: the x value of every point (steps, epochs, examples seen), or label -> its own x
            values (settings measured on different grids); None gives 0, 1, 2, ...
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        log: a logarithmic y axis (every value must then be > 0).
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<Ylabel> against <xlabel>".
        colors: label -> colour for some settings, overriding the palette.
        legend_place: where the legend goes (:func:`~course_lib.plotting.legend`); it lists
            the settings and one entry for the bands.
        logx: a logarithmic x axis (every x must then be > 0), e.g. for learning rates.
        lines: label -> value of horizontal reference lines (a floor, the loss of a model
            that learned nothing), as :func:`~course_lib.plotting.loss_curves` draws them.
    """
    series = {key: _runs(values, f"runs[{key!r}]") for key, values in
              _series(runs, "runs").items()}
    points = {arr.shape[1] for arr in series.values()}
    if len(points) != 1 and not isinstance(x, Mapping):
        raise ValueError(f"every setting must have the same number of points, got {points}")
    counts = sorted({arr.shape[0] for arr in series.values()})
    if log and any(np.any(arr[np.isfinite(arr)] <= 0) for arr in series.values()):
        raise ValueError("log=True needs positive values")
    _legend_place(legend_place)
    palette = {**colors_for(series), **dict(colors or {})}
    if isinstance(x, Mapping):
        if set(x) != set(series):
            raise ValueError(f"x must have the same keys as runs, got {sorted(x)} and "
                             f"{sorted(series)}")
        xs = {key: _array(x[key], f"x[{key!r}]") for key in series}
    else:
        shared = np.arange(points.pop(), dtype=np.float64) if x is None else _array(x, "x")
        xs = dict.fromkeys(series, shared)
    ax = loss_curves({key: arr.mean(axis=0) for key, arr in series.items()}, x=xs,
                     xlabel=xlabel, ylabel=ylabel, log=log, ax=ax, title=title,
                     colors={key: palette[key] for key in series}, legend=legend_place,
                     logx=logx, lines=lines)
    for key, arr in series.items():
        finite = np.all(np.isfinite(arr), axis=0)
        ax.fill_between(xs[key], arr.min(axis=0), arr.max(axis=0), where=finite,
                        color=palette[key], alpha=BAND_ALPHA, linewidth=0, zorder=0)
    how_many = " or ".join(str(n) for n in counts)
    ax.fill_between([], [], [], color="grey", alpha=2 * BAND_ALPHA, linewidth=0,
                    label=f"shaded: lowest to highest of {how_many} runs")
    return legend(ax, legend_place, minimum=1)
