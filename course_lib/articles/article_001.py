"""Article 001: d2l's learning-rate scheduler classes, transcribed verbatim, state and all.

Article 001 is a digest of d2l's optimization chapter (the Chinese edition, 动手学深度学习) that
ends with d2l's ``CosineScheduler`` and its two demos. The web copy of the article lost some
characters of the code (``=``, ``<``, ``<=``, ``+`` and the line breaks: ``if epoch
self.warmup_steps:``, ``self.warmup_begin_lr increase``); the class below restores exactly those
and nothing else. The other classes are the ones the same d2l section defines before it
(``SquareRootScheduler``, ``FactorScheduler``, and ``MultiFactorScheduler``, which d2l writes
only for its TensorFlow code; its PyTorch code uses torch's ``MultiStepLR`` there).

They are quoted so a chapter can *run* them and show what their hidden state does; the
course's own versions, computed from the epoch alone, are in
:mod:`course_lib.d2l_schedulers`. What the state does:

* ``FactorScheduler.__call__`` ignores its argument: every call multiplies the stored rate by
  ``factor`` (down to ``stop_factor_lr``). Called three times with ``num_update=0`` it returns
  three different rates; after d2l's 50-point plot it is at its floor for good.
* ``MultiFactorScheduler.__call__`` multiplies the stored rate whenever ``epoch`` is one of
  ``step``: the same milestone asked for twice cuts the rate twice.
* ``CosineScheduler.__call__`` stores the rate it computes up to ``max_update`` and, past it,
  returns what it stored last. A fresh object asked about an epoch past ``max_update`` has
  stored nothing and raises ``AttributeError``; one last asked about epoch 10 answers epoch
  25 with epoch 10's rate.

>>> scheduler = CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01)
>>> round(scheduler(10), 4), round(scheduler(25), 4)    # epoch 25 gets epoch 10's rate
(0.155, 0.155)
"""

import math

__all__ = ["SquareRootScheduler", "FactorScheduler", "MultiFactorScheduler", "CosineScheduler"]


class SquareRootScheduler:
    def __init__(self, lr=0.1):
        self.lr = lr

    def __call__(self, num_update):
        return self.lr * pow(num_update + 1.0, -0.5)


class FactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.base_lr = base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


class MultiFactorScheduler:
    def __init__(self, step, factor, base_lr):
        self.step = step
        self.factor = factor
        self.base_lr = base_lr

    def __call__(self, epoch):
        if epoch in self.step:
            self.base_lr = self.base_lr * self.factor
            return self.base_lr
        else:
            return self.base_lr


class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0,
               warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) \
                       * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = self.final_lr + (
                self.base_lr_orig - self.final_lr) * (1 + math.cos(
                math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2
        return self.base_lr
