"""Every figure of the course: traces, contours, loss curves, schedules, bars, maps and tables.

This package is the only part of course_lib that imports matplotlib. Each helper draws on the
Axes it is given (``ax=...``) or on a new figure, and returns the Axes; none calls
``plt.show()`` (a notebook shows the figure at the end of the cell) and none changes
matplotlib's backend or global settings. The course-wide rules, applied by every helper:

* every figure has a title, axis labels and, when two or more things are named, a legend
  placed **off the data** (at the right by default; :func:`legend` re-places the legend of an
  Axes a notebook drew itself);
* **one colour per optimizer** across the whole course (:data:`OPTIMIZER_COLORS`, chosen from
  the series' labels by :func:`colors_for`); a sweep of one optimizer gets shades of its colour;
* series that may overlap get their own **dashes and markers** (:func:`path_style`);
* contour plots of 2-D problems have **equal aspect** by default, and **never clip a path**:
  the window grows to hold it; a run that **diverges** is drawn until it leaves for good and
  marked "diverged at step k" (:func:`diverged_at`);
* **compared panels** (:func:`contour_grid`) share one window, one set of contour levels and
  one legend;
* sizes are set for slides (titles 14 pt, labels 12 pt, ticks and legends 11 pt, data lines
  2 pt); a single figure is at most 4.4 inches tall.

Paths (iterates) are numpy arrays or anything ``np.asarray`` accepts (a list of points, a
detached CPU tensor): shape ``(n,)`` or ``(n, 1)`` for 1-D objectives, ``(n, 2)`` for 2-D ones,
with ``path[0]`` the start point.

The modules, one concern each (a new helper goes into the module of its concern, and is
exported here and tested in tests/test_plotting.py):

* :mod:`~course_lib.plotting.base`: sizes, legends, divergence, argument checks;
* :mod:`~course_lib.plotting.palette`: the optimizer colours and the series styles;
* :mod:`~course_lib.plotting.lines`: 1-D traces, functions, loss curves, schedules;
* :mod:`~course_lib.plotting.contours`: contours with paths, grids of them, 3-D surfaces;
* :mod:`~course_lib.plotting.grids`: panels under one title with one legend, rows of images;
* :mod:`~course_lib.plotting.charts`: bars, grouped bars, a rate over a grid of settings;
* :mod:`~course_lib.plotting.analysis`: eigencomponents of a run;
* :mod:`~course_lib.plotting.points`: point clouds, one marker per item (pixels, weights);
* :mod:`~course_lib.plotting.references`: predicted curves drawn over measured ones;
* :mod:`~course_lib.plotting.spread`: the mean of seeded runs with their range;
* :mod:`~course_lib.plotting.intervals`: means over many seeds with their confidence intervals;
* :mod:`~course_lib.plotting.tables`: printed tables with rounded numbers.

>>> import numpy as np
>>> from course_lib import objectives
>>> ax = trace_1d(objectives.square(), 10 * 0.6 ** np.arange(11), label="lr = 0.2")
>>> ax.get_title()
'10 steps on $f(x) = x^2$'
>>> plt.close(ax.figure)
"""

import matplotlib.pyplot as plt  # noqa: F401  (the doctest closes its figure)

from course_lib.plotting.analysis import eigen_components
from course_lib.plotting.base import (
    CONTOUR_WIDTH,
    ESCAPE,
    FIGSIZE,
    LABEL_SIZE,
    LEGEND_SIZE,
    LINE_WIDTH,
    MARKER_SIZE,
    TICK_SIZE,
    TITLE_SIZE,
    diverged_at,
    legend,
)
from course_lib.plotting.charts import bar_chart, grouped_bars, rate_heatmap
from course_lib.plotting.contours import (
    contour_2d,
    contour_grid,
    contour_levels,
    surface_3d,
    window_for,
)
from course_lib.plotting.grids import comparison_grid, image_row, shared_legend
from course_lib.plotting.intervals import interval_chart, mean_and_interval
from course_lib.plotting.lines import curves_1d, loss_curves, schedule_plot, trace_1d
from course_lib.plotting.palette import (
    OPTIMIZER_COLORS,
    colors_for,
    optimizer_color,
    optimizer_key,
    path_style,
    shades,
)
from course_lib.plotting.points import scatter
from course_lib.plotting.references import reference_curves
from course_lib.plotting.spread import mean_and_range
from course_lib.plotting.tables import format_number, format_table, table

__all__ = [
    "CONTOUR_WIDTH",
    "ESCAPE",
    "FIGSIZE",
    "LABEL_SIZE",
    "LEGEND_SIZE",
    "LINE_WIDTH",
    "MARKER_SIZE",
    "OPTIMIZER_COLORS",
    "TICK_SIZE",
    "TITLE_SIZE",
    "bar_chart",
    "colors_for",
    "comparison_grid",
    "contour_2d",
    "contour_grid",
    "contour_levels",
    "curves_1d",
    "diverged_at",
    "eigen_components",
    "format_number",
    "format_table",
    "grouped_bars",
    "image_row",
    "interval_chart",
    "legend",
    "loss_curves",
    "mean_and_interval",
    "mean_and_range",
    "optimizer_color",
    "optimizer_key",
    "path_style",
    "rate_heatmap",
    "reference_curves",
    "scatter",
    "schedule_plot",
    "shades",
    "shared_legend",
    "surface_3d",
    "table",
    "trace_1d",
    "window_for",
]
