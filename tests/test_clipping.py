"""Gradient clipping: equal to torch.nn.utils, for torch parameters and numpy gradients."""

import math

import numpy as np
import pytest
import torch

from course_lib import clipping
from course_lib.schedule_parity import CLIP_CASES, clip_deviation


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CLIP_CASES, ids=[f"{c.function}-{c.label}" for c in CLIP_CASES])
def test_clipping_equals_torch(case, dtype):
    same, deviation = clip_deviation(case, dtype)
    assert same, "torch parameters must be clipped bit for bit as torch.nn.utils does"
    assert deviation <= (1e-12 if dtype == torch.float64 else 1e-6)


def test_returns_the_norm_before_clipping_and_scales_every_gradient():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    a.grad, b.grad = torch.tensor([3.0, 4.0]), torch.tensor([12.0])
    norm = clipping.clip_grad_norm_([a, b], max_norm=1.0)
    assert norm.item() == 13.0
    clipped = torch.cat([a.grad, b.grad]).norm().item()
    assert clipped == pytest.approx(0.99999994, abs=1e-8)  # reference: 13 -> 0.99999994 (f32)
    assert clipped < 1.0  # the 1e-6 in the divisor


def test_below_the_threshold_nothing_changes_and_zero_gradients_stay_zero():
    grads = [np.array([0.3, -0.4]), np.zeros(3)]
    norm = clipping.clip_grad_norm_(grads, max_norm=1.0)
    assert float(norm) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads[0], [0.3, -0.4])
    zeros = [np.zeros(2)]
    assert float(clipping.clip_grad_norm_(zeros, 1.0)) == 0.0
    assert not np.isnan(zeros[0]).any()


def test_none_gradients_are_skipped_and_dicts_accepted():
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    p.grad = torch.tensor([6.0, 8.0])
    norm = clipping.clip_grad_norm_([p, q], 5.0)
    assert norm.item() == 10.0 and q.grad is None
    grads = {"w": np.array([6.0, 8.0]), "b": None}
    assert float(clipping.clip_grad_norm_(grads, 5.0)) == 10.0
    np.testing.assert_allclose(grads["w"], [3.0, 4.0], rtol=1e-6)
    assert clipping.clip_grad_norm_([q], 1.0).item() == 0.0  # no gradient at all: tensor(0.)


def test_error_if_nonfinite_raises_before_scaling():
    grads = [np.array([1.0, math.inf]), np.array([5.0])]
    with pytest.raises(RuntimeError, match="non-finite"):
        clipping.clip_grad_norm_(grads, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(grads[1], [5.0])
    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.tensor([math.nan])
    with pytest.raises(RuntimeError, match="non-finite"):
        clipping.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_by_value_changes_direction_and_keeps_nan():
    g = np.array([3.0, -0.2, -math.inf, math.nan])
    clipping.clip_grad_value_(g, 0.5)
    np.testing.assert_array_equal(g[:3], [0.5, -0.2, -0.5])
    assert math.isnan(g[3])


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda g: clipping.clip_grad_norm_(g, -1.0), ValueError, "max_norm must be a number >= 0"),
    (lambda g: clipping.clip_grad_norm_(g, math.nan), ValueError, "max_norm"),
    (lambda g: clipping.clip_grad_norm_(g, 1.0, norm_type="two"), ValueError, "norm_type"),
    (lambda g: clipping.clip_grad_value_(g, -0.5), ValueError, "clip_value must be"),
    (lambda g: clipping.clip_grad_norm_([g[0], torch.zeros(1)], 1.0), TypeError, "all torch"),
    (lambda g: clipping.clip_grad_norm_(3.0, 1.0), TypeError, "clip expects"),
    (lambda g: clipping.clip_grad_value_([np.zeros(2, dtype=int)], 1.0), TypeError, "floating"),
], ids=["negative max_norm", "nan max_norm", "norm_type", "clip_value", "mixed", "number",
        "int array"])
def test_bad_arguments(call, error, message):
    grads = [np.ones(2)]
    with pytest.raises(error, match=message):
        call(grads)
    np.testing.assert_array_equal(grads[0], np.ones(2))


def test_string_inf_norm_like_torch():
    g = [np.array([1.0, -7.0]), np.array([3.0])]
    assert float(clipping.clip_grad_norm_(g, 100.0, norm_type="inf")) == 7.0
