"""Optimizers from Scratch: every algorithm of the course, written once.

Modules, from the bottom up:

* :mod:`course_lib.backend`: the few array operations the rules use, for numpy and torch;
* :mod:`course_lib.rules`: the math of each algorithm, as an update rule;
* :mod:`course_lib.optim`: ``torch.optim.Optimizer`` subclasses built on the rules, and ``get``;
* :mod:`course_lib.arrays`: an optimizer over numpy arrays (``update``, ``apply_gradients``);
* :mod:`course_lib.validation`: parity against torch.optim (``python -m course_lib validate``).
"""

__version__ = "0.1.0"
