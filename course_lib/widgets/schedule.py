"""The schedule explorer (chapter 11): build a schedule, see its curve and the loss it trains to.

Sliders set the warmup length, the peak rate, the decay shape and the number of restarts of
:func:`course_lib.schedules.warmup_decay` (each decay ends at a hundredth of the peak).
Dragging one moves, at once:

* the schedule's curve, the learning rate of every update;
* the training loss of a small network trained with it
  (:func:`course_lib.explorations.schedule_training`: a 64-32-10 MLP on the digits, SGD with
  momentum 0.9, 60 updates), beside the loss with the peak rate held constant;
* the read-outs: the final and the lowest loss, against the constant rate's.

Training takes about 0.1 s, too long to wait for at every movement. It runs in a background
thread and is cached per setting: the curve moves at once, the loss follows when its run is
done, and while the mouse rests the thread trains the next settings in the direction the slider
last moved, so a drag through them finds them ready.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Callable
from typing import Any

import bqplot
import ipywidgets
import numpy as np

from course_lib import explorations, plotting, schedules
from course_lib.plotting import explorers as pictures
from course_lib.widgets import base

__all__ = ["ScheduleExplorer", "schedule_explorer"]

#: Each decay ends at this fraction of the peak.
FINAL_FRACTION = 0.01
#: How many settings ahead of the slider the background thread trains.
PREFETCH = 1
LOSS_COLOR = plotting.OPTIMIZER_COLORS["momentum"]
BASELINE_COLOR = "#777777"

Key = tuple[str, int, float, int]


def build(key: Key) -> schedules.Schedule:
    """The schedule of a setting (decay, warmup updates, peak rate, restarts)."""
    decay, warmup, peak, restarts = key
    return schedules.warmup_decay(peak, explorations.schedule_updates(), warmup_steps=warmup,
                                  decay=decay, cycles=restarts + 1,
                                  final_lr=peak * FINAL_FRACTION)


#: Every :class:`Trainings`, so that interpreter exit waits for their threads.
_LIVE: weakref.WeakSet[Trainings] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for trainings in list(_LIVE):
        trainings.stop()


class Trainings:
    """Trained runs per setting: computed once, in a background thread when asked to.

    ``get(key)`` returns the cached run or None; ``want(key, ahead)`` asks for ``key`` first
    and then the settings in ``ahead``, newest request first; ``done(key, run)`` is called (in
    the worker thread) after each run. Without ``background`` everything runs at once.
    """

    def __init__(self, done: Callable[[Key, explorations.ScheduleTraining], None], *,
                 background: bool = True) -> None:
        self.cache: dict[Key, explorations.ScheduleTraining] = {}
        self.done = done
        self.background = background
        self._queue: list[Key] = []
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        _LIVE.add(self)

    def stop(self) -> None:
        """Drop the queued work and wait for the run in progress (at interpreter exit)."""
        with self._lock:
            self._queue = []
        self.wait(timeout=10.0)

    def get(self, key: Key) -> explorations.ScheduleTraining | None:
        return self.cache.get(key)

    def compute(self, key: Key) -> explorations.ScheduleTraining:
        """The run of ``key``, trained now if it is not cached."""
        if key not in self.cache:
            self.cache[key] = explorations.schedule_training(build(key))
        return self.cache[key]

    def want(self, key: Key, ahead: list[Key] = ()) -> None:
        if not self.background:
            self.done(key, self.compute(key))
            return
        with self._lock:
            self._queue = [k for k in [key, *ahead] if k not in self.cache]
            if self._queue and (self._worker is None or not self._worker.is_alive()):
                self._worker = threading.Thread(target=self._work, daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None
                    return
                key = self._queue.pop(0)
            run = self.compute(key)
            self.done(key, run)

    def wait(self, timeout: float = 60.0) -> None:
        """Wait until the background thread has nothing left to do (for tests)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)


class ScheduleExplorer(base.Explorer):
    """Warmup, peak, decay shape and restarts; see the module's docstring.

    Attributes:
        decay, warmup, peak, restarts: the controls.
        trainings: the cache of trained runs (:class:`Trainings`).
    """

    title = "Schedule explorer"

    def __init__(self, *, decay: str = "cosine", warmup: int = 6, peak: float = 0.5,
                 restarts: int = 0, background: bool = True) -> None:
        super().__init__()
        self.total = explorations.schedule_updates()
        if decay not in schedules.DECAYS:
            raise ValueError(f"decay must be one of {schedules.DECAYS}, got {decay!r}")
        self.decay = ipywidgets.ToggleButtons(options=list(schedules.DECAYS), value=decay,
                                              description="decay",
                                              style={"description_width": "150px",
                                                     "button_width": "90px"})
        self.warmup = base.int_slider("warmup (updates)", 0, self.total // 2, warmup,
                                      name="warmup")
        self.peak = base.log_slider("peak rate", 0.01, 5.0, peak, steps_per_decade=10,
                                    name="peak")
        self.restarts = base.int_slider("restarts", 0, 4, restarts, name="restarts")
        self.readout = ipywidgets.HTML()
        self._lock = threading.Lock()
        self._last: dict[str, Any] = {}
        self._build_views()
        legend = base.html_legend([
            ("this schedule", LOSS_COLOR, "line"), ("peak rate held constant", BASELINE_COLOR,
                                                    "dashed"),
            ("diverged", "#b00000", "cross")])
        self._layout([self.decay, self.warmup, self.peak, self.restarts], self.readout,
                     [self.rate_figure, self.loss_figure], legend)
        self.trainings = Trainings(self._trained, background=False)
        self.update()
        self.trainings.background = background
        for control in (self.decay, self.warmup, self.peak, self.restarts):
            control.observe(self._moved, "value")

    def _build_views(self) -> None:
        steps = np.arange(self.total, dtype=float)
        size = (440, 290)
        x = bqplot.LinearScale(min=0.0, max=float(self.total))
        self.rate_y = bqplot.LinearScale(min=0.0)
        self.curve = bqplot.Lines(x=steps, y=np.zeros(self.total),
                                  scales={"x": x, "y": self.rate_y}, colors=[LOSS_COLOR],
                                  stroke_width=base.LINE, interpolation="step-after")
        self.rate_axis = base.axis(self.rate_y, "learning rate", vertical=True,
                                   tick_format=".3~g")
        updates = base.nice_ticks(0, self.total, 6)
        self.rate_figure = base.panel([self.curve], [
            base.axis(x, "update t", tick_values=updates), self.rate_axis],
            "the learning rate", size=size)
        lx = bqplot.LinearScale(min=0.0, max=float(self.total))
        self.loss_y = bqplot.LogScale()
        scales = {"x": lx, "y": self.loss_y}
        self.baseline = bqplot.Lines(x=[0.0, 1.0], y=[1.0, 1.0], scales=scales,
                                     colors=[BASELINE_COLOR], stroke_width=base.THIN,
                                     line_style="dashed")
        self.loss = bqplot.Lines(x=[0.0, 1.0], y=[1.0, 1.0], scales=scales,
                                 colors=[LOSS_COLOR], stroke_width=base.LINE)
        self.diverged = bqplot.Scatter(x=[0.0], y=[1.0], scales=scales, marker="cross",
                                       colors=["#b00000"], default_size=200, visible=False)
        self.loss_axis = base.axis(self.loss_y, "training loss", vertical=True,
                                   tick_format=".0e")
        self.loss_figure = base.panel([self.baseline, self.loss, self.diverged],
                                      [base.axis(lx, "update t", tick_values=updates),
                                       self.loss_axis], "training loss", size=size)

    # -- settings --------------------------------------------------------------------------------

    def key(self) -> Key:
        """The current setting: (decay, warmup, peak rate, restarts)."""
        return (self.decay.value, int(self.warmup.value), round(float(self.peak.value), 6),
                int(self.restarts.value))

    def baseline_key(self) -> Key:
        """The same peak rate held constant, without warmup."""
        return self._baseline(self.key())

    @staticmethod
    def _baseline(key: Key) -> Key:
        return ("constant", 0, key[2], 0)

    def _ahead(self, name: str, direction: int) -> list[Key]:
        """The next settings in the direction the slider ``name`` moved."""
        decay, warmup, peak, restarts = self.key()
        out = []
        for k in range(1, PREFETCH + 1):
            if name == "warmup":
                w = warmup + direction * k
                if 0 <= w <= self.warmup.max:
                    out.append((decay, w, peak, restarts))
            elif name == "restarts":
                r = restarts + direction * k
                if 0 <= r <= self.restarts.max:
                    out.append((decay, warmup, peak, r))
            elif name == "peak":
                step = self.peak.step
                exponent = round(np.log10(self.peak.value) / step) + direction * k
                if self.peak.min <= exponent * step <= self.peak.max:
                    out.append((decay, warmup, round(float(10 ** (exponent * step)), 6),
                                restarts))
        return out

    # -- updates -----------------------------------------------------------------------------

    def _moved(self, change: dict[str, Any]) -> None:
        owner = change["owner"]
        name = {id(self.warmup): "warmup", id(self.peak): "peak",
                id(self.restarts): "restarts"}.get(id(owner), "decay")
        old, new = change["old"], change["new"]
        direction = 1 if not isinstance(new, str) and new > old else -1
        self.update(self._ahead(name, direction) if name != "decay" else [])

    def update(self, ahead: list[Key] | None = None) -> None:
        """Redraw the curve now, the loss when its run is ready (asking for it if needed)."""
        key = self.key()
        rates = np.array(build(key).values(self.total))
        top = float(rates.max()) * 1.08
        if base.update(self.rate_y, min=0.0, max=top):
            base.update(self.rate_axis, tick_values=base.nice_ticks(0.0, top, 5))
        base.update(self.curve, y=rates)
        trained = self.trainings.get(key)
        if trained is not None:
            self._show(key, trained, self.trainings.get(self.baseline_key()))
        else:
            self.readout.value = self._readout(key, None, None)
        missing = trained is None or self.trainings.get(self.baseline_key()) is None
        later = [k for setting in (ahead or []) for k in (setting, self._baseline(setting))]
        if missing or later:
            # This setting first, then the next ones in the drag's direction, even when this
            # one was ready: otherwise a drag finds every other setting untrained.
            self.trainings.want(key, [self.baseline_key(), *later])
        if missing and not self.trainings.background:
            self._show(key, self.trainings.compute(key),
                       self.trainings.compute(self.baseline_key()))

    def _trained(self, key: Key, run: explorations.ScheduleTraining) -> None:
        """Called after each background run: show it if it belongs to the current setting
        (the run itself at once, the constant-rate reference when it comes)."""
        current = self.key()
        if key not in (current, self.baseline_key()):
            return
        trained = self.trainings.get(current)
        if trained is not None:
            self._show(current, trained, self.trainings.get(self.baseline_key()))

    def _show(self, key: Key, trained: explorations.ScheduleTraining,
              baseline: explorations.ScheduleTraining | None) -> None:
        with self._lock:
            series = [trained.loss] + ([baseline.loss] if baseline is not None else [])
            low, high = base.log_range(series, low=1e-6)
            if base.update(self.loss_y, min=low, max=high):
                base.update(self.loss_axis, tick_values=base.log_ticks(low, high))
            if baseline is None:
                base.update(self.baseline, visible=False)
            else:
                base.update(self.baseline, x=self._finite_x(baseline),
                            y=baseline.loss[np.isfinite(baseline.loss)], visible=True)
            base.update(self.loss, x=self._finite_x(trained),
                        y=trained.loss[np.isfinite(trained.loss)])
            if trained.diverged_at is not None:
                finite = trained.loss[np.isfinite(trained.loss)]
                base.update(self.diverged, x=[float(trained.diverged_at)],
                            y=[float(finite[-1]) if finite.size else high], visible=True)
            else:
                base.update(self.diverged, visible=False)
            self.readout.value = self._readout(key, trained, baseline)
            self._last = {"key": key, "trained": trained, "baseline": baseline}

    @staticmethod
    def _finite_x(run: explorations.ScheduleTraining) -> np.ndarray:
        return run.steps[np.isfinite(run.loss)].astype(float)

    def _readout(self, key: Key, trained: Any, baseline: Any) -> str:
        decay, warmup, peak, restarts = key
        items = [("decay", decay), ("warmup", f"{warmup} updates"), ("peak", f"{peak:.3g}"),
                 ("restarts", f"{restarts}")]
        if trained is None:
            return base.readout_html(items + [("training loss", "training…")])
        note = ""
        if trained.diverged_at is not None:
            note = f"diverged at update {trained.diverged_at}"
        else:
            items += [("final loss", f"{trained.loss[-1]:.4f}"),
                      ("lowest", f"{np.min(trained.loss):.4f}")]
        if baseline is None:
            items.append(("constant peak rate", "training…"))
        elif np.isfinite(baseline.loss[-1]):
            items.append(("constant peak rate", f"{baseline.loss[-1]:.4f}"))
        else:
            items.append(("constant peak rate", f"diverged at update {baseline.diverged_at}"))
        return base.readout_html(items, note)

    def wait(self) -> None:
        """Wait for the background training (for tests)."""
        self.trainings.wait()

    # -- the static picture ------------------------------------------------------------------

    def static_figure(self) -> Any:
        key = self.key()
        trained = self.trainings.compute(key)
        baseline = self.trainings.compute(self.baseline_key())
        decay, warmup, peak, restarts = key
        title = (f"{decay} decay, {warmup} warmup updates, peak {peak:g}, {restarts} restarts: "
                 f"a 64-32-10 MLP on the digits")
        return pictures.schedule_figure(title, trained.rates, trained, baseline)

    def summary(self) -> str:
        decay, warmup, peak, restarts = self.key()
        return (f"{self.title}: {decay} decay, warmup {warmup}, peak {peak:g}, "
                f"restarts {restarts}")


def schedule_explorer(**options: Any) -> ScheduleExplorer:
    """The schedule explorer; options: ``decay`` (one of ``schedules.DECAYS``), ``warmup``
    (updates), ``peak`` (rate), ``restarts``, and ``background=False`` to train at once.

    >>> ui = schedule_explorer(decay="cosine", warmup=6, peak=0.5, background=False)
    >>> ui.key()
    ('cosine', 6, 0.5, 0)
    >>> ui.warmup.value = 10                          # the curve and the loss follow
    >>> ui.key() in ui.trainings.cache
    True
    """
    return ScheduleExplorer(**options)
