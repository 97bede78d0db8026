"""Bars and maps: a bar per entry, groups of bars, and a rate over a grid of two settings."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.transforms import blended_transform_factory

from course_lib.plotting.base import (
    LABEL_SIZE,
    MARKER_SIZE,
    TICK_SIZE,
    _array,
    _axes,
    _finish,
    _legend_place,
    _reference_lines,
    _series,
    _text,
)
from course_lib.plotting.base import legend as place_legend
from course_lib.plotting.lines import _colors
from course_lib.plotting.palette import colors_for

__all__ = ["bar_chart", "grouped_bars", "rate_heatmap"]


def _tick_labels(ax: Axes, labels: Sequence[str], positions: Any) -> None:
    """Category labels that never overlap: wrapped onto several lines when that fits, slanted
    when it does not, upright when even that is too tight."""
    fig = ax.figure
    width = ax.get_position().width * fig.get_figwidth() * 0.8  # inches, room for a legend
    slot = width / max(1, len(labels))
    char = 0.6 * TICK_SIZE / 72  # the width of an average character, in inches
    per_line = max(4, int(slot / char))
    wrapped = [label if "$" in label else
               textwrap.fill(label, per_line, break_long_words=False) for label in labels]
    longest = max(len(part) for label in wrapped for part in label.split("\n"))
    if longest * char <= 0.95 * slot:
        ax.set_xticks(positions, wrapped)
    elif slot >= 0.25:
        ax.set_xticks(positions, labels, rotation=35, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(positions, labels, rotation=90)


def bar_chart(
    values: Mapping[str, float],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "method",
    ylabel: str = "value",
    log: bool = False,
    fmt: str = "{:.3g}",
    lines: Mapping[str, float] | None = None,
    colors: Mapping[str, str] | None = None,
    legend: str | None = "outside",
) -> Axes:
    """A bar per entry, its value written on top (timings, final losses, accuracies).

    Bars whose labels name optimizers get the optimizer's colour. Long labels are slanted so
    they never overlap; the value axis leaves room above the tallest bar for its number.

    Args:
        values: bar label -> number.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<Ylabel> by <xlabel>".
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        log: a logarithmic y axis (every value must then be > 0).
        fmt: the format of the numbers written on the bars.
        lines: label -> value of horizontal reference lines (a target, a baseline).
        colors: label -> colour for some bars, overriding the palette.
        legend: where the legend of the reference lines goes.
    """
    heights = {key: float(v) for key, v in _series(values, "values").items()}
    if not all(math.isfinite(v) for v in heights.values()):
        raise ValueError("values must be finite numbers")
    if log and min(heights.values()) <= 0:
        raise ValueError("log=True needs every value > 0")
    _legend_place(legend)
    palette = {**colors_for(heights), **_colors(colors, heights)}
    ax = _axes(ax)
    positions = np.arange(len(heights))
    bars = ax.bar(positions, list(heights.values()), color=[palette[k] for k in heights],
                  edgecolor="black", linewidth=0.6)
    ax.bar_label(bars, labels=[fmt.format(v) for v in heights.values()], fontsize=TICK_SIZE,
                 padding=2)
    _tick_labels(ax, list(heights), positions)
    _reference_lines(ax, lines, logy=log)
    if log:
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 3)
    else:
        ax.margins(y=0.12)
    ylabel, xlabel = _text(ylabel, "ylabel"), _text(xlabel, "xlabel")
    default = f"{ylabel[:1].upper()}{ylabel[1:]} by {xlabel}"
    return _finish(ax, _text(title, "title") or default, xlabel, ylabel, legend, minimum=1)


def grouped_bars(
    groups: Mapping[str, Mapping[str, float]],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "group",
    ylabel: str = "value",
    log: bool = False,
    lines: Mapping[str, float] | None = None,
    colors: Mapping[str, str] | None = None,
    fmt: str | None = None,
    intervals: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    legend: str | None = "outside",
) -> Axes:
    """Groups of bars side by side: ``groups[group][series]`` is one bar (e.g. the deviation of
    each implementation, per algorithm).

    On a log axis a value of exactly 0 has no bar; it is drawn as a marker on the axis,
    labelled "exactly 0", rather than as a bar of some invented small height.

    Args:
        groups: group label (x axis) -> series label -> number; a series missing from a
            group leaves a gap.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "<Ylabel> by <xlabel>".
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        log: a logarithmic y axis (values must be >= 0; zeros are marked on the axis).
        lines: label -> value of horizontal reference lines (a target).
        colors: series label -> colour, overriding the palette.
        fmt: the format of the numbers written on the bars (e.g. "{:.2g}"), or None.
        intervals: ``intervals[group][series] = (low, high)``: an error bar on that bar
            (e.g. a 95% interval); each must contain its value.
        legend: where the legend goes.
    """
    groups = _series(groups, "groups")
    table = {g: {s: float(v) for s, v in _series(row, f"groups[{g!r}]").items()}
             for g, row in groups.items()}
    series = list(dict.fromkeys(s for row in table.values() for s in row))
    for g, row in table.items():
        for s, v in row.items():
            if not math.isfinite(v):
                raise ValueError(f"groups[{g!r}][{s!r}] must be finite, got {v}")
            if log and v < 0:
                raise ValueError(f"log=True needs values >= 0; groups[{g!r}][{s!r}] = {v}")
    _legend_place(legend)
    palette = {**colors_for(series), **_colors(colors, series)}
    ax = _axes(ax)
    positions = np.arange(len(table))
    width = 0.8 / len(series)
    zeros_x: list[float] = []
    zeros_c: list[str] = []
    for i, name in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        xs = [p + offset for p, row in zip(positions, table.values(), strict=True) if name in row]
        vs = [row[name] for row in table.values() if name in row]
        drawn = [(x, v) for x, v in zip(xs, vs, strict=True) if not (log and v == 0)]
        bars = ax.bar([x for x, _ in drawn], [v for _, v in drawn], width=width * 0.95,
                      color=palette[name], edgecolor="black", linewidth=0.6, label=name)
        if fmt is not None:
            ax.bar_label(bars, labels=[fmt.format(v) for _, v in drawn], fontsize=TICK_SIZE - 1,
                         padding=2)
        for x, v in zip(xs, vs, strict=True):
            if log and v == 0:
                zeros_x.append(x)
                zeros_c.append(palette[name])
    for g, row in (_series(intervals, "intervals").items() if intervals else ()):
        if g not in table:
            raise ValueError(f"intervals names a group that is not drawn: {g!r}")
        for name, pair in row.items():
            if name not in table[g]:
                raise ValueError(f"intervals[{g!r}] names a bar that is not drawn: {name!r}")
            low, high = (float(v) for v in pair)
            value = table[g][name]
            if not low <= value <= high:
                raise ValueError(f"intervals[{g!r}][{name!r}] = ({low}, {high}) must contain "
                                 f"the value {value}")
            i = series.index(name)
            x = list(table).index(g) + (i - (len(series) - 1) / 2) * width
            ax.errorbar([x], [value], yerr=[[value - low], [high - value]], fmt="none",
                        ecolor="black", elinewidth=1.5, capsize=4, zorder=5)
    _reference_lines(ax, lines, logy=log)
    if log:
        ax.set_yscale("log")
        if fmt is not None:
            low, high = ax.get_ylim()
            ax.set_ylim(low, high * 3)
    elif fmt is not None:
        ax.margins(y=0.12)
    if zeros_x:
        on_axis = blended_transform_factory(ax.transData, ax.transAxes)
        ax.scatter(zeros_x, [0.03] * len(zeros_x), transform=on_axis, marker="o",
                   s=(MARKER_SIZE + 3) ** 2, facecolors="white", edgecolors=zeros_c,
                   linewidths=2, zorder=4, clip_on=False)
        ax.plot([], [], "o", ms=MARKER_SIZE + 3, mfc="white", mec="black", mew=2, ls="none",
                label="exactly 0 (no bar on a log axis)")
    _tick_labels(ax, list(table), positions)
    ylabel, xlabel = _text(ylabel, "ylabel"), _text(xlabel, "xlabel")
    default = f"{ylabel[:1].upper()}{ylabel[1:]} by {xlabel}"
    return _finish(ax, _text(title, "title") or default, xlabel, ylabel, legend)


def rate_heatmap(
    x: Any,
    y: Any,
    rates: Any,
    *,
    limit: float = 1.0,
    levels: Sequence[float] | None = (0.7, 0.8, 0.9),
    marks: Mapping[str, tuple[float, float]] | None = None,
    vmin: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "learning rate η",
    ylabel: str = "momentum β",
    colorbar_label: str = "rate ρ (error factor per step)",
    legend: str | None = "below",
) -> Axes:
    """A rate (e.g. the spectral radius) over a grid of two settings, with where it diverges.

    Cells with ``rate >= limit`` are grey (the run diverges there) and the boundary
    ``rate = limit`` is a black line; white contours mark ``levels``, labelled inline.

    Args:
        x: the n settings along the x axis (increasing).
        y: the m settings along the y axis (increasing).
        rates: shape (m, n): ``rates[j, i]`` at ``(x[i], y[j])``.
        limit: the rate at and above which a setting diverges.
        levels: rates to draw as white contours, or None.
        marks: label -> (x, y) of settings to mark (the first one as a gold star).
        vmin: the rate at the dark end of the colour scale; None takes the grid's smallest.
        ax: the Axes to draw on; None makes a new figure.
        title: the title; None gives "Rate per step (grey: diverges)".
        xlabel: the x-axis label.
        ylabel: the y-axis label.
        colorbar_label: the colour bar's label.
        legend: where the legend goes ("below" by default: the colour bar is at the right).
    """
    xs, ys, zs = _array(x, "x"), _array(y, "y"), _array(rates, "rates")
    if xs.ndim != 1 or ys.ndim != 1 or zs.shape != (len(ys), len(xs)):
        raise ValueError(f"rates must have shape (len(y), len(x)) = ({len(ys)}, {len(xs)}), "
                         f"got {zs.shape}")
    if len(xs) < 2 or len(ys) < 2:
        raise ValueError("x and y need at least two settings each")
    if not math.isfinite(limit):
        raise ValueError(f"limit must be finite, got {limit!r}")
    _legend_place(legend)
    ax = _axes(ax)
    finite = zs[np.isfinite(zs) & (zs < limit)]
    low = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    mesh = ax.pcolormesh(xs, ys, np.ma.masked_where(~(zs < limit), zs), cmap="viridis_r",
                         vmin=low, vmax=limit, shading="auto")
    colorbar = ax.figure.colorbar(mesh, ax=ax, pad=0.02)
    colorbar.set_label(_text(colorbar_label, "colorbar_label"), fontsize=LABEL_SIZE)
    colorbar.ax.tick_params(labelsize=TICK_SIZE)
    ax.set_facecolor("lightgray")
    handles = [Patch(facecolor="lightgray", edgecolor="black", label=f"rate ≥ {limit:g}: diverges"),
               Line2D([], [], color="black", lw=2, label=f"rate = {limit:g}")]
    ax.contour(xs, ys, zs, levels=[limit], colors="black", linewidths=2)
    if levels:
        lines = ax.contour(xs, ys, zs, levels=sorted(levels), colors="white", linewidths=1.2)
        ax.clabel(lines, fmt="%g", fontsize=TICK_SIZE - 1)
        handles.append(Line2D([], [], color="white", lw=1.5, label="rate = " + ", ".join(
            f"{v:g}" for v in sorted(levels)),
            path_effects=[withStroke(linewidth=3.5, foreground="black")]))
    for i, (key, point) in enumerate(_series(marks, "marks").items() if marks else ()):
        px, py = (float(v) for v in point)
        marker, color, size = ("*", "gold", 18) if i == 0 else ("os^Dv"[(i - 1) % 5], "white", 10)
        ax.plot([px], [py], marker, ms=size, color=color, mec="black", mew=1.2, ls="none",
                label=key, clip_on=False, zorder=5)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    _finish(ax, _text(title, "title") or "Rate per step (grey: diverges)",
            _text(xlabel, "xlabel"), _text(ylabel, "ylabel"), None)
    place_legend(ax, legend, extra=handles)
    ax.grid(False)
    return ax
