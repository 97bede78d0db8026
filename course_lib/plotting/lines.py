"""Curves: a 1-D function with its iterates, functions side by side, and series against the step.

Several series on one Axes are coloured by their labels (:func:`~course_lib.plotting.palette.
colors_for`: one colour per optimizer) and get their own dashes and markers, so curves that lie
on top of each other stay visible. A series that stops being finite (a diverged run) is drawn up
to its last finite value and marked "diverged at step k".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from course_lib.objectives import Objective
from course_lib.plotting.base import (
    LINE_WIDTH,
    MARKER_SIZE,
    RESOLUTION,
    _array,
    _axes,
    _draw_marks,
    _finish,
    _history,
    _integer_ticks,
    _interval,
    _legend_place,
    _marks,
    _padded,
    _positive_int,
    _reference_lines,
    _series,
    _text,
    diverged_at,
)
from course_lib.plotting.palette import colors_for, path_style

__all__ = ["curves_1d", "loss_curves", "schedule_plot", "trace_1d"]

#: The colour of the function under a 1-D trace (its iterates take the series colours).
CURVE_COLOR = "#444444"
#: Series with at most this many points are drawn with markers.
MARKERS_UP_TO = 30


def _path_1d(path: Any, name: str = "path") -> np.ndarray:
    arr = _array(path, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must have shape (n,) or (n, 1) with n >= 1, got {arr.shape}")
    if not np.isfinite(arr[0]):
        raise ValueError(f"{name} starts at inf or nan; the start must be finite")
    return arr


def _curve(function: Any, name: str) -> tuple[Callable[[np.ndarray], np.ndarray], str | None]:
    """(vectorised f over 1-D points, formula or None) for an Objective or a callable."""
    if isinstance(function, Objective):
        if function.dim != 1:
            raise ValueError(f"{name} must be a 1-D objective, got the 2-D {function.name!r}")
        return function.values, function.formula
    if callable(function):
        return (lambda xs: np.array([float(function(float(x))) for x in xs])), None
    raise TypeError(f"{name} must be an Objective or a callable, got {type(function).__name__}")


#: x-axis words that count something a divergence can be dated by.
COUNTS = ("epoch", "update", "iteration")


def _mark_divergence(ax: Axes, x: float, y: float, step: int, color: str, name: str | None,
                     unit: str = "step"):
    text = f"diverged at {unit} {step}" if name is None else f"{name}: diverged at {unit} {step}"
    ax.plot([x], [y], "X", ms=13, color=color, mec="black", mew=1.2, ls="none", label=text,
            zorder=5)


def trace_1d(
    objective: Objective | Callable[[float], float],
    path: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    label: str | None = None,
    domain: tuple[float, float] | None = None,
    legend: str | None = "outside",
) -> Axes:
    """A 1-D function with the iterates x₀, x₁, ... drawn on it, start and end marked.

    The curve covers ``domain``, or else the objective's window widened to hold every iterate
    (d2l's ``show_trace`` widens it the same way), so no iterate is ever clipped. Iterates that
    stop being finite are cut and the last finite one is marked "diverged at step k".

    Args:
        objective: a 1-D :class:`~course_lib.objectives.Objective`, or any callable f(x) -> float.
        path: the iterates, shape (n,) or (n, 1); ``path[0]`` is the start.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<n-1> steps on f(x) = ...".
        label: the legend label of the iterates; None gives "iterates".
        domain: (low, high) of the curve; it is widened to hold every finite iterate.
        legend: where the legend goes (:func:`~course_lib.plotting.legend`).
    """
    f, formula = _curve(objective, "objective")
    xs = _path_1d(path)
    title, label = _text(title, "title"), _text(label, "label")
    _legend_place(legend)
    label = label or "iterates"
    k = diverged_at(xs)
    shown = xs if k is None else xs[:k]
    low, high = _padded(float(shown.min()), float(shown.max()))
    if domain is not None:
        d_low, d_high = _interval(domain, "domain")
        low, high = (min(d_low, low), max(d_high, high)) if (
            shown.min() < d_low or shown.max() > d_high) else (d_low, d_high)
    elif isinstance(objective, Objective):
        low, high = min(low, objective.domain[0][0]), max(high, objective.domain[0][1])
    ax = _axes(ax)
    grid = np.linspace(low, high, RESOLUTION)
    curve = f"$f(x) = {formula}$" if formula else "f(x)"
    ax.plot(grid, f(grid), lw=LINE_WIDTH, color=CURVE_COLOR, label=curve)
    color = colors_for([label])[label]
    ys = f(shown)
    ax.plot(shown, ys, "-o", lw=LINE_WIDTH, ms=MARKER_SIZE, color=color, label=label, alpha=0.9)
    ax.plot(shown[:1], ys[:1], "s", ms=10, color="black", ls="none",
            label=f"start $x_0$ = {shown[0]:.4g}")
    if k is not None:
        _mark_divergence(ax, shown[-1], ys[-1], k, color, None)
    elif len(xs) > 1:
        ax.plot(xs[-1:], ys[-1:], "D", ms=10, color=color, mec="black", ls="none",
                label=f"end $x_{{{len(xs) - 1}}}$ = {xs[-1]:.4g}")
    steps = len(xs) - 1
    default = f"{steps} step{'s' if steps != 1 else ''} on {curve}"
    return _finish(ax, title or default, "x", "f(x)", legend)


def curves_1d(
    curves: Mapping[str, Objective | Callable[[float], float]],
    *,
    domain: tuple[float, float] | None = None,
    chord: tuple[float, float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "x",
    ylabel: str = "f(x)",
    legend: str | None = "outside",
    marks: Mapping[str, tuple[float, float]] | None = None,
    ylim: tuple[float, float] | None = None,
) -> Axes:
    """One or several 1-D functions on one Axes, optionally with a chord on each (convexity)
    and marked points (a minimum, a chosen step).

    The chord over [a, b] joins (a, f(a)) and (b, f(b)): f is convex on [a, b] when the chord
    never lies below the curve.

    Args:
        curves: legend label -> 1-D Objective or callable f(x) -> float.
        domain: (low, high); None takes the first Objective's window (required otherwise).
        chord: (a, b) to draw each function's chord over [a, b] (dashed), or None.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives the formula of a single Objective, or "Functions".
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        legend: where the legend goes (:func:`~course_lib.plotting.legend`).
        marks: label -> point (x, y) to mark on the curves, e.g.
            ``{"minimum of f": (x_min, f(x_min))}``, drawn as
            :func:`~course_lib.plotting.contour_2d` draws its marks and listed in the legend.
        ylim: (low, high) of the y axis, or None (matplotlib's, holding every curve); e.g.
            to keep a curve that shoots up from flattening the others.
    """
    curves = _series(curves, "curves")
    functions = {key: _curve(fn, f"curves[{key!r}]") for key, fn in curves.items()}
    if domain is None:
        windows = [fn.domain[0] for fn in curves.values() if isinstance(fn, Objective)]
        if not windows:
            raise ValueError("domain is required when no curve is an Objective")
        domain = windows[0]
    low, high = _interval(domain, "domain")
    a_b = _interval(chord, "chord") if chord is not None else None
    points = _marks(marks)
    y_range = _interval(ylim, "ylim") if ylim is not None else None
    _legend_place(legend)
    ax = _axes(ax)
    grid = np.linspace(low, high, RESOLUTION)
    colors = colors_for(functions)
    for i, (key, (f, _)) in enumerate(functions.items()):
        ax.plot(grid, f(grid), lw=LINE_WIDTH, color=colors[key], label=key,
                linestyle=path_style(i)["linestyle"])
        if a_b is not None:
            ends = np.array(a_b)
            ax.plot(ends, f(ends), "--o", lw=LINE_WIDTH, ms=MARKER_SIZE, color=colors[key],
                    label=f"chord over [{a_b[0]:g}, {a_b[1]:g}]" if i == 0 else None)
    _draw_marks(ax, points)
    if y_range is not None:
        ax.set_ylim(*y_range)
    if title is None:
        formulas = [formula for _, formula in functions.values()]
        title = f"$f(x) = {formulas[0]}$" if len(formulas) == 1 and formulas[0] else "Functions"
    return _finish(ax, _text(title, "title"), _text(xlabel, "xlabel"), _text(ylabel, "ylabel"),
                   legend)


def loss_curves(
    histories: Mapping[str, Sequence[float]],
    *,
    x: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "step",
    ylabel: str = "loss",
    log: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    limit: float | None = None,
    colors: Mapping[str, str] | None = None,
    legend: str | None = "outside",
    lines: Mapping[str, float] | None = None,
    logx: bool = False,
    vlines: Mapping[str, float] | None = None,
    points: Sequence[str] | None = None,
    xticks: Sequence[float] | None = None,
) -> Axes:
    """Loss (or any quantity) against the step, the examples seen or the seconds elapsed.

    Also serves for any family of sequences against an index, e.g. the weights βᵗ of
    momentum's running average (``xlabel="t", ylabel="weight"``). Each series gets the colour
    of the optimizer its label names and its own dashes (and markers when it has at most 30
    points). A series that becomes inf or nan, or (with ``limit``) exceeds ``limit`` and stays
    above it, is drawn up to the step before and marked "<label>: diverged at step k".

    Args:
        histories: legend label -> sequence of values (a list, an array or a tensor).
        x: None (0, 1, 2, ... for each), one sequence shared by all, or label -> sequence;
            each must be as long as its history.
        xlabel: the x-axis label ("step", "examples seen", "seconds", ...).
        ylabel: the y-axis label.
        log: a logarithmic y axis (every finite value must then be > 0).
        logx: a logarithmic x axis (every x must then be > 0), e.g. for batch sizes, examples
            seen or seconds spanning decades.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<Ylabel> against <xlabel>".
        limit: values above it count as diverged once they never come back below it.
        colors: label -> colour, overriding the palette (labels not drawn are ignored, so
            one mapping can serve every panel of a figure).
        legend: where the legend goes (:func:`~course_lib.plotting.legend`).
        lines: label -> value of horizontal reference lines (a stability limit, a floor),
            drawn in black, dashed, dotted, then dash-dotted, and listed in the legend.
        vlines: label -> x of vertical reference lines (the step where the rate drops, where
            a layer is unfrozen), drawn as ``lines`` are (their dash patterns continue after
            those of ``lines``) and listed in the legend.
        points: labels of series drawn as points only, large hollow markers without a line
            (a measurement that lies on a predicted curve and must not hide it).
        xticks: where the x axis has its ticks (e.g. every 15 degrees), or None (whole
            numbers when every x is one, else matplotlib's).
    """
    series = {key: _history(values, f"histories[{key!r}]")
              for key, values in _series(histories, "histories").items()}
    if isinstance(x, Mapping):
        if set(x) != set(series):
            raise ValueError(
                f"x must have the same keys as histories, got {sorted(x)} and {sorted(series)}"
            )
        xs = {key: _history(x[key], f"x[{key!r}]") for key in series}
    elif x is not None:
        shared = _history(x, "x")
        xs = dict.fromkeys(series, shared)
    else:
        xs = {key: np.arange(len(values), dtype=np.float64) for key, values in series.items()}
    for key, values in series.items():
        if len(xs[key]) != len(values):
            raise ValueError(
                f"x for {key!r} has {len(xs[key])} values but the history has {len(values)}"
            )
        if log and np.any(values[np.isfinite(values)] <= 0):
            raise ValueError(f"log=True needs positive values; histories[{key!r}] has values <= 0")
        if logx and np.any(xs[key] <= 0):
            raise ValueError(f"logx=True needs x > 0; x for {key!r} has values <= 0")
    if limit is not None and not (isinstance(limit, int | float) and np.isfinite(limit)):
        raise ValueError(f"limit must be a finite number or None, got {limit!r}")
    dotted = _labels(points, series, "points")
    ticks = None
    if xticks is not None:
        ticks = _history(xticks, "xticks")
        if not np.all(np.isfinite(ticks)) or (logx and np.any(ticks <= 0)):
            raise ValueError(f"xticks must be finite (and > 0 with logx=True), got {xticks!r}")
    _legend_place(legend)
    palette = {**colors_for(series), **_colors(colors, series)}
    ax = _axes(ax)
    for i, (key, values) in enumerate(series.items()):
        k = _series_divergence(values, limit)
        shown = slice(None) if k is None else slice(0, k)
        style = path_style(i)
        if key in dotted:
            ax.plot(xs[key][shown], values[shown], ls="none", marker=style["marker"],
                    ms=MARKER_SIZE + 5, mfc="none", mec=palette[key], mew=LINE_WIDTH, label=key,
                    zorder=5)
        else:
            ax.plot(xs[key][shown], values[shown], lw=LINE_WIDTH, color=palette[key], label=key,
                    linestyle=style["linestyle"],
                    marker=style["marker"] if len(values) <= MARKERS_UP_TO else None,
                    ms=MARKER_SIZE + 1, alpha=0.9)
        if k is not None and k >= 1:
            # Counted on the x axis when it counts epochs (or updates): "diverged at epoch 3".
            unit = xlabel.split()[0] if xlabel.split() and xlabel.split()[0] in COUNTS else None
            at = f"{xs[key][k]:g}" if unit else k
            _mark_divergence(ax, xs[key][k - 1], values[k - 1], at, palette[key], key,
                             unit or "step")
    _reference_lines(ax, lines, vlines, logy=log, logx=logx)
    if log:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    elif ticks is None and all(np.all(v == np.round(v)) for v in xs.values()):
        _integer_ticks(ax)
    if ticks is not None:
        ax.set_xticks(ticks)
    ylabel, xlabel = _text(ylabel, "ylabel"), _text(xlabel, "xlabel")
    default = f"{ylabel[:1].upper()}{ylabel[1:]} against {xlabel}"
    return _finish(ax, _text(title, "title") or default, xlabel, ylabel, legend)


def _labels(labels: Any, series: Iterable[str], name: str) -> set[str]:
    """A set of series labels, each of which is drawn."""
    if labels is None:
        return set()
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        raise ValueError(f"{name} must be a list of series labels, got {labels!r}")
    chosen = set(labels)
    unknown = chosen - set(series)
    if unknown:
        raise ValueError(f"{name} names series that are not drawn: {sorted(unknown)}")
    return chosen


def _colors(colors: Any, series: Iterable[str]) -> dict[str, str]:
    """The colours given for the series drawn here (a figure-wide mapping may name more)."""
    if colors is None:
        return {}
    if not isinstance(colors, Mapping):
        raise TypeError(f"colors must be a dict label -> colour, got {colors!r}")
    drawn = set(series)
    return {key: value for key, value in colors.items() if key in drawn}


def _series_divergence(values: np.ndarray, limit: float | None) -> int | None:
    if not np.isfinite(values[0]):
        return 0
    if limit is None:
        return diverged_at(values)
    with np.errstate(invalid="ignore"):
        bounded = np.where(values > limit, np.inf, values)
    bounded[0] = values[0]
    return diverged_at(bounded)


def schedule_plot(
    schedules: Mapping[str, Callable[[int], float] | Sequence[float]],
    steps: int,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str = "learning rate",
    piecewise: bool | Iterable[str] = False,
    legend: str | None = "outside",
    log: bool = False,
) -> Axes:
    """Learning-rate schedules against the index t = 0, 1, ..., steps − 1 of the update.

    A schedule is any callable from the 0-based update index to the rate (it is called once
    per t, in order), or the sequence of its values. Update t uses lr(t) until update t + 1,
    so a piecewise-constant schedule is drawn as a staircase (``piecewise``).

    Args:
        schedules: legend label -> callable ``lr(t)`` or a sequence of ``steps`` values.
        steps: how many updates to show (an integer >= 1).
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "Learning-rate schedules".
        ylabel: the y-axis label.
        piecewise: True draws every schedule as steps; or the labels of those to draw so.
        legend: where the legend goes (:func:`~course_lib.plotting.legend`).
        log: a logarithmic y axis, for rates cut by factors of 10 (every value must then be
            > 0).
    """
    steps = _positive_int(steps, "steps")
    values = {}
    for key, schedule in _series(schedules, "schedules").items():
        if callable(schedule):
            values[key] = np.array([float(schedule(t)) for t in range(steps)])
        else:
            values[key] = _history(schedule, f"schedules[{key!r}]")
            if len(values[key]) != steps:
                raise ValueError(
                    f"schedules[{key!r}] has {len(values[key])} values, expected steps={steps}"
                )
    if isinstance(piecewise, bool):
        stepped = set(values) if piecewise else set()
    elif isinstance(piecewise, Iterable) and not isinstance(piecewise, str):
        stepped = set(piecewise)
        if stepped - set(values):
            raise ValueError(
                f"piecewise names schedules not drawn: {sorted(stepped - set(values))}")
    else:
        raise TypeError(f"piecewise must be a bool or a list of labels, got {piecewise!r}")
    if not isinstance(log, bool):
        raise TypeError(f"log must be True or False, got {log!r}")
    if log:
        for key, lr in values.items():
            if np.any(lr <= 0):
                raise ValueError(
                    f"log=True needs every rate > 0; schedules[{key!r}] has rates <= 0")
    _legend_place(legend)
    ax = _axes(ax)
    palette = colors_for(values)
    for i, (key, lr) in enumerate(values.items()):
        style = path_style(i)
        if key in stepped:
            t = np.arange(steps + 1)
            ax.step(t, np.append(lr, lr[-1]), where="post", lw=LINE_WIDTH, color=palette[key],
                    label=key, linestyle=style["linestyle"])
        else:
            ax.plot(np.arange(steps), lr, lw=LINE_WIDTH, color=palette[key], label=key,
                    linestyle=style["linestyle"],
                    marker=style["marker"] if steps <= MARKERS_UP_TO else None, ms=MARKER_SIZE)
    if log:
        ax.set_yscale("log")
    _integer_ticks(ax)
    return _finish(ax, _text(title, "title") or "Learning-rate schedules", "update $t$",
                   _text(ylabel, "ylabel"), legend)
