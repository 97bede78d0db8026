"""Shared settings for the test suite."""

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

#: The torch optimizers course_lib mirrors (Yogi has no torch counterpart).
TORCH_NAMES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def steps_on_a_slope(rule, steps):
    """Step lengths of ``rule`` on a constant slope (gradient 1 at every step), from 0."""
    x = np.zeros(1)
    state = rule.init(x)
    lengths = []
    for _ in range(steps):
        before = x[0]
        rule.step(x, np.ones(1), state)
        lengths.append(before - x[0])
    return np.array(lengths)
