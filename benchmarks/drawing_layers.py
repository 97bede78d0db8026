"""Which drawing layer can follow a slider? One movement timed in a real browser, per layer.

    python benchmarks/drawing_layers.py [--movements 12] [--layers png ipympl bqplot anywidget]

The same momentum explorer (torch's momentum on d2l's stretched bowl; sliders for η and β;
linked views: the path on the contours, a marker on the (η, β) map of the spectral radius,
the error along each eigenvector against the step, and a read-out of ρ) is drawn four ways:

* ``png``: today's ``widgets.trajectory_explorer`` (``ipywidgets.interactive`` redrawing a
  matplotlib figure as a PNG, only on release; it has the path view only);
* ``ipympl``: one matplotlib figure in an ipympl canvas, line data updated in place and the
  canvas redrawn (``draw_idle``);
* ``bqplot``: three bqplot figures drawn by the browser (SVG), mark data updated in place;
* ``anywidget``: a small SVG front end of our own (anywidget ESM), data updated in place.

Each layer's notebook is run in JupyterLab 4 (127.0.0.1, a token, a free port) in Debian's
chromium with every request leaving the machine blocked and recorded. Then the η slider is
dragged, one step at a time, mouse held down (released after each step for ``png``, which
updates on release only), and each movement is timed from the pointer event to the last change
of the figure it caused, painted (``tests/browser/lab_driver.py``). The script prints the
median and the range per layer, and the requests it blocked. The layers not chosen for
``course_lib.widgets`` need ``pip install ipympl bqplot anywidget`` to be measured; a layer
whose package is missing is skipped with a line saying so.

Timings depend on the machine and its load; nothing here is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys
import tempfile
import textwrap

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/browser is the package `browser`
sys.path.insert(0, str(ROOT))

from browser import lab_driver  # noqa: E402

from slides.browser import chromium  # noqa: E402

SETUP = """\
import numpy as np
import ipywidgets
from course_lib import momentum_analysis, objectives, trajectories

f = objectives.stretched_bowl()
start, steps = (-5.0, -2.0), 40
lrs = np.linspace(0.01, 1.0, 100)
betas = np.linspace(0.0, 0.98, 99)
rho_map = np.minimum(momentum_analysis.spectral_radius(f, lrs[None, :], betas[:, None]), 1.2)


def compute(lr, beta):
    path = trajectories.run("sgd", f, start, steps, lr=lr, momentum=beta).points
    errors = np.abs([momentum_analysis.error_factors(lam, lr, beta, steps)
                     for lam in f.eigenvalues])
    errors = np.clip(errors, 1e-12, 1e6)
    return path, errors, momentum_analysis.spectral_radius(f, lr, beta)


def sliders():
    lr = ipywidgets.FloatSlider(0.3, min=0.01, max=1.0, step=0.01, description="lr",
                                continuous_update=True)
    beta = ipywidgets.FloatSlider(0.5, min=0.0, max=0.95, step=0.01, description="momentum",
                                  continuous_update=True)
    return lr, beta


def contour_lines(x_range, y_range, levels=12):
    import contourpy
    x, y = np.meshgrid(np.linspace(*x_range, 120), np.linspace(*y_range, 120))
    z = f.value_grid(x, y) if hasattr(f, "value_grid") else 0.1 * x**2 + 2 * y**2
    generator = contourpy.contour_generator(x, y, z, line_type="SeparateCode")
    lines = []
    for level in np.geomspace(0.05, z.max(), levels):
        lines.extend(segment for segment in generator.lines(level)[0])
    return lines
"""

LAYERS = {
    "png": ("ipywidgets", """\
from course_lib import widgets

ui = widgets.trajectory_explorer(f, "sgd", start=start, steps=steps,
                                 sliders={"lr": (0.01, 1.0, 0.01, 0.3),
                                          "momentum": (0.0, 0.95, 0.01, 0.5)})
ui.children[-1].add_class("explorer-views")
ui
"""),
    "ipympl": ("ipympl", """\
from ipympl.backend_nbagg import Canvas, FigureManager
from matplotlib.figure import Figure

lr, beta = sliders()
figure = Figure(figsize=(12, 3.6), dpi=80, layout="constrained")
canvas = Canvas(figure)
manager = FigureManager(canvas, 0)
canvas.header_visible = canvas.toolbar_visible = canvas.footer_visible = False
ax_path, ax_map, ax_err = figure.subplots(1, 3)
for segment in contour_lines((-6, 6), (-3, 3)):
    ax_path.plot(segment[:, 0], segment[:, 1], color="0.7", lw=1)
ax_path.set_aspect("equal")
(path_line,) = ax_path.plot([], [], "o-", color="#17becf", ms=3)
ax_map.imshow(rho_map, origin="lower", extent=(0.01, 1.0, 0.0, 0.98), aspect="auto")
(marker,) = ax_map.plot([], [], "w*", ms=12)
err_lines = [ax_err.semilogy(np.arange(steps + 1), np.ones(steps + 1))[0] for _ in range(2)]
ax_err.set_ylim(1e-12, 1e6)
readout = ipywidgets.HTML()
readout.add_class("explorer-views")
canvas.add_class("explorer-views")


def update(_=None):
    path, errors, rho = compute(lr.value, beta.value)
    path_line.set_data(path[:, 0], path[:, 1])
    marker.set_data([lr.value], [beta.value])
    for line, error in zip(err_lines, errors):
        line.set_ydata(error)
    readout.value = f"rate ρ = {rho:.3f}"
    canvas.draw_idle()


lr.observe(update, "value")
beta.observe(update, "value")
update()
ipywidgets.VBox([lr, beta, readout, canvas])
"""),
    "bqplot": ("bqplot", """\
import bqplot as bq

lr, beta = sliders()
x_scale, y_scale = bq.LinearScale(min=-6, max=6), bq.LinearScale(min=-3, max=3)
contours = [bq.Lines(x=s[:, 0], y=s[:, 1], scales={"x": x_scale, "y": y_scale},
                     colors=["#bbbbbb"]) for s in contour_lines((-6, 6), (-3, 3))]
path_line = bq.Lines(x=[0.0], y=[0.0], scales={"x": x_scale, "y": y_scale},
                     colors=["#17becf"], marker="circle", marker_size=16)
fig_path = bq.Figure(marks=[*contours, path_line], axes=[bq.Axis(scale=x_scale, label="x1"),
                     bq.Axis(scale=y_scale, orientation="vertical", label="x2")],
                     title="path", min_aspect_ratio=2, max_aspect_ratio=2,
                     layout=ipywidgets.Layout(width="420px", height="250px"))
lr_scale, beta_scale = bq.LinearScale(min=0.01, max=1.0), bq.LinearScale(min=0.0, max=0.98)
heat = bq.HeatMap(x=lrs, y=betas, color=rho_map,
                  scales={"x": lr_scale, "y": beta_scale, "color": bq.ColorScale()})
marker = bq.Scatter(x=[0.3], y=[0.5], scales={"x": lr_scale, "y": beta_scale},
                    colors=["white"], marker="diamond", default_size=120)
fig_map = bq.Figure(marks=[heat, marker], axes=[bq.Axis(scale=lr_scale, label="lr"),
                    bq.Axis(scale=beta_scale, orientation="vertical", label="momentum")],
                    title="spectral radius",
                    layout=ipywidgets.Layout(width="320px", height="250px"))
step_scale, err_scale = bq.LinearScale(), bq.LogScale(min=1e-12, max=1e6)
err_lines = bq.Lines(x=np.arange(steps + 1), y=np.ones((2, steps + 1)),
                     scales={"x": step_scale, "y": err_scale}, colors=["#1f77b4", "#d62728"])
fig_err = bq.Figure(marks=[err_lines], axes=[bq.Axis(scale=step_scale, label="step"),
                    bq.Axis(scale=err_scale, orientation="vertical", label="|error|")],
                    title="eigencomponents",
                    layout=ipywidgets.Layout(width="320px", height="250px"))
readout = ipywidgets.HTML()
for view in (fig_path, fig_map, fig_err, readout):
    view.add_class("explorer-views")


def update(_=None):
    path, errors, rho = compute(lr.value, beta.value)
    with path_line.hold_sync():
        path_line.x, path_line.y = path[:, 0], path[:, 1]
    with marker.hold_sync():
        marker.x, marker.y = [lr.value], [beta.value]
    err_lines.y = errors
    readout.value = f"rate ρ = {rho:.3f}"


lr.observe(update, "value")
beta.observe(update, "value")
update()
ipywidgets.VBox([lr, beta, readout, ipywidgets.HBox([fig_path, fig_map, fig_err])])
"""),
    "anywidget": ("anywidget", '''\
import anywidget
import traitlets

ESM = """
const NS = "http://www.w3.org/2000/svg";
function panel(svg, x0, w, h, xr, yr, log) {
  const g = document.createElementNS(NS, "g");
  g.setAttribute("transform", `translate(${x0},0)`);
  svg.appendChild(g);
  const fy = log ? (v) => Math.log10(Math.max(v, 1e-300)) : (v) => v;
  const sx = (v) => 30 + (v - xr[0]) / (xr[1] - xr[0]) * (w - 40);
  const sy = (v) => h - 20 - (fy(v) - fy(yr[0])) / (fy(yr[1]) - fy(yr[0])) * (h - 40);
  const line = (color, width) => {
    const p = document.createElementNS(NS, "polyline");
    p.setAttribute("fill", "none"); p.setAttribute("stroke", color);
    p.setAttribute("stroke-width", width); g.appendChild(p); return p;
  };
  const draw = (p, xs, ys) => p.setAttribute("points",
      xs.map((x, i) => `${sx(x).toFixed(1)},${sy(ys[i]).toFixed(1)}`).join(" "));
  return { g, line, draw, sx, sy };
}
function render({ model, el }) {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("width", 1000); svg.setAttribute("height", 260);
  el.appendChild(svg);
  const bg = model.get("background");
  const a = panel(svg, 0, 400, 260, [-6, 6], [-3, 3], false);
  for (const s of bg.contours) a.draw(a.line("#bbb", 1), s[0], s[1]);
  const path = a.line("#17becf", 2);
  const b = panel(svg, 400, 300, 260, [0, 1], [0, 1], false);
  const star = document.createElementNS(NS, "circle");
  star.setAttribute("r", 6); star.setAttribute("fill", "red"); b.g.appendChild(star);
  const c = panel(svg, 700, 300, 260, [0, bg.steps], [1e-12, 1e6], true);
  const errs = [c.line("#1f77b4", 2), c.line("#d62728", 2)];
  const text = document.createElementNS(NS, "text");
  text.setAttribute("x", 20); text.setAttribute("y", 14); svg.appendChild(text);
  const update = () => {
    const p = model.get("path"); a.draw(path, p[0], p[1]);
    const m = model.get("marker");
    star.setAttribute("cx", b.sx(m[0])); star.setAttribute("cy", b.sy(m[1]));
    const e = model.get("errors");
    const steps = e[0].map((_, i) => i);
    errs.forEach((line, i) => c.draw(line, steps, e[i]));
    text.textContent = model.get("readout");
  };
  model.on("change", update);
  update();
}
export default { render };
"""


class MomentumView(anywidget.AnyWidget):
    _esm = ESM
    background = traitlets.Dict().tag(sync=True)
    path = traitlets.List().tag(sync=True)
    marker = traitlets.List().tag(sync=True)
    errors = traitlets.List().tag(sync=True)
    readout = traitlets.Unicode().tag(sync=True)


lr, beta = sliders()
view = MomentumView(background={"steps": steps, "contours": [
    [s[:, 0].round(3).tolist(), s[:, 1].round(3).tolist()]
    for s in contour_lines((-6, 6), (-3, 3))]})
view.add_class("explorer-views")


def update(_=None):
    path, errors, rho = compute(lr.value, beta.value)
    with view.hold_sync():
        view.path = [path[:, 0].tolist(), path[:, 1].tolist()]
        view.marker = [lr.value, beta.value]
        view.errors = errors.tolist()
        view.readout = f"rate ρ = {rho:.3f}"


lr.observe(update, "value")
beta.observe(update, "value")
update()
ipywidgets.VBox([lr, beta, view])
'''),
}


def notebook(layer: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(LAYERS[layer][1])]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def measure(browser, lab, layer: str, movements: int, shots: pathlib.Path | None) -> dict:
    page = lab_driver.offline_page(browser, width=1400, height=900)
    try:
        lab_driver.install_hooks(page)
        lab_driver.open_notebook(page, lab, f"{layer}.ipynb")
        lab_driver.run_all(page)
        handle = page.locator(".widget-slider .noUi-handle").first
        handle.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # first drawing, fonts
        lab_driver.watch_views(page)
        drag = lab_driver.drag_slider(page, handle, movements, release_each=layer == "png")
        if layer != "png":  # and the other slider
            other = page.locator(".widget-slider .noUi-handle").nth(1)
            drag.movements += lab_driver.drag_slider(page, other, movements).movements
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=shots / f"layer_{layer}.png")
        return {"drag": drag, "blocked": list(page.blocked_requests),
                "errors": list(page.console_errors)}
    finally:
        page.context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movements", type=int, default=12)
    parser.add_argument("--screenshots", type=pathlib.Path, default=None,
                        help="a folder for one screenshot per layer, after the drag")
    parser.add_argument("--layers", nargs="+", default=list(LAYERS), choices=list(LAYERS))
    args = parser.parse_args(argv)
    layers = []
    for layer in args.layers:
        if importlib.util.find_spec(LAYERS[layer][0]) is None:
            print(f"{layer:10s} skipped: {LAYERS[layer][0]} is not installed")
        else:
            layers.append(layer)
    with tempfile.TemporaryDirectory(prefix="drawing_layers_") as folder:
        root = pathlib.Path(folder)
        for layer in layers:
            nbformat.write(notebook(layer), root / f"{layer}.ipynb")
        results = {}
        with lab_driver.jupyterlab(root) as lab, chromium() as browser:
            for layer in layers:
                results[layer] = measure(browser, lab, layer, args.movements, args.screenshots)
    print(f"\n{'layer':10s} {'median ms':>10s} {'min':>7s} {'max':>7s} {'moves':>6s}  blocked")
    for layer, result in results.items():
        times = result["drag"].latencies
        print(f"{layer:10s} {result['drag'].median_ms:10.0f} {min(times):7.0f} "
              f"{max(times):7.0f} {len(times):6d}  {len(result['blocked'])}")
        for url in result["blocked"]:
            print(f"    blocked: {url}")
        for error in result["errors"]:
            print(f"    console: {textwrap.shorten(error, 150)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
