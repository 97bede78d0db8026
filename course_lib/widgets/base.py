"""What every explorer shares: its box and static picture, sliders, read-outs, bqplot panels.

An :class:`Explorer` is an ``ipywidgets.VBox`` (controls, a read-out, the linked views). The
views are bqplot figures: the browser draws them, and a slider movement only sends new mark
data, so the figure follows the slider while it is dragged (``continuous_update``). Displayed,
an explorer's output holds three things (:meth:`Explorer._repr_mimebundle_`): the widget view,
a PNG of the explorer's state drawn by :mod:`course_lib.plotting.explorers` (what a notebook
that has not run, a slide deck and the website show), and one line of text.

Every view and read-out carries the CSS class :data:`VIEW_CLASS`, and every explorer
:data:`EXPLORER_CLASS`: the browser tests watch those.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import bqplot
import ipywidgets
import numpy as np

from course_lib import plotting
from course_lib.plotting import explorers as pictures

__all__ = [
    "EXPLORER_CLASS",
    "VIEW_CLASS",
    "Explorer",
    "ContourPanel",
    "axis",
    "choice",
    "format_steps",
    "html_legend",
    "log_slider",
    "panel",
    "readout_html",
    "slider",
]

#: The CSS class of every view (figure or read-out) of an explorer.
VIEW_CLASS = "explorer-views"
#: The CSS class of an explorer's box.
EXPLORER_CLASS = "course-explorer"
#: A panel's size in pixels (width, height), and its margins around the plot area.
PANEL_SIZE = (310, 290)
MARGIN = {"top": 34, "bottom": 46, "left": 62, "right": 14}
TITLE_STYLE = {"font-size": "14px"}
#: Drawn sizes: data lines, reference lines, markers (bqplot's marker area in px²).
LINE = 2.5
THIN = 1.5
MARKER = 36
#: Paths of at most this many points are drawn with a dot at every point.
MARKED_POINTS = 41
#: How many contour levels a path panel draws at most.
CONTOUR_LEVELS = 20


# -- the explorer box ----------------------------------------------------------------------------


class StoresPicture:
    """Mixin for a widget that stores a PNG of itself beside its widget view when displayed,
    so that slides, the site and an unexecuted notebook show a figure. Subclasses give
    :meth:`static_png` and :meth:`static_text` (one line naming the widget)."""

    def static_png(self) -> bytes:
        raise NotImplementedError

    def static_text(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        data["image/png"] = base64.b64encode(self.static_png()).decode("ascii")
        data["text/plain"] = (f"{self.static_text()} (a static picture: run the notebook to "
                              "move the sliders)")
        return data


class Explorer(StoresPicture, ipywidgets.VBox):
    """The box of an explorer, which also stores a PNG of itself when displayed.

    Subclasses build their controls and views, then call :meth:`_layout`, and implement
    :meth:`static_figure` (a matplotlib figure of the current state, drawn with
    :mod:`course_lib.plotting`) and :meth:`summary` (one line naming the explorer and its
    settings).
    """

    #: The explorer's name, first in its text summary.
    title = "Explorer"

    def _layout(self, controls: Sequence[ipywidgets.Widget], readout: ipywidgets.HTML,
                views: Sequence[ipywidgets.Widget], legend: ipywidgets.HTML | None = None
                ) -> None:
        readout.add_class(VIEW_CLASS)
        readout.add_class("explorer-readout")
        for view in views:
            view.add_class(VIEW_CLASS)
        header = ipywidgets.HTML(f"<b>{self.title}</b>")
        rows = [header, *controls, readout, ipywidgets.HBox(list(views))]
        if legend is not None:
            rows.append(legend)
        self.children = rows
        self.add_class(EXPLORER_CLASS)

    def static_figure(self) -> Any:
        """A matplotlib figure of the explorer's current state."""
        raise NotImplementedError

    def summary(self) -> str:
        """One line: the explorer and its settings (the output's text/plain)."""
        return self.title

    def static_png(self) -> bytes:
        """The PNG of :meth:`static_figure` (the figure is closed)."""
        return pictures.png(self.static_figure())

    def static_text(self) -> str:
        return self.summary()


# -- controls and read-outs ------------------------------------------------------------------


SLIDER_LAYOUT = {"width": "460px"}
SLIDER_STYLE = {"description_width": "150px"}


def _check(name: str, low: float, value: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}], got {value!r}")


def slider(description: str, low: float, high: float, step: float, value: float, *,
           fmt: str = ".3f", name: str | None = None) -> ipywidgets.FloatSlider:
    """A slider that updates while it is dragged; ``name`` is the argument that set
    ``value`` (for the error when it is out of range)."""
    _check(name or description, low, value, high)
    if step <= 0:
        raise ValueError(f"the step of {description} must be > 0, got {step}")
    return ipywidgets.FloatSlider(value=value, min=low, max=high, step=step,
                                  description=description, continuous_update=True,
                                  readout_format=fmt, layout=SLIDER_LAYOUT, style=SLIDER_STYLE)


def int_slider(description: str, low: int, high: int, value: int, step: int = 1, *,
               name: str | None = None) -> ipywidgets.IntSlider:
    """An integer slider that updates while it is dragged."""
    _check(name or description, low, value, high)
    return ipywidgets.IntSlider(value=value, min=low, max=high, step=step,
                                description=description, continuous_update=True,
                                layout=SLIDER_LAYOUT, style=SLIDER_STYLE)


def log_slider(description: str, low: float, high: float, value: float, *,
               steps_per_decade: int = 20, fmt: str = ".3g", name: str | None = None
               ) -> ipywidgets.FloatLogSlider:
    """A slider on a logarithmic scale (learning rates, ε), updating while it is dragged."""
    _check(name or description, low, value, high)
    if low <= 0:
        raise ValueError(f"a logarithmic slider needs low > 0, got {low}")
    return ipywidgets.FloatLogSlider(value=value, base=10, min=math.log10(low),
                                     max=math.log10(high), step=1 / steps_per_decade,
                                     description=description, continuous_update=True,
                                     readout_format=fmt, layout=SLIDER_LAYOUT,
                                     style=SLIDER_STYLE)


def choice(description: str, options: Sequence[Any], value: Any) -> ipywidgets.Dropdown:
    """A drop-down list."""
    return ipywidgets.Dropdown(options=list(options), value=value, description=description,
                               layout={"width": "460px"}, style=SLIDER_STYLE)


def readout_html(items: Sequence[tuple[str, str]], note: str = "") -> str:
    """Read-outs as one line of HTML: ``name: value`` pairs, then a note (e.g. a divergence)."""
    cells = " &nbsp;·&nbsp; ".join(f"{name} <b>{value}</b>" for name, value in items)
    warning = f'<br><span style="color:#b00">{note}</span>' if note else ""
    return f'<div style="font-size:14px; line-height:1.6">{cells}{warning}</div>'


def format_steps(steps: int | float | None) -> str:
    """A number of steps for a read-out: "never" for infinity or None."""
    if steps is None or (isinstance(steps, float) and not math.isfinite(steps)):
        return "never"
    return f"{int(steps)}"


def html_legend(entries: Sequence[tuple[str, str, str]]) -> ipywidgets.HTML:
    """A legend below the views (never on the data): (label, colour, style) with style
    "line", "dashed", "dot", "ring", "square", "diamond", "star" or "cross"."""
    parts = []
    for label, color, style in entries:
        if style == "dot":
            mark = f'<span style="color:{color}; font-size:16px">&#9679;</span>'
        elif style == "star":
            mark = f'<span style="color:{color}; font-size:16px">&#9733;</span>'
        elif style == "diamond":
            mark = f'<span style="color:{color}; font-size:16px">&#9670;</span>'
        elif style == "square":
            mark = f'<span style="color:{color}; font-size:14px">&#9632;</span>'
        elif style == "ring":
            mark = f'<span style="color:{color}; font-size:16px">&#9675;</span>'
        elif style == "cross":
            mark = f'<span style="color:{color}; font-size:16px">&#10006;</span>'
        else:
            border = "dashed" if style == "dashed" else "solid"
            mark = (f'<span style="display:inline-block; width:26px; border-top:3px {border} '
                    f'{color}; vertical-align:middle"></span>')
        parts.append(f'<span style="margin-right:18px; white-space:nowrap">{mark} {label}</span>')
    return ipywidgets.HTML(f'<div style="font-size:13px">{"".join(parts)}</div>')


# -- bqplot panels -------------------------------------------------------------------------------


def axis(scale: bqplot.Scale, label: str, *, vertical: bool = False,
         tick_format: str | None = None, num_ticks: int | None = 5,
         tick_values: Any = None) -> bqplot.Axis:
    """An axis with a label and few, readable ticks (``tick_values`` places them)."""
    extra = {} if tick_values is None else {"tick_values": np.asarray(tick_values, float)}
    return bqplot.Axis(scale=scale, label=label, side="left" if vertical else "bottom",
                       tick_format=tick_format, num_ticks=None if extra else num_ticks,
                       grid_lines="dashed", label_offset="40px" if vertical else "32px",
                       tick_style={"font-size": "12px"}, **extra)


def nice_ticks(low: float, high: float, most: int = 6) -> np.ndarray:
    """Round tick values between ``low`` and ``high``: multiples of 1, 2 or 5 times a power
    of 10, at most ``most`` of them."""
    span = float(high) - float(low)
    if not span > 0:
        return np.array([float(low)])
    power = 10.0 ** math.floor(math.log10(span / most))
    step = next(m * power for m in (1, 2, 2.5, 5, 10, 20) if span / (m * power) <= most)
    first = math.ceil(low / step - 1e-9) * step
    return np.round(np.arange(first, high + step * 1e-9, step), 10)


def panel(marks: Sequence[bqplot.Mark], axes: Sequence[bqplot.Axis], title: str, *,
          size: tuple[int, int] = PANEL_SIZE, right: int | None = None) -> bqplot.Figure:
    """A bqplot figure of ``size`` pixels with the course's margins (``right``: a wider right
    margin, for a colour bar), no animation."""
    width, height = size
    margin = dict(MARGIN) if right is None else {**MARGIN, "right": right}
    return bqplot.Figure(marks=list(marks), axes=list(axes), title=title,
                         title_style=TITLE_STYLE, fig_margin=margin, padding_x=0.0,
                         padding_y=0.0, animation_duration=0,
                         layout=ipywidgets.Layout(width=f"{width}px", height=f"{height}px",
                                                  min_width=f"{width}px"))


def plot_area(size: tuple[int, int] = PANEL_SIZE) -> tuple[float, float]:
    """The width and height in pixels of a panel's plot area (inside its margins)."""
    width, height = size
    return (width - MARGIN["left"] - MARGIN["right"], height - MARGIN["top"] - MARGIN["bottom"])


def equal_aspect(window: Any, size: tuple[int, int] = PANEL_SIZE
                 ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The window widened along one axis so one unit is as long on both axes of the panel."""
    (x_low, x_high), (y_low, y_high) = window
    width, height = plot_area(size)
    per_pixel = max((x_high - x_low) / width, (y_high - y_low) / height)
    x_mid, y_mid = (x_low + x_high) / 2, (y_low + y_high) / 2
    half_x, half_y = per_pixel * width / 2, per_pixel * height / 2
    return (x_mid - half_x, x_mid + half_x), (y_mid - half_y, y_mid + half_y)


class ContourPanel:
    """A path on the contours of a 2-D objective, kept in view.

    :meth:`show` draws a path the way :func:`course_lib.plotting.contour_2d` does: the window
    grows to hold it (the contours are redrawn then), equal aspect, start square and gold star
    at the minimum, and a run that diverges (:func:`course_lib.plotting.diverged_at`) is drawn
    until it leaves for good and marked "diverged at step k".
    """

    def __init__(self, objective: Any, *, color: str, title: str, levels: Any = CONTOUR_LEVELS,
                 size: tuple[int, int] = PANEL_SIZE, extra_paths: int = 0) -> None:
        self.objective = objective
        self.levels = levels
        self.size = size
        self.base = plotting.window_for(objective)
        self.window: Any = None
        self.x = bqplot.LinearScale()
        self.y = bqplot.LinearScale()
        scales = {"x": self.x, "y": self.y}
        self.level_colors = pictures.level_colors(CONTOUR_LEVELS if isinstance(levels, int)
                                                  else len(levels))
        self.contours = bqplot.Lines(x=np.zeros((1, 2)), y=np.zeros((1, 2)), scales=scales,
                                     colors=self.level_colors, stroke_width=1.2,
                                     opacities=[0.75] * len(self.level_colors))
        hidden = {"x": [0.0], "y": [0.0], "scales": scales, "visible": False}
        self.extra = [bqplot.Lines(**hidden, colors=["#555555"], stroke_width=THIN,
                                   line_style="dashed") for _ in range(extra_paths)]
        self.path = bqplot.Lines(x=[0.0], y=[0.0], scales=scales, colors=[color],
                                 stroke_width=LINE, marker="circle", marker_size=14)
        self.start = bqplot.Scatter(x=[0.0], y=[0.0], scales=scales, marker="square",
                                    colors=["black"], default_size=90)
        minimizer = getattr(objective, "minimizer", None)
        self.minimum = bqplot.Scatter(x=[minimizer[0] if minimizer else 0.0],
                                      y=[minimizer[1] if minimizer else 0.0], scales=scales,
                                      marker="diamond", colors=["gold"], stroke="black",
                                      default_size=150, visible=minimizer is not None)
        self.diverged = bqplot.Scatter(**hidden, marker="cross", colors=["#b00000"],
                                       default_size=200, stroke="black")
        self.diverged_label = bqplot.Label(**hidden, text=["diverged"], colors=["#b00000"],
                                           default_size=13, font_weight="bold", align="middle",
                                           y_offset=-14, apply_clip=False)
        self.x_axis = axis(self.x, "x₁", tick_format=".3~g")
        self.y_axis = axis(self.y, "x₂", vertical=True, tick_format=".3~g")
        self.figure = panel([self.contours, *self.extra, self.path, self.start, self.minimum,
                             self.diverged, self.diverged_label], [self.x_axis, self.y_axis],
                            title, size=size)

    def show(self, points: np.ndarray, label: str = "path",
             extra: Sequence[np.ndarray] = ()) -> int | None:
        """Draw ``points`` (and dashed ``extra`` paths); return the step it diverged at."""
        step = plotting.diverged_at(points, self.base)
        shown = points if step is None else points[:step]
        extra = [np.asarray(p, dtype=float).reshape(-1, 2) for p in extra]
        tracks = {label: points, **{f"extra {i}": p for i, p in enumerate(extra) if len(p)}}
        window = equal_aspect(plotting.window_for(self.objective, tracks), self.size)
        if self._needs(window):
            self._redraw_contours(self._roomy(window))
        update(self.path, x=shown[:, 0], y=shown[:, 1],
               marker="circle" if len(shown) <= MARKED_POINTS else None)
        update(self.start, x=points[:1, 0], y=points[:1, 1])
        for i, mark in enumerate(self.extra):
            drawn = extra[i] if i < len(extra) else np.empty((0, 2))
            if len(drawn):
                k = plotting.diverged_at(drawn, self.base)
                drawn = drawn if k is None else drawn[:k]
                update(mark, x=drawn[:, 0], y=drawn[:, 1], visible=True)
            else:
                update(mark, visible=False)
        if step is None:
            update(self.diverged, visible=False)
            update(self.diverged_label, visible=False)
        else:
            where = shown[-1:]
            update(self.diverged, x=where[:, 0], y=where[:, 1], visible=True)
            update(self.diverged_label, x=where[:, 0], y=where[:, 1],
                   text=[f"diverged at step {step}"], visible=True)
        return step

    def _needs(self, window: Any) -> bool:
        """Whether the window must change: the path leaves the current one, or fills less
        than half of its width and height (so dragging does not redraw the contours at every
        movement)."""
        if self.window is None:
            return True
        current = np.array(self.window)
        wanted = np.array(window)
        inside = bool(np.all(wanted[:, 0] >= current[:, 0]) and
                      np.all(wanted[:, 1] <= current[:, 1]))
        spans = (wanted[:, 1] - wanted[:, 0]) / (current[:, 1] - current[:, 0])
        return not inside or bool(np.all(spans < 0.5))

    def _roomy(self, window: Any) -> Any:
        """A window that leaves room for the path to grow: beyond the objective's own window
        it is widened by a tenth on every side."""
        (x_low, x_high), (y_low, y_high) = window
        (bx_low, bx_high), (by_low, by_high) = self.base
        if x_low >= bx_low and x_high <= bx_high and y_low >= by_low and y_high <= by_high:
            return window
        dx, dy = (x_high - x_low) / 10, (y_high - y_low) / 10
        return (x_low - dx, x_high + dx), (y_low - dy, y_high + dy)

    def _redraw_contours(self, window: Any) -> None:
        self.window = window
        (x_low, x_high), (y_low, y_high) = window
        update(self.x, min=float(x_low), max=float(x_high))
        update(self.y, min=float(y_low), max=float(y_high))
        update(self.x_axis, tick_values=nice_ticks(x_low, x_high, 5))
        update(self.y_axis, tick_values=nice_ticks(y_low, y_high, 5))
        lines = pictures.contour_lines(self.objective, window, self.levels)
        longest = max((len(x) for _, x, _ in lines), default=1)
        # one row per level, padded to one length by repeating its last point (bqplot puts a
        # label at every line's last point, so it must be finite); a level without a line
        # stays at a corner, a line of no length
        xs = np.full((len(self.level_colors), longest), x_low)
        ys = np.full_like(xs, y_low)
        for i, (_, x, y) in enumerate(lines[:len(self.level_colors)]):
            finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
            end = finite[-1] + 1
            xs[i, :end], ys[i, :end] = x[:end], y[:end]
            xs[i, end:], ys[i, end:] = x[end - 1], y[end - 1]
        update(self.contours, x=xs, y=ys)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, np.ndarray) or isinstance(new, np.ndarray):
        a, b = np.asarray(old), np.asarray(new)
        return a.shape == b.shape and a.dtype.kind == b.dtype.kind and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    return bool(old == new)


def update(widget: Any, **values: Any) -> bool:
    """Set traits of a mark or scale in one message, leaving out those that would not change
    (every message makes the browser redraw the mark; unchanged data is not sent). Returns
    whether anything was sent."""
    sent = getattr(widget, "_explorer_sent", None)
    if sent is None:
        sent = {}
        widget._explorer_sent = sent
    changed = {}
    for name, value in values.items():
        if isinstance(value, list | tuple) and value and not isinstance(value[0], str):
            value = np.asarray(value, dtype=float)
        if name in sent and _same(sent[name], value):
            continue
        changed[name] = value
    if not changed:
        return False
    with widget.hold_sync():
        for name, value in changed.items():
            setattr(widget, name, value)
            sent[name] = value
    return True


def rate_heatmap(xs: np.ndarray, ys: np.ndarray, rates: np.ndarray, x: bqplot.Scale,
                 y: bqplot.Scale) -> bqplot.HeatMap:
    """A rate over a grid in the colours of :func:`course_lib.plotting.rate_heatmap`: low is
    yellow, 1 is dark, and grey where the rate is 1 or more (the run diverges)."""
    colors = pictures.rate_colors()
    low = float(np.nanmin(rates))
    top = 1.0 + (1.0 - low) / (len(colors) - 1)  # one colour step above 1: the grey
    shown = np.where(rates < 1, rates, top)
    scale = bqplot.ColorScale(colors=[*colors, pictures.DIVERGED_GREY], min=low, max=top)
    return bqplot.HeatMap(x=xs, y=ys, color=shown, scales={"x": x, "y": y, "color": scale})



def log_floor(values: np.ndarray, floor: float = 1e-16) -> np.ndarray:
    """Values for a logarithmic axis: at least ``floor`` (an exact 0 would have no point)."""
    with np.errstate(invalid="ignore"):
        return np.maximum(np.asarray(values, dtype=float), floor)


def log_range(values: Sequence[np.ndarray], *, low: float = 1e-16) -> tuple[float, float]:
    """A logarithmic axis range holding every finite value >= ``low`` of ``values``, widened
    to whole powers of 10 (so it changes rarely while a slider moves)."""
    finite = np.concatenate([np.asarray(v, dtype=float).ravel() for v in values])
    finite = finite[np.isfinite(finite) & (finite >= low)]
    if finite.size == 0:
        return low, 1.0
    bottom = math.floor(math.log10(float(finite.min())))
    top = math.ceil(math.log10(float(finite.max())))
    return max(low, 10.0**bottom), 10.0 ** max(top, bottom + 1)


def log_ticks(low: float, high: float, most: int = 6) -> np.ndarray:
    """Powers of 10 from ``low`` to ``high``, every k-th so there are at most ``most``."""
    bottom, top = math.floor(math.log10(low)), math.ceil(math.log10(high))
    every = max(1, math.ceil((top - bottom + 1) / most))
    return 10.0 ** np.arange(bottom, top + 1, every)


def callback(function: Callable[[], None]) -> Callable[[Mapping[str, Any]], None]:
    """An ``observe`` handler that ignores the change and calls ``function``."""
    return lambda _change: function()
