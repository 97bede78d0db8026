"""The minibatch explorer (chapter 05): the batch size against gradient noise and time per epoch.

Chapter 05's linear model on its 1,500 examples, at d2l's starting point. Dragging the
batch-size slider moves, at once:

* a cloud of minibatch gradients (two of their six coordinates), drawn as training draws its
  batches, around the full gradient: it shrinks like 1/√b;
* the squared noise E‖g_B − ∇L‖² = σ²/b · (N − b)/(N − 1) against b, exact and measured;
* the time one epoch takes at this batch size, measured on this machine (one thread) when the
  explorer is built (:func:`course_lib.training.seconds_per_epoch`);
* the read-outs: updates per epoch, the noise, the time per epoch.

Everything is computed when the explorer is built (:func:`course_lib.explorations.
minibatch_frame` for every batch size of the slider), so a movement only shows it. Times are
measured, so they differ between machines and runs: they appear in the picture and the
read-out, never in the output's text.
"""

from __future__ import annotations

from typing import Any

import bqplot
import ipywidgets
import numpy as np
import torch

from course_lib import data, explorations, gradient_noise, optim, plotting, training
from course_lib.plotting import explorers as pictures
from course_lib.widgets import base

__all__ = ["MinibatchExplorer", "minibatch_explorer", "BATCH_SIZES"]

#: The batch sizes of the slider (the last is the whole data set).
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1500)
CLOUD_COLOR = plotting.OPTIMIZER_COLORS["sgd"]
MARK_COLOR = "#444444"


class MinibatchExplorer(base.Explorer):
    """A batch-size slider; see the module's docstring.

    Attributes:
        batch_size: the slider.
        frames: batch size -> :class:`~course_lib.explorations.MinibatchFrame`.
        seconds: batch size -> measured seconds per epoch.
    """

    title = "Minibatch explorer"

    def __init__(self, batch_size: int = 10, *, samples: int = 200, seed: int = 0,
                 time_updates: int = 15) -> None:
        super().__init__()
        if batch_size not in BATCH_SIZES:
            raise ValueError(f"batch_size must be one of {BATCH_SIZES}, got {batch_size!r}")
        features, targets = data.regression_data().as_tensors()
        model = training.linear_regression(features.shape[1], seed=0)
        theta = np.append(model.weight.detach().double().numpy(),
                          model.bias.detach().double().numpy())
        self.per_example = gradient_noise.least_squares_gradients(features.numpy(),
                                                                  targets.numpy(), theta)
        self.examples = len(self.per_example)
        sizes = [b for b in BATCH_SIZES if b <= self.examples]
        self.frames = {b: explorations.minibatch_frame(self.per_example, b, samples, seed=seed)
                       for b in sizes}
        self.seconds = {}
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one thread: timings a busy machine does not scramble
        try:
            for b in sizes:
                timed = training.linear_regression(features.shape[1], seed=0)
                self.seconds[b] = training.seconds_per_epoch(
                    timed, optim.SGD(timed.parameters(), lr=0.01), features, targets, b,
                    updates=time_updates)
        finally:
            torch.set_num_threads(threads)
        self.batch_size = ipywidgets.SelectionSlider(
            options=sizes, value=batch_size, description="batch size b",
            continuous_update=True, layout=base.SLIDER_LAYOUT, style=base.SLIDER_STYLE)
        self.readout = ipywidgets.HTML()
        self.grid = np.unique(np.geomspace(1, self.examples - 1, 200).round().astype(int))
        self.noise_curve = np.array([gradient_noise.minibatch_noise(self.per_example, int(b))
                                     for b in self.grid])
        self.window = self._window()
        self._build_cloud()
        self._build_noise()
        self._build_time()
        legend = base.html_legend([
            ("minibatch gradients", CLOUD_COLOR, "dot"), ("full gradient ∇L", "gold",
                                                          "diamond"),
            ("σ²/b · (N−b)/(N−1)", "black", "line"), ("measured", CLOUD_COLOR, "dot"),
            ("this b", MARK_COLOR, "ring")])
        self._layout([self.batch_size], self.readout,
                     [self.cloud_figure, self.noise_figure, self.time_figure], legend)
        self.batch_size.observe(base.callback(self.update), "value")
        self.update()

    def _window(self) -> Any:
        """A fixed window around the full gradient holding the widest cloud (b = 1)."""
        cloud = self.frames[min(self.frames)].samples[:, :2]
        full = self.frames[min(self.frames)].full[:2]
        reach = float(np.max(np.abs(cloud - full))) * 1.05
        window = ((full[0] - reach, full[0] + reach), (full[1] - reach, full[1] + reach))
        return base.equal_aspect(window)

    def _build_cloud(self) -> None:
        (x_low, x_high), (y_low, y_high) = self.window
        x = bqplot.LinearScale(min=x_low, max=x_high)
        y = bqplot.LinearScale(min=y_low, max=y_high)
        scales = {"x": x, "y": y}
        self.cloud = bqplot.Scatter(x=[0.0], y=[0.0], scales=scales, colors=[CLOUD_COLOR],
                                    default_size=14, opacities=[0.5], stroke=None)
        first = self.frames[min(self.frames)]
        full = bqplot.Scatter(x=[first.full[0]], y=[first.full[1]], scales=scales,
                              marker="diamond", colors=["gold"], stroke="black",
                              default_size=150)
        self.cloud_figure = base.panel([self.cloud, full], [
            base.axis(x, "∂L/∂w₁", tick_format=".3~g", tick_values=base.nice_ticks(x_low, x_high,
                                                                                 5)),
            base.axis(y, "∂L/∂w₂", vertical=True, tick_format=".3~g",
                      tick_values=base.nice_ticks(y_low, y_high, 5))],
            "minibatch gradients")

    def _build_noise(self) -> None:
        x = bqplot.LogScale(min=1.0, max=float(self.examples))
        low = float(self.noise_curve[-1]) / 3
        y = bqplot.LogScale(min=low, max=float(self.noise_curve[0]) * 3)
        scales = {"x": x, "y": y}
        curve = bqplot.Lines(x=self.grid.astype(float), y=self.noise_curve, scales=scales,
                             colors=["black"], stroke_width=base.LINE)
        sizes = [b for b in self.frames if b < self.examples]
        measured = bqplot.Scatter(x=np.array(sizes, float),
                                  y=[self.frames[b].measured for b in sizes], scales=scales,
                                  colors=[CLOUD_COLOR], default_size=40)
        self.noise_floor = low
        self.noise_marker = bqplot.Scatter(x=[1.0], y=[1.0], scales=scales, marker="circle",
                                           colors=["white"], stroke=MARK_COLOR,
                                           default_size=140)
        decades = np.array([1.0, 10.0, 100.0, 1000.0])
        self.noise_figure = base.panel([curve, measured, self.noise_marker], [
            base.axis(x, "batch size b", tick_format=".0f", tick_values=decades),
            base.axis(y, "E‖g_B − ∇L‖²", vertical=True, tick_format=".0e",
                      tick_values=base.log_ticks(low, float(self.noise_curve[0]) * 3))],
            "squared gradient noise")

    def _build_time(self) -> None:
        sizes = sorted(self.seconds)
        times = np.array([self.seconds[b] * 1000 for b in sizes])
        x = bqplot.LogScale(min=1.0, max=float(self.examples))
        y = bqplot.LogScale(min=float(times.min()) / 2, max=float(times.max()) * 2)
        scales = {"x": x, "y": y}
        line = bqplot.Lines(x=np.array(sizes, float), y=times, scales=scales,
                            colors=[CLOUD_COLOR], stroke_width=base.LINE, marker="circle",
                            marker_size=20)
        self.time_marker = bqplot.Scatter(x=[1.0], y=[1.0], scales=scales, marker="circle",
                                          colors=["white"], stroke=MARK_COLOR, default_size=140)
        self.time_figure = base.panel([line, self.time_marker], [
            base.axis(x, "batch size b", tick_format=".0f",
                      tick_values=np.array([1.0, 10.0, 100.0, 1000.0])),
            base.axis(y, "ms per epoch (this machine)", vertical=True, tick_format=".0e",
                      tick_values=base.log_ticks(float(times.min()) / 2,
                                                 float(times.max()) * 2))],
            "time per epoch")

    def update(self) -> None:
        """Show the precomputed frame of the slider's batch size."""
        b = self.batch_size.value
        frame = self.frame = self.frames[b]
        base.update(self.cloud, x=frame.samples[:, 0], y=frame.samples[:, 1])
        base.update(self.noise_marker, x=[float(b)], y=[max(frame.noise, self.noise_floor)])
        base.update(self.time_marker, x=[float(b)], y=[self.seconds[b] * 1000])
        self.readout.value = self._readout(frame)

    def _readout(self, frame: explorations.MinibatchFrame) -> str:
        b = frame.batch_size
        noise = "0 (the batch is the whole data set)" if b == frame.examples else \
            f"{frame.noise:.4g} (measured {frame.measured:.4g})"
        items = [("b", f"{b}"), ("updates per epoch", f"{frame.updates_per_epoch}"),
                 ("squared noise E‖g_B − ∇L‖²", noise),
                 ("one epoch on this machine", f"{self.seconds[b] * 1000:.3g} ms")]
        return base.readout_html(items)

    def static_figure(self) -> Any:
        return pictures.minibatch_figure(self.frame, self.grid, self.noise_curve,
                                         self.seconds, self.window)

    def summary(self) -> str:
        return f"{self.title}: batch size {self.batch_size.value} of {self.examples} examples"


def minibatch_explorer(batch_size: int = 10, **options: Any) -> MinibatchExplorer:
    """The minibatch explorer, starting at ``batch_size`` (one of :data:`BATCH_SIZES`);
    options: ``samples`` (batch gradients drawn per size), ``seed``, ``time_updates``.

    >>> ui = minibatch_explorer(10, time_updates=3)
    >>> ui.frame.updates_per_epoch
    150
    >>> ui.batch_size.value = 100
    >>> ui.frame.updates_per_epoch
    15
    """
    return MinibatchExplorer(batch_size, **options)
