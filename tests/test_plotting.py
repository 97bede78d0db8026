"""The figure helpers, drawn with the Agg backend: titles, labels, legends, data, errors."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.mathtext import MathTextParser  # noqa: E402

from course_lib import objectives, plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def line(ax, label):
    """The Line2D with this legend label (exactly one)."""
    found = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(found) == 1, [ln.get_label() for ln in ax.get_lines()]
    return found[0]


def legend_labels(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def assert_readable(ax, min_legend=None):
    """Non-empty title and axis labels, slide-sized fonts and lines; a legend when named."""
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert ax.title.get_fontsize() >= 11
    assert ax.xaxis.label.get_fontsize() >= 11 and ax.yaxis.label.get_fontsize() >= 11
    assert all(t.get_fontsize() >= 11 for t in ax.get_xticklabels() + ax.get_yticklabels())
    for ln in ax.get_lines():
        if ln.get_linestyle() not in ("None", ""):
            assert ln.get_linewidth() >= 2
    named = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    if len(named) >= 2:
        assert ax.get_legend() is not None
        assert all(t.get_fontsize() >= 11 for t in ax.get_legend().get_texts())
    if min_legend is not None:
        assert len(legend_labels(ax)) >= min_legend


def gradient_descent(obj, x0, lr, steps):
    x = np.array(x0, dtype=np.float64)
    path = [x]
    for _ in range(steps):
        x = x - lr * obj.gradient(x)
        path.append(x)
    return np.array(path)


# -- trace_1d --------------------------------------------------------------------------------


def test_trace_1d_draws_the_iterates_on_the_curve():
    f = objectives.square()
    path = gradient_descent(f, [10.0], 0.2, 10)  # shape (11, 1)
    ax = plotting.trace_1d(f, path, label="lr = 0.2")
    assert isinstance(ax, Axes)
    assert_readable(ax, min_legend=4)
    iterates = line(ax, "lr = 0.2")
    np.testing.assert_array_equal(iterates.get_xdata(), path[:, 0])
    np.testing.assert_allclose(iterates.get_ydata(), path[:, 0] ** 2)
    start = [ln for ln in ax.get_lines() if ln.get_label().startswith("start")]
    end = [ln for ln in ax.get_lines() if ln.get_label().startswith("end")]
    assert start[0].get_xdata()[0] == 10.0 and end[0].get_xdata()[0] == path[-1, 0]
    assert "10 steps" in ax.get_title() and "x^2" in ax.get_title()
    curve = line(ax, "$f(x) = x^2$")
    assert curve.get_xdata().min() <= -10 and curve.get_xdata().max() >= 10


def test_trace_1d_widens_the_window_to_a_diverging_path():
    f = objectives.square()
    path = gradient_descent(f, [10.0], 1.1, 10)[:, 0]  # reaches 61.9 (d2l, lr 1.1)
    ax = plotting.trace_1d(f, path)
    curve = line(ax, "$f(x) = x^2$")
    assert curve.get_xdata().min() <= path.min() and curve.get_xdata().max() >= path.max()


def test_trace_1d_takes_a_plain_callable_a_list_and_a_tensor():
    ax = plotting.trace_1d(lambda x: x**3, [1.0, 0.5, 0.25], title="cube", domain=(-1, 1))
    assert ax.get_title() == "cube"
    np.testing.assert_allclose(line(ax, "iterates").get_ydata(), [1.0, 0.125, 0.015625])
    assert line(ax, "f(x)").get_xdata()[0] == -1
    ax = plotting.trace_1d(objectives.tanh(), torch.tensor([4.0, 3.0], requires_grad=True))
    np.testing.assert_array_equal(line(ax, "iterates").get_xdata(), [4.0, 3.0])


def test_trace_1d_draws_on_a_given_axes():
    _, given = plt.subplots()
    assert plotting.trace_1d(objectives.cube(), [1.0, 0.0], ax=given) is given


# -- curves_1d -------------------------------------------------------------------------------


def test_curves_1d_with_chords():
    curves = {"0.5 x^2": objectives.half_square(), "cos": objectives.cos_pi(),
              "exp": objectives.exp_half()}
    ax = plotting.curves_1d(curves, domain=(-2, 2), chord=(-1.5, 1.0), title="Convexity")
    assert_readable(ax, min_legend=4)
    chord = line(ax, "chord over [-1.5, 1]")
    np.testing.assert_array_equal(chord.get_xdata(), [-1.5, 1.0])
    np.testing.assert_allclose(chord.get_ydata(), [0.5 * 1.5**2, 0.5])
    np.testing.assert_allclose(line(ax, "cos").get_ydata()[[0, -1]], [1.0, 1.0], atol=1e-12)


def test_curves_1d_single_objective_title_is_its_formula():
    ax = plotting.curves_1d({"risk": objectives.x_cos_pi()})
    assert ax.get_title() == r"$f(x) = x\cos(\pi x)$"
    assert line(ax, "risk").get_xdata()[0] == -1.0  # the objective's window [-1, 2]


# -- contour_2d ------------------------------------------------------------------------------


def test_contour_2d_with_several_paths():
    f = objectives.stretched_bowl()
    paths = {"lr 0.4": gradient_descent(f, [-5, -2], 0.4, 20),
             "lr 0.6": gradient_descent(f, [-5, -2], 0.6, 20)}
    ax = plotting.contour_2d(f, paths)
    assert_readable(ax)
    assert legend_labels(ax) == ["lr 0.4", "lr 0.6", "start", "minimum"]
    for name, path in paths.items():
        np.testing.assert_array_equal(line(ax, name).get_xydata(), path)
    np.testing.assert_array_equal(line(ax, "minimum").get_xydata(), [[0.0, 0.0]])
    # the window stays the objective's, so the diverging run is clipped as in d2l's figure
    assert ax.get_xlim() == (-5.5, 1.0) and ax.get_ylim() == (-3.0, 1.5)
    assert ax.collections  # the contour set
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"


def test_contour_2d_single_array_path_and_no_minimizer():
    f = objectives.saddle()
    path = np.array([[0.5, 0.01], [0.2, 0.02], [0.08, 0.04]])
    ax = plotting.contour_2d(f, path, levels=[-0.5, 0.0, 0.5], title="Saddle")
    assert ax.get_title() == "Saddle"
    np.testing.assert_array_equal(line(ax, "iterates").get_xydata(), path)
    assert "minimum" not in legend_labels(ax)
    assert_readable(ax, min_legend=2)


def test_contour_2d_with_a_callable_takes_the_window_from_the_paths():
    path = np.array([[1.0, 2.0], [3.0, -1.0]])
    ax = plotting.contour_2d(lambda a, b: a**2 + b**2, {"p": path})
    assert ax.get_xlim()[0] < 1.0 and ax.get_xlim()[1] > 3.0
    assert ax.get_ylim()[0] < -1.0 and ax.get_ylim()[1] > 2.0
    assert ax.get_title()


def test_contour_2d_contours_only():
    ax = plotting.contour_2d(objectives.rosenbrock(), levels=np.logspace(-1, 3.5, 12))
    assert ax.get_legend() is None  # one named artist (the minimum): no legend needed
    assert ax.get_title() and ax.collections


def test_contour_grid_and_comparison_grid():
    f = objectives.dlfs_bowl()
    paths = {name: gradient_descent(f, [-7, 2], lr, 30)
             for name, lr in [("SGD", 0.95), ("small lr", 0.1), ("tiny lr", 0.01)]}
    axes = plotting.contour_grid(f, paths, ncols=2, title="Deep Learning from Scratch")
    assert [ax.get_title() for ax in axes] == list(paths)
    fig = axes[0].figure
    assert fig.get_suptitle() == "Deep Learning from Scratch"
    assert len(fig.axes) == 3  # the fourth cell of the 2 x 2 grid is removed
    for ax, (name, path) in zip(axes, paths.items(), strict=True):
        np.testing.assert_array_equal(line(ax, name).get_xydata(), path)
        assert ax.get_xlabel() and ax.get_ylabel()


def test_comparison_grid_calls_each_panel_once():
    calls = []

    def panel(ax):
        calls.append(ax)
        ax.plot([0, 1], [1, 0])

    axes = plotting.comparison_grid({"a": panel, "b": panel, "c": panel, "d": panel}, ncols=3)
    assert len(calls) == 4 and calls == axes
    assert axes[0].figure.get_suptitle() == "Comparison"
    assert len(axes[0].figure.axes) == 4


def test_surface_3d_marks_points():
    ax = plotting.surface_3d(objectives.saddle(), marks={"saddle point": (0.0, 0.0)})
    assert ax.name == "3d" and ax.get_title() and ax.get_zlabel()
    ax = plotting.surface_3d(objectives.bowl(), marks={"minimum": (0, 0), "start": (-5, -2)})
    assert legend_labels(ax) == ["minimum", "start"]


# -- loss curves, schedules, bars ----------------------------------------------------------


def test_loss_curves_against_steps_and_custom_x():
    histories = {"sgd": [1.0, 0.5, 0.25], "adam": np.array([1.0, 0.3, 0.1, 0.05])}
    ax = plotting.loss_curves(histories, log=True)
    assert_readable(ax, min_legend=2)
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(line(ax, "sgd").get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(line(ax, "adam").get_ydata(), histories["adam"])
    ax = plotting.loss_curves({"gd": [2.0, 1.0]}, x={"gd": [1500, 3000]}, xlabel="examples seen")
    np.testing.assert_array_equal(line(ax, "gd").get_xdata(), [1500, 3000])
    assert ax.get_xlabel() == "examples seen" and ax.get_yscale() == "linear"
    assert ax.get_legend() is None and ax.get_title() == "Loss against examples seen"


def test_loss_curves_shared_x_and_tensors():
    ax = plotting.loss_curves({"a": torch.tensor([3.0, 2.0]), "b": [1.0, 0.5]}, x=[0.1, 0.2],
                              xlabel="seconds")
    np.testing.assert_array_equal(line(ax, "b").get_xdata(), [0.1, 0.2])
    np.testing.assert_array_equal(line(ax, "a").get_ydata(), [3.0, 2.0])


def test_schedule_plot_evaluates_each_schedule_at_t():
    schedules = {"exponential": lambda t: float(np.exp(-0.1 * t)),
                 "polynomial": lambda t: (1 + 0.1 * t) ** -0.5,
                 "constant": [0.1] * 50}
    ax = plotting.schedule_plot(schedules, 50)
    assert_readable(ax, min_legend=3)
    t = np.arange(50)
    np.testing.assert_array_equal(line(ax, "exponential").get_xdata(), t)
    np.testing.assert_allclose(line(ax, "exponential").get_ydata(), np.exp(-0.1 * t))
    np.testing.assert_allclose(line(ax, "polynomial").get_ydata(), (1 + 0.1 * t) ** -0.5)
    assert ax.get_ylabel() == "learning rate" and "t" in ax.get_xlabel()


def test_bar_chart():
    values = {"elementwise": 1.5, "column": 0.02, "matrix": 0.0004}
    ax = plotting.bar_chart(values, ylabel="seconds", log=True)
    assert_readable(ax)
    assert ax.get_yscale() == "log"
    assert [p.get_height() for p in ax.patches] == list(values.values())
    assert [t.get_text() for t in ax.get_xticklabels()] == list(values)


# -- every objective renders; bad input ------------------------------------------------------


@pytest.mark.parametrize("name", list(objectives.OBJECTIVES))
def test_every_formula_is_valid_mathtext(name):
    MathTextParser("agg").parse(f"$f(x) = {objectives.get(name).formula}$")


def test_titles_render():
    ax = plotting.contour_2d(objectives.quadratic((1, 10), 0.5), levels=5)
    ax.figure.canvas.draw()  # parses the mathtext of the title and labels


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: plotting.trace_1d(objectives.square(), np.zeros((3, 2))), ValueError,
         r"path must have shape \(n,\) or \(n, 1\).*\(3, 2\)"),
        (lambda: plotting.trace_1d(objectives.square(), []), ValueError, "n >= 1"),
        (lambda: plotting.trace_1d(objectives.square(), [1.0, np.inf]), ValueError, "inf or nan"),
        (lambda: plotting.trace_1d(objectives.bowl(), [1.0]), ValueError, "must be a 1-D"),
        (lambda: plotting.trace_1d("x^2", [1.0]), TypeError, "Objective or a callable"),
        (lambda: plotting.trace_1d(objectives.square(), [1.0], ax="ax"), TypeError, "Axes"),
        (lambda: plotting.trace_1d(objectives.square(), [1.0], domain=(2, 1)), ValueError,
         "low < high"),
        (lambda: plotting.trace_1d(objectives.square(), [1.0], title=3), TypeError, "title"),
        (lambda: plotting.contour_2d(objectives.bowl(), np.zeros((4, 3))), ValueError,
         r"paths must have shape \(n, 2\).*\(4, 3\)"),
        (lambda: plotting.contour_2d(objectives.bowl(), {"a": np.zeros(4)}), ValueError,
         r"paths\['a'\] must have shape \(n, 2\)"),
        (lambda: plotting.contour_2d(objectives.bowl(), {1: np.zeros((4, 2))}), TypeError,
         "keys of paths must be strings"),
        (lambda: plotting.contour_2d(objectives.square()), ValueError, "must be 2-D"),
        (lambda: plotting.contour_2d(objectives.bowl(), levels=0), ValueError, "levels"),
        (lambda: plotting.contour_2d(lambda a, b: a + b), ValueError, "domain is required"),
        (lambda: plotting.contour_2d(objectives.bowl(), domain=((0, 1),)), TypeError,
         "two .low, high. pairs"),
        (lambda: plotting.curves_1d({"f": np.cos}), ValueError, "domain is required"),
        (lambda: plotting.curves_1d({}), ValueError, "curves must not be empty"),
        (lambda: plotting.curves_1d([objectives.square()]), TypeError, "dict"),
        (lambda: plotting.loss_curves({"a": [1.0, 0.0]}, log=True), ValueError,
         "positive values"),
        (lambda: plotting.loss_curves({"a": [1.0, 2.0]}, x=[1.0]), ValueError,
         "1 values but the history has 2"),
        (lambda: plotting.loss_curves({"a": [1.0]}, x={"b": [1.0]}), ValueError, "same keys"),
        (lambda: plotting.loss_curves({"a": []}), ValueError, "non-empty 1-D"),
        (lambda: plotting.loss_curves({"a": ["x"]}), TypeError, "must be numbers"),
        (lambda: plotting.schedule_plot({"a": lambda t: 1.0}, 0), ValueError, "steps must be >="),
        (lambda: plotting.schedule_plot({"a": lambda t: 1.0}, 2.0), TypeError, "steps"),
        (lambda: plotting.schedule_plot({"a": [1.0, 2.0]}, 3), ValueError, "expected steps=3"),
        (lambda: plotting.comparison_grid({"a": 1}), TypeError, "function of an Axes"),
        (lambda: plotting.comparison_grid({"a": print}, ncols=0), ValueError, "ncols"),
        (lambda: plotting.bar_chart({"a": -1.0}, log=True), ValueError, "> 0"),
        (lambda: plotting.bar_chart({"a": np.nan}), ValueError, "finite"),
        (lambda: plotting.surface_3d(objectives.square()), TypeError, "2-D Objective"),
        (lambda: plotting.surface_3d(objectives.bowl(), ax=plt.subplots()[1]), TypeError,
         "3-D Axes"),
    ],
)
def test_bad_input_raises_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_plotting_never_changes_the_backend():
    before = matplotlib.get_backend()
    plotting.loss_curves({"a": [1.0, 2.0]})
    assert matplotlib.get_backend() == before


def test_objectives_and_data_do_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, course_lib.objectives, course_lib.data; "
            "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"
