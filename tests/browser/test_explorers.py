"""The explorers in a real browser: JupyterLab 4 runs them, and every slider is dragged.

JupyterLab serves copies of the chapters in :data:`NOTEBOOKS` from a temporary folder
(127.0.0.1, a token, a free port; stopped by its PID), and Debian's chromium opens each with
every request leaving the machine blocked. After all cells have run, every slider of every
explorer is dragged a few steps with the mouse held down, as a learner drags it, and each
drop-down and toggle is changed once (``tests/browser/lab_driver.py``). The tests then check
that the page stayed offline and error-free, that every movement updated the views while the
mouse was still down, and that each slider moved every view linked to it and the read-out.

The latency of each movement (pointer event to the last painted change) is written to
``dist/screenshots/explorers/latency.json``, beside a screenshot of each explorer; speed
targets live in ``benchmarks/explorer_latency.py``, never in assertions.
"""

from __future__ import annotations

import json
import pathlib
import statistics
import tempfile

import pytest

from .lab_driver import copy_notebooks, explore_notebook, install_hooks, jupyterlab

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHOTS = ROOT / "dist" / "screenshots" / "explorers"
#: The chapter each explorer is tested in (its home; chapter 04 shows the momentum explorer
#: too, and chapters 07 and 08 the adaptive one, with other starting values).
CHAPTERS = {
    "Conditioning explorer": "chapters/03_conditioning.ipynb",
    "Minibatch explorer": "chapters/05_minibatch_sgd.ipynb",
    "Momentum explorer": "chapters/06_momentum.ipynb",
    "Adaptive methods explorer": "chapters/10_adam.ipynb",
    "Schedule explorer": "chapters/11_lr_scheduling.ipynb",
}
#: Where each explorer is opened and run: the whole chapter runs in JupyterLab, then its
#: explorer is dragged.
NOTEBOOKS = CHAPTERS
#: The views a slider leaves alone (every other view must change while it is dragged).
UNMOVED = {("Momentum explorer", "gradient noise σ"): {"rate ρ over (η, β)"}}
#: How many values each slider is dragged through.
MOVEMENTS = 4


@pytest.fixture(scope="module")
def runs(offline_pages):
    """Every explorer of :data:`NOTEBOOKS` explored once: title -> ExplorerRun; plus the
    requests each notebook's page blocked and the errors it logged."""
    results, pages = {}, {}
    with tempfile.TemporaryDirectory(prefix="explorers_") as folder:
        served = pathlib.Path(folder)
        copy_notebooks(ROOT, sorted(set(NOTEBOOKS.values())), served)
        with jupyterlab(served) as lab:
            for notebook in sorted(set(NOTEBOOKS.values())):
                titles = [title for title, path in NOTEBOOKS.items() if path == notebook]
                page = offline_pages(width=1400, height=1000)
                try:
                    install_hooks(page)
                    results.update(explore_notebook(page, lab, notebook, titles,
                                                    movements=MOVEMENTS, shots=SHOTS))
                    pages[notebook] = (list(page.blocked_requests), list(page.console_errors))
                finally:
                    page.context.close()
    SHOTS.mkdir(parents=True, exist_ok=True)
    report = {title: {"median_ms": statistics.median(run.latencies),
                      "movements_ms": [round(ms, 1) for ms in run.latencies]}
              for title, run in results.items()}
    (SHOTS / "latency.json").write_text(json.dumps(report, indent=1))
    return results, pages


@pytest.mark.parametrize("notebook", sorted(set(NOTEBOOKS.values())))
def test_the_explorers_run_offline_without_errors(runs, notebook):
    _, pages = runs
    blocked, errors = pages[notebook]
    assert blocked == [], f"requests that left the machine: {blocked}"
    assert errors == [], f"errors in the page: {errors}"


@pytest.mark.parametrize("title", list(NOTEBOOKS))
def test_every_slider_moves_its_linked_views_while_dragged(runs, title):
    run = runs[0][title]
    assert run.sliders, f"{title}: no slider found"
    for slider in run.sliders:
        assert len(slider.drag.movements) >= 2, f"{title} / {slider.label}: the value barely moved"
        # each movement changed a view before the mouse was released
        assert all(m.changes > 0 for m in slider.drag.movements)
        expected = set(run.views) - UNMOVED.get((title, slider.label), set())
        missing = expected - slider.changed
        assert not missing, f"{title} / {slider.label}: these views did not change: {missing}"
        assert "read-out" in slider.changed


@pytest.mark.parametrize("title", list(NOTEBOOKS))
def test_every_choice_changes_the_views(runs, title):
    for choice in runs[0][title].choices:
        assert "read-out" in choice.changed or len(choice.changed) >= 1, (title, choice.label)
        assert len(choice.changed) >= 2, f"{title} / {choice.label}: only {choice.changed}"


def test_latency_is_recorded_for_every_explorer(runs):
    report = json.loads((SHOTS / "latency.json").read_text())
    assert set(report) == set(NOTEBOOKS)
    assert all(entry["movements_ms"] for entry in report.values())
