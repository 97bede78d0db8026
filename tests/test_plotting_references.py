"""plotting.reference_curves: predictions drawn thin and dotted over measured series."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from course_lib import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def measured():
    t = np.arange(30)
    return plotting.loss_curves({"SGD, lr = 0.1": 0.8 ** t, "SGD, lr = 0.05": 0.9 ** t},
                                log=True)


def test_a_family_of_predictions_gets_one_legend_entry():
    ax = measured()
    t = np.arange(30)
    plotting.reference_curves(ax, {"a": 0.8 ** t, "b": 0.9 ** t}, label="exact")
    texts = [tx.get_text() for tx in ax.get_legend().get_texts()]
    assert texts == ["SGD, lr = 0.1", "SGD, lr = 0.05", "exact"]
    drawn = ax.get_lines()[2:]
    assert len(drawn) == 2
    for line, values in zip(drawn, (0.8 ** t, 0.9 ** t), strict=True):
        np.testing.assert_allclose(line.get_ydata(), values)
        assert line.get_linestyle() == ":" and to_hex(line.get_color()) == "#000000"


def test_each_prediction_under_its_own_label_and_colour_with_its_own_x():
    ax = measured()
    plotting.reference_curves(ax, {"ρ^t, ρ = 0.8": [1.0, 0.8, 0.64], "floor": [0.1, 0.1]},
                              x={"ρ^t, ρ = 0.8": [0, 1, 2], "floor": [0, 29]},
                              colors={"ρ^t, ρ = 0.8": "#1f77b4"}, linestyle="--")
    texts = [tx.get_text() for tx in ax.get_legend().get_texts()]
    assert texts[2:] == ["ρ^t, ρ = 0.8", "floor"]
    rho, floor = ax.get_lines()[2:]
    assert to_hex(rho.get_color()) == "#1f77b4" and rho.get_linestyle() == "--"
    np.testing.assert_array_equal(floor.get_xdata(), [0, 29])


def test_bad_input_is_refused():
    ax = measured()
    with pytest.raises(TypeError, match="Axes"):
        plotting.reference_curves(None, {"a": [1.0]})
    with pytest.raises(ValueError, match="has 3 values"):
        plotting.reference_curves(ax, {"a": [1.0, 2.0]}, x=[0, 1, 2])
    with pytest.raises(ValueError, match="not drawn"):
        plotting.reference_curves(ax, {"a": [1.0]}, colors={"b": "red"})
    with pytest.raises(TypeError, match="label"):
        plotting.reference_curves(ax, {"a": [1.0]}, label=3)


def test_loss_curves_with_a_log_x_axis():
    sizes = [1, 10, 100, 1000]
    ax = plotting.loss_curves({"measured": [2.7, 0.85, 0.27, 0.085]}, x=sizes, log=True,
                              logx=True, xlabel="m")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    ax = plotting.loss_curves({"measured": [2.7, 0.85, 0.27, 0.085]}, x=sizes)
    assert ax.get_xscale() == "linear"
    with pytest.raises(ValueError, match="logx"):
        plotting.loss_curves({"a": [1.0, 2.0]}, x=[0, 1], logx=True)
