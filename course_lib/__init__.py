"""Optimizers from Scratch: every algorithm of the course, written once.

Modules, from the bottom up:

* :mod:`course_lib.backend`: the few array operations the rules use, for numpy and torch;
* :mod:`course_lib.rules`: the math of each algorithm, as an update rule;
* :mod:`course_lib.optim`: ``torch.optim.Optimizer`` subclasses built on the rules, and ``get``;
* :mod:`course_lib.arrays`: an optimizer over numpy arrays (``update``, ``apply_gradients``);
* :mod:`course_lib.schedules`, :mod:`course_lib.d2l_schedulers`,
  :mod:`course_lib.torch_schedules`: learning-rate schedules and their adapters;
* :mod:`course_lib.clipping`, :mod:`course_lib.param_groups`: clipping and parameter groups;
* :mod:`course_lib.objectives`, :mod:`course_lib.trajectories`, :mod:`course_lib.line_search`,
  :mod:`course_lib.conditioning`, :mod:`course_lib.momentum_analysis`: the demos and their
  analysis;
* :mod:`course_lib.data`, :mod:`course_lib.training`: data (never downloaded) and training loops;
* :mod:`course_lib.plotting`, :mod:`course_lib.widgets`: figures and sliders;
* :mod:`course_lib.validation`, :mod:`course_lib.schedule_parity`: parity against torch
  (``python -m course_lib validate``).
"""

__version__ = "0.1.0"
