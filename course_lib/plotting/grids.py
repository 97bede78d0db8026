"""Grids of small panels under one title, with one legend for the whole figure, and rows of
small images (digits, filters) under one title."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from course_lib.plotting.base import (
    LABEL_SIZE,
    LEGEND_SIZE,
    TICK_SIZE,
    TITLE_SIZE,
    _array,
    _callable,
    _interval,
    _positive_int,
    _series,
    _series_first,
    _text,
    legend,
)

__all__ = ["comparison_grid", "image_row", "shared_legend"]

#: How a grid places its legends.
GRID_LEGENDS = ("shared", "each", None)


def shared_legend(axes: list[Axes], *, ncols: int | None = None) -> None:
    """Replace the legends of ``axes`` by one legend below the figure, each label once."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if not seen:
        return
    handles, labels = _series_first(list(seen.values()), list(seen))
    seen = dict(zip(labels, handles, strict=True))
    fig = axes[0].figure
    fig.legend(list(seen.values()), list(seen), loc="outside lower center",
               ncols=ncols or min(3, len(seen)), fontsize=LEGEND_SIZE)


def comparison_grid(
    panels: Mapping[str, Callable[[Axes], Any]],
    *,
    ncols: int = 2,
    title: str | None = None,
    panel_size: tuple[float, float] = (4.6, 3.6),
    legend_place: str | None = "shared",
    same_limits: bool = False,
    legend_ncols: int | None = None,
) -> list[Axes]:
    """A grid of small panels under one title: ``draw(ax)`` fills each, titled by its key.

    Each ``draw`` is called with a fresh Axes (e.g. ``lambda ax: contour_2d(f, path, ax=ax)``);
    the key then replaces whatever title it set. Unused cells of the last row are removed.

    Args:
        panels: panel title -> a function drawing on the Axes it is given.
        ncols: panels per row (an integer >= 1).
        title: the figure's title (suptitle); None gives "Comparison".
        panel_size: (width, height) of one panel in inches.
        legend_place: "shared" (one legend below the figure, each label once), "each" (every
            panel keeps its own, off its data), or None.
        same_limits: give every panel the union of their x and y limits (for panels whose
            numbers are compared; contour panels share a window through ``contour_grid``).
        legend_ncols: columns of the shared legend (of each panel's with "each"); None gives
            up to 3 below the figure, 1 at the right of a panel.

    Returns:
        The panels' Axes, in the order of ``panels`` (the figure is ``axes[0].figure``).
    """
    panels = _series(panels, "panels")
    for key, draw in panels.items():
        _callable(draw, f"panels[{key!r}]")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1, got {ncols!r}")
    if legend_place not in GRID_LEGENDS:
        raise ValueError(f"legend_place must be one of {GRID_LEGENDS}, got {legend_place!r}")
    if legend_ncols is not None:
        legend_ncols = _positive_int(legend_ncols, "legend_ncols")
    width, height = (float(v) for v in panel_size)
    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    extra = 0.5 if legend_place == "shared" else 0.0
    fig, grid = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows + extra),
                             layout="constrained", squeeze=False)
    cells = list(grid.flat)
    used = []
    for (key, draw), ax in zip(panels.items(), cells[: len(panels)], strict=True):
        draw(ax)
        ax.set_title(key, fontsize=LABEL_SIZE + 1)
        used.append(ax)
    for ax in cells[len(panels):]:
        ax.remove()
    if same_limits:
        for get, put in ((Axes.get_xlim, Axes.set_xlim), (Axes.get_ylim, Axes.set_ylim)):
            limits = [get(ax) for ax in used]
            low, high = min(lim[0] for lim in limits), max(lim[1] for lim in limits)
            for ax in used:
                put(ax, low, high)
    if legend_place == "shared":
        shared_legend(used, ncols=legend_ncols)
    elif legend_place == "each":
        for ax in used:
            legend(ax, "outside", ncols=legend_ncols)
    else:
        for ax in used:
            legend(ax, None)
    fig.suptitle(_text(title, "title") or "Comparison", fontsize=TITLE_SIZE + 1)
    return used


def image_row(
    images: Mapping[str, Any],
    *,
    title: str,
    cmap: str = "gray_r",
    limits: tuple[float, float] | None = None,
    size: float = 1.2,
) -> list[Axes]:
    """Small images side by side under one title, each titled by its key (the first image of
    each digit, learned filters). Pixels are drawn as they are, without axes.

    Args:
        images: panel title -> a 2-D array of pixel values (e.g. an 8 x 8 digit).
        title: the figure's title; say what the pixels are and their range.
        cmap: matplotlib's colour map ("gray_r": 0 is white, the largest value black).
        limits: (low, high) of the colour scale shared by every image, or None (each image
            its own range).
        size: the width of one image in inches.

    Returns:
        The images' Axes, in the order of ``images`` (the figure is ``axes[0].figure``).
    """
    pictures = {}
    for key, values in _series(images, "images").items():
        arr = _array(values, f"images[{key!r}]")
        if arr.ndim != 2 or 0 in arr.shape or not np.all(np.isfinite(arr)):
            raise ValueError(f"images[{key!r}] must be a 2-D array of finite values, got shape "
                             f"{arr.shape}")
        pictures[key] = arr
    if not isinstance(title, str) or not title:
        raise ValueError(f"title must be a non-empty string, got {title!r}")
    if not isinstance(cmap, str):
        raise ValueError(f"cmap must be the name of a matplotlib colour map, got {cmap!r}")
    low, high = _interval(limits, "limits") if limits is not None else (None, None)
    if isinstance(size, bool) or not isinstance(size, int | float) or not 0 < size <= 4:
        raise ValueError(f"size must be a number of inches in (0, 4], got {size!r}")
    fig, grid = plt.subplots(1, len(pictures), figsize=(size * len(pictures), size + 0.7),
                             layout="constrained", squeeze=False)
    for (key, arr), ax in zip(pictures.items(), grid[0], strict=True):
        ax.imshow(arr, cmap=cmap, vmin=low, vmax=high)
        ax.set_title(key, fontsize=TICK_SIZE)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=TITLE_SIZE)
    return list(grid[0])
