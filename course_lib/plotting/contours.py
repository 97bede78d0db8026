"""2-D objectives: contours with trajectories, grids of compared panels, and 3-D surfaces.

A contour plot of a 2-D problem has equal aspect by default (a round bowl looks round, a
valley turned by 45° looks turned by 45°). Its window is the objective's (or the given
``domain``) widened to hold every drawn point, so no path is clipped. A run that diverges
(:func:`~course_lib.plotting.base.diverged_at`) is drawn until it leaves the window by half its
span for good, and that point is marked "diverged at step k". Panels that are compared
(:func:`contour_grid`) share one window and one set of contour levels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from course_lib.objectives import Objective
from course_lib.plotting.analysis import COMPONENT_COLORS
from course_lib.plotting.base import (
    CONTOUR_WIDTH,
    ESCAPE,
    FIGSIZE,
    GRID_RESOLUTION,
    LABEL_SIZE,
    LINE_WIDTH,
    MARK_MARKERS,
    MARKER_SIZE,
    TICK_SIZE,
    _array,
    _axes,
    _cut,
    _draw_marks,
    _finish,
    _interval,
    _legend_place,
    _marks,
    _padded,
    _series,
    _text,
)
from course_lib.plotting.grids import comparison_grid
from course_lib.plotting.lines import _colors, _mark_divergence
from course_lib.plotting.palette import colors_for, path_style

__all__ = ["contour_2d", "contour_grid", "contour_levels", "surface_3d", "window_for"]

Window = tuple[tuple[float, float], tuple[float, float]]
#: Colours of the arrows of :func:`contour_2d` (``arrows=``), in order: those of the
#: eigencomponents, since arrows most often show eigenvectors.
ARROW_COLORS = COMPONENT_COLORS
#: Where an arrow's label is written: this far beyond its head, in lengths of the arrow.
ARROW_LABEL_GAP = 0.1


def _path_2d(path: Any, name: str = "path") -> np.ndarray:
    arr = _array(path, name)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, 2) with n >= 1, got {arr.shape}")
    if not np.all(np.isfinite(arr[0])):
        raise ValueError(f"{name} starts at inf or nan; the start must be finite")
    return arr


def _paths(paths: Any) -> dict[str, np.ndarray]:
    if paths is None:
        return {}
    if isinstance(paths, Mapping):
        if not all(isinstance(key, str) for key in paths):
            raise TypeError(f"the keys of paths must be strings (legend labels), got {list(paths)}")
        return {key: _path_2d(p, f"paths[{key!r}]") for key, p in paths.items()}
    return {"iterates": _path_2d(paths, "paths")}


def _surface(objective: Any) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], str | None]:
    if isinstance(objective, Objective):
        if objective.dim != 2:
            raise ValueError(f"objective must be 2-D, got the 1-D {objective.name!r}")
        return objective.value_grid, objective.formula
    if callable(objective):
        return (lambda a, b: np.broadcast_to(objective(a, b), a.shape)), None
    raise TypeError(f"objective must be an Objective or a callable, got {objective!r}")


def _window(domain: Any) -> Window:
    if not isinstance(domain, Sequence) or len(domain) != 2:
        raise TypeError(f"domain must be two (low, high) pairs, got {domain!r}")
    return tuple(_interval(pair, f"domain[{i}]") for i, pair in enumerate(domain))


def _union(window: Window, points: np.ndarray) -> Window:
    """The window widened to hold every point with a margin: a point on or near the edge
    (within 2% of the span) would show half a marker, so the window then grows by 5%."""
    if points.size == 0:
        return window
    out = []
    for i, (low, high) in enumerate(window):
        p_low, p_high = float(points[:, i].min()), float(points[:, i].max())
        near = 0.02 * (high - low)
        if p_low < low + near or p_high > high - near:
            low, high = _padded(min(low, p_low), max(high, p_high))
        out.append((low, high))
    return tuple(out)


def window_for(
    objective: Any,
    paths: Mapping[str, Any] | Any = None,
    domain: Any = None,
    *,
    escape: float = ESCAPE,
) -> Window:
    """The window a contour plot of these paths uses: ``domain`` (else the objective's window,
    else the paths' extent) widened to hold every point drawn (paths cut where they diverge).

    Pass the result as ``domain=`` to several plots to give them the same window.
    """
    tracks = _paths(paths)
    if domain is None and isinstance(objective, Objective):
        domain = objective.domain
    if domain is None:
        if not tracks:
            raise ValueError("domain is required for a callable objective without paths")
        points = np.vstack([t[np.all(np.isfinite(t), axis=1)] for t in tracks.values()])
        domain = tuple(_padded(float(points[:, i].min()), float(points[:, i].max()), 0.1)
                       for i in range(2))
    base = _window(domain)
    shown = [_cut(track, base, escape)[0] for track in tracks.values()]
    return _union(base, np.vstack(shown) if shown else np.empty((0, 2)))


def contour_levels(objective: Any, domain: Any, levels: int = 20) -> np.ndarray:
    """The values matplotlib would choose for ``levels`` contours of ``objective`` over
    ``domain`` (nice round numbers between its smallest and largest value there)."""
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1, got {levels!r}")
    z_of, _ = _surface(objective)
    (x_low, x_high), (y_low, y_high) = _window(domain)
    x1, x2 = np.meshgrid(np.linspace(x_low, x_high, GRID_RESOLUTION),
                         np.linspace(y_low, y_high, GRID_RESOLUTION))
    z = np.asarray(z_of(x1, x2), dtype=float)
    z = z[np.isfinite(z)]
    values = MaxNLocator(levels + 1).tick_values(float(z.min()), float(z.max()))
    inside = values[(values > z.min()) & (values < z.max())]
    return inside if inside.size else values


def _levels(levels: Any) -> Any:
    if isinstance(levels, bool) or not isinstance(levels, int | Sequence | np.ndarray):
        raise TypeError(f"levels must be an int or a sequence of values, got {levels!r}")
    if isinstance(levels, int) and levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    return levels


def _aspect(aspect: Any) -> str:
    if aspect not in ("equal", "auto"):
        raise ValueError(f"aspect must be 'equal' or 'auto', got {aspect!r}")
    return aspect


def _figsize(window: Window, aspect: str, with_legend: bool) -> tuple[float, float]:
    if aspect != "equal":
        return FIGSIZE
    (x_low, x_high), (y_low, y_high) = window
    ratio = (x_high - x_low) / (y_high - y_low)
    width = float(np.clip(3.7 * ratio, 3.2, 8.0)) + (3.2 if with_legend else 1.0)
    return (min(width, 11.5), FIGSIZE[1])


def contour_2d(
    objective: Objective | Callable[[np.ndarray, np.ndarray], np.ndarray],
    paths: Mapping[str, Any] | Any = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    levels: int | Sequence[float] = 20,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
    aspect: str = "equal",
    marks: Mapping[str, tuple[float, float]] | None = None,
    colors: Mapping[str, str] | None = None,
    escape: float = ESCAPE,
    legend: str | None = "outside",
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
    arrows: Mapping[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
) -> Axes:
    """Contours of a 2-D function with one or several trajectories; start and minimum marked.

    The window is ``domain``, else the objective's window, else for a callable the paths'
    extent; it is widened to hold every drawn point (:func:`window_for`), so no path is clipped.
    A diverging path is drawn until it leaves for good and marked "diverged at step k". Paths
    get the colours of the optimizers their labels name, and their own dashes and markers.

    Args:
        objective: a 2-D Objective, or a vectorised callable f(x1, x2) on meshgrid arrays.
        paths: one path of shape (n, 2), a dict label -> path, or None (contours only).
        ax: the Axes to draw on; None makes a new figure sized to the window.
        title: the title; None gives "f(x) = <formula>".
        levels: the number of contour levels, or their increasing values (for Rosenbrock
            try ``np.logspace(-1, 3.5, 12)``).
        domain: ((x1 low, x1 high), (x2 low, x2 high)).
        aspect: "equal" (one unit is as long on both axes) or "auto" (fill the Axes).
        marks: label -> point (x1, x2) to mark as well, e.g. ``{"saddle point": (0, 0)}``.
        colors: label -> colour for some paths, overriding the palette.
        escape: how far beyond the window, in spans, a path may go before it counts as
            diverged (:func:`~course_lib.plotting.base.diverged_at`).
        legend: where the legend goes (:func:`~course_lib.plotting.legend`).
        xlabel: the x-axis label (the first coordinate, e.g. "a" for a weight).
        ylabel: the y-axis label (the second coordinate, e.g. "b" for a bias).
        arrows: label -> (tail, head), two points (x1, x2): arrows to draw (e.g. the
            eigenvectors from the minimum), coloured as the eigencomponents of
            :func:`~course_lib.plotting.eigen_components` and labelled in their colour just
            beyond the head; the window grows to hold them.
    """
    z_of, formula = _surface(objective)
    tracks = _paths(paths)
    levels = _levels(levels)
    aspect = _aspect(aspect)
    _legend_place(legend)
    extra = _marks(marks)
    shafts = _arrows(arrows)
    window = window_for(objective, tracks, domain, escape=escape)
    held = list(extra.values()) + [end for tail, head in shafts.values()
                                   for end in (tail, head + ARROW_LABEL_GAP * (head - tail))]
    if held:
        window = _union(window, np.array(held))
    (x_low, x_high), (y_low, y_high) = window
    if ax is None:
        ax = _axes(None, _figsize(window, aspect, legend is not None))
    else:
        ax = _axes(ax)
    x1, x2 = np.meshgrid(np.linspace(x_low, x_high, GRID_RESOLUTION),
                         np.linspace(y_low, y_high, GRID_RESOLUTION))
    ax.contour(x1, x2, z_of(x1, x2), levels=levels, cmap="viridis",
               linewidths=CONTOUR_WIDTH, alpha=0.7)
    palette = {**colors_for(tracks), **_colors(colors, tracks)}
    base = window_for(objective, None, domain) if (domain is not None or
                                                   isinstance(objective, Objective)) else window
    starts: list[tuple[float, float]] = []
    for i, (key, track) in enumerate(tracks.items()):
        shown, k = _cut(track, base, escape)
        style = path_style(i)
        ax.plot(shown[:, 0], shown[:, 1], lw=LINE_WIDTH, ms=MARKER_SIZE + 1, color=palette[key],
                label=key, alpha=0.85, zorder=3 + 0.01 * i, **style)
        if k is not None:
            _mark_divergence(ax, shown[-1, 0], shown[-1, 1], k, palette[key],
                             key if len(tracks) > 1 else None)
        start = (float(track[0, 0]), float(track[0, 1]))
        if start not in starts:
            starts.append(start)
    for i, start in enumerate(starts):
        ax.plot(*start, "s", ms=10, color="black", ls="none", label="start" if i == 0 else None,
                zorder=4)
    minimizer = getattr(objective, "minimizer", None)
    if minimizer is not None:
        ax.plot(*minimizer, "*", ms=16, color="gold", mec="black", ls="none", label="minimum",
                zorder=4)
    _draw_marks(ax, extra)
    for i, (key, (tail, head)) in enumerate(shafts.items()):
        color = ARROW_COLORS[i % len(ARROW_COLORS)]
        ax.annotate("", xy=head, xytext=tail, zorder=4,
                    arrowprops={"arrowstyle": "->", "color": color, "lw": LINE_WIDTH + 0.5})
        beyond = head + ARROW_LABEL_GAP * (head - tail)
        # the label grows into the window: leftwards near its right edge, and so on
        where = (beyond[0] - x_low) / (x_high - x_low)
        ax.text(*beyond, key, color=color, fontsize=LABEL_SIZE, zorder=4,
                ha="right" if where > 0.7 else "left" if where < 0.3 else "center",
                va="bottom" if beyond[1] >= tail[1] else "top")
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    if aspect == "equal":
        ax.set_aspect("equal", adjustable="box")
    default = f"$f(x) = {formula}$" if formula else "Contours of f"
    return _finish(ax, _text(title, "title") or default, _text(xlabel, "xlabel"),
                   _text(ylabel, "ylabel"), legend)


def _arrows(arrows: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """label -> (tail, head), checked: two distinct finite points each."""
    out = {}
    for key, pair in (_series(arrows, "arrows").items() if arrows is not None else ()):
        ends = _array(pair, f"arrows[{key!r}]")
        if ends.shape != (2, 2) or not np.all(np.isfinite(ends)):
            raise ValueError(f"arrows[{key!r}] must be (tail, head), two finite points "
                             f"(x1, x2), got {pair!r}")
        if np.array_equal(ends[0], ends[1]):
            raise ValueError(f"arrows[{key!r}] has its head on its tail: {pair!r}")
        out[key] = (ends[0], ends[1])
    return out


def contour_grid(
    objective: Objective | Mapping[str, Objective],
    paths: Mapping[str, Any],
    *,
    ncols: int = 2,
    title: str | None = None,
    levels: int | Sequence[float] = 20,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
    aspect: str = "equal",
    escape: float = ESCAPE,
    panel_height: float | None = None,
) -> list[Axes]:
    """One contour panel per trajectory (e.g. per optimizer), titled by its label, all on the
    same window with the same contour levels, and one legend for the figure.

    Args:
        objective: a 2-D Objective for every panel, or label -> Objective (one per panel,
            e.g. the same valley at several angles).
        paths: label -> path of shape (n, 2), one panel each.
        ncols: panels per row (an integer >= 1).
        title: the figure's title; None gives "f(x) = <formula>".
        levels: the number of contour levels (computed once for all panels) or their values.
        domain: as in :func:`contour_2d`; widened to hold every panel's path.
        aspect: as in :func:`contour_2d`.
        escape: as in :func:`contour_2d`.
        panel_height: the height of one panel in inches (its width follows the window); None
            keeps the figure about 5 inches tall (3.4 per panel at most).
    """
    tracks = _paths(_series(paths, "paths"))
    if isinstance(objective, Mapping):
        objectives = _series(objective, "objective")
        if set(objectives) != set(tracks):
            raise ValueError(f"objective and paths must have the same labels, got "
                             f"{sorted(objectives)} and {sorted(tracks)}")
    else:
        objectives = dict.fromkeys(tracks, objective)
    levels, aspect = _levels(levels), _aspect(aspect)
    windows = [window_for(objectives[key], {key: track}, domain, escape=escape)
               for key, track in tracks.items()]
    lows = np.min([[w[0][0], w[1][0]] for w in windows], axis=0)
    highs = np.max([[w[0][1], w[1][1]] for w in windows], axis=0)
    shared = ((float(lows[0]), float(highs[0])), (float(lows[1]), float(highs[1])))
    if isinstance(levels, int):
        first = next(iter(objectives.values()))
        levels = contour_levels(first, shared, levels)
    palette = colors_for(tracks)
    base = {key: window_for(objectives[key], None, domain) for key in tracks}
    panels = {
        key: (lambda ax, key=key: _panel(objectives[key], key, tracks[key], ax, levels, shared,
                                         base[key], aspect, palette[key], escape))
        for key in tracks
    }
    if not isinstance(ncols, int) or isinstance(ncols, bool) or ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1, got {ncols!r}")
    if panel_height is None:
        rows = -(-len(tracks) // min(ncols, len(tracks)))
        panel_height = min(3.4, 4.6 / rows - 0.5)
    ratio = (shared[0][1] - shared[0][0]) / (shared[1][1] - shared[1][0])
    width = float(np.clip(panel_height * ratio, 2.6, 7.0)) if aspect == "equal" else 4.6
    first = next(iter(objectives.values()))
    default = f"$f(x) = {first.formula}$" if isinstance(first, Objective) else "Paths"
    return comparison_grid(panels, ncols=ncols, title=_text(title, "title") or default,
                           panel_size=(width + 0.6, panel_height + 0.5))


def _panel(objective, key, track, ax, levels, shared, base, aspect, color, escape):
    """One panel of :func:`contour_grid`: the path is cut against its own objective's window,
    then drawn on the shared window."""
    shown, k = _cut(track, base, escape)
    contour_2d(objective, {key: shown}, ax=ax, levels=levels, domain=shared,
               aspect=aspect, colors={key: color}, escape=escape, legend=None)
    if k is not None:
        _mark_divergence(ax, shown[-1, 0], shown[-1, 1], k, color, None)
    return ax


def surface_3d(
    objective: Objective,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    domain: tuple[tuple[float, float], tuple[float, float]] | None = None,
    marks: Mapping[str, tuple[float, float]] | None = None,
    legend: str | None = "outside",
) -> Axes:
    """A 2-D objective as a 3-D wireframe surface (d2l's saddle picture) with marked points.

    Args:
        objective: a 2-D Objective.
        ax: a 3-D Axes (``projection="3d"``) to draw on; None makes a new figure.
        title: the title; None gives "f(x) = <formula>".
        domain: ((x1 low, x1 high), (x2 low, x2 high)); None takes the objective's window.
        marks: label -> point (x1, x2) to mark on the surface, e.g.
            ``{"saddle point": (0, 0)}``; None marks the minimizer when it is known.
        legend: where the legend goes (:func:`~course_lib.plotting.legend`).
    """
    if not isinstance(objective, Objective) or objective.dim != 2:
        raise TypeError(f"objective must be a 2-D Objective, got {objective!r}")
    (x_low, x_high), (y_low, y_high) = _window(domain or objective.domain)
    _legend_place(legend)
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
        # a gold star means a minimum, as on the contour plots; other points get white marks
        marker, color = (("*", "gold") if "minimum" in key.lower() else
                         (MARK_MARKERS[i % len(MARK_MARKERS)], "white"))
        ax.plot(point[:1], point[1:], [objective.value(point)], marker, ms=14, color=color,
                mec="black", mew=1.5, ls="none", label=key)
    ax.set_zlabel("f(x)", fontsize=LABEL_SIZE, labelpad=8)
    ax.tick_params(axis="z", labelsize=TICK_SIZE)
    return _finish(ax, _text(title, "title") or f"$f(x) = {objective.formula}$",
                   "$x_1$", "$x_2$", legend, minimum=1)
