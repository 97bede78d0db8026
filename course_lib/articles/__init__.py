"""The source articles' own code, transcribed verbatim, so a chapter can run it as evidence.

The course was commissioned to answer five articles (kept by the team in
``shared/reference/seeds/``). Where a chapter says "the article's code", it runs the code in
these modules: the same names, the same arithmetic, the same constants. They are *not* part of
the library's implementations (those live in :mod:`course_lib.rules`); they are quoted so that
their results can be compared with ``torch.optim`` and course_lib, and where they part, shown.

* :mod:`course_lib.articles.article_000`: optimizers written by hand on ``param.data``.
* :mod:`course_lib.articles.article_002`: Keras optimizers; gradient descent by hand on three
  points, with its stopping loop.
* :mod:`course_lib.articles.article_003`: a numpy ``AdamOptimizer`` and the linear regression
  it is tried on.
* :mod:`course_lib.articles.article_001`: d2l's learning-rate scheduler classes (the d2l digest
  ends with its ``CosineScheduler``), with their hidden state.
* :mod:`course_lib.articles.article_004`: ``torch.optim`` in practice, five pitfalls included.
"""
