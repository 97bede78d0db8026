"""The explorers without a browser: their sliders drive the marks, the read-outs say what the
math says, paths stay in view or are marked diverged, and every output stores a picture.

The browser tests (tests/browser/test_explorers.py) drag the same explorers in JupyterLab;
these run everywhere, in one process (setting a slider's value calls the explorer at once).
"""

from __future__ import annotations

import base64
import importlib.util
import math
import pathlib

import ipywidgets
import nbformat
import numpy as np
import pytest

from course_lib import (
    conditioning,
    explorations,
    momentum_analysis,
    objectives,
    schedules,
    widgets,
)
from course_lib.plotting import explorers as pictures
from course_lib.widgets import base

ROOT = pathlib.Path(__file__).resolve().parents[1]

MAKERS = {
    "conditioning": lambda: widgets.conditioning_explorer(),
    "minibatch": lambda: widgets.minibatch_explorer(time_updates=2, samples=50),
    "momentum": lambda: widgets.momentum_explorer(),
    "adaptive": lambda: widgets.adaptive_explorer(),
    "schedule": lambda: widgets.schedule_explorer(background=False),
}


@pytest.fixture(scope="module")
def explorers():
    return {name: make() for name, make in MAKERS.items()}


SLIDERS = (ipywidgets.FloatSlider, ipywidgets.FloatLogSlider, ipywidgets.IntSlider,
           ipywidgets.SelectionSlider)


def sliders(explorer):
    return [w for w in _all(explorer) if isinstance(w, SLIDERS)]


@pytest.mark.parametrize("name", list(MAKERS))
def test_the_output_holds_the_widget_a_picture_and_one_line(explorers, name):
    bundle = explorers[name]._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png",
                           "application/vnd.jupyter.widget-view+json"}
    png = base64.b64decode(bundle["image/png"])
    width, height = pictures.png_size(png)
    assert width >= 700 and 250 <= height <= 600
    text = bundle["text/plain"]
    assert "explorer" in text.lower() and "interactive(" not in text and "\n" not in text
    assert " ms" not in text and "seconds" not in text          # no timings in compared text


@pytest.mark.parametrize("name", list(MAKERS))
def test_every_slider_updates_while_dragged_and_every_view_is_marked(explorers, name):
    explorer = explorers[name]
    found = sliders(explorer)
    assert found and all(s.continuous_update for s in found)
    views = [w for w in _all(explorer) if base.VIEW_CLASS in w._dom_classes]
    assert len(views) >= 3 and base.EXPLORER_CLASS in explorer._dom_classes


def _all(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _all(child)


def window(panel):
    return (panel.x.min, panel.x.max), (panel.y.min, panel.y.max)


def test_conditioning_follows_the_slider_and_marks_divergence():
    ui = widgets.conditioning_explorer(lr=0.15)
    assert ui.frame.rate == pytest.approx(0.85)
    assert "0.850" in ui.readout.value and "0.200" in ui.readout.value   # ρ and 2/λ_max
    assert list(ui.marker.x) == [0.15]
    ui.lr.value = 0.19
    assert ui.frame.rate == pytest.approx(0.9) and list(ui.marker.x) == [0.19]
    assert ui.diverged_at is None and not ui.paths.diverged.visible
    ui.lr.value = 0.22
    k = ui.diverged_at
    expected = explorations.conditioning_frame(ui.objective, ui.start, 0.22, 30)
    assert k is not None and len(ui.paths.path.x) == k                   # drawn up to k − 1
    np.testing.assert_allclose(ui.paths.path.x, expected.path.points[:k, 0])
    assert ui.paths.diverged.visible and ui.paths.diverged_label.text == [
        f"diverged at step {k}"]
    assert f"diverged at step {k}" in ui.readout.value
    # the components go on past the step the path left (here all 30 steps: 1.2^30 < 1e6),
    # the unstable one rising by |1 - 0.22 x 10| = 1.2 per step
    drawn = ui.measured.y
    assert drawn.shape[1] == 31 and drawn[1, -1] > 100 * drawn[1, 0]
    rises = drawn[1, 1:] / drawn[1, :-1]
    np.testing.assert_allclose(rises, abs(1 - 0.22 * 10), rtol=1e-9)


@pytest.mark.parametrize(("lr", "beta"), [(0.6, 0.5), (0.9, 0.5), (0.3, 0.9), (0.05, 0.0)])
def test_the_path_panel_holds_the_path_at_equal_aspect(lr, beta):
    ui = widgets.momentum_explorer(lr=lr, momentum=beta)
    (x_low, x_high), (y_low, y_high) = window(ui.paths)
    drawn = np.column_stack([ui.paths.path.x, ui.paths.path.y])
    assert np.all((drawn[:, 0] >= x_low) & (drawn[:, 0] <= x_high))
    assert np.all((drawn[:, 1] >= y_low) & (drawn[:, 1] <= y_high))
    width, height = base.plot_area(ui.paths.size)
    assert (x_high - x_low) / width == pytest.approx((y_high - y_low) / height)


def test_momentum_read_outs_and_views_follow_the_sliders():
    f = objectives.stretched_bowl()
    ui = widgets.momentum_explorer(f, lr=0.6, momentum=0.5)
    best = momentum_analysis.optimal_heavy_ball(f)
    assert f"η* {best.lr:.3f}, β* {best.momentum:.3f}" in ui.readout.value
    assert "rate ρ <b>0.707</b>" in ui.readout.value                    # √0.5
    ui.lr.value, ui.momentum.value = round(best.lr, 2), round(best.momentum, 2)
    assert list(ui.marker.x) == [round(best.lr, 2)]
    assert ui.frame.steps_predicted == conditioning.steps_at_rate(ui.frame.rate, 1e-6)
    assert not ui.paths.extra[0].visible and not ui.predicted.visible
    ui.noise.value = 1.0
    assert ui.paths.extra[0].visible and ui.predicted.visible
    floor = momentum_analysis.noise_floor(f, ui.lr.value, ui.momentum.value, 1.0)
    assert f"noise floor E[f] <b>{floor:.3g}</b>" in ui.readout.value
    ui.momentum.value, ui.lr.value, ui.noise.value = 0.0, 0.9, 0.0          # past 2/λ_max
    assert ui.diverged_at is not None and "diverged at step" in ui.readout.value


def test_momentum_map_marks_the_optimum_and_the_regions():
    ui = widgets.momentum_explorer()
    best = ui.map.optimum
    stars = [m for m in ui.map_figure.marks if getattr(m, "marker", None) == "diamond"]
    assert [list(s.x) for s in stars] == [[best.lr]]
    labels = [m for m in ui.map_figure.marks if m.__class__.__name__ == "Label"][0]
    assert set(labels.text) >= {"complex roots: ρ = √β", "diverges"}


def test_adaptive_explorer_swaps_sliders_surfaces_and_state():
    ui = widgets.adaptive_explorer("Adam", "rotated quadratic")
    labels = [s.description for s in ui.hyper_box.children]
    assert labels == ["learning rate η", "β₁ (betas[0])", "β₂ (betas[1])", "eps ε"]
    ui.sliders["Adam"]["beta2"].value = 0.99
    assert ui.settings() == ("adam", {"lr": 0.1, "betas": (0.9, 0.99), "eps": 1e-8})
    assert ui.frame.hyperparams["betas"] == (0.9, 0.99)
    assert all(mark.visible for mark in ui.state_lines) and not ui.no_state.visible
    assert ui.state_lines[0].y.shape[0] == 2                      # exp_avg, exp_avg_sq
    ui.optimizer.value = "Adagrad"
    assert [s.description for s in ui.hyper_box.children] == ["learning rate η", "eps ε"]
    assert sorted(ui.frame.path.states) == ["sum"]
    ui.optimizer.value = "SGD (momentum)"
    assert not any(mark.visible for mark in ui.state_lines) and ui.no_state.visible
    ui.surface.value = "Rosenbrock"
    assert ui.path_box.children[0] is ui.panels["Rosenbrock"].figure
    assert ui.frame.surface == "Rosenbrock"
    ui.sliders["SGD (momentum)"]["lr"].value = 0.5                # far too large here
    assert ui.diverged_at is not None and "diverged at step" in ui.readout.value


def test_every_optimizer_of_the_adaptive_explorer_runs_with_its_sliders():
    from course_lib.widgets import adaptive

    adaptive._check_rules()
    ui = widgets.adaptive_explorer()
    for name in adaptive.OPTIMIZERS:
        ui.optimizer.value = name
        assert ui.frame.path.points.shape == (101, 2)


def test_schedule_explorer_curve_is_the_schedule_and_loss_is_the_run():
    ui = widgets.schedule_explorer(decay="cosine", warmup=6, peak=0.5, background=False)
    total = explorations.schedule_updates()
    ui.warmup.value = 10
    expected = schedules.warmup_decay(0.5, total, warmup_steps=10, final_lr=0.005)
    np.testing.assert_allclose(ui.curve.y, expected.values(total))
    run = explorations.schedule_training(expected)
    np.testing.assert_allclose(ui.loss.y, run.loss)
    assert f"{run.loss[-1]:.4f}" in ui.readout.value
    ui.restarts.value = 2
    assert ui.key() == ("cosine", 10, 0.5, 2)
    assert ("cosine", 10, 0.5, 2) in ui.trainings.cache
    ui.decay.value = "step"
    assert np.count_nonzero(np.diff(ui.curve.y[10:]) > 0) == 2    # restarts go back up


def test_schedule_explorer_trains_in_the_background_and_keeps_each_run():
    ui = widgets.schedule_explorer(background=True)
    ui.warmup.value = ui.warmup.value + 1
    ui.wait()
    key = ui.key()
    assert key in ui.trainings.cache
    assert ("cosine", key[1] + 1, 0.5, 0) in ui.trainings.cache      # trained ahead
    run = ui.trainings.cache[key]
    np.testing.assert_allclose(ui.loss.y, run.loss)


def test_a_drag_through_settings_trained_ahead_keeps_training_ahead():
    """Each movement asks for the next setting, also when its own was ready (before, every
    other movement of a drag found its setting untrained)."""
    ui = widgets.schedule_explorer(background=True)
    start = ui.warmup.value
    for step in range(1, 4):
        ui.warmup.value = start + step
        ui.wait()
        assert ("cosine", start + step + 1, 0.5, 0) in ui.trainings.cache, step


def test_minibatch_explorer_shows_the_frame_of_the_batch_size():
    ui = widgets.minibatch_explorer(10, time_updates=2, samples=80)
    ui.batch_size.value = 100
    frame = ui.frames[100]
    np.testing.assert_array_equal(ui.cloud.x, frame.samples[:, 0])
    assert frame.noise == pytest.approx(frame.spread / 100 * 1400 / 1499)
    assert "15" in ui.readout.value
    ui.batch_size.value = 1500
    assert "0 (the batch is the whole data set)" in ui.readout.value


@pytest.mark.parametrize(("call", "match"), [
    (lambda: widgets.adaptive_explorer("Adamm"), "optimizer"),
    (lambda: widgets.adaptive_explorer("Adam", "volcano"), "surface"),
    (lambda: widgets.adaptive_explorer("Adagrad", beta1=0.5), "slider"),
    (lambda: widgets.minibatch_explorer(7), "batch_size"),
    (lambda: widgets.momentum_explorer(lr=2.0), "lr"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_outputs_survive_execute_notebooks_and_become_pictures_on_static_pages(tmp_path):
    """tools/execute_notebooks.py runs without nbclient's widget emulation and strips widget
    state: each explorer output keeps its picture, and the slides' and site's reader keeps
    only the picture."""
    spec = importlib.util.spec_from_file_location("execute_notebooks",
                                                  ROOT / "tools" / "execute_notebooks.py")
    execute_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(execute_notebooks)
    from slides.static_outputs import static_outputs

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from course_lib import objectives, widgets"),
                nbformat.v4.new_code_cell("widgets.conditioning_explorer()"),
                nbformat.v4.new_code_cell("widgets.momentum_explorer(noise=0.5)"),
                nbformat.v4.new_code_cell(
                    'widgets.trajectory_explorer(objectives.square(), "sgd", 10.0, 10,'
                    ' sliders={"lr": (0.01, 1.2, 0.01, 0.2)})')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "explorers.ipynb"
    nbformat.write(nb, path)
    execute_notebooks.execute(path)
    done = nbformat.read(path, as_version=4)
    assert "widgets" not in done.metadata
    for cell in done.cells[1:]:
        (output,) = cell.outputs
        assert {"image/png", "text/plain",
                "application/vnd.jupyter.widget-view+json"} <= set(output["data"])
        assert "explorer" in output["data"]["text/plain"]
    shown = static_outputs(done)
    for cell in shown.cells[1:]:
        assert set(cell.outputs[0]["data"]) == {"image/png"}


def test_the_old_slider_still_works():
    ui = widgets.trajectory_explorer(objectives.bowl(), "sgd", (-5.0, -2.0), 20,
                                     sliders={"lr": (0.05, 0.5, 0.05, 0.1)}, show=False)
    assert ui.result.points.shape == (21, 2)
    assert math.isclose(ui.result.learning_rates[0], 0.1)


def test_the_old_slider_stores_the_picture_it_shows():
    """The trajectory slider shows its path as a PNG inside the widget (no output of its
    own, so an executed cell holds one output) and stores that PNG beside the widget view;
    releasing a slider redraws it."""
    ui = widgets.trajectory_explorer(objectives.square(), "sgd", 10.0, 10,
                                     sliders={"lr": (0.01, 1.2, 0.01, 0.2)})
    assert ui.picture in ui.children and ui.out.outputs == ()
    bundle = ui._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png",
                           "application/vnd.jupyter.widget-view+json"}
    first = base64.b64decode(bundle["image/png"])
    assert first == ui.picture.value
    width, height = pictures.png_size(first)
    assert width >= 500 and 300 <= height <= 600
    assert bundle["text/plain"].startswith("Trajectory explorer: SGD: lr=0.2 (")
    assert "\n" not in bundle["text/plain"] and "interactive(" not in bundle["text/plain"]
    ui.children[0].value = 1.1                       # past 2/f'' = 1: diverges
    assert ui.picture.value != first and "lr=1.1" in ui._repr_mimebundle_()["text/plain"]
    assert abs(ui.result.final[0]) > 10.0            # |1 - 2 * 1.1| = 1.2 per step from 10
    quiet = widgets.trajectory_explorer(objectives.bowl(), "sgd", (-5.0, -2.0), 20,
                                        sliders={"lr": (0.05, 0.5, 0.05, 0.1)}, show=False)
    assert quiet.picture not in quiet.children      # show=False draws only when displayed
    assert pictures.png_size(base64.b64decode(quiet._repr_mimebundle_()["image/png"]))[0] > 0


def test_a_fast_diverging_run_shows_its_components_until_a_millionfold_growth():
    """Momentum at lr 0.9, beta 0.5 leaves the window at step 1; its eigencomponents are drawn
    until one is 1e6 times the start, so the growth at rate rho shows."""
    ui = widgets.momentum_explorer(lr=0.9, momentum=0.5)
    assert ui.diverged_at == 1
    drawn = ui.measured.y
    assert 2 < drawn.shape[1] < len(ui.frame.errors)
    assert drawn[:, -1].max() > 1e6 * drawn[:, 0].max() >= drawn[:, -2].max()
