"""The momentum explorer (chapter 06): η, β and gradient noise, with four linked views.

Dragging a slider moves, at once:

* the path of torch's momentum (``SGD(lr=η, momentum=β)``) on the quadratic, with the
  noise-free path dashed when the gradients are noisy;
* a marker on the map of the rate ρ(η, β), whose regions (complex roots: ρ = √β; real roots
  for λ_min or λ_max; divergence) are labelled and whose optimum is a gold star;
* the error along each eigenvector against the step (log scale), with the noise-free
  prediction dashed when there is noise;
* the read-outs: ρ, the steps to reach 1e-6 (predicted from ρ, and counted on the run), the
  best setting, and the noise floor.

The numbers come from :func:`course_lib.explorations.momentum_frame` and
:func:`~course_lib.explorations.momentum_map`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import bqplot
import numpy as np

from course_lib import explorations, objectives, plotting
from course_lib.plotting import explorers as pictures
from course_lib.plotting.analysis import COMPONENT_COLORS
from course_lib.widgets import base

__all__ = ["MomentumExplorer", "momentum_explorer"]

MAP_SIZE = (330, 290)


class MomentumExplorer(base.Explorer):
    """Sliders for η, β and σ over a 2-D quadratic; see the module's docstring.

    Attributes:
        lr, momentum, noise: the sliders.
        frame: the latest :class:`~course_lib.explorations.MomentumFrame`.
        diverged_at: the step the path diverged at, or None.
    """

    title = "Momentum explorer"

    def __init__(self, objective: Any = None, start: Sequence[float] = (-5.0, -2.0), *,
                 lr: float = 0.6, momentum: float = 0.5, noise: float = 0.0, steps: int = 60,
                 lr_max: float = 1.0, noise_max: float = 2.0, seed: int = 0) -> None:
        super().__init__()
        self.objective = objectives.stretched_bowl() if objective is None else objective
        self.start = tuple(float(v) for v in start)
        self.steps, self.seed = steps, seed
        self.lr = base.slider("learning rate η", 0.01, lr_max, 0.01, lr, fmt=".2f", name="lr")
        self.momentum = base.slider("momentum β", 0.0, 0.95, 0.01, momentum, fmt=".2f",
                                    name="momentum")
        self.noise = base.slider("gradient noise σ", 0.0, noise_max, 0.05, noise, fmt=".2f",
                                 name="noise")
        self.map = explorations.momentum_map(self.objective.eigenvalues, lr_max,
                                             momentum_max=0.95, resolution=90)
        self.readout = base.ipywidgets.HTML()
        color = plotting.OPTIMIZER_COLORS["momentum"]
        self.paths = base.ContourPanel(self.objective, color=color, title="path",
                                       extra_paths=1)
        self._build_map()
        self._build_components()
        legend = base.html_legend([
            ("momentum path", color, "line"), ("without noise", "#555555", "dashed"),
            ("start", "black", "square"), ("minimum; optimum (η*, β*)", "gold", "diamond"),
            ("this (η, β)", "black", "ring"),
            (f"rate ρ: {self.map.rate.min():.2f} (fast)", pictures.rate_colors()[0], "square"),
            ("→ 1 (slow)", pictures.rate_colors()[-1], "square"),
            ("≥ 1: diverges", pictures.DIVERGED_GREY, "square"),
            *[(f"|error| along λ = {lam:g}", COMPONENT_COLORS[i], "line")
              for i, lam in enumerate(self.objective.eigenvalues)],
        ])
        self._layout([self.lr, self.momentum, self.noise], self.readout,
                     [self.paths.figure, self.map_figure, self.component_figure], legend)
        for control in (self.lr, self.momentum, self.noise):
            control.observe(base.callback(self.update), "value")
        self.update()

    # -- the views ---------------------------------------------------------------------------

    def _build_map(self) -> None:
        m = self.map
        x = bqplot.LinearScale(min=float(m.lrs[0]), max=float(m.lrs[-1]))
        y = bqplot.LinearScale(min=float(m.momenta[0]), max=float(m.momenta[-1]))
        heat = base.rate_heatmap(m.lrs, m.momenta, m.rate, x, y)
        scales = {"x": x, "y": y}
        edges = []
        for low, high in m.bands.values():
            for edge in (low, high):
                inside = edge <= m.lrs[-1]
                edges.append(bqplot.Lines(x=edge[inside], y=m.momenta[inside], scales=scales,
                                          colors=["white"], stroke_width=1.5,
                                          line_style="dashed"))
        labels = pictures.region_labels(m)
        names = bqplot.Label(x=[p[0] for p in labels.values()],
                             y=[p[1] for p in labels.values()],
                             text=[pictures.REGION_NAMES[c] for c in labels], scales=scales,
                             colors=["black"], default_size=12, align="middle",
                             font_weight="bold")
        best = m.optimum
        star = bqplot.Scatter(x=[best.lr], y=[best.momentum], scales=scales, marker="diamond",
                              colors=["gold"], stroke="black", default_size=160)
        self.marker = bqplot.Scatter(x=[0.0], y=[0.0], scales=scales, marker="circle",
                                     colors=["white"], stroke="black", default_size=110)
        self.map_figure = base.panel(
            [heat, *edges, names, star, self.marker],
            [base.axis(x, "learning rate η", tick_format=".1f",
                       tick_values=base.nice_ticks(0.0, m.lrs[-1], 5)),
             base.axis(y, "momentum β", vertical=True, tick_format=".1f",
                       tick_values=base.nice_ticks(0.0, m.momenta[-1], 5))],
            "rate ρ over (η, β)", size=MAP_SIZE)

    def _build_components(self) -> None:
        self.step_scale = bqplot.LinearScale(min=0.0, max=float(self.steps))
        self.error_scale = bqplot.LogScale()
        scales = {"x": self.step_scale, "y": self.error_scale}
        self.measured = bqplot.Lines(x=np.arange(self.steps + 1), y=np.ones((2, self.steps + 1)),
                                     scales=scales, colors=list(COMPONENT_COLORS[:2]),
                                     stroke_width=base.LINE)
        self.predicted = bqplot.Lines(x=np.arange(self.steps + 1),
                                      y=np.ones((2, self.steps + 1)), scales=scales,
                                      colors=["black", "black"], stroke_width=base.THIN,
                                      line_style="dashed")
        self.error_axis = base.axis(self.error_scale, "|error| per eigenvector", vertical=True,
                                    tick_format=".0e")
        self.component_figure = base.panel(
            [self.measured, self.predicted],
            [base.axis(self.step_scale, "step k", tick_values=base.nice_ticks(0, self.steps, 5)),
             self.error_axis],
            "each eigencomponent")

    # -- updates -------------------------------------------------------------------------------

    def compute(self) -> explorations.MomentumFrame:
        """The frame of the sliders' current values."""
        return explorations.momentum_frame(self.objective, self.start, self.lr.value,
                                           self.momentum.value, noise=self.noise.value,
                                           steps=self.steps, seed=self.seed)

    def update(self) -> None:
        """Recompute the frame and move every view to it."""
        frame = self.frame = self.compute()
        noisy = frame.noise > 0
        clean = self._clean_path(frame) if noisy else None
        self.diverged_at = self.paths.show(frame.path.points, "momentum",
                                           extra=[clean] if noisy else [np.empty((0, 2))])
        base.update(self.marker, x=[frame.lr], y=[frame.momentum])
        errors = base.log_floor(pictures.until_grown(frame.errors).T, 1e-16)
        predicted = base.log_floor(frame.predicted.T, 1e-16)
        low, high = base.log_range([errors] + ([predicted] if noisy else []), low=1e-16)
        if base.update(self.error_scale, min=low, max=high):
            base.update(self.error_axis, tick_values=base.log_ticks(low, high))
        base.update(self.measured, x=np.arange(errors.shape[1]), y=errors)
        if noisy:
            base.update(self.predicted, x=np.arange(predicted.shape[1]), y=predicted,
                        visible=True)
        else:
            base.update(self.predicted, visible=False)
        self.readout.value = self._readout(frame)

    def _clean_path(self, frame: explorations.MomentumFrame) -> np.ndarray:
        from course_lib import trajectories

        return trajectories.run("sgd", self.objective, self.start, self.steps, lr=frame.lr,
                                momentum=frame.momentum).points

    def _readout(self, frame: explorations.MomentumFrame) -> str:
        best = frame.optimum
        items = [("η", f"{frame.lr:.2f}"), ("β", f"{frame.momentum:.2f}"),
                 ("rate ρ", f"{frame.rate:.3f}"),
                 ("steps to 1e-6: from ρ", base.format_steps(frame.steps_predicted)),
                 ("on this run", base.format_steps(frame.steps_measured)),
                 ("best", f"η* {best.lr:.3f}, β* {best.momentum:.3f} (ρ {best.rate:.3f})")]
        if frame.floor is not None:
            floor = "none (ρ ≥ 1)" if not np.isfinite(frame.floor) else f"{frame.floor:.3g}"
            items.append(("noise floor E[f]", floor))
        note = ""
        if self.diverged_at is not None:
            note = f"diverged at step {self.diverged_at} (ρ = {frame.rate:.3f} > 1)"
        return base.readout_html(items, note)

    # -- the static picture ------------------------------------------------------------------

    def static_figure(self) -> Any:
        frame = self.frame
        clean = self._clean_path(frame) if frame.noise > 0 else None
        return pictures.momentum_figure(frame, self.objective, self.map, self.diverged_at,
                                        clean)

    def summary(self) -> str:
        return (f"{self.title}: lr {self.lr.value:.2f}, momentum {self.momentum.value:.2f}, "
                f"noise {self.noise.value:.2f}")


def momentum_explorer(objective: Any = None, start: Sequence[float] = (-5.0, -2.0), **options:
                      Any) -> MomentumExplorer:
    """The momentum explorer on ``objective`` (d2l's stretched bowl 0.1x₁² + 2x₂² by default),
    from ``start``; options: ``lr``, ``momentum``, ``noise`` (initial values), ``steps``,
    ``lr_max``, ``noise_max``, ``seed``.

    >>> ui = momentum_explorer(lr=0.6, momentum=0.5)
    >>> round(ui.frame.rate, 4)                      # √0.5: complex roots for both
    0.7071
    >>> ui.lr.value = 0.3                            # the views follow the slider
    >>> round(ui.frame.lr, 2)
    0.3
    """
    return MomentumExplorer(objective, start, **options)
