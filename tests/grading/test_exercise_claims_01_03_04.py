"""The numbers the exercise sets of chapters 01, 03 and 04 state in their questions, computed
with course_lib (the questions quote them; the checks compute their own references)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib import conditioning, objectives, random_hessians, trajectories


@pytest.mark.parametrize(("n", "chapter", "unsymmetrised"),
                         [(2, 0.146, 0.117), (3, 0.0248, 0.0124)])
def test_01_the_unsymmetrised_estimate_is_about_the_quoted_fraction(n, chapter, unsymmetrised):
    matrices = np.random.default_rng(0).standard_normal((200_000, n, n))
    lower_triangle_read = np.mean(np.linalg.eigvalsh(matrices)[:, 0] > 0)  # the learner's bug
    symmetrised = (matrices + matrices.transpose(0, 2, 1)) / 2
    assert np.mean(np.linalg.eigvalsh(symmetrised)[:, 0] > 0) == pytest.approx(chapter, rel=0.05)
    assert lower_triangle_read == pytest.approx(unsymmetrised, rel=0.06)  # "about half" at n = 3
    reference = random_hessians.minimum_fraction(n, 400_000, seed=1).fraction
    assert abs(lower_triangle_read - reference) > 0.0085 * 1.3  # far outside the check's window


def test_01_the_saddle_run_of_the_chapter_leaves_at_step_26():
    run = trajectories.run("sgd", objectives.saddle(), (1.0, 0.01), 30, lr=0.1)
    assert round(run.points[25, 1], 3) == 0.954
    assert int(np.flatnonzero(np.abs(run.points[:, 1]) > 1)[0]) == 26


def test_03_the_quoted_valleys_and_step_counts():
    valley = objectives.quadratic((1.0, 10.0), angle=math.pi / 6)
    np.testing.assert_allclose(valley.matrix, [[3.25, -3.8971], [-3.8971, 7.75]], atol=5e-5)
    assert objectives.dlfs_bowl().optimal_lr == pytest.approx(2 / 2.1)
    assert conditioning.steps_to_tolerance(2 / 11, (1.0, 10.0), 1e-6) == 69
    assert conditioning.steps_to_tolerance(0.1, (1.0, 10.0), 1e-6) == 132


def largest_distance(optimizer, lr, phase):
    distances = []
    for k in range(8):
        angle = phase + k * math.pi / 8
        run = trajectories.run(optimizer, objectives.quadratic((0.1, 2.0), angle=angle),
                               conditioning.rotate((-7.0, 2.0), angle), steps=50, lr=lr)
        distances.append(float(np.linalg.norm(run.final)))
    return max(distances)


def test_03_only_a_rotation_invariant_method_reaches_0065_at_every_angle():
    assert largest_distance("sgd", 0.95, 0.3) <= 0.065
    assert largest_distance("sgd", 2 / 2.1, 0.1) <= 0.065
    best = {"adagrad": 3.0, "rmsprop": 0.3, "adam": 2.0}  # each one's best worst case on a grid
    for optimizer, lr in best.items():
        assert largest_distance(optimizer, lr, 0.0) > 0.1


def expected_loss(lr, alpha, beta, steps=100):
    return conditioning.sgd_expected_loss(lambda t: lr * (1 + beta * t) ** -alpha, (2.0, 4.0),
                                          (-5.0, -2.0), steps)[-1]


def test_04_the_quoted_averages_of_the_noisy_demo():
    assert expected_loss(0.1, 0.5, 0.1) == pytest.approx(0.016, abs=5e-4)  # d2l's polynomial
    assert conditioning.sgd_noise_floor(0.1, (2.0, 4.0)) == pytest.approx(0.059, abs=5e-4)
    assert expected_loss(0.3, 1.0, 0.5) < 0.6 * 0.008  # the master's choice, with a margin
    assert 0.008 * 1.1 < expected_loss(0.1, 0.75, 0.1) < 0.012 * 0.85  # the corpus' partial one


def test_04_two_thousand_runs_scatter_by_about_two_percent():
    averages = []
    for seed in range(8):
        seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, 2000)
        runs = trajectories.run_many("sgd", objectives.bowl(), (-5.0, -2.0), 100, seeds=seeds,
                                     lr=lambda t: 0.3 / (1 + 0.5 * t), noise=1.0)
        averages.append(runs.mean_values[-1])
    assert np.mean(averages) == pytest.approx(expected_loss(0.3, 1.0, 0.5), rel=0.03)
    assert 0.005 < np.std(averages) / np.mean(averages) < 0.04
