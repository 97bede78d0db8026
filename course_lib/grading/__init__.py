"""Exercises and autograding: checks for master notebooks, release, and grading a class.

The exercise sets live in ``exercises/masters/NN_topic.ipynb`` (otter-grader's master format:
questions, solutions, public and hidden checks). The modules, in the order a grade is made:

* :mod:`~course_lib.grading.checks`: what a test cell calls (``checks.rule``,
  ``checks.number``, ...): learner-facing messages, references from ``torch.optim``, the
  comparison of :func:`course_lib.validation.agrees`;
* :mod:`~course_lib.grading.inputs`: fixed public inputs and hidden ones drawn at grading time;
* :mod:`~course_lib.grading.references`: the ``torch.optim`` / ``lr_scheduler`` runs;
* :mod:`~course_lib.grading.notebook`: ``grader`` in a learner's notebook (``grader.check``);
* :mod:`~course_lib.grading.release`: ``otter assign`` for every master (``make release``);
* :mod:`~course_lib.grading.bundles`: the grading bundles otter wrote;
* :mod:`~course_lib.grading.sandbox` and :mod:`~course_lib.grading.session`: a submission's
  code runs in a confined child process; the grader only exchanges plain data with it;
* :mod:`~course_lib.grading.grade`: a folder of submissions, in parallel, into a gradebook.

Command line: ``python -m course_lib.grading release | grade | workspace`` (the Makefile's
``make release``, ``make grade SUBMISSIONS=dir`` and ``make lab`` call it).
"""
