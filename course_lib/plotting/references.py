"""Reference curves over measured ones: an exact expectation, a predicted rate, a floor.

A chapter often draws what it measured and, on top, what the theory predicts. The prediction
is drawn thin and dotted (or in the colour of the series it belongs to), so the measured curve
stays visible under it, and it is listed in the legend, once for a family of curves.

>>> import numpy as np
>>> ax = loss_curves({"SGD, lr = 0.1": 0.9 ** np.arange(20)}, log=True)
>>> ax = reference_curves(ax, {"0.9^t": 0.9 ** np.arange(20)}, label="predicted")
>>> [t.get_text() for t in ax.get_legend().get_texts()]
['SGD, lr = 0.1', 'predicted']
>>> plt.close(ax.figure)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt  # noqa: F401  (the doctest closes its figure)
import numpy as np
from matplotlib.axes import Axes

from course_lib.plotting.base import _history, _legend_place, _series, _text, legend
from course_lib.plotting.lines import loss_curves  # noqa: F401  (used by the doctest)

__all__ = ["reference_curves"]

#: How reference curves are drawn unless told otherwise.
REFERENCE_COLOR = "black"
REFERENCE_WIDTH = 1.3
REFERENCE_STYLE = ":"


def reference_curves(
    ax: Axes,
    curves: Mapping[str, Any],
    *,
    x: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    label: str | None = None,
    colors: Mapping[str, str] | None = None,
    linestyle: str = REFERENCE_STYLE,
    legend_place: str | None = "outside",
) -> Axes:
    """Draw predicted curves over the series already on ``ax``, thin and dotted.

    Args:
        ax: the Axes that holds the measured series.
        curves: legend label -> values (one per x).
        x: None (0, 1, 2, ...), one sequence shared by all, or label -> sequence.
        label: one legend entry for the whole family ("exact expectation"); None lists each
            curve under its own label.
        colors: label -> colour (e.g. the colour of the run a prediction belongs to); the
            others are black.
        linestyle: the dash pattern (dotted by default).
        legend_place: where the legend goes (:func:`~course_lib.plotting.legend`).
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    series = {key: _history(values, f"curves[{key!r}]")
              for key, values in _series(curves, "curves").items()}
    label = _text(label, "label")
    _legend_place(legend_place)
    colors = dict(colors or {})
    unknown = set(colors) - set(series)
    if unknown:
        raise ValueError(f"colors names curves that are not drawn: {sorted(unknown)}")
    for i, (key, values) in enumerate(series.items()):
        if isinstance(x, Mapping):
            xs = _history(x[key], f"x[{key!r}]")
        elif x is not None:
            xs = _history(x, "x")
        else:
            xs = np.arange(len(values), dtype=np.float64)
        if len(xs) != len(values):
            raise ValueError(f"x for {key!r} has {len(xs)} values but the curve has "
                             f"{len(values)}")
        name = key if label is None else (label if i == 0 else f"_{label} {i}")
        ax.plot(xs, values, color=colors.get(key, REFERENCE_COLOR), lw=REFERENCE_WIDTH,
                linestyle=linestyle, label=name, zorder=3)
    return legend(ax, legend_place)
