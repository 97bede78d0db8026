"""Article 004: torch.optim "in practice", its code transcribed verbatim, pitfalls included.

The article (a Chinese-language blog post on using ``torch.optim``) shows its code as loose
script fragments that use names it never defines (``model``, ``dataset``,
``loss_function``). Each fragment below is wrapped in a function that takes those names as
arguments; the lines inside are the article's, character for character, its Chinese comments
included; the ``def`` lines and a final ``return`` where a result is needed are ours. The
article's text lost the code's indentation, which is restored the way the code reads.
Chapter 12 runs each one and shows what it does:

* :func:`sgd_with_lr_decay` (its section 2.4, "learning-rate decay"):
  ``optim.SGD(model.parameters(), lr=0.01, lr_decay=0.001)``. SGD has no ``lr_decay``
  argument: the line raises ``TypeError``. (Only ``Adagrad`` takes ``lr_decay``.)
* :class:`MyOptimizer` (3.1, a custom optimizer): momentum SGD that updates with
  ``p.data.add_(-lr, buf)``, an overload of ``add_`` that torch deprecated (torch 2.13 still
  runs it, with a ``UserWarning``); the keyword form is ``p.add_(buf, alpha=-lr)``. Read with
  the update at the level of the parameter loop, its default ``momentum=0.0`` never defines
  ``buf`` and fails.
* :func:`two_optimizers` (3.2): ``optimizer1`` gets *all* of ``model.parameters()`` and
  ``optimizer2`` gets ``model.fc2.parameters()``, so fc2 is updated twice per batch, once by
  SGD and once by Adam.
* :func:`step_lr_schedule` (3.3): ``StepLR(step_size=5, gamma=0.1)`` with ``scheduler.step()``
  at the *start* of each epoch, before any ``optimizer.step()``: torch warns, and every decay
  arrives one epoch early (epochs 0-3 at 0.01, not 0-4).
* :func:`gradient_clipping` (3.4): ``clip_grad_norm_`` is used correctly, but the loss is
  ``cross_entropy`` on ``target = torch.randn(10, 10)``: float targets of the output's shape
  are read as class probabilities, and these are not probabilities (negative entries, rows
  that do not sum to 1), so the "loss" can be negative and has no lower bound.

>>> import torch
>>> model = torch.nn.Linear(2, 1)
>>> try:
...     sgd_with_lr_decay(model)
... except TypeError as error:
...     print(error)
SGD.__init__() got an unexpected keyword argument 'lr_decay'
"""

# ruff: noqa: B007, UP008 - the article's code, as written
from __future__ import annotations

import torch
import torch.nn as nn
import torch.optim as optim
import torch.optim.lr_scheduler as lr_scheduler

__all__ = ["sgd_with_lr_decay", "MyOptimizer", "two_optimizers", "step_lr_schedule",
           "gradient_clipping"]


def sgd_with_lr_decay(model):
    """Section 2.4: the article's line for "learning-rate decay" on SGD (raises TypeError)."""
    # 设置学习率衰减
    optimizer = optim.SGD(model.parameters(), lr=0.01, lr_decay=0.001)
    return optimizer


class MyOptimizer(optim.Optimizer):
    """Section 3.1: the article's custom optimizer, "a simple SGD with momentum"."""

    def __init__(self, params, lr=0.01, momentum=0.0):
        defaults = dict(lr=lr, momentum=momentum)
        super(MyOptimizer, self).__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            lr = group['lr']
            momentum = group['momentum']
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if momentum != 0:
                    state = self.state[p]
                    if 'momentum_buffer' not in state:
                        state['momentum_buffer'] = torch.zeros_like(p.data)
                    buf = state['momentum_buffer']
                    buf.mul_(momentum).add_(grad)
                p.data.add_(-lr, buf)
        return loss


def two_optimizers(model, dataset, loss_function):
    """Section 3.2: two optimizers "for different parameters" (fc2 is in both)."""
    # 定义两个优化器,分别针对不同的参数进行优化
    optimizer1 = optim.SGD(model.parameters(), lr=0.01)
    optimizer2 = optim.Adam(model.fc2.parameters(), lr=0.001)
    # 同时使用两个优化器进行优化
    for epoch in range(10):
        for input, target in dataset:
            output = model(input)
            loss = loss_function(output, target)
            optimizer1.zero_grad()
            optimizer2.zero_grad()
            loss.backward()
            optimizer1.step()
            optimizer2.step()


def step_lr_schedule(model, dataset, loss_function):
    """Section 3.3: StepLR, with ``scheduler.step()`` called before the epoch's updates."""
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.1)
    for epoch in range(10):
        # 训练过程中进行学习率调整
        scheduler.step()
        for input, target in dataset:
            output = model(input)
            loss = loss_function(output, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def gradient_clipping():
    """Section 3.4: one clipped SGD step; returns ``loss`` (draws from torch's global RNG)."""
    # 定义模型和优化器
    model = nn.Sequential(
        nn.Linear(32, 64),
        nn.ReLU(),
        nn.Linear(64, 10)
    )
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    # 定义输入和目标数据
    input = torch.randn(10, 32)
    target = torch.randn(10, 10)
    # 模型训练过程中进行梯度裁剪
    output = model(input)
    loss = nn.functional.cross_entropy(output, target)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1)
    optimizer.step()
    return loss
