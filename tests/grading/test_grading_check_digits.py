"""A wrong answer that agrees with torch to six digits is shown with enough digits to differ.

"should be 0.735089; yours is 0.735089" tells a learner nothing; the checks print as many
significant digits as it takes (up to 17) for the expected value and the learner's to differ.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_lib import objectives
from course_lib.grading import checks, inputs

BOWL = inputs.Quadratic.from_objective(objectives.stretched_bowl(), (-5.0, -2.0), "the bowl")


def failure(call) -> str:
    with pytest.raises(checks.CheckFailed) as info:
        call()
    return str(info.value)


def rmsprop_eps_inside(param, grad, state, lr, alpha, eps):
    """RMSprop with ε inside the root, as d2l and Keras write it: torch's path to ~1e-7."""
    s = alpha * state.get("square_avg", np.zeros_like(param)) + (1 - alpha) * grad**2
    state["square_avg"] = s
    return param - lr * grad / np.sqrt(s + eps), state


def shown_values(text: str) -> tuple[str, str]:
    expected, yours = re.search(r"should be (\[[^\]]*\]); yours is (\[[^\]]*\])", text).groups()
    return expected, yours


def test_a_near_miss_of_a_rule_is_printed_with_digits_that_differ():
    text = failure(lambda: checks.rule(
        rmsprop_eps_inside, "RMSprop", name="rmsprop_step", problems=[BOWL], steps=20,
        options=[{"lr": 0.4, "alpha": 0.9, "eps": 1e-8}]))
    expected, yours = shown_values(text)
    assert expected != yours
    # six digits would print both as [-3.73509, -0.735089]
    assert inputs.format_value(np.array([-3.735088933, -0.7350889]), 6) == "[-3.73509, -0.735089]"
    assert len(expected.split(",")[0]) > len("[-3.73509")


def test_a_clear_miss_keeps_six_digits():
    def half_step(param, grad, state, lr, alpha, eps):
        new, state = rmsprop_eps_inside(param, grad, state, lr, alpha, 0.0)
        return param + (new - param) / 2, state

    text = failure(lambda: checks.rule(
        half_step, "RMSprop", name="rmsprop_step", problems=[BOWL], steps=20,
        options=[{"lr": 0.4, "alpha": 0.9, "eps": 1e-8}]))
    assert "should be [-3.73509, -0.735089]; yours is [-4.36754, -1.36754]" in text


def test_a_near_miss_of_a_function_is_printed_with_digits_that_differ():
    text = failure(lambda: checks.function(lambda x: x * (1 + 1e-8), [(0.123456789,)],
                                           lambda x: x, name="f"))
    assert text.startswith("`f(0.123457)` should be 0.123456789; yours is 0.12345679.")
