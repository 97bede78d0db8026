"""schedule_plot's options for chapter 11: piecewise rates as steps, and a log axis."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import plotting, schedules  # noqa: E402


def test_log_axis_for_rates_cut_by_factors_of_ten():
    rates = [1.0, 1.0, 0.1, 0.1, 0.01, 0.001]
    ax = plotting.schedule_plot({"reduce on plateau": rates}, len(rates), piecewise=True, log=True)
    assert ax.get_yscale() == "log"
    (line,) = ax.get_lines()
    # a staircase: each rate holds from its update to the next, the last one to t = steps
    np.testing.assert_array_equal(line.get_xdata(), np.arange(len(rates) + 1))
    np.testing.assert_array_equal(line.get_ydata(), rates + [rates[-1]])
    assert line.get_drawstyle() == "steps-post"
    plt.close(ax.figure)


def test_linear_axis_by_default():
    ax = plotting.schedule_plot({"cosine": schedules.cosine_annealing_lr(0.3, 20)}, 20)
    assert ax.get_yscale() == "linear"
    plt.close(ax.figure)


@pytest.mark.parametrize(("log", "error", "message"), [
    (True, ValueError, "log=True needs every rate > 0"),
    ("yes", TypeError, "log must be True or False"),
])
def test_log_rejects_what_it_cannot_draw(log, error, message):
    with pytest.raises(error, match=message):
        plotting.schedule_plot({"to zero": [0.3, 0.15, 0.0]}, 3, log=log)
    plt.close("all")
