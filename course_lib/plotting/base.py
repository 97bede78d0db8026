"""What every figure helper shares: sizes, the Axes it draws on, titles, legends, input checks.

Legends go *off the data*: by default to the right of the Axes (``legend="outside"``), or
below it (``"below"``), inside where matplotlib finds the emptiest corner (``"best"``), or
nowhere (``None``). :func:`legend` applies the same rule to an Axes a notebook drew itself.

Divergence is found by :func:`diverged_at`: a run diverges at step k when its values stop
being finite, or when it leaves a box around the plotted window (``escape`` times the window's
span on every side) and never comes back. The helpers draw such a run up to step k − 1 and mark
the point "diverged at step k" instead of drawing a wall of lines across the figure.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.container import Container
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

__all__ = [
    "CONTOUR_WIDTH",
    "ESCAPE",
    "FIGSIZE",
    "LABEL_SIZE",
    "LEGEND_PLACES",
    "LEGEND_SIZE",
    "LINE_WIDTH",
    "MARKER_SIZE",
    "TICK_SIZE",
    "TITLE_SIZE",
    "diverged_at",
    "legend",
]

#: Default size of a single figure, in inches (wide enough for a legend at the right).
FIGSIZE = (7.6, 4.4)
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
#: A run that leaves the window widened by this fraction of its span on every side, and never
#: comes back, has diverged.
ESCAPE = 0.5
#: Where :func:`legend` may put a legend.
LEGEND_PLACES = ("outside", "below", "best", None)
#: Markers of marked points (``marks=`` of the helpers), in order: white with a black edge.
MARK_MARKERS = ("o", "^", "v", "P")
#: Dash patterns of reference lines (``lines=`` and ``vlines=`` of the helpers), in order.
REFERENCE_STYLES = ("--", ":", "-.")


# -- the Axes, titles and legends ----------------------------------------------------------------


def _axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _legend_place(where: Any) -> str | None:
    if where not in LEGEND_PLACES:
        raise ValueError(f"legend must be one of {LEGEND_PLACES}, got {where!r}")
    return where


def legend(ax: Axes, where: str | None = "outside", *, ncols: int | None = None,
           extra: list[Any] | None = None, minimum: int = 2) -> Axes:
    """Put the legend of ``ax`` off its data: at the right (``"outside"``), below the x label
    (``"below"``), in matplotlib's emptiest corner (``"best"``), or remove it (None).

    A legend is drawn only when ``minimum`` (2) or more artists carry a label (a label
    starting with "_" is not one). Under ``layout="constrained"`` (every helper's figures)
    the Axes shrinks to make room for an outside legend, so nothing is covered.

    Args:
        ax: the Axes.
        where: one of :data:`LEGEND_PLACES`.
        ncols: columns of the legend; None gives 1 at the right and up to 4 below.
        extra: artists to list first that are not on the Axes (proxy patches and lines).
        minimum: the fewest labelled artists that get a legend (1 for a lone reference line).
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    where = _legend_place(where)
    handles, labels = _series_first(*ax.get_legend_handles_labels())
    if extra:
        handles = list(extra) + handles
        labels = [h.get_label() for h in extra] + labels
    old = ax.get_legend()
    if old is not None:
        old.remove()
    if where is None or len(handles) < minimum:
        return ax
    if where == "outside":
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0, fontsize=LEGEND_SIZE, ncols=ncols or 1)
    elif where == "below":
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.18),
                  borderaxespad=0.0, fontsize=LEGEND_SIZE, ncols=ncols or min(4, len(handles)))
    else:
        ax.legend(handles, labels, loc="best", fontsize=LEGEND_SIZE, ncols=ncols or 1)
    return ax


def _kind(handle: Any) -> int:
    """0 for bars and patches, 1 for drawn lines, 2 for marks (markers without a line)."""
    if isinstance(handle, Line2D):
        return 2 if handle.get_linestyle() in ("None", "none", "", " ") else 1
    return 0 if isinstance(handle, Container | Patch) else 1


def _series_first(handles: list[Any], labels: list[str]) -> tuple[list[Any], list[str]]:
    """Legend entries in the order a reader needs them: the data series (bars, then lines),
    then reference marks (start, minimum, "diverged at step k"), each group as drawn."""
    order = sorted(range(len(handles)), key=lambda i: _kind(handles[i]))
    return [handles[i] for i in order], [labels[i] for i in order]


def _finish(ax: Axes, title: str, xlabel: str, ylabel: str,
            where: str | None = "outside", minimum: int = 2) -> Axes:
    """Title, labels, tick sizes, a light grid, and a legend off the data when two or more
    artists are named."""
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(True, alpha=0.3)
    return legend(ax, where, minimum=minimum)


# -- argument checks -----------------------------------------------------------------------------


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


def _series(series: Any, name: str) -> dict[str, Any]:
    if isinstance(series, Mapping):
        if not series:
            raise ValueError(f"{name} must not be empty")
        for key in series:
            if not isinstance(key, str):
                raise TypeError(f"the keys of {name} must be strings (legend labels), got {key!r}")
        return dict(series)
    raise TypeError(f"{name} must be a dict of label -> series, got {type(series).__name__}")


def _history(values: Any, name: str) -> np.ndarray:
    arr = _array(values, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    return arr


def _integer_ticks(ax: Axes) -> None:
    """Only whole numbers on the x axis (steps, epochs): no tick at step 2.5. As many ticks as
    matplotlib's own locator would put there (``nbins="auto"``), so labels never overlap."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


# -- marks and reference lines ------------------------------------------------------------------


def _marks(marks: Any, name: str = "marks") -> dict[str, tuple[float, float]]:
    """label -> (x, y), checked: every point is a pair of finite numbers."""
    out = {}
    for key, point in (_series(marks, name).items() if marks is not None else ()):
        try:
            x, y = (float(v) for v in point)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}[{key!r}] must be a point (x, y), got {point!r}") from error
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"{name}[{key!r}] must be finite, got ({x}, {y})")
        out[key] = (x, y)
    return out


def _draw_marks(ax: Axes, marks: Mapping[str, tuple[float, float]]) -> None:
    """Each marked point as a white marker with a black edge (a circle, then a triangle, ...),
    over the data and listed in the legend under its label."""
    for i, (key, (x, y)) in enumerate(marks.items()):
        ax.plot([x], [y], MARK_MARKERS[i % len(MARK_MARKERS)], ms=11, color="white",
                mec="black", mew=1.5, ls="none", label=key, zorder=4)


def _reference_lines(ax: Axes, lines: Any = None, vlines: Any = None, *, logy: bool = False,
                     logx: bool = False) -> None:
    """Horizontal (``lines``: label -> y) and vertical (``vlines``: label -> x) reference
    lines across the Axes, black, behind the data, dashed, dotted, then dash-dotted (one
    pattern each, horizontal ones first), each listed in the legend under its label."""
    drawn = [(key, value, "lines", ax.axhline, logy) for key, value in
             (_series(lines, "lines").items() if lines is not None else ())]
    drawn += [(key, value, "vlines", ax.axvline, logx) for key, value in
              (_series(vlines, "vlines").items() if vlines is not None else ())]
    for key, value, name, _, log in drawn:
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not math.isfinite(value)):
            raise ValueError(f"{name}[{key!r}] must be a finite number, got {value!r}")
        if log and value <= 0:
            raise ValueError(f"a log axis needs {name} > 0; {name}[{key!r}] = {value!r}")
    for i, (key, value, _, draw, _) in enumerate(drawn):
        draw(float(value), color="black", lw=1.5, zorder=1, label=key,
             ls=REFERENCE_STYLES[i % len(REFERENCE_STYLES)])


# -- divergence ----------------------------------------------------------------------------------


def _escape_box(window: Any, escape: float) -> np.ndarray:
    box = np.array([_interval(pair, f"window[{i}]") for i, pair in enumerate(window)])
    span = box[:, 1] - box[:, 0]
    return np.stack([box[:, 0] - escape * span, box[:, 1] + escape * span], axis=1)


def diverged_at(points: Any, window: Any = None, *, escape: float = ESCAPE) -> int | None:
    """The first step k from which a run never returns: every point from k on is non-finite
    or (with ``window``) outside the window widened by ``escape`` times its span on each side.

    A run that leaves the box and comes back has not diverged: it is drawn in full.

    Args:
        points: shape (n,) for values or 1-D iterates, (n, d) for d-D iterates; row k is the
            point after k steps.
        window: one (low, high) pair per coordinate, or None (only non-finite values count).
        escape: how far beyond the window, in spans, a point may go and still count as inside.

    Returns:
        k (1 <= k <= n − 1), or None when the run has not diverged. The start counts as
        inside even when it lies outside the box (the run starts where it starts); it must
        be finite.

    >>> diverged_at([1.0, 2.0, float("inf"), float("nan")])
    2
    >>> diverged_at([[0.5, 0.0], [3.0, 0.0], [0.2, 0.0]], window=((-1, 1), (-1, 1)))  # returns
    >>> diverged_at([[0.5, 0.0], [-2.5, 0.0], [6.0, 0.0]], window=((-1, 1), (-1, 1)))
    1
    """
    arr = _array(points, "points")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"points must have shape (n,) or (n, d) with n >= 1, got {arr.shape}")
    if not (isinstance(escape, int | float) and escape >= 0):
        raise ValueError(f"escape must be a number >= 0, got {escape!r}")
    with np.errstate(invalid="ignore"):
        inside = np.all(np.isfinite(arr), axis=1)
        if window is not None:
            if len(window) != arr.shape[1]:
                raise ValueError(
                    f"window must hold {arr.shape[1]} (low, high) pair(s), got {window!r}")
            box = _escape_box(window, float(escape))
            inside &= np.all((arr >= box[:, 0]) & (arr <= box[:, 1]), axis=1)
    if not np.all(np.isfinite(arr[0])):
        raise ValueError(f"points[0] (the start) must be finite, got {arr[0]}")
    inside[0] = True
    if inside[-1]:
        return None
    last_inside = np.flatnonzero(inside)
    return int(last_inside[-1]) + 1 if last_inside.size else 1


def _cut(points: np.ndarray, window: Any, escape: float) -> tuple[np.ndarray, int | None]:
    """The part of a run to draw (up to the step before it diverged) and that step."""
    k = diverged_at(points, window, escape=escape)
    return (points if k is None else points[:k]), k


def _callable(draw: Any, name: str) -> Callable[..., Any]:
    if not callable(draw):
        raise TypeError(f"{name} must be a function of an Axes, got {draw!r}")
    return draw
