"""Interactive explorers for the notebooks: sliders that move linked views while they are dragged.

This package is the only part of course_lib that imports ipywidgets and bqplot. Each explorer
is a thin layer over one pure function of :mod:`course_lib.explorations`, which computes
everything it shows; the views are bqplot figures, drawn by the browser, so a slider
movement only sends new data (about 50 ms from the mouse to the figure). Displayed, an
explorer also stores a PNG of its state (drawn by :mod:`course_lib.plotting.explorers`), which
is what a notebook that has not run, a slide deck and the website show.

* :func:`conditioning_explorer` (chapter 03): the learning rate on an ill-conditioned quadratic;
* :func:`minibatch_explorer` (chapter 05): the batch size against gradient noise and time;
* :func:`momentum_explorer` (chapter 06): η, β and gradient noise, with the (η, β) rate map;
* :func:`adaptive_explorer` (chapters 07-10): any optimizer on four surfaces, with its state;
* :func:`schedule_explorer` (chapter 11): warmup, peak, decay and restarts, trained.

:func:`trajectory_explorer` is the older, simpler slider (a matplotlib figure redrawn on
release). In a notebook, tag an explorer cell ``nbval-ignore-output``: widget outputs are
interactive, not something to compare.
"""

import warnings

with warnings.catch_warnings():
    # bqplot 0.13 gives a traitlet metadata through its constructor, which traitlets
    # deprecates; imported here first, so no submodule's import shows the warning.
    warnings.filterwarnings("ignore", "metadata .* was set from the constructor",
                            DeprecationWarning)
    import bqplot  # noqa: F401

from course_lib.widgets.adaptive import AdaptiveExplorer, adaptive_explorer  # noqa: E402
from course_lib.widgets.conditioning import (  # noqa: E402
    ConditioningExplorer,
    conditioning_explorer,
)
from course_lib.widgets.minibatch import MinibatchExplorer, minibatch_explorer  # noqa: E402
from course_lib.widgets.momentum import MomentumExplorer, momentum_explorer  # noqa: E402
from course_lib.widgets.schedule import ScheduleExplorer, schedule_explorer  # noqa: E402
from course_lib.widgets.trajectory import draw_trajectory, trajectory_explorer  # noqa: E402

__all__ = [
    "AdaptiveExplorer",
    "ConditioningExplorer",
    "MinibatchExplorer",
    "MomentumExplorer",
    "ScheduleExplorer",
    "adaptive_explorer",
    "conditioning_explorer",
    "draw_trajectory",
    "minibatch_explorer",
    "momentum_explorer",
    "schedule_explorer",
    "trajectory_explorer",
]
