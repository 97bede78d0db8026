"""The adaptive-methods explorer (chapters 07-10): any optimizer on four surfaces, with its state.

Choose an optimizer (SGD with momentum, Adagrad, RMSprop, Adadelta, Adam and its family) and a
surface (a turned valley, Rosenbrock's banana, a saddle, a basin in a plateau); its
hyperparameters get sliders (the pair ``betas`` of the Adam family as two: β₁ and β₂). Dragging
one moves, at once:

* the path on the surface's contours (the window grows with it; "diverged at step k");
* the size of each coordinate's update |Δxᵢ| against the step, beside the plain gradient step
  η|gᵢ| (dashed): how much the method rescales the gradient;
* the optimizer's state as it evolves (Adam's m and v, Adagrad's sum, RMSprop's average, the
  momentum buffer), per coordinate, on a log scale;
* the read-outs: f at the end, the distance to the minimum, the largest update.

The numbers come from :func:`course_lib.explorations.adaptive_frame`, which runs the course's
update rules (the same as ``course_lib.optim`` and ``torch.optim``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import bqplot
import ipywidgets
import numpy as np

from course_lib import explorations, plotting, rules
from course_lib.plotting import explorers as pictures
from course_lib.plotting.analysis import COMPONENT_COLORS
from course_lib.widgets import base

__all__ = ["AdaptiveExplorer", "adaptive_explorer", "OPTIMIZERS"]

#: The optimizers, by the name the explorer shows: (rule name, fixed hyperparameters,
#: hyperparameter -> slider (kind, low, high, initial)). ``beta1``/``beta2`` are the two
#: halves of ``betas``; kind "log" is a logarithmic slider.
OPTIMIZERS: dict[str, tuple[str, dict[str, Any], dict[str, tuple[str, float, float, float]]]] = {
    "SGD (momentum)": ("sgd", {}, {"lr": ("log", 1e-4, 1.0, 0.05),
                                   "momentum": ("lin", 0.0, 0.99, 0.0)}),
    "Adagrad": ("adagrad", {}, {"lr": ("log", 1e-3, 10.0, 0.4),
                                "eps": ("log", 1e-10, 1.0, 1e-10)}),
    "RMSprop": ("rmsprop", {}, {"lr": ("log", 1e-4, 1.0, 0.1),
                                "alpha": ("lin", 0.0, 0.999, 0.9),
                                "momentum": ("lin", 0.0, 0.99, 0.0),
                                "eps": ("log", 1e-8, 1.0, 1e-8)}),
    "Adadelta": ("adadelta", {}, {"lr": ("log", 1e-2, 100.0, 1.0),
                                  "rho": ("lin", 0.0, 0.999, 0.9),
                                  "eps": ("log", 1e-8, 1.0, 1e-6)}),
    "Adam": ("adam", {}, {"lr": ("log", 1e-4, 1.0, 0.1), "beta1": ("lin", 0.0, 0.999, 0.9),
                          "beta2": ("lin", 0.0, 0.9999, 0.999),
                          "eps": ("log", 1e-8, 1.0, 1e-8)}),
    "AMSGrad": ("adam", {"amsgrad": True}, {"lr": ("log", 1e-4, 1.0, 0.1),
                                            "beta1": ("lin", 0.0, 0.999, 0.9),
                                            "beta2": ("lin", 0.0, 0.9999, 0.999)}),
    "AdamW": ("adamw", {}, {"lr": ("log", 1e-4, 1.0, 0.1), "beta1": ("lin", 0.0, 0.999, 0.9),
                            "beta2": ("lin", 0.0, 0.9999, 0.999),
                            "weight_decay": ("lin", 0.0, 0.5, 0.01)}),
    "Adamax": ("adamax", {}, {"lr": ("log", 1e-4, 1.0, 0.1),
                              "beta1": ("lin", 0.0, 0.999, 0.9),
                              "beta2": ("lin", 0.0, 0.9999, 0.999)}),
    "NAdam": ("nadam", {}, {"lr": ("log", 1e-4, 1.0, 0.1), "beta1": ("lin", 0.0, 0.999, 0.9),
                            "beta2": ("lin", 0.0, 0.9999, 0.999)}),
    "RAdam": ("radam", {}, {"lr": ("log", 1e-4, 1.0, 0.1), "beta1": ("lin", 0.0, 0.999, 0.9),
                            "beta2": ("lin", 0.0, 0.9999, 0.999)}),
    "Yogi": ("yogi", {}, {"lr": ("log", 1e-4, 1.0, 0.1), "beta1": ("lin", 0.0, 0.999, 0.9),
                          "beta2": ("lin", 0.0, 0.9999, 0.999),
                          "eps": ("log", 1e-6, 1.0, 1e-3)}),
}
#: The slider labels of the hyperparameters (torch's names in brackets).
LABELS = {"lr": "learning rate η", "momentum": "momentum", "alpha": "alpha (decay of v)",
          "rho": "rho (decay)", "beta1": "β₁ (betas[0])", "beta2": "β₂ (betas[1])",
          "eps": "eps ε", "weight_decay": "weight decay"}
#: Colours of the state entries, in the order a rule keeps them (m-like first, v-like next).
STATE_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
STATE_LINES = 4


def hyperparameters(values: Mapping[str, float], fixed: Mapping[str, Any]) -> dict[str, Any]:
    """Slider values as a rule's keyword arguments: β₁ and β₂ become the tuple ``betas``.

    >>> hyperparameters({"lr": 0.1, "beta1": 0.9, "beta2": 0.99}, {"amsgrad": True})
    {'lr': 0.1, 'betas': (0.9, 0.99), 'amsgrad': True}
    """
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("beta1", "beta2"):
            out["betas"] = (float(values.get("beta1", 0.9)), float(values.get("beta2", 0.999)))
        else:
            out[name] = float(value)
    return {**out, **fixed}


class AdaptiveExplorer(base.Explorer):
    """An optimizer, its hyperparameters and a surface; see the module's docstring.

    Attributes:
        surface, optimizer: the drop-down lists.
        sliders: optimizer name -> hyperparameter -> slider (kept, so a choice comes back as it
            was left); ``steps``: the number of steps.
        frame: the latest :class:`~course_lib.explorations.AdaptiveFrame`.
        diverged_at: the step the path diverged at, or None.
    """

    title = "Adaptive methods explorer"

    def __init__(self, optimizer: str = "Adam", surface: str = "rotated quadratic", *,
                 steps: int = 100, **initial: float) -> None:
        super().__init__()
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
        if surface not in explorations.SURFACES:
            raise ValueError(f"surface must be one of {list(explorations.SURFACES)}, "
                             f"got {surface!r}")
        self.surface = base.choice("surface", list(explorations.SURFACES), surface)
        self.optimizer = base.choice("optimizer", list(OPTIMIZERS), optimizer)
        self.steps = base.int_slider("steps", 10, 300, steps, step=10)
        self.sliders = {name: self._sliders(name, initial if name == optimizer else {})
                        for name in OPTIMIZERS}
        self.hyper_box = ipywidgets.VBox()
        self.readout = ipywidgets.HTML()
        self.legend = ipywidgets.HTML()
        self.panels = {name: base.ContourPanel(make().objective, color="#000000", title="path",
                                               levels=make().levels)
                       for name, make in explorations.SURFACES.items()}
        self.path_box = ipywidgets.Box([self.panels[surface].figure])
        self._build_moves()
        self._build_state()
        self._layout([self.surface, self.optimizer, self.hyper_box, self.steps], self.readout,
                     [self.path_box, self.move_figure, self.state_figure], self.legend)
        self.path_box.remove_class(base.VIEW_CLASS)
        for panel in self.panels.values():
            panel.figure.add_class(base.VIEW_CLASS)
        self.surface.observe(base.callback(self.update), "value")
        self.optimizer.observe(base.callback(self.update), "value")
        self.steps.observe(base.callback(self.update), "value")
        for group in self.sliders.values():
            for slider in group.values():
                slider.observe(base.callback(self.update), "value")
        self.update()

    def _sliders(self, name: str, initial: Mapping[str, float]) -> dict[str, ipywidgets.Widget]:
        _, _, specs = OPTIMIZERS[name]
        unknown = set(initial) - set(specs)
        if unknown:
            raise ValueError(f"{name} has no slider for {sorted(unknown)}; it has {list(specs)}")
        out = {}
        for hp, (kind, low, high, value) in specs.items():
            value = float(initial.get(hp, value))
            if kind == "log":
                out[hp] = base.log_slider(LABELS[hp], low, high, value, name=hp)
            else:
                step = 0.0001 if high > 0.999 else 0.01
                out[hp] = base.slider(LABELS[hp], low, high, step, value,
                                      fmt=".4f" if step < 0.01 else ".2f", name=hp)
        return out

    # -- the views -----------------------------------------------------------------------------

    def _build_moves(self) -> None:
        self.move_x = bqplot.LinearScale(min=0.0)
        self.move_y = bqplot.LogScale()
        scales = {"x": self.move_x, "y": self.move_y}
        self.moves = bqplot.Lines(x=[0.0, 1.0], y=np.ones((2, 2)), scales=scales,
                                  colors=list(COMPONENT_COLORS[:2]), stroke_width=base.LINE)
        self.gradient_steps = bqplot.Lines(x=[0.0, 1.0], y=np.ones((2, 2)), scales=scales,
                                           colors=list(COMPONENT_COLORS[:2]),
                                           stroke_width=base.THIN, line_style="dashed")
        self.move_axis = base.axis(self.move_y, "size of the update", vertical=True,
                                   tick_format=".0e")
        self.move_step_axis = base.axis(self.move_x, "step k")
        self.move_figure = base.panel([self.gradient_steps, self.moves],
                                      [self.move_step_axis, self.move_axis],
                                      "the update per coordinate")

    def _build_state(self) -> None:
        self.state_x = bqplot.LinearScale(min=0.0)
        self.state_y = bqplot.LogScale()
        scales = {"x": self.state_x, "y": self.state_y}
        self.state_lines = [
            bqplot.Lines(x=[0.0, 1.0], y=np.ones((STATE_LINES, 2)), scales=scales,
                         colors=list(STATE_COLORS), stroke_width=width, line_style=style)
            for style, width in (("solid", base.LINE), ("dashed", base.THIN + 0.5))]
        self.no_state = bqplot.Label(x=[0.5], y=[0.5], text=["plain SGD keeps no state"],
                                     scales={"x": bqplot.LinearScale(min=0.0, max=1.0),
                                             "y": bqplot.LinearScale(min=0.0, max=1.0)},
                                     colors=["black"], default_size=14, align="middle",
                                     visible=False)
        self.state_axis = base.axis(self.state_y, "|state entry|", vertical=True,
                                    tick_format=".0e")
        self.state_step_axis = base.axis(self.state_x, "step k")
        self.state_figure = base.panel([*self.state_lines, self.no_state],
                                       [self.state_step_axis, self.state_axis],
                                       "the optimizer's state")

    # -- updates ---------------------------------------------------------------------------------

    def settings(self) -> tuple[str, dict[str, Any]]:
        """The rule name and its keyword arguments for the current choice and sliders (a
        slider's value rounded to 6 significant digits: 0.9, not 0.9000000000000001)."""
        rule, fixed, _ = OPTIMIZERS[self.optimizer.value]
        values = {hp: float(f"{s.value:.6g}")
                  for hp, s in self.sliders[self.optimizer.value].items()}
        return rule, hyperparameters(values, fixed)

    def compute(self) -> explorations.AdaptiveFrame:
        """The frame of the current choices and slider values."""
        rule, hp = self.settings()
        return explorations.adaptive_frame(self.surface.value, rule, self.steps.value, **hp)

    def update(self) -> None:
        """Recompute the frame and move every view to it."""
        group = list(self.sliders[self.optimizer.value].values())
        if list(self.hyper_box.children) != group:
            self.hyper_box.children = group
        panel = self.panels[self.surface.value]
        if self.path_box.children[0] is not panel.figure:
            self.path_box.children = [panel.figure]
        frame = self.frame = self.compute()
        color = self.color()
        base.update(panel.path, colors=[color])
        self.diverged_at = panel.show(frame.path.points, frame.rule)
        k = self.diverged_at
        n = len(frame.steps) if k is None else max(k - 1, 1)
        steps = np.arange(1, n + 1, dtype=float)
        moves = base.log_floor(np.abs(frame.steps[:n]).T, 1e-12)
        lr = self.settings()[1]["lr"]
        plain = base.log_floor(np.abs(lr * frame.gradients[:n]).T, 1e-12)
        low, high = base.log_range([moves, plain], low=1e-12)
        if base.update(self.move_x, min=0.0, max=float(len(frame.steps))):
            ticks = base.nice_ticks(0, len(frame.steps), 5)
            base.update(self.move_step_axis, tick_values=ticks)
            base.update(self.state_step_axis, tick_values=ticks)
        if base.update(self.move_y, min=low, max=high):
            base.update(self.move_axis, tick_values=base.log_ticks(low, high))
        base.update(self.moves, x=steps, y=moves)
        base.update(self.gradient_steps, x=steps, y=plain)
        self._show_state(frame, k)
        self.readout.value = self._readout(frame)
        self.legend.value = self._legend(frame, color).value

    def color(self) -> str:
        """The palette colour of the chosen optimizer."""
        rule, hp = self.settings()
        if rule == "sgd" and hp.get("momentum", 0) > 0:
            return plotting.OPTIMIZER_COLORS["momentum"]
        if hp.get("amsgrad"):
            return plotting.OPTIMIZER_COLORS["amsgrad"]
        return plotting.OPTIMIZER_COLORS.get(rule, "#000000")

    def _show_state(self, frame: explorations.AdaptiveFrame, step: int | None) -> None:
        names = list(frame.path.states)[:STATE_LINES]
        total = len(frame.path.points)
        shown = total if step is None else step
        x = np.arange(1, max(shown, 2), dtype=float)  # from step 1: the state starts at 0
        base.update(self.state_x, min=0.0, max=float(total - 1))
        if not names:
            for mark in self.state_lines:
                base.update(mark, visible=False)
            base.update(self.no_state, visible=True)
            return
        base.update(self.no_state, visible=False)
        arrays = []
        for coordinate, mark in enumerate(self.state_lines):
            rows = np.array([np.abs(frame.path.states[name][1:len(x) + 1, coordinate])
                             for name in names])
            arrays.append(rows)
            # a zero (or a state not created yet) sits on the axis's floor
            y = np.nan_to_num(base.log_floor(rows, 1e-16), nan=1e-16)
            base.update(mark, x=x, y=y, colors=list(STATE_COLORS[:len(names)]), visible=True)
        low, high = base.log_range(arrays, low=1e-15)
        if base.update(self.state_y, min=low, max=high):
            base.update(self.state_axis, tick_values=base.log_ticks(low, high))

    def _readout(self, frame: explorations.AdaptiveFrame) -> str:
        objective = self.panels[frame.surface].objective
        rule, hp = self.settings()
        shown = ", ".join(f"{k}={v!r}" for k, v in hp.items())
        items = [("rule", f"{rule}({shown})")]
        finite = frame.values[np.isfinite(frame.values)]
        if self.diverged_at is None and finite.size:
            items.append(("f at the end", f"{frame.values[-1]:.3g}"))
            if objective.minimizer is not None:
                distance = np.linalg.norm(frame.path.points[-1] - np.asarray(
                    objective.minimizer))
                items.append(("distance to the minimum", f"{distance:.3g}"))
        note = "" if self.diverged_at is None else f"diverged at step {self.diverged_at}"
        return base.readout_html(items, note)

    def _legend(self, frame: explorations.AdaptiveFrame, color: str) -> ipywidgets.HTML:
        names = list(frame.path.states)[:STATE_LINES]
        return base.html_legend([
            (self.optimizer.value, color, "line"), ("start", "black", "square"),
            ("minimum", "gold", "diamond"),
            *[(f"|Δx{i + 1}|", COMPONENT_COLORS[i], "line") for i in range(2)],
            ("η|g| (a plain gradient step)", "#555555", "dashed"),
            *[(f"state {name}", STATE_COLORS[i], "line") for i, name in enumerate(names)],
            *([("x₁ solid, x₂ dashed", "#555555", "dashed")] if names else []),
        ])

    # -- the static picture --------------------------------------------------------------------

    def static_figure(self) -> Any:
        surface = explorations.SURFACES[self.frame.surface]()
        return pictures.adaptive_figure(self.frame, surface.objective, surface.levels,
                                        self.diverged_at, self.color(), self.optimizer.value)

    def summary(self) -> str:
        rule, hp = self.settings()
        return f"{self.title}: {self.optimizer.value} on the {self.surface.value}, {hp}"


def adaptive_explorer(optimizer: str = "Adam", surface: str = "rotated quadratic", **options:
                      Any) -> AdaptiveExplorer:
    """The adaptive-methods explorer: ``optimizer`` (a key of :data:`OPTIMIZERS`) on
    ``surface`` (a key of :data:`course_lib.explorations.SURFACES`); options: ``steps``, and
    initial values for the chosen optimizer's sliders (``lr=0.05``, ``beta1=0.8``, ...).

    >>> ui = adaptive_explorer("Adam", "Rosenbrock", lr=0.05)
    >>> ui.settings()
    ('adam', {'lr': 0.05, 'betas': (0.9, 0.999), 'eps': 1e-08})
    >>> sorted(ui.frame.path.states)
    ['exp_avg', 'exp_avg_sq']
    """
    return AdaptiveExplorer(optimizer, surface, **options)


def _check_rules() -> None:
    """Every optimizer's rule exists and accepts its sliders (run by the tests)."""
    for _, (rule, fixed, specs) in OPTIMIZERS.items():
        values = {hp: spec[3] for hp, spec in specs.items()}
        rules.make(rule, **hyperparameters(values, fixed))
