"""The simple trajectory slider: sliders that rerun an optimizer and redraw its path.

The computation is :func:`course_lib.trajectories.run` and the drawing is
:mod:`course_lib.plotting`; this module only wires sliders to them. The figure is a matplotlib
PNG shown in an ``ipywidgets.Image`` inside the widget, redrawn when a slider is released.
Displayed, the explorer's output holds the widget view and that same PNG (and one line of
text), like the bqplot explorers of this package: a notebook that has not run, a slide deck
and the website show the picture. In a notebook, tag the cell that shows an explorer
``nbval-ignore-output``: widget outputs are interactive, not something to compare.

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

from course_lib import plotting, trajectories
from course_lib.plotting import explorers as pictures
from course_lib.rules import Rule
from course_lib.widgets import base

__all__ = ["TrajectoryExplorer", "trajectory_explorer", "draw_trajectory"]


def draw_trajectory(objective: Any, path: trajectories.Trajectory, title: str | None = None):
    """Draw one trajectory on its objective: a curve trace in 1-D, contours in 2-D."""
    if objective.dim == 1:
        return plotting.trace_1d(objective, path.points[:, 0], title=title, label=path.label)
    return plotting.contour_2d(objective, {path.label: path.points}, title=title)


class TrajectoryExplorer(base.StoresPicture, ipywidgets.interactive):
    """Sliders and the picture of the path they give; see :func:`trajectory_explorer`.

    Attributes:
        result: the latest :class:`~course_lib.trajectories.Trajectory`.
        picture: the ``ipywidgets.Image`` showing it (empty with ``show=False``).
        title: the latest figure's title (the rule and the sliders' values).
    """

    def __init__(self, objective: Any, rule: Rule | str, start: float | Sequence[float],
                 steps: int, controls: Mapping[str, ipywidgets.FloatSlider], show: bool,
                 fixed: Mapping[str, Any]) -> None:
        # set before interactive.__init__, which runs the first update
        self._setting = (objective, rule, start, steps, show, dict(fixed))
        self.picture = ipywidgets.Image(format="png", layout={"max_width": "100%"})
        self.title = ""
        super().__init__(self._rerun, **controls)
        if show:  # the picture between the sliders and the (empty) output of errors
            *sliders, out = self.children
            self.children = (*sliders, self.picture, out)

    def _rerun(self, **values: float) -> trajectories.Trajectory:
        objective, rule, start, steps, show, fixed = self._setting
        path = trajectories.run(rule, objective, start, steps, **fixed, **values)
        settings = ", ".join(f"{k}={v:.3g}" for k, v in values.items())
        self.title = f"{path.label.split(',')[0]}: {settings}"
        if show:
            ax = draw_trajectory(objective, path, title=self.title)
            self.picture.value = pictures.png(ax.figure, dpi=None, tight=True)
        return path

    def static_png(self) -> bytes:
        """The PNG of the current path (drawn now if the explorer was made with ``show=False``)."""
        if self.picture.value:
            return bytes(self.picture.value)
        objective = self._setting[0]
        return pictures.png(draw_trajectory(objective, self.result, title=self.title).figure,
                            dpi=None, tight=True)

    def static_text(self) -> str:
        return f"Trajectory explorer: {self.title}"


def trajectory_explorer(
    objective: Any,
    rule: Rule | str,
    start: float | Sequence[float],
    steps: int = 20,
    *,
    sliders: Mapping[str, tuple[float, float, float, float]],
    show: bool = True,
    **fixed: Any,
) -> TrajectoryExplorer:
    """Sliders for some hyperparameters of ``rule``; releasing one reruns and redraws the path.

    Displayed, the output stores the widget view and a PNG of the path (what a notebook that
    has not run, a slide deck and the website show).

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
        The :class:`TrajectoryExplorer` (an ``ipywidgets.interactive`` box); its ``result`` is
        the latest Trajectory.
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
    return TrajectoryExplorer(objective, rule, start, steps, controls, show, fixed)
