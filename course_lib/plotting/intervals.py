"""Results over many seeds with their uncertainty: means with confidence intervals.

With ten or more seeds, the range of the runs grows with every seed added; what a reader
needs is how well the *mean* is known. Two figures show it:

* :func:`interval_chart`: one row per setting, a dot at its mean and a whisker over its
  confidence interval (a "forest plot"), the numbers written beside it; reference lines mark
  e.g. "no difference" (a ratio of 1);
* :func:`mean_and_interval`: each setting's mean curve over its runs, with the 95% interval of
  the mean at every point shaded in the line's colour (Student's t, as
  :func:`course_lib.stats.mean_interval`). On a log axis the mean is the geometric mean and
  the interval is computed on the logarithms, so one run that spikes by a factor of 100 does
  not stretch the band below zero.

>>> ax = interval_chart({"Adam": (0.017, 0.013, 0.021), "SGD": (0.19, 0.15, 0.23)},
...                     xlabel="final loss", log=True)
>>> [t.get_text() for t in ax.get_yticklabels()]
['Adam', 'SGD']
>>> plt.close(ax.figure)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt  # noqa: F401  (the doctest closes its figure)
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from course_lib.plotting.base import (
    LINE_WIDTH,
    MARKER_SIZE,
    TICK_SIZE,
    _array,
    _axes,
    _finish,
    _legend_place,
    _series,
    _text,
    legend,
)
from course_lib.plotting.lines import _colors, loss_curves
from course_lib.plotting.palette import colors_for
from course_lib.stats import t_quantile

__all__ = ["interval_chart", "mean_and_interval"]

#: Width of a new interval chart, in inches: room for row labels, the numbers and a legend.
WIDTH = 8.0
#: Opacity of the bands.
BAND_ALPHA = 0.2
#: Dash patterns of reference lines (``lines=``), in order.
_LINE_STYLES = ("--", ":", "-.")


def _triple(value: Any, name: str) -> tuple[float, float, float]:
    if all(hasattr(value, attr) for attr in ("mean", "low", "high")):
        value = (value.mean, value.low, value.high)
    try:
        mean, low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be (mean, low, high) or an Interval, got {value!r}") \
            from None
    if not all(math.isfinite(v) for v in (mean, low, high)):
        raise ValueError(f"{name} must be finite, got {(mean, low, high)}")
    if not low <= mean <= high:
        raise ValueError(f"{name} = {(mean, low, high)}: the interval must contain the mean")
    return mean, low, high


def interval_chart(
    intervals: Mapping[str, Any],
    *,
    xlabel: str = "value",
    ylabel: str = "setting",
    log: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    fmt: str | None = "{:.3g}",
    lines: Mapping[str, float] | None = None,
    colors: Mapping[str, str] | None = None,
    legend_place: str | None = "outside",
) -> Axes:
    """One row per setting, top to bottom in the given order: a dot at the mean, a whisker
    over the interval, and (with ``fmt``) the mean written at the whisker's right end.

    Rows whose labels name an optimizer get its colour (:func:`colors_for`).

    Args:
        intervals: row label -> ``(mean, low, high)`` or a :class:`course_lib.stats.Interval`.
        xlabel: the x-axis label (the quantity).
        ylabel: the y-axis label (what the rows are: "optimizer", "change").
        log: a logarithmic x axis (every value must then be > 0).
        ax: the Axes to draw on; None makes a new figure (taller for many rows).
        title: the title; None gives "<Xlabel>, mean and interval".
        fmt: the format of the number written beside each row, or None.
        lines: label -> x of vertical reference lines (e.g. ``{"no difference": 1.0}``).
        colors: label -> colour for some rows, overriding the palette.
        legend_place: where the legend of the reference lines goes.
    """
    rows = {key: _triple(value, f"intervals[{key!r}]")
            for key, value in _series(intervals, "intervals").items()}
    if log and min(low for _, low, _ in rows.values()) <= 0:
        raise ValueError("log=True needs every value > 0")
    _legend_place(legend_place)
    palette = {**colors_for(rows), **_colors(colors, rows)}
    height = min(4.4, max(2.4, 0.5 + 0.28 * len(rows)))
    ax = _axes(ax, (WIDTH, height))
    positions = np.arange(len(rows))[::-1]
    for y, (key, (mean, low, high)) in zip(positions, rows.items(), strict=True):
        ax.plot([low, high], [y, y], color=palette[key], lw=LINE_WIDTH + 1,
                solid_capstyle="butt")
        ax.plot([mean], [y], "o", color=palette[key], ms=MARKER_SIZE + 2, mec="black",
                mew=0.8, zorder=3)
        if fmt is not None:
            ax.annotate(fmt.format(mean), (high, y), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=TICK_SIZE)
    for i, (key, value) in enumerate(_series(lines, "lines").items() if lines else ()):
        if not math.isfinite(float(value)) or (log and value <= 0):
            raise ValueError(f"lines[{key!r}] must be finite (and > 0 on a log axis), got "
                             f"{value!r}")
        ax.axvline(float(value), color="black", lw=LINE_WIDTH,
                   ls=_LINE_STYLES[i % len(_LINE_STYLES)], label=key, zorder=1)
    ax.set_yticks(positions, list(rows))
    ax.set_ylim(-0.7, len(rows) - 0.3)
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    low, high = ax.get_xlim()
    ax.set_xlim(low, high * 1.6 if log else high + 0.12 * (high - low))  # room for the numbers
    xlabel = _text(xlabel, "xlabel")
    default = f"{xlabel[:1].upper()}{xlabel[1:]}, mean and interval"
    return _finish(ax, _text(title, "title") or default, xlabel, _text(ylabel, "ylabel"),
                   legend_place, minimum=1)


def mean_and_interval(
    runs: Mapping[str, Any],
    *,
    confidence: float = 0.95,
    x: Sequence[float] | None = None,
    xlabel: str = "step",
    ylabel: str = "loss",
    log: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
    legend_place: str | None = "outside",
) -> Axes:
    """Each setting's mean over its runs as a line, and the ``confidence`` interval of that
    mean at every point (``mean ± t · s / √n``) shaded in the line's colour.

    With ``log=True`` the line is the geometric mean ``exp(mean(log v))`` and the band is
    ``exp(mean(log v) ± t · s_log / √n)``, the same interval computed on the logarithms.

    Args:
        runs: legend label -> values of shape ``(runs, points)``, one row per run (seed), at
            least two runs.
        confidence: the interval's confidence (0.95).
        x: the x value of every point; None gives 0, 1, 2, ...
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        log: a logarithmic y axis: geometric means and intervals (every value must be > 0).
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<Ylabel> against <xlabel>".
        colors: label -> colour for some settings, overriding the palette.
        legend_place: where the legend goes; it lists the settings and one entry for the bands.
    """
    series = {}
    for key, values in _series(runs, "runs").items():
        arr = _array(values, f"runs[{key!r}]")
        if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
            raise ValueError(f"runs[{key!r}] must have shape (runs >= 2, points), got "
                             f"{arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"runs[{key!r}] must be finite")
        series[key] = arr
    points = {arr.shape[1] for arr in series.values()}
    if len(points) != 1:
        raise ValueError(f"every setting must have the same number of points, got {points}")
    _legend_place(legend_place)
    palette = {**colors_for(series), **_colors(colors, series)}
    xs = np.arange(points.pop(), dtype=np.float64) if x is None else _array(x, "x")
    if log and any(np.any(arr <= 0) for arr in series.values()):
        raise ValueError("log=True needs positive values")
    scaled = {key: np.log(arr) if log else arr for key, arr in series.items()}
    centre = {key: arr.mean(axis=0) for key, arr in scaled.items()}
    back = np.exp if log else (lambda v: v)
    ax = loss_curves({key: back(c) for key, c in centre.items()}, x=xs, xlabel=xlabel,
                     ylabel=ylabel, log=log, ax=ax, title=title,
                     colors={key: palette[key] for key in series}, legend=legend_place)
    counts = sorted({arr.shape[0] for arr in series.values()})
    for key, arr in scaled.items():
        half = t_quantile(arr.shape[0], confidence) * arr.std(axis=0, ddof=1) \
            / math.sqrt(arr.shape[0])
        ax.fill_between(xs, back(centre[key] - half), back(centre[key] + half),
                        color=palette[key], alpha=BAND_ALPHA, linewidth=0, zorder=0)
    how_many = " or ".join(str(n) for n in counts)
    which = "geometric mean" if log else "mean"
    ax.fill_between([], [], [], color="grey", alpha=2 * BAND_ALPHA, linewidth=0,
                    label=f"shaded: {confidence:.0%} interval of the {which} of {how_many} runs")
    return legend(ax, legend_place, minimum=1)
