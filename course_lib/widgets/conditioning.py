"""The conditioning explorer (chapter 03): the learning rate of gradient descent on a valley.

Dragging the learning-rate slider moves, at once:

* the path on the contours of an ill-conditioned quadratic (chapter 03's turned valley by
  default), growing the window when the path leaves it and marking "diverged at step k";
* the size of the error along each eigenvector against the step (log scale): each shrinks by
  its own factor |1 − ηλᵢ| per step;
* a marker on the curve of the rate ρ(η) = maxᵢ |1 − ηλᵢ|, beside the limit 2/λ_max and the
  best step η* = 2/(λ_min + λ_max);
* the read-outs: ρ, 2/λ_max, η* and its rate, and the steps to shrink the error to 1e-6.

The numbers come from :func:`course_lib.explorations.conditioning_frame`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import bqplot
import numpy as np

from course_lib import conditioning, explorations, momentum_analysis, objectives, plotting
from course_lib.plotting import explorers as pictures
from course_lib.plotting.analysis import COMPONENT_COLORS
from course_lib.widgets import base

__all__ = ["ConditioningExplorer", "conditioning_explorer"]

#: The highest rate the rate panel shows.
RATE_TOP = 1.5


class ConditioningExplorer(base.Explorer):
    """A learning-rate slider over a 2-D quadratic; see the module's docstring.

    Attributes:
        lr: the slider.
        frame: the latest :class:`~course_lib.explorations.ConditioningFrame`.
        diverged_at: the step the path diverged at, or None.
    """

    title = "Conditioning explorer"

    def __init__(self, objective: Any = None, start: Sequence[float] | None = None, *,
                 lr: float = 0.15, steps: int = 30, lr_max: float | None = None) -> None:
        super().__init__()
        if objective is None:
            objective = objectives.quadratic((1.0, 10.0), angle=math.pi / 6)
        if start is None:
            start = conditioning.rotate([-4.0, 1.5], objective.angle)
        self.objective = objective
        self.start = tuple(float(v) for v in start)
        self.steps = steps
        limit = conditioning.stable_lr_limit(objective.eigenvalues)
        lr_max = float(lr_max) if lr_max is not None else round(1.15 * limit, 3)
        step = 10.0 ** (math.floor(math.log10(lr_max)) - 2)
        self.lr = base.slider("learning rate η", step, lr_max, step, lr, fmt=".3f", name="lr")
        self.lrs = np.linspace(0.0, lr_max, 400)
        self.rates = momentum_analysis.spectral_radius(objective.eigenvalues, self.lrs)
        self.readout = base.ipywidgets.HTML()
        color = plotting.OPTIMIZER_COLORS["sgd"]
        self.paths = base.ContourPanel(objective, color=color, title="path")
        self._build_components()
        self._build_rate(limit)
        eigen = [(f"|error| along λ = {lam:g}", COMPONENT_COLORS[i], "line")
                 for i, lam in enumerate(objective.eigenvalues)]
        legend = base.html_legend([
            ("gradient descent", color, "line"), ("start", "black", "square"),
            ("minimum; best η*", "gold", "diamond"), *eigen,
            ("rate ρ(η)", "black", "line"), ("limit 2/λ_max", "#b00000", "dashed"),
            ("this η", "black", "ring"),
        ])
        self._layout([self.lr], self.readout,
                     [self.paths.figure, self.component_figure, self.rate_figure], legend)
        self.lr.observe(base.callback(self.update), "value")
        self.update()

    def _build_components(self) -> None:
        x = bqplot.LinearScale(min=0.0, max=float(self.steps))
        self.error_scale = bqplot.LogScale()
        self.error_axis = base.axis(self.error_scale, "|error| per eigenvector", vertical=True,
                                    tick_format=".0e")
        self.measured = bqplot.Lines(x=np.arange(self.steps + 1),
                                     y=np.ones((2, self.steps + 1)),
                                     scales={"x": x, "y": self.error_scale},
                                     colors=list(COMPONENT_COLORS[:2]), stroke_width=base.LINE,
                                     marker="circle", marker_size=10)
        self.component_figure = base.panel(
            [self.measured],
            [base.axis(x, "step k", tick_values=base.nice_ticks(0, self.steps, 5)),
             self.error_axis], "each eigencomponent")

    def _build_rate(self, limit: float) -> None:
        x = bqplot.LinearScale(min=0.0, max=float(self.lrs[-1]))
        y = bqplot.LinearScale(min=0.0, max=RATE_TOP)
        scales = {"x": x, "y": y}
        factors = np.abs(1 - self.lrs[None, :] * np.asarray(self.objective.eigenvalues)[:, None])
        thin = bqplot.Lines(x=self.lrs, y=np.minimum(factors, RATE_TOP), scales=scales,
                            colors=list(COMPONENT_COLORS[:2]), stroke_width=base.THIN,
                            opacities=[0.8, 0.8])
        curve = bqplot.Lines(x=self.lrs, y=np.minimum(self.rates, RATE_TOP), scales=scales,
                             colors=["black"], stroke_width=base.LINE)
        one = bqplot.Lines(x=[0.0, float(self.lrs[-1])], y=[1.0, 1.0], scales=scales,
                           colors=["#888888"], stroke_width=1)
        wall = bqplot.Lines(x=[limit, limit], y=[0.0, RATE_TOP], scales=scales,
                            colors=["#b00000"], stroke_width=base.THIN, line_style="dashed")
        best_lr = self.objective.optimal_lr
        best = bqplot.Scatter(x=[best_lr], y=[conditioning.gd_rate(best_lr,
                                                                   self.objective.eigenvalues)],
                              scales=scales, marker="diamond", colors=["gold"], stroke="black",
                              default_size=150)
        self.marker = bqplot.Scatter(x=[0.0], y=[0.0], scales=scales, marker="circle",
                                     colors=["white"], stroke="black", default_size=110)
        self.rate_figure = base.panel(
            [thin, curve, one, wall, best, self.marker],
            [base.axis(x, "learning rate η", tick_format=".3~g",
                       tick_values=base.nice_ticks(0.0, float(self.lrs[-1]), 5)),
             base.axis(y, "rate ρ per step", vertical=True, tick_format=".1f",
                       tick_values=[0.0, 0.5, 1.0, 1.5])],
            "the rate ρ(η)")

    def compute(self) -> explorations.ConditioningFrame:
        """The frame of the slider's current value."""
        return explorations.conditioning_frame(self.objective, self.start, self.lr.value,
                                               self.steps)

    def update(self) -> None:
        """Recompute the frame and move every view to it."""
        frame = self.frame = self.compute()
        self.diverged_at = self.paths.show(frame.path.points, "gradient descent")
        errors = base.log_floor(pictures.until_grown(frame.errors).T, 1e-16)
        low, high = base.log_range([errors], low=1e-16)
        if base.update(self.error_scale, min=low, max=high):
            base.update(self.error_axis, tick_values=base.log_ticks(low, high))
        base.update(self.measured, x=np.arange(errors.shape[1]), y=errors)
        base.update(self.marker, x=[frame.lr], y=[min(frame.rate, RATE_TOP)])
        self.readout.value = self._readout(frame)

    def _readout(self, frame: explorations.ConditioningFrame) -> str:
        items = [("η", f"{frame.lr:.3f}"), ("rate ρ(η)", f"{frame.rate:.3f}"),
                 ("limit 2/λ_max", f"{frame.limit:.3f}"),
                 ("best η*", f"{frame.best_lr:.3f} (ρ {frame.best_rate:.3f})"),
                 ("steps to 1e-6", base.format_steps(frame.steps_needed))]
        note = ""
        if self.diverged_at is not None:
            note = (f"diverged at step {self.diverged_at}: η is above the limit "
                    f"2/λ_max = {frame.limit:.3f}")
        return base.readout_html(items, note)

    def static_figure(self) -> Any:
        return pictures.conditioning_figure(self.frame, self.objective, self.lrs, self.rates,
                                            self.diverged_at)

    def summary(self) -> str:
        return f"{self.title}: lr {self.lr.value:.3f}"


def conditioning_explorer(objective: Any = None, start: Sequence[float] | None = None,
                          **options: Any) -> ConditioningExplorer:
    """The conditioning explorer on a 2-D quadratic (chapter 03's valley, λ = (1, 10) turned
    by 30°, from (−4, 1.5) turned with it, by default); options: ``lr`` (initial value),
    ``steps``, ``lr_max``.

    >>> ui = conditioning_explorer(lr=0.15)
    >>> round(ui.frame.rate, 3), round(ui.frame.limit, 3)
    (0.85, 0.2)
    >>> ui.lr.value = 0.21                         # past the limit: the path diverges
    >>> ui.diverged_at is not None
    True
    """
    return ConditioningExplorer(objective, start, **options)
