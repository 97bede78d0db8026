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
