"""The experiment questions of sets 13 and 14 stay reachable, and stay a question.

Each hidden check reruns the learner's choice on seeds drawn at grading time, so a master's
solution must pass on any seed with room to spare, and the settings a learner starts from (the
article's, torch's defaults) must fail. These tests rerun both, on seeds no master uses.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import capstone
from course_lib.articles import article_003

SEEDS = list(range(7000, 7020))  # four groups of five networks


def mean_accuracy_by_group(name, lr, scheduled=True, epochs=4):
    torch.set_num_threads(1)
    runs = capstone.run(name, lr, SEEDS, scheduled=scheduled, epochs=epochs)
    accuracy = runs.metrics["test accuracy"][:, -1]
    return accuracy.reshape(-1, 5).mean(axis=1)


def test_capstone_target_is_met_by_the_chapters_tuned_adam_with_room_to_spare():
    groups = mean_accuracy_by_group("Adam", 0.1)  # the master's choice: tuned peak, schedule
    assert groups.min() >= 0.945, groups  # the target is 0.94


@pytest.mark.parametrize(("name", "lr", "scheduled"), [
    ("Adam", 0.001, True),   # torch's default rate
    ("Adam", 0.1, False),    # the tuned peak without its schedule
    ("SGD", 1.0, True),      # no momentum, no scaling
])
def test_capstone_target_is_missed_by_untuned_choices(name, lr, scheduled):
    assert mean_accuracy_by_group(name, lr, scheduled).mean() < 0.94


def distance_from_least_squares(lr, epochs, seed):
    run = article_003.train(seed=seed, learning_rate=lr, epochs=epochs)
    design = np.column_stack([run.X[:, 0], np.ones(len(run.X))])
    w_fit, b_fit = np.linalg.lstsq(design, run.y[:, 0], rcond=None)[0]
    w, b = run.path[-1]
    return max(abs(w - w_fit), abs(b - b_fit))


def test_numpy_adam_fix_reaches_the_line_on_new_data():
    distances = [distance_from_least_squares(0.3, 300, seed) for seed in range(100, 130)]
    assert max(distances) < 0.01  # the target is 0.05


@pytest.mark.parametrize(("lr", "epochs"), [(0.01, 100), (0.01, 300)])
def test_numpy_adam_article_and_its_rate_miss_the_line(lr, epochs):
    distances = [distance_from_least_squares(lr, epochs, seed) for seed in range(100, 110)]
    assert min(distances) > 0.05


def test_numpy_adam_at_the_chapters_fixed_rate_needs_more_than_the_budget():
    # lr 0.1 settles in the chapter's 1000 steps; in 300 it is within 0.05 on a minority of
    # data sets, so three hidden ones rarely pass together
    hits = [distance_from_least_squares(0.1, 300, seed) < 0.05 for seed in range(100, 140)]
    assert 0 < sum(hits) < len(hits) / 2
    assert distance_from_least_squares(0.1, 1000, 100) < 0.05
