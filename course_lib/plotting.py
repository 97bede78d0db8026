"""Every figure of the course: traces, contours, loss curves, schedules and comparison grids.

This is the only course_lib module that imports matplotlib. Each helper draws on the Axes it
is given (``ax=...``) or on a new figure, and returns the Axes; none calls ``plt.show()`` (a
notebook shows the figure at the end of the cell) and none changes matplotlib's backend or
global settings. Every figure gets a title, axis labels and, when more than one artist is
named, a legend; sizes are set for slides (titles 14 pt, labels 12 pt, ticks and legends
11 pt, data lines 2 pt).

Paths (iterates) are numpy arrays or anything ``np.asarray`` accepts (a list of points, a
detached CPU tensor): shape ``(n,)`` or ``(n, 1)`` for 1-D objectives, ``(n, 2)`` for 2-D ones,
with ``path[0]`` the start point.

>>> import numpy as np
>>> from course_lib import objectives
>>> ax = trace_1d(objectives.square(), 10 * 0.6 ** np.arange(11), label="lr = 0.2")
>>> ax.get_title()
'10 steps on $f(x) = x^2$'
>>> plt.close(ax.figure)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from course_lib.objectives import Objective

__all__ = [
    "FIGSIZE",
    "LABEL_SIZE",
    "LEGEND_SIZE",
    "LINE_WIDTH",
    "TICK_SIZE",
    "TITLE_SIZE",
    "bar_chart",
    "comparison_grid",
    "contour_2d",
    "contour_grid",
    "curves_1d",
    "loss_curves",
    "schedule_plot",
    "surface_3d",
    "trace_1d",
]

#: Default size of a single figure, in inches.
FIGSIZE = (6.4, 4.4)
TITLE_SIZE = 14
LABEL_SIZE = 12
TICK_SIZE = 11
LEGEND_SIZE = 11
#: Width of data lines (points); contour lines, drawn behind them, are 1.5.
LINE_WIDTH = 2.0
CONTOUR_WIDTH = 1.5
MARKER_SIZE = 5
#: Points per curve and per grid side.
RESOLUTION = 400
GRID_RESOLUTION = 200


# -- shared helpers ------------------------------------------------------------------------


def _axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _finish(ax: Axes, title: str, xlabel: str, ylabel: str) -> Axes:
    """Title, labels, tick sizes, a light grid, and a legend when two or more artists are named."""
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(True, alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if len(handles) >= 2:
        ax.legend(fontsize=LEGEND_SIZE)
    return ax


def _text(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a string or None, got {value!r}")
    return value


def _array(values: Any, name: str) -> np.ndarray:
    """A float64 numpy copy of an array-like or a (detached, CPU) torch tensor."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be numbers (an array or a sequence), got {values!r}") \
            from error


def _path_1d(path: Any, name: str = "path") -> np.ndarray:
    arr = _array(path, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must have shape (n,) or (n, 1) with n >= 1, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds inf or nan (a diverged run?); plot its finite part")
    return arr


def _path_2d(path: Any, name: str = "path") -> np.ndarray:
    arr = _array(path, name)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, 2) with n >= 1, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds inf or nan (a diverged run?); plot its finite part")
    return arr


def _interval(pair: Any, name: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a pair (low, high), got {pair!r}") from error
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be finite with low < high, got ({low}, {high})")
    return low, high


def _padded(low: float, high: float, fraction: float = 0.05) -> tuple[float, float]:
    if high == low:
        return low - 1.0, high + 1.0
    pad = fraction * (high - low)
    return low - pad, high + pad


def _curve(function: Any, name: str) -> tuple[Callable[[np.ndarray], np.ndarray], str | None]:
    """(vectorised f over 1-D points, formula or None) for an Objective or a callable."""
    if isinstance(function, Objective):
        if function.dim != 1:
            raise ValueError(f"{name} must be a 1-D objective, got the 2-D {function.name!r}")
        return function.values, function.formula
    if callable(function):
        return (lambda xs: np.array([float(function(float(x))) for x in xs])), None
    raise TypeError(f"{name} must be an Objective or a callable, got {type(function).__name__}")


def _series(series: Any, name: str) -> dict[str, Any]:
    if isinstance(series, Mapping):
        if not series:
            raise ValueError(f"{name} must not be empty")
        for key in series:
            if not isinstance(key, str):
                raise TypeError(f"the keys of {name} must be strings (legend labels), got {key!r}")
        return dict(series)
    raise TypeError(f"{name} must be a dict of label -> series, got {type(series).__name__}")


# -- 1-D -----------------------------------------------------------------------------------


def trace_1d(
    objective: Objective | Callable[[float], float],
    path: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    label: str | None = None,
    domain: tuple[float, float] | None = None,
) -> Axes:
    """A 1-D function with the iterates x₀, x₁, ... drawn on it, start and end marked.

    The curve covers ``domain``, or else the objective's window widened to hold every iterate
    (d2l's ``show_trace`` widens it the same way).

    Args:
        objective: a 1-D :class:`~course_lib.objectives.Objective`, or any callable f(x) -> float.
        path: the iterates, shape (n,) or (n, 1); ``path[0]`` is the start.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<n-1> steps on f(x) = ...".
        label: the legend label of the iterates; None gives "iterates".
        domain: (low, high) of the curve.
    """
    f, formula = _curve(objective, "objective")
    xs = _path_1d(path)
    title, label = _text(title, "title"), _text(label, "label")
    if domain is not None:
        low, high = _interval(domain, "domain")
    else:
        low, high = _padded(float(xs.min()), float(xs.max()))
        if isinstance(objective, Objective):
            low, high = min(low, objective.domain[0][0]), max(high, objective.domain[0][1])
    ax = _axes(ax)
    grid = np.linspace(low, high, RESOLUTION)
    curve = f"$f(x) = {formula}$" if formula else "f(x)"
    ax.plot(grid, f(grid), lw=LINE_WIDTH, color="C0", label=curve)
    ys = f(xs)
    ax.plot(xs, ys, "-o", lw=LINE_WIDTH, ms=MARKER_SIZE, color="C1", label=label or "iterates")
    ax.plot(xs[:1], ys[:1], "s", ms=10, color="C2", ls="none", label=f"start $x_0$ = {xs[0]:.4g}")
    if len(xs) > 1:
        ax.plot(xs[-1:], ys[-1:], "*", ms=15, color="C3", ls="none",
                label=f"end $x_{{{len(xs) - 1}}}$ = {xs[-1]:.4g}")
    steps = len(xs) - 1
    default = f"{steps} step{'s' if steps != 1 else ''} on {curve}"
    return _finish(ax, title or default, "x", "f(x)")


def curves_1d(
    curves: Mapping[str, Objective | Callable[[float], float]],
    *,
    domain: tuple[float, float] | None = None,
    chord: tuple[float, float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "x",
    ylabel: str = "f(x)",
) -> Axes:
    """One or several 1-D functions on one Axes, optionally with a chord on each (convexity).

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
    ax = _axes(ax)
    grid = np.linspace(low, high, RESOLUTION)
    for i, (key, (f, _)) in enumerate(functions.items()):
        ax.plot(grid, f(grid), lw=LINE_WIDTH, color=f"C{i}", label=key)
        if a_b is not None:
            ends = np.array(a_b)
            ax.plot(ends, f(ends), "--o", lw=LINE_WIDTH, ms=MARKER_SIZE, color=f"C{i}",
                    label=f"chord over [{a_b[0]:g}, {a_b[1]:g}]" if i == 0 else None)
    if title is None:
        formulas = [formula for _, formula in functions.values()]
        title = f"$f(x) = {formulas[0]}$" if len(formulas) == 1 and formulas[0] else "Functions"
    return _finish(ax, _text(title, "title"), _text(xlabel, "xlabel"), _text(ylabel, "ylabel"))


# -- 2-D -----------------------------------------------------------------------------------


def _paths(paths: Any) -> dict[str, np.ndarray]:
    if paths is None:
        return {}
    if isinstance(paths, Mapping):
        if not all(isinstance(key, str) for key in paths):
            raise TypeError(f"the keys of paths must be strings (legend labels), got {list(paths)}")
        return {key: _path_2d(p, f"paths[{key!r}]") for key, p in paths.items()}
    return {"iterates": _path_2d(paths, "paths")}


def contour_2d(
    objective: Objective | Callable[[np.ndarray, np.ndarray], np.ndarray],
    paths: Mapping[str, Any] | Any = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    levels: int | Sequence[float] = 20,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> Axes:
    """Contours of a 2-D function with one or several trajectories; the minimum starred.

    The window is ``domain``, else the objective's window (paths that leave it are clipped,
    as in d2l's figures of diverging runs), else for a callable the paths' extent.

    Args:
        objective: a 2-D Objective, or a vectorised callable f(x1, x2) on meshgrid arrays.
        paths: one path of shape (n, 2), a dict label -> path, or None (contours only).
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "f(x) = <formula>".
        levels: the number of contour levels, or their increasing values (for Rosenbrock
            try ``np.logspace(-1, 3.5, 12)``).
        domain: ((x1 low, x1 high), (x2 low, x2 high)).
    """
    if isinstance(objective, Objective):
        if objective.dim != 2:
            raise ValueError(f"objective must be 2-D, got the 1-D {objective.name!r}")
        z_of, formula = objective.value_grid, objective.formula
    elif callable(objective):
        z_of, formula = (lambda a, b: np.broadcast_to(objective(a, b), a.shape)), None
    else:
        raise TypeError(f"objective must be an Objective or a callable, got {objective!r}")
    tracks = _paths(paths)
    if isinstance(levels, bool) or not isinstance(levels, int | Sequence | np.ndarray):
        raise TypeError(f"levels must be an int or a sequence of values, got {levels!r}")
    if isinstance(levels, int) and levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    if domain is None and isinstance(objective, Objective):
        domain = objective.domain
    if domain is None:
        if not tracks:
            raise ValueError("domain is required for a callable objective without paths")
        points = np.vstack(list(tracks.values()))
        domain = tuple(_padded(float(points[:, i].min()), float(points[:, i].max()), 0.1)
                       for i in range(2))
    if not isinstance(domain, Sequence) or len(domain) != 2:
        raise TypeError(f"domain must be two (low, high) pairs, got {domain!r}")
    (x_low, x_high), (y_low, y_high) = (_interval(pair, f"domain[{i}]")
                                        for i, pair in enumerate(domain))
    ax = _axes(ax)
    x1, x2 = np.meshgrid(np.linspace(x_low, x_high, GRID_RESOLUTION),
                         np.linspace(y_low, y_high, GRID_RESOLUTION))
    ax.contour(x1, x2, z_of(x1, x2), levels=levels, cmap="viridis",
               linewidths=CONTOUR_WIDTH, alpha=0.8)
    starts: list[tuple[float, float]] = []
    for i, (key, track) in enumerate(tracks.items()):
        ax.plot(track[:, 0], track[:, 1], "-o", lw=LINE_WIDTH, ms=MARKER_SIZE, color=f"C{i}",
                label=key)
        start = (float(track[0, 0]), float(track[0, 1]))
        if start not in starts:
            starts.append(start)
    for i, start in enumerate(starts):
        ax.plot(*start, "s", ms=10, color="black", ls="none", label="start" if i == 0 else None)
    minimizer = getattr(objective, "minimizer", None)
    if minimizer is not None:
        ax.plot(*minimizer, "*", ms=16, color="gold", mec="black", ls="none", label="minimum")
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    default = f"$f(x) = {formula}$" if formula else "Contours of f"
    return _finish(ax, _text(title, "title") or default, "$x_1$", "$x_2$")


def contour_grid(
    objective: Objective,
    paths: Mapping[str, Any],
    *,
    ncols: int = 2,
    title: str | None = None,
    levels: int | Sequence[float] = 20,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> list[Axes]:
    """One small contour plot per trajectory (e.g. per optimizer), titled by its label.

    Args:
        objective: a 2-D Objective.
        paths: label -> path of shape (n, 2), one panel each.
        ncols: panels per row (an integer >= 1).
        title: the figure's title; None gives "f(x) = <formula>".
        levels: as in :func:`contour_2d`.
        domain: as in :func:`contour_2d`.
    """
    tracks = _paths(_series(paths, "paths"))
    panels = {
        key: (lambda ax, key=key: contour_2d(objective, {key: tracks[key]}, ax=ax,
                                             levels=levels, domain=domain))
        for key in tracks
    }
    default = f"$f(x) = {objective.formula}$" if isinstance(objective, Objective) else "Paths"
    return comparison_grid(panels, ncols=ncols, title=_text(title, "title") or default)


def surface_3d(
    objective: Objective,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
    marks: Mapping[str, tuple[float, float]] | None = None,
) -> Axes:
    """A 2-D objective as a 3-D wireframe surface (d2l's saddle picture) with marked points.

    Args:
        objective: a 2-D Objective.
        ax: a 3-D Axes (``projection="3d"``) to draw on; None makes a new figure.
        title: the title; None gives "f(x) = <formula>".
        domain: ((x1 low, x1 high), (x2 low, x2 high)); None takes the objective's window.
        marks: label -> point (x1, x2) to mark on the surface, e.g.
            ``{"saddle point": (0, 0)}``; None marks the minimizer when it is known.
    """
    if not isinstance(objective, Objective) or objective.dim != 2:
        raise TypeError(f"objective must be a 2-D Objective, got {objective!r}")
    (x_low, x_high), (y_low, y_high) = (
        _interval(pair, f"domain[{i}]") for i, pair in enumerate(domain or objective.domain)
    )
    if ax is None:
        fig = plt.figure(figsize=FIGSIZE, layout="constrained")
        ax = fig.add_subplot(projection="3d")
    elif not isinstance(ax, Axes) or ax.name != "3d":
        raise TypeError("ax must be a 3-D Axes (fig.add_subplot(projection='3d')) or None")
    x1, x2 = np.meshgrid(np.linspace(x_low, x_high, 41), np.linspace(y_low, y_high, 41))
    ax.plot_wireframe(x1, x2, objective.value_grid(x1, x2), rstride=4, cstride=4,
                      color="C0", linewidth=1.0)
    if marks is None:
        marks = {} if objective.minimizer is None else {"minimum": objective.minimizer}
    for i, (key, point) in enumerate(_series(marks, "marks").items() if marks else ()):
        point = _path_2d([point], f"marks[{key!r}]")[0]
        marker, color = ("*", "gold") if i == 0 else ("o", f"C{i + 1}")
        ax.plot(point[:1], point[1:], [objective.value(point)], marker, ms=14, color=color,
                mec="black", ls="none", label=key)
    ax.set_zlabel("f(x)", fontsize=LABEL_SIZE, labelpad=8)
    ax.tick_params(axis="z", labelsize=TICK_SIZE)
    return _finish(ax, _text(title, "title") or f"$f(x) = {objective.formula}$",
                   "$x_1$", "$x_2$")


# -- curves against the step ---------------------------------------------------------------


def loss_curves(
    histories: Mapping[str, Sequence[float]],
    *,
    x: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "step",
    ylabel: str = "loss",
    log: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Loss (or any quantity) against the step, the examples seen or the seconds elapsed.

    Also serves for any family of sequences against an index, e.g. the weights βᵗ of
    momentum's running average (``xlabel="t", ylabel="weight"``).

    Args:
        histories: legend label -> sequence of values (a list, an array or a tensor).
        x: None (0, 1, 2, ... for each), one sequence shared by all, or label -> sequence;
            each must be as long as its history.
        xlabel: the x-axis label ("step", "examples seen", "seconds", ...).
        ylabel: the y-axis label.
        log: a logarithmic y axis (every finite value must then be > 0).
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<Ylabel> against <xlabel>".
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
    ax = _axes(ax)
    for i, (key, values) in enumerate(series.items()):
        ax.plot(xs[key], values, lw=LINE_WIDTH, color=f"C{i % 10}", label=key,
                marker="o" if len(values) <= 30 else None, ms=MARKER_SIZE)
    if log:
        ax.set_yscale("log")
    ylabel, xlabel = _text(ylabel, "ylabel"), _text(xlabel, "xlabel")
    default = f"{ylabel[:1].upper()}{ylabel[1:]} against {xlabel}"
    return _finish(ax, _text(title, "title") or default, xlabel, ylabel)


def _history(values: Any, name: str) -> np.ndarray:
    arr = _array(values, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    return arr


def schedule_plot(
    schedules: Mapping[str, Callable[[int], float] | Sequence[float]],
    steps: int,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str = "learning rate",
) -> Axes:
    """Learning-rate schedules against the index t = 0, 1, ..., steps − 1 of the update.

    A schedule is any callable from the 0-based update index to the rate (it is called once
    per t, in order), or the sequence of its values.

    Args:
        schedules: legend label -> callable ``lr(t)`` or a sequence of ``steps`` values.
        steps: how many updates to show (an integer >= 1).
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "Learning-rate schedules".
        ylabel: the y-axis label.
    """
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
        raise TypeError(f"steps must be an integer, got {steps!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
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
    ax = _axes(ax)
    t = np.arange(steps)
    for i, (key, lr) in enumerate(values.items()):
        ax.plot(t, lr, lw=LINE_WIDTH, color=f"C{i % 10}", label=key,
                marker="o" if steps <= 30 else None, ms=MARKER_SIZE)
    return _finish(ax, _text(title, "title") or "Learning-rate schedules", "update $t$",
                   _text(ylabel, "ylabel"))


def bar_chart(
    values: Mapping[str, float],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "method",
    ylabel: str = "value",
    log: bool = False,
    fmt: str = "{:.3g}",
) -> Axes:
    """A bar per entry, its value written on top (timings, final losses, accuracies).

    Args:
        values: bar label -> number.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<Ylabel> by <xlabel>".
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        log: a logarithmic y axis (every value must then be > 0).
        fmt: the format of the numbers written on the bars.
    """
    heights = {key: float(v) for key, v in _series(values, "values").items()}
    if not all(math.isfinite(v) for v in heights.values()):
        raise ValueError("values must be finite numbers")
    if log and min(heights.values()) <= 0:
        raise ValueError("log=True needs every value > 0")
    ax = _axes(ax)
    bars = ax.bar(list(heights), list(heights.values()), color=[f"C{i % 10}" for i in
                                                                 range(len(heights))])
    ax.bar_label(bars, labels=[fmt.format(v) for v in heights.values()], fontsize=TICK_SIZE)
    if log:
        ax.set_yscale("log")
    ylabel, xlabel = _text(ylabel, "ylabel"), _text(xlabel, "xlabel")
    default = f"{ylabel[:1].upper()}{ylabel[1:]} by {xlabel}"
    return _finish(ax, _text(title, "title") or default, xlabel, ylabel)


# -- grids of panels -----------------------------------------------------------------------


def comparison_grid(
    panels: Mapping[str, Callable[[Axes], Any]],
    *,
    ncols: int = 2,
    title: str | None = None,
    panel_size: tuple[float, float] = (4.6, 3.6),
) -> list[Axes]:
    """A grid of small panels under one title: ``draw(ax)`` fills each, titled by its key.

    Each ``draw`` is called with a fresh Axes (e.g. ``lambda ax: contour_2d(f, path, ax=ax)``);
    the key then replaces whatever title it set. Unused cells of the last row are removed.

    Args:
        panels: panel title -> a function drawing on the Axes it is given.
        ncols: panels per row (an integer >= 1).
        title: the figure's title (suptitle); None gives "Comparison".
        panel_size: (width, height) of one panel in inches.

    Returns:
        The panels' Axes, in the order of ``panels`` (the figure is ``axes[0].figure``).
    """
    panels = _series(panels, "panels")
    for key, draw in panels.items():
        if not callable(draw):
            raise TypeError(f"panels[{key!r}] must be a function of an Axes, got {draw!r}")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1, got {ncols!r}")
    width, height = (float(v) for v in panel_size)
    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             layout="constrained", squeeze=False)
    cells = list(grid.flat)
    used = []
    for (key, draw), ax in zip(panels.items(), cells[: len(panels)], strict=True):
        draw(ax)
        ax.set_title(key, fontsize=LABEL_SIZE + 1)
        used.append(ax)
    for ax in cells[len(panels):]:
        ax.remove()
    fig.suptitle(_text(title, "title") or "Comparison", fontsize=TITLE_SIZE + 1)
    return used
