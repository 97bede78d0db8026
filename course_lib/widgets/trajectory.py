"""Interactive explorers for the notebooks: sliders that rerun an optimizer and redraw it.

The computation is :func:`course_lib.trajectories.run` and the drawing is
:mod:`course_lib.plotting`; this module only wires sliders to them (it is the only module that
imports ipywidgets). In a notebook, tag the cell that shows an explorer ``nbval-ignore-output``:
widget outputs are interactive, not something to compare.

Example (in a notebook)::

    from course_lib import objectives, widgets
    widgets.trajectory_explorer(objectives.stretched_bowl(), "sgd", start=(-5, -2),
                                sliders={"lr": (0.05, 0.7, 0.01, 0.4),
                                         "momentum": (0.0, 0.95, 0.05, 0.5)})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets
import matplotlib.pyplot as plt
from IPython.display import display

from course_lib import plotting, trajectories
from course_lib.rules import Rule

__all__ = ["trajectory_explorer", "draw_trajectory"]


def draw_trajectory(objective: Any, path: trajectories.Trajectory, title: str | None = None):
    """Draw one trajectory on its objective: a curve trace in 1-D, contours in 2-D."""
    if objective.dim == 1:
        return plotting.trace_1d(objective, path.points[:, 0], title=title, label=path.label)
    return plotting.contour_2d(objective, {path.label: path.points}, title=title)


def trajectory_explorer(
    objective: Any,
    rule: Rule | str,
    start: float | Sequence[float],
    steps: int = 20,
    *,
    sliders: Mapping[str, tuple[float, float, float, float]],
    show: bool = True,
    **fixed: Any,
) -> ipywidgets.interactive:
    """Sliders for some hyperparameters of ``rule``; moving one reruns and redraws the path.

    Args:
        objective: a 1-D or 2-D objective from :mod:`course_lib.objectives`.
        rule: a rule object or name.
        start: the start point.
        steps: the number of updates.
        sliders: hyperparameter -> (min, max, step, initial value), e.g.
            ``{"lr": (0.01, 1.0, 0.01, 0.4), "momentum": (0.0, 0.99, 0.01, 0.5)}``.
        show: draw the figure (False computes only; for tests).
        **fixed: other hyperparameters, held fixed.

    Returns:
        The ``ipywidgets.interactive`` box; its ``result`` is the latest Trajectory.
    """
    if not sliders:
        raise ValueError("sliders must name at least one hyperparameter")
    controls = {}
    for name, spec in sliders.items():
        if len(spec) != 4:
            raise ValueError(f"sliders[{name!r}] must be (min, max, step, initial), got {spec}")
        low, high, step, initial = (float(v) for v in spec)
        if not low <= initial <= high or step <= 0:
            raise ValueError(f"sliders[{name!r}] needs min <= initial <= max and step > 0")
        controls[name] = ipywidgets.FloatSlider(
            value=initial, min=low, max=high, step=step, description=name,
            continuous_update=False, readout_format=".3g",
        )

    def update(**values: float) -> trajectories.Trajectory:
        path = trajectories.run(rule, objective, start, steps, **fixed, **values)
        if show:
            settings = ", ".join(f"{k}={v:.3g}" for k, v in values.items())
            ax = draw_trajectory(objective, path, title=f"{path.label.split(',')[0]}: {settings}")
            display(ax.figure)
            plt.close(ax.figure)
        return path

    return ipywidgets.interactive(update, **controls)
