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


def assert_holds(ax, points):
    """Every point lies inside the Axes' limits: nothing is clipped."""
    points = np.atleast_2d(points)
    (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
    assert np.all((points[:, 0] >= x_low) & (points[:, 0] <= x_high)), (ax.get_xlim(), points)
    assert np.all((points[:, 1] >= y_low) & (points[:, 1] <= y_high)), (ax.get_ylim(), points)


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
    f = objectives.stretched_bowl()  # 0.1 x1^2 + 2 x2^2, window x1 in [-5.5, 1], x2 in [-3, 1.5]
    paths = {"lr 0.4": gradient_descent(f, [-5, -2], 0.4, 20),
             "lr 0.6": gradient_descent(f, [-5, -2], 0.6, 20)}
    ax = plotting.contour_2d(f, paths)
    assert_readable(ax)
    # at lr 0.6 the x2 factor is 1 - 0.6 * 4 = -1.4: x2 = -2 (-1.4)^k is 5.49 at k = 3, beyond
    # the window widened by half its span (x2 in [-5.25, 3.75]), and never comes back
    assert legend_labels(ax) == ["lr 0.4", "lr 0.6", "lr 0.6: diverged at step 3", "start",
                                 "minimum"]
    np.testing.assert_array_equal(line(ax, "lr 0.4").get_xydata(), paths["lr 0.4"])
    np.testing.assert_array_equal(line(ax, "lr 0.6").get_xydata(), paths["lr 0.6"][:3])
    np.testing.assert_array_equal(line(ax, "lr 0.6: diverged at step 3").get_xydata(),
                                  paths["lr 0.6"][2:3])
    np.testing.assert_array_equal(line(ax, "minimum").get_xydata(), [[0.0, 0.0]])
    assert_holds(ax, np.vstack([paths["lr 0.4"], paths["lr 0.6"][:3]]))
    assert ax.get_aspect() == 1.0
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
    assert legend_labels(ax) == ["saddle point"]  # a lone mark is named too
    assert line(ax, "saddle point").get_marker() != "*"  # the gold star means a minimum
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
        (lambda: plotting.trace_1d(objectives.square(), [np.nan, 1.0]), ValueError,
         "start must be finite"),
        (lambda: plotting.contour_2d(objectives.bowl(), [[np.inf, 0.0]]), ValueError,
         "start must be finite"),
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


# -- the course-wide rules: palette, styles, legends off the data, windows, divergence -------


@pytest.mark.parametrize(("label", "key"), [
    ("SGD, lr = 0.95", "sgd"), ("GD 0.4", "sgd"), ("gradient descent, lr = eta*", "sgd"),
    ("best gradient descent", "sgd"), ("SGD, momentum 0.9", "momentum"),
    ("Momentum, lr = 0.1", "momentum"), ("heavy ball", "momentum"),
    ("SGD, nesterov", "nesterov"), ("AdaGrad, lr = 1.5", "adagrad"),
    ("torch.optim.Adagrad", "adagrad"), ("RMSprop", "rmsprop"), ("d2l's RMSProp", "rmsprop"),
    ("Adadelta", "adadelta"), ("Adam, lr = 0.3", "adam"), ("course_lib.optim.Adam", "adam"),
    ("KerasAdam, lr=0.001", "adam"), ("AdamW", "adamw"), ("Adamax", "adamax"),
    ("NAdam", "nadam"), ("RAdam", "radam"), ("Yogi", "yogi"), ("Newton's method", "newton"),
    ("lr 0.4", None), ("λ = 10", None), ("float64", None), ("start", None), ("", None),
])
def test_optimizer_key_reads_the_labels_the_chapters_use(label, key):
    assert plotting.optimizer_key(label) == key


def test_one_colour_per_optimizer():
    colors = plotting.OPTIMIZER_COLORS
    assert len(set(colors.values())) == len(colors)  # no two optimizers share a colour
    from course_lib import rules
    assert {name for name in rules.RULES if "_" not in name} <= set(colors)
    assert plotting.optimizer_color("Adam, lr = 0.1") == colors["adam"]
    with pytest.raises(ValueError, match="names no optimizer"):
        plotting.optimizer_color("lr 0.1")


def test_colors_for_keeps_each_optimizer_its_colour_and_shades_a_sweep():
    from matplotlib.colors import to_rgb
    colors = plotting.colors_for(["SGD, lr 0.1", "SGD, lr 0.4", "SGD, lr 0.6", "Adam", "x"])
    assert colors["Adam"] == plotting.OPTIMIZER_COLORS["adam"]
    sweep = [colors[f"SGD, lr {lr}"] for lr in ("0.1", "0.4", "0.6")]
    assert len(set(sweep)) == 3
    brightness = [sum(to_rgb(c)) for c in sweep]
    assert brightness == sorted(brightness)  # dark to light
    assert colors["x"] not in sweep + [colors["Adam"]]
    assert plotting.shades("red", 1) == ["#ff0000"]
    # the same labels get the same colours in every figure
    assert plotting.colors_for(["Adam", "x"])["Adam"] == colors["Adam"]


def test_path_styles_differ_between_consecutive_series():
    styles = [plotting.path_style(i) for i in range(5)]
    assert len({(s["linestyle"], s["marker"]) for s in styles}) == 5
    with pytest.raises(ValueError, match="index"):
        plotting.path_style(-1)


def overlap(a, b):
    return not (a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0)


@pytest.mark.parametrize("draw", [
    lambda: plotting.contour_2d(objectives.bowl(), {
        "SGD": gradient_descent(objectives.bowl(), [-5, -2], 0.1, 20),
        "slow": gradient_descent(objectives.bowl(), [-5, -2], 0.02, 20)}),
    lambda: plotting.loss_curves({"a": [3.0, 2.0, 1.0], "b": [3.0, 1.0, 0.5]}),
    lambda: plotting.trace_1d(objectives.square(), [10.0, 6.0, 3.6]),
    lambda: plotting.bar_chart({"sgd": 1.0, "adam": 2.0}, lines={"target": 1.5}),
])
def test_legends_are_placed_off_the_data(draw):
    ax = draw()
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend()
    assert legend is not None
    assert not overlap(legend.get_window_extent(renderer), ax.get_window_extent(renderer))
    assert fig.get_size_inches()[1] <= 4.5


def test_legend_helper_places_removes_and_checks():
    _, ax = plt.subplots(layout="constrained")
    ax.plot([0, 1], [0, 1], label="a")
    ax.plot([0, 1], [1, 0], label="b")
    plotting.legend(ax)
    assert legend_labels(ax) == ["a", "b"]
    plotting.legend(ax, "below")
    assert ax.get_legend()._loc == 9  # upper center, anchored below the Axes
    plotting.legend(ax, None)
    assert ax.get_legend() is None
    with pytest.raises(ValueError, match="legend must be one of"):
        plotting.legend(ax, "inside")


def test_contour_plots_have_equal_aspect_unless_asked():
    assert plotting.contour_2d(objectives.bowl()).get_aspect() == 1.0
    assert plotting.contour_2d(objectives.bowl(), aspect="auto").get_aspect() == "auto"
    with pytest.raises(ValueError, match="aspect"):
        plotting.contour_2d(objectives.bowl(), aspect="square")


def test_a_path_that_leaves_the_window_and_comes_back_is_drawn_whole():
    f = objectives.bowl()  # window x1 in [-5.5, 1], x2 in [-3, 1.5]
    path = np.array([[-5.0, -2.0], [-5.0, 3.0], [0.5, 0.5], [0.0, 0.0]])  # x2 = 3 is outside
    ax = plotting.contour_2d(f, {"p": path}, levels=5)
    np.testing.assert_array_equal(line(ax, "p").get_xydata(), path)
    assert_holds(ax, path)
    assert not [t for t in legend_labels(ax) if "diverged" in t]


def test_a_start_on_the_edge_of_the_window_is_shown_whole():
    f = objectives.saddle()  # window [-1, 1]^2
    ax = plotting.contour_2d(f, {"p": [[1.0, 0.0], [0.8, 0.0]]}, levels=5)
    assert ax.get_xlim()[1] > 1.05 and ax.get_ylim() == (-1.0, 1.0)


def test_diverged_at():
    window = ((-1.0, 1.0), (-1.0, 1.0))  # widened by half its span: [-2, 2]^2
    assert plotting.diverged_at([[0.0, 0.0], [1.5, 0.0], [0.1, 0.0]], window) is None
    assert plotting.diverged_at([[0.0, 0.0], [2.5, 0.0], [0.1, 0.0], [3.0, 0.0]], window) == 3
    assert plotting.diverged_at([[0.0, 0.0], [2.5, 0.0]], window, escape=2.0) is None
    assert plotting.diverged_at([[5.0, 0.0], [6.0, 0.0]], window) == 1  # outside from the start
    assert plotting.diverged_at([1.0, 0.5, np.nan, np.inf]) == 2
    assert plotting.diverged_at([1.0, np.nan, 0.5]) is None  # it came back (a NaN in between)
    with pytest.raises(ValueError, match="start"):
        plotting.diverged_at([np.nan, 1.0])
    with pytest.raises(ValueError, match="window must hold 2"):
        plotting.diverged_at([[0.0, 0.0]], ((-1, 1),))


def test_a_diverging_1d_trace_is_cut_and_marked():
    f = objectives.square()
    xs = [10.0, -12.0, 14.4, np.inf, np.nan]
    ax = plotting.trace_1d(f, xs)
    np.testing.assert_array_equal(line(ax, "iterates").get_xdata(), [10.0, -12.0, 14.4])
    marker = line(ax, "diverged at step 3")
    assert marker.get_xdata()[0] == 14.4
    assert not [t for t in legend_labels(ax) if t.startswith("end")]


def test_loss_curves_mark_divergence_at_inf_and_above_a_limit():
    ax = plotting.loss_curves({"SGD, lr 1.1": [1.0, 2.0, 4.0, np.inf, np.nan],
                               "SGD, lr 0.1": [1.0, 0.5, 0.25, 0.125, 0.0625]}, log=True)
    np.testing.assert_array_equal(line(ax, "SGD, lr 1.1").get_ydata(), [1.0, 2.0, 4.0])
    np.testing.assert_array_equal(line(ax, "SGD, lr 1.1: diverged at step 3").get_xydata(),
                                  [[2.0, 4.0]])
    ax = plotting.loss_curves({"a": [1.0, 10.0, 1e3, 1e5], "b": [1.0, 50.0, 0.5, 0.4]},
                              limit=20.0)
    np.testing.assert_array_equal(line(ax, "a").get_ydata(), [1.0, 10.0])
    assert line(ax, "a: diverged at step 2")
    np.testing.assert_array_equal(line(ax, "b").get_ydata(), [1.0, 50.0, 0.5, 0.4])  # came back
    with pytest.raises(ValueError, match="limit"):
        plotting.loss_curves({"a": [1.0]}, limit=np.inf)


def test_loss_curves_date_a_divergence_by_the_x_axis_when_it_counts_epochs():
    # Epochs 1..4 on the x axis; the loss is inf from epoch 3 on: "diverged at epoch 3", not
    # "step 2" (the index).
    ax = plotting.loss_curves({"lr 4": [1.0, 2.0, np.inf, np.inf]}, x=[1, 2, 3, 4],
                              xlabel="epoch")
    assert line(ax, "lr 4: diverged at epoch 3")


def test_one_colour_mapping_serves_every_panel():
    colors = plotting.colors_for(["lr = 0.19", "lr = 0.21"])
    ax = plotting.loss_curves({"lr = 0.21": [1.0, 2.0]}, colors=colors)
    assert line(ax, "lr = 0.21").get_color() == colors["lr = 0.21"] != colors["lr = 0.19"]
    with pytest.raises(TypeError, match="colors must be a dict"):
        plotting.loss_curves({"a": [1.0]}, colors=["red"])


def test_curves_against_whole_steps_have_whole_ticks():
    ax = plotting.loss_curves({"a": [3.0, 2.0, 1.0, 0.5]})
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_overlapping_series_stay_distinguishable():
    same = [1.0, 0.5, 0.25]
    ax = plotting.loss_curves({"torch.optim.Adam": same, "course_lib.optim.Adam": same})
    first, second = line(ax, "torch.optim.Adam"), line(ax, "course_lib.optim.Adam")
    assert (first.get_linestyle(), first.get_marker()) != (second.get_linestyle(),
                                                           second.get_marker())
    assert first.get_color() != second.get_color()


def test_contour_grid_shares_window_levels_and_one_legend():
    f = objectives.stretched_bowl()
    paths = {"SGD, lr 0.4": gradient_descent(f, [-5, -2], 0.4, 20),
             "SGD, lr 0.6": gradient_descent(f, [-5, -2], 0.6, 20),
             "Adam": gradient_descent(f, [-5, -2], 0.1, 20)}
    axes = plotting.contour_grid(f, paths, ncols=3, levels=8)
    limits = {(ax.get_xlim(), ax.get_ylim()) for ax in axes}
    assert len(limits) == 1  # one window
    levels = {tuple(ax.collections[0].levels) for ax in axes}
    assert len(levels) == 1  # one set of contour levels
    for ax, path in zip(axes, paths.values(), strict=True):
        shown = line(ax, ax.get_title()).get_xydata()
        np.testing.assert_array_equal(shown, path[: len(shown)])
        assert_holds(ax, shown)
        assert ax.get_legend() is None
    fig = axes[0].figure
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:3] == list(paths)  # the series first, each once
    assert "SGD, lr 0.6: diverged at step 3" not in labels
    assert "diverged at step 3" in labels and labels.count("start") == 1
    assert fig.get_size_inches()[1] <= 5.2


def test_contour_grid_with_one_objective_per_panel():
    aligned, turned = objectives.quadratic((1.0, 10.0)), objectives.quadratic((1.0, 10.0),
                                                                              angle=np.pi / 4)
    paths = {"aligned": gradient_descent(aligned, [-4, 1.5], 0.1, 10),
             "turned": gradient_descent(turned, [-4, 1.5], 0.1, 10)}
    axes = plotting.contour_grid({"aligned": aligned, "turned": turned}, paths, levels=6)
    assert axes[0].get_xlim() == axes[1].get_xlim()
    assert tuple(axes[0].collections[0].levels) == tuple(axes[1].collections[0].levels)
    with pytest.raises(ValueError, match="same labels"):
        plotting.contour_grid({"aligned": aligned}, paths)


def test_comparison_grid_legends_and_same_limits():
    def panel(scale):
        def draw(ax):
            ax.plot([0, 1], [0, scale], label="up")
            ax.plot([0, 1], [scale, 0], label="down")
        return draw

    axes = plotting.comparison_grid({"a": panel(1), "b": panel(5)}, same_limits=True)
    assert axes[0].get_ylim() == axes[1].get_ylim() and axes[0].get_ylim()[1] >= 5
    assert [t.get_text() for t in axes[0].figure.legends[0].get_texts()] == ["up", "down"]
    axes = plotting.comparison_grid({"a": panel(1), "b": panel(5)}, legend_place="each")
    assert all(ax.get_legend() is not None for ax in axes) and not axes[0].figure.legends
    with pytest.raises(ValueError, match="legend_place"):
        plotting.comparison_grid({"a": panel(1)}, legend_place="left")


def test_schedule_plot_draws_piecewise_constant_schedules_as_steps():
    step_lr = [0.1] * 5 + [0.01] * 5
    ax = plotting.schedule_plot({"step": step_lr, "cosine": lambda t: 0.1 * (t < 9)}, 10,
                                piecewise=["step"])
    stair = line(ax, "step")
    assert stair.get_drawstyle() == "steps-post"
    np.testing.assert_array_equal(stair.get_xdata(), np.arange(11))  # update 9 lasts to 10
    assert line(ax, "cosine").get_drawstyle() == "default"
    with pytest.raises(ValueError, match="piecewise names"):
        plotting.schedule_plot({"a": [1.0]}, 1, piecewise=["b"])


def test_bar_chart_colours_optimizers_and_slants_long_labels():
    ax = plotting.bar_chart({"SGD": 1.0, "Adam": 2.0, "RMSprop": 3.0})
    colors = [p.get_facecolor() for p in ax.patches]
    from matplotlib.colors import to_rgba
    assert colors == [to_rgba(plotting.OPTIMIZER_COLORS[k]) for k in ("sgd", "adam", "rmsprop")]
    assert ax.get_xticklabels()[0].get_rotation() == 0
    assert [t.get_text() for t in ax.get_xticklabels()] == ["SGD", "Adam", "RMSprop"]
    for count, slanted in ((4, False), (12, True)):
        long = {f"an optimizer with a long name {i}": float(i + 1) for i in range(count)}
        ax = plotting.bar_chart(long)
        ax.figure.canvas.draw()
        labels = ax.get_xticklabels()
        if slanted:  # too many to wrap side by side: slanted
            assert all(t.get_rotation() > 0 for t in labels)
        else:  # wrapped onto several lines, side by side without overlapping
            assert all(t.get_rotation() == 0 and "\n" in t.get_text() for t in labels)
            boxes = [t.get_window_extent() for t in labels]
            assert not any(overlap(a, b) for a, b in zip(boxes, boxes[1:], strict=False))


def test_grouped_bars_mark_exact_zeros_on_a_log_axis():
    groups = {"sgd": {"torch": 0.0, "array": 2e-13}, "adam": {"torch": 0.0, "array": 5e-14}}
    ax = plotting.grouped_bars(groups, log=True, lines={"target $10^{-10}$": 1e-10},
                               ylabel="worst relative deviation", xlabel="algorithm")
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [5e-14, 2e-13]  # no invented bar for the zeros
    assert legend_labels(ax) == ["torch", "array", "target $10^{-10}$",
                                 "exactly 0 (no bar on a log axis)"]  # series, lines, marks
    assert "target $10^{-10}$" in legend_labels(ax)
    assert len(ax.collections[0].get_offsets()) == 2  # one marker per zero
    with pytest.raises(ValueError, match="log=True needs values >= 0"):
        plotting.grouped_bars({"a": {"x": -1.0}}, log=True)


def test_grouped_bars_write_numbers_and_draw_intervals():
    groups = {"n = 1": {"sampled": 0.5, "2^-n": 0.5}, "n = 2": {"sampled": 0.146, "2^-n": 0.25}}
    ax = plotting.grouped_bars(groups, fmt="{:.2g}",
                               intervals={"n = 2": {"sampled": (0.14, 0.15)}})
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0.15", "0.25", "0.5", "0.5"]
    caps = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    assert len(caps) == 1
    segment = caps[0].lines[2][0].get_segments()[0]
    np.testing.assert_allclose(segment[:, 1], [0.14, 0.15])
    with pytest.raises(ValueError, match="must contain the value"):
        plotting.grouped_bars(groups, intervals={"n = 2": {"sampled": (0.2, 0.3)}})


def test_rate_heatmap_greys_out_divergence():
    lrs, betas = np.linspace(0.1, 1.0, 10), np.linspace(0.0, 0.9, 4)
    rates = 0.5 + lrs[None, :] * (1 - betas[:, None] / 2)  # >= 1 in a corner
    ax = plotting.rate_heatmap(lrs, betas, rates, marks={"best": (0.1, 0.0), "other": (0.5, 0.3)})
    mesh = ax.collections[0]
    assert np.array_equal(np.ma.getmaskarray(mesh.get_array()).reshape(rates.shape),
                          rates >= 1.0)
    labels = legend_labels(ax)
    assert labels[:2] == ["rate ≥ 1: diverges", "rate = 1"] and "best" in labels
    with pytest.raises(ValueError, match="shape"):
        plotting.rate_heatmap(lrs, betas, rates.T)


def test_eigen_components_against_the_geometric_prediction():
    z0, c = np.array([-4.0, 1.5]), np.array([0.85, -0.5])  # 1 - 0.15 * (1, 10)
    z = z0 * c ** np.arange(11)[:, None]
    z[10, 1] = 0.0  # an exact zero has no place on a log axis
    ax = plotting.eigen_components(z, factors=c, eigenvalues=[1, 10])
    assert ax.get_yscale() == "log"
    first = line(ax, r"$|z_{1}|$, $\lambda_{1} = 1$")
    np.testing.assert_allclose(first.get_ydata(), 4 * 0.85 ** np.arange(11))
    assert len(line(ax, r"$|z_{2}|$, $\lambda_{2} = 10$").get_xdata()) == 10
    prediction = line(ax, r"prediction $|c_i|^k\,|z_{i,0}|$")
    np.testing.assert_allclose(prediction.get_ydata(), 4 * 0.85 ** np.arange(11))
    with pytest.raises(ValueError, match="factors must hold 2"):
        plotting.eigen_components(z, factors=[0.5])


def test_tables_align_and_round():
    text = plotting.format_table({"sgd": {"lr": 0.1, "loss": 0.0123456, "ok": True},
                                  "adam": {"lr": 0.001, "loss": 3.2e-9, "ok": False}},
                                 index="optimizer")
    assert text.splitlines() == [
        "optimizer     lr     loss  ok",
        "---------  -----  -------  ---",
        "sgd          0.1  0.01235  yes",
        "adam       0.001  3.2e-09  no",
    ]
    text = plotting.format_table([{"k": 1, "x": 2.0}], formats={"x": ".3f"})
    assert text.splitlines()[-1] == "1  2.000"
    assert plotting.format_number(-0.0) == "-0" and plotting.format_number(None) == ""
    with pytest.raises(ValueError, match="formats names columns"):
        plotting.format_table([{"a": 1}], formats={"b": ".2f"})
    with pytest.raises(ValueError, match="must not be empty"):
        plotting.format_table([])


def test_table_prints(capsys):
    plotting.table([{"step": 3, "loss": 0.5}])
    assert capsys.readouterr().out == "step  loss\n----  ----\n   3   0.5\n"


def test_loss_curves_draw_labelled_reference_lines():
    ax = plotting.loss_curves({"Adadelta, lr = 1": [1.0, 0.1, 0.01]}, log=True,
                              lines={"stability limit 2/4": 0.5, "floor": 1e-3})
    drawn = {line.get_label(): line for line in ax.get_lines()}
    assert list(drawn["stability limit 2/4"].get_ydata()) == [0.5, 0.5]
    assert drawn["stability limit 2/4"].get_linestyle() == "--"
    assert drawn["floor"].get_linestyle() == ":"
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"stability limit 2/4", "floor"}
    with pytest.raises(ValueError, match="lines"):
        plotting.loss_curves({"a": [1.0, 2.0]}, lines={"bad": float("nan")})
    with pytest.raises(ValueError, match="lines"):
        plotting.loss_curves({"a": [1.0, 2.0]}, log=True, lines={"zero": 0.0})
    plt.close("all")


def test_whole_step_ticks_do_not_crowd_a_narrow_axis():
    # 2000 examples on a 4-inch axis: matplotlib's own number of ticks, not ten 4-digit labels
    fig, ax = plt.subplots(figsize=(4.0, 3.0), layout="constrained")
    plotting.loss_curves({"SGD": np.linspace(1, 0, 41)}, x=np.arange(0, 2001, 50), ax=ax)
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 0 <= t <= 2000]
    assert all(t == int(t) for t in ticks)
    assert len(ticks) <= 6
    labels = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
    assert all(a.x1 < b.x0 for a, b in zip(labels, labels[1:], strict=False))
    plt.close(fig)


def test_scatter_colours_groups_by_optimizer_and_checks_its_input():
    from matplotlib.colors import to_rgba

    xs, ys = np.array([0.1, 0.5, 0.9]), np.array([3.0, 1.0, 0.5])
    ax = plotting.scatter({"Adagrad": (xs, ys), "SGD": (xs, 2 * ys)}, xlabel="share",
                          ylabel="multiplier", logy=True)
    first, second = ax.collections[0], ax.collections[1]
    np.testing.assert_array_equal(first.get_offsets(), np.column_stack([xs, ys]))
    assert tuple(first.get_facecolor()[0][:3]) == to_rgba(plotting.OPTIMIZER_COLORS["adagrad"])[:3]
    assert tuple(second.get_facecolor()[0][:3]) == to_rgba(plotting.OPTIMIZER_COLORS["sgd"])[:3]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "share"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Adagrad", "SGD"]
    with pytest.raises(ValueError, match="same"):
        plotting.scatter({"a": ([1.0, 2.0], [1.0])})
    with pytest.raises(ValueError, match="logy"):
        plotting.scatter({"a": ([1.0, 2.0], [1.0, 0.0])}, logy=True)
    with pytest.raises(TypeError, match="pair"):
        plotting.scatter({"a": [1.0, 2.0, 3.0]})
    plt.close("all")


def test_interval_chart_draws_each_interval_in_order_with_its_number():
    rows = {"Adam": (0.017, 0.013, 0.021), "SGD": (0.19, 0.15, 0.23),
            "Adam, beta1 = 0": (0.074, 0.070, 0.079)}
    ax = plotting.interval_chart(rows, xlabel="final loss", log=True, fmt="{:.3f}",
                                 lines={"no effect": 0.1})
    assert_readable(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(rows)  # top to bottom
    whiskers = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2
                and ln.get_label().startswith("_")]
    for (_, low, high), whisker in zip(rows.values(), whiskers, strict=True):
        np.testing.assert_allclose(whisker.get_xdata(), [low, high])
    assert sorted(t.get_text() for t in ax.texts) == ["0.017", "0.074", "0.190"]
    assert legend_labels(ax) == ["no effect"]
    assert ax.get_xscale() == "log"
    assert all("times" not in t.get_text() and "^" not in t.get_text()
               for t in ax.get_xticklabels())  # plain numbers on the log axis
    colors = plotting.colors_for(rows)
    assert whiskers[0].get_color() == colors["Adam"] != colors["Adam, beta1 = 0"]


def test_interval_chart_refuses_bad_intervals():
    with pytest.raises(ValueError, match="must contain the mean"):
        plotting.interval_chart({"a": (1.0, 2.0, 3.0)})
    with pytest.raises(ValueError, match="log=True needs every value > 0"):
        plotting.interval_chart({"a": (1.0, -1.0, 3.0)}, log=True)
    with pytest.raises(TypeError, match="mean, low, high"):
        plotting.interval_chart({"a": 1.0})


def test_mean_and_interval_shades_the_student_t_interval():
    runs = {"SGD": np.array([[1.0, 4.0], [2.0, 5.0], [3.0, 9.0]])}
    ax = plotting.mean_and_interval(runs, xlabel="epoch", ylabel="loss")
    assert_readable(ax)
    np.testing.assert_allclose(line(ax, "SGD").get_ydata(), [2.0, 6.0])
    band = ax.collections[0].get_paths()[0].vertices
    half = 4.302652729911275 / np.sqrt(3)  # t(0.975, 2), from a t table
    sd = np.array([1.0, np.std([4.0, 5.0, 9.0], ddof=1)])
    assert band[:, 1].max() == pytest.approx(6.0 + half * sd[1])
    assert band[:, 1].min() == pytest.approx(min(2.0 - half * sd[0], 6.0 - half * sd[1]))
    assert any("95% interval of the mean of 3 runs" in label for label in legend_labels(ax))


def test_mean_and_interval_on_a_log_axis_uses_geometric_means():
    runs = {"Adam": np.array([[1.0, 0.01], [1.0, 1.0]])}
    ax = plotting.mean_and_interval(runs, log=True)
    np.testing.assert_allclose(line(ax, "Adam").get_ydata(), [1.0, 0.1])
    assert ax.collections[0].get_paths()[0].vertices[:, 1].min() > 0
    assert any("geometric mean" in label for label in legend_labels(ax))
    with pytest.raises(ValueError, match="runs >= 2"):
        plotting.mean_and_interval({"Adam": np.ones((1, 3))})


def test_mean_and_range_takes_one_x_per_setting():
    runs = {"Adam": np.array([[1.0, 0.5, 0.2], [1.0, 0.4, 0.3]]),
            "Adadelta": np.array([[1.0, 0.6], [1.0, 0.7]])}
    ax = plotting.mean_and_range(runs, x={"Adam": [0.1, 1.0, 10.0], "Adadelta": [1.0, 10.0]})
    np.testing.assert_allclose(line(ax, "Adadelta").get_xdata(), [1.0, 10.0])
    assert line(ax, "Adam").get_linestyle() != line(ax, "Adadelta").get_linestyle()
    with pytest.raises(ValueError, match="same keys"):
        plotting.mean_and_range(runs, x={"Adam": [0.1, 1.0, 10.0]})


# -- marks, reference lines and the other options the chapters use -----------------------------


@pytest.mark.parametrize("draw", [
    lambda marks: plotting.curves_1d({"f": objectives.square()}, marks=marks),
    lambda marks: plotting.contour_2d(objectives.bowl(), marks=marks),
])
def test_marks_are_drawn_at_their_points_and_named_in_the_legend(draw):
    marks = {"exact step": (0.5, 0.25), "backtracking's step": (-1.0, 1.0)}
    ax = draw(marks)
    for key, (x, y) in marks.items():
        mark = line(ax, key)
        assert list(mark.get_xdata()) == [x] and list(mark.get_ydata()) == [y]
        assert mark.get_linestyle() == "None" and mark.get_marker() not in ("", "None", None)
    assert line(ax, "exact step").get_marker() != line(ax, "backtracking's step").get_marker()
    assert set(legend_labels(ax)) >= set(marks)


@pytest.mark.parametrize(("marks", "match"), [
    ({"a": (1.0,)}, r"marks\['a'\] must be a point"),
    ({"a": (1.0, np.nan)}, r"marks\['a'\] must be finite"),
    ({"a": "xy"}, r"marks\['a'\] must be a point"),
])
def test_bad_marks_raise_naming_the_mark(marks, match):
    with pytest.raises(ValueError, match=match):
        plotting.curves_1d({"f": objectives.square()}, marks=marks)
    with pytest.raises(ValueError, match=match):
        plotting.contour_2d(objectives.bowl(), marks=marks)


def test_curves_1d_applies_ylim():
    ax = plotting.curves_1d({"f": objectives.square()}, domain=(-4, 4), ylim=(0, 5))
    assert ax.get_ylim() == (0.0, 5.0)
    with pytest.raises(ValueError, match="ylim"):
        plotting.curves_1d({"f": objectives.square()}, ylim=(5, 0))


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("lines", [None, {"long-run step 0.1": 0.1}])
def test_loss_curves_draw_labelled_vertical_lines_at_their_x(log, lines):
    ax = plotting.loss_curves({"SGD": [1.0, 0.5, 0.2, 0.1]}, log=log, lines=lines,
                              vlines={"lr drops": 1.5, "unfrozen": 2})
    drop, unfrozen = line(ax, "lr drops"), line(ax, "unfrozen")
    assert list(drop.get_xdata()) == [1.5, 1.5] and list(unfrozen.get_xdata()) == [2, 2]
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"lr drops", "unfrozen"}
    styles = [line(ax, key).get_linestyle() for key in [*(lines or {}), "lr drops", "unfrozen"]]
    assert len(set(styles)) == len(styles)  # every reference line has its own dashes
    legend = ax.get_legend()
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    assert not overlap(legend.get_window_extent(renderer), ax.get_window_extent(renderer))


@pytest.mark.parametrize(("options", "match"), [
    ({"vlines": {"drop": float("nan")}}, r"vlines\['drop'\] must be a finite number"),
    ({"vlines": {"drop": True}}, r"vlines\['drop'\]"),
    ({"vlines": {"drop": 0.0}, "logx": True}, r"vlines\['drop'\] = 0.0"),
    ({"points": ["other"]}, "points names series that are not drawn"),
    ({"points": "SGD"}, "points must be a list"),
    ({"xticks": [0.0, np.inf]}, "xticks must be finite"),
])
def test_loss_curves_refuse_bad_options(options, match):
    with pytest.raises(ValueError, match=match):
        plotting.loss_curves({"SGD": [1.0, 0.5, 0.2]}, x=[1.0, 2.0, 3.0], **options)


def test_loss_curves_draw_points_as_markers_only_and_take_xticks():
    ax = plotting.loss_curves({"predicted": [1.0, 2.0, 4.0], "measured": [1.0, 2.0, 4.0]},
                              x=[1.0, 10.0, 100.0], logx=True, points=["measured"],
                              xticks=[1.0, 10.0, 100.0])
    measured = line(ax, "measured")
    assert measured.get_linestyle() == "None" and measured.get_marker() not in ("", "None")
    assert line(ax, "predicted").get_linestyle() == "-"
    assert ax.get_xscale() == "log" and list(ax.get_xticks()) == [1.0, 10.0, 100.0]


def test_contour_2d_takes_axis_labels_and_draws_labelled_arrows():
    f = objectives.bowl()
    ax = plotting.contour_2d(f, xlabel="a", ylabel="b",
                             arrows={"$q_1$": ((0, 0), (6, 0)), "$q_2$": ((0, 0), (0, -3))})
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("a", "b")
    heads = [tuple(a.xy) for a in ax.texts if hasattr(a, "arrow_patch")]
    assert heads == [(6.0, 0.0), (0.0, -3.0)]
    names = {t.get_text(): t.get_position() for t in ax.texts if not hasattr(t, "arrow_patch")}
    assert names["$q_1$"][0] > 6 and names["$q_2$"][1] < -3  # just beyond each head
    assert_holds(ax, [names["$q_1$"], names["$q_2$"]])  # the window grew to hold them
    ax.figure.canvas.draw()
    inside = ax.get_window_extent()
    for text in ax.texts:  # each label grows into the window, not out of it
        box = text.get_window_extent()
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, text.get_text()
    for bad in ({"q": ((0, 0), (0, 0))}, {"q": ((0, 0), (1, np.nan))}, {"q": (1, 2)}):
        with pytest.raises(ValueError, match=r"arrows\['q'\]"):
            plotting.contour_2d(f, arrows=bad)


def test_comparison_grid_sets_the_columns_of_its_legend():
    def draw(ax):
        for i in range(4):
            ax.plot([0, 1], [i, i], label=f"line {i}")

    axes = plotting.comparison_grid({"a": draw, "b": draw}, legend_ncols=4)
    assert axes[0].figure.legends[0]._ncols == 4
    axes = plotting.comparison_grid({"a": draw}, legend_place="each", legend_ncols=2)
    assert axes[0].get_legend()._ncols == 2
    with pytest.raises(ValueError, match="legend_ncols"):
        plotting.comparison_grid({"a": draw}, legend_ncols=0)


def test_image_row_shows_one_image_per_item_with_its_title():
    images = {f"label {d}": np.full((8, 8), d / 9) for d in range(3)}
    axes = plotting.image_row(images, title="Digits", limits=(0, 1))
    assert len(axes) == 3 and axes[0].figure._suptitle.get_text() == "Digits"
    for (key, pixels), ax in zip(images.items(), axes, strict=True):
        [shown] = ax.get_images()
        assert ax.get_title() == key and shown.get_clim() == (0, 1)
        np.testing.assert_array_equal(shown.get_array(), pixels)
    for bad, match in (({"a": np.zeros(8)}, r"images\['a'\] must be a 2-D"), ({}, "images"),
                       ({"a": np.zeros((2, 2))}, "title")):
        with pytest.raises(ValueError, match=match):
            plotting.image_row(bad, title="" if match == "title" else "t")


def test_mean_and_range_on_a_log_x_axis_with_a_reference_line():
    runs = {"Adam": np.array([[2.0, 1.0, 3.0], [2.5, 0.8, 3.2]])}
    ax = plotting.mean_and_range(runs, x=[1e-3, 1e-2, 1e-1], logx=True,
                                 lines={"ln 10: nothing learned": 2.3})
    assert ax.get_xscale() == "log"
    assert list(line(ax, "ln 10: nothing learned").get_ydata()) == [2.3, 2.3]
    assert "ln 10: nothing learned" in legend_labels(ax)


@pytest.mark.parametrize("eigenvalues", [[2.0, 4.0], [0.2, 4.0], [1.0, 10.0]])
def test_region_names_of_the_momentum_map_overlap_neither_each_other_nor_the_optimum(
        eigenvalues):
    from course_lib import explorations
    from course_lib.plotting import explorers

    m = explorations.momentum_map(eigenvalues, 1.0, momentum_max=0.95, resolution=90)
    figure = explorers.momentum_figure(*_momentum_frame(m, eigenvalues))
    ax = figure.axes[1]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    names = [t for t in ax.texts if t.get_text() in explorers.REGION_NAMES.values()]
    assert {t.get_text() for t in names} >= {"diverges", "complex roots: ρ = √β"}
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in names]
    assert all(not overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    star = [ln for ln in ax.get_lines() if ln.get_label().startswith("optimum")][0]
    x, y = ax.transData.transform((star.get_xdata()[0], star.get_ydata()[0]))
    assert not any(b.x0 <= x <= b.x1 and b.y0 <= y <= b.y1 for b in boxes)
    assert all(ax.get_window_extent(renderer).contains(b.x0, b.y0) and
               ax.get_window_extent(renderer).contains(b.x1, b.y1) for b in boxes)
    plt.close(figure)


def _momentum_frame(rate_map, eigenvalues):
    """(frame, objective, map, diverged step) of the momentum explorer's picture."""
    from course_lib import explorations

    f = objectives.quadratic(tuple(eigenvalues))
    frame = explorations.momentum_frame(f, (-5.0, -2.0), 0.1, 0.0, steps=30)
    return frame, f, rate_map, None
