"""JupyterLab in a real browser, for the explorer tests and the latency benchmark.

:class:`JupyterLab` starts a JupyterLab 4 server on 127.0.0.1 with a token, on a free port,
with its settings, workspaces and runtime files in a temporary folder (the user's own are never
touched), and stops it by its PID. :func:`open_notebook` opens a notebook in a playwright page
(the app is exposed as ``window.jupyterapp``) and :func:`run_all` runs every cell.

The latency of a slider is measured in the page: :data:`HOOKS_JS`, installed before JupyterLab
loads, records the time of every pointer event and every change of a *view*: a DOM change, or a
drawing on a ``<canvas>``, inside an element matching ``window.__views.selector``, stamped at
the next animation frame (when the browser paints it). :func:`drag_slider` moves a slider's
handle one step at a time, holding the mouse down as a learner does, and after each movement
waits until the views have been quiet for a while; the latency of the movement is the time from
the pointer event to the last view change it caused (kernel computation, transfer and drawing
included).

Used by ``tests/browser/test_explorers.py`` and ``benchmarks/explorer_latency.py``; it needs
playwright and a chromium (``tests/browser/conftest.py`` finds one).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

from slides import browser as browser_pages

#: Seconds to wait for the server, for the kernel and for all cells to run.
START_TIMEOUT = 60.0
RUN_TIMEOUT_MS = 240_000
#: A movement is over when no view has changed for this long (ms) after its last change.
QUIET_MS = 250
#: A movement that changes no view within this time (ms) has failed.
MOVEMENT_TIMEOUT_MS = 15_000
#: How long (ms) to wait for every view to change before one changed view is enough.
PATIENCE_MS = 2_000

LAB_CONFIG = """\
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.expose_app_in_browser = True
c.ServerApp.open_browser = False
c.ServerApp.port_retries = 0
"""


#: Plugins switched off: the news prompt would cover the page.
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
#: User settings: never save a notebook the tests run (autosave would write outputs into it).
SETTINGS = {"@jupyterlab/docmanager-extension/plugin": {"autosave": False}}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class JupyterLab:
    """A running JupyterLab server: ``url(path)`` gives a page's address with the token."""

    root: pathlib.Path
    port: int
    token: str
    process: subprocess.Popen
    home: pathlib.Path
    log: pathlib.Path

    def url(self, path: str = "lab") -> str:
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path}{separator}token={self.token}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def jupyterlab(root: pathlib.Path) -> Iterator[JupyterLab]:
    """Start JupyterLab serving ``root`` (127.0.0.1, a token, a free port); stop it by its PID.

    The server runs in a session of its own; on exit it gets SIGTERM (it shuts its kernels
    down), and SIGKILL for its whole process group if it has not stopped within 15 s.
    """
    home = pathlib.Path(tempfile.mkdtemp(prefix="explorer_lab_"))
    config = home / "jupyter_lab_config.py"
    config.write_text(LAB_CONFIG)
    (home / "config" / "labconfig").mkdir(parents=True)
    (home / "config" / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
    for plugin, values in SETTINGS.items():
        target = home / "settings" / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    log = home / "server.log"
    command = [sys.executable, "-m", "jupyterlab", f"--config={config}",
               "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.token={token}",
               f"--ServerApp.root_dir={root}", "--no-browser"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=root, start_new_session=True)
    lab = JupyterLab(pathlib.Path(root), port, token, process, home, log)
    try:
        _wait_until_up(lab)
        yield lab
    finally:
        _stop(process)


def _wait_until_up(lab: JupyterLab) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {lab.process.returncode}:\n"
                               f"{lab.log_tail()}")
        try:
            with urllib.request.urlopen(lab.url("api/status"), timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"JupyterLab did not answer within {START_TIMEOUT:.0f} s:\n"
                       f"{lab.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the server's own group (start_new_session)
        process.wait(timeout=15)


# -- the page ------------------------------------------------------------------------------------

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def offline_page(browser, width: int = 1280, height: int = 900):
    """slides.browser's offline page with the loopback host allowed (JupyterLab runs there), for
    scripts outside pytest. Close it with ``page.context.close()``."""
    return browser_pages.offline_page(browser, width, height, hosts=LOCAL_HOSTS)


#: Installed in every page before JupyterLab loads (``page.add_init_script``).
HOOKS_JS = r"""
(() => {
  const views = { selector: ".explorer-views", elements: [], inputs: [], changes: [],
                  observer: null };
  window.__views = views;
  const viewOf = (node) => {
    const element = node && (node.nodeType === 1 ? node : node.parentElement);
    const view = element && element.closest && element.closest(views.selector);
    return view ? views.elements.indexOf(view) : -1;
  };
  const stamp = (view, kind) => requestAnimationFrame(() => views.changes.push(
      { t: performance.now(), view, kind }));
  for (const type of ["pointermove", "pointerdown", "pointerup", "keydown"]) {
    document.addEventListener(type, (e) => views.inputs.push(
        { t: performance.now(), type }), true);
  }
  for (const name of ["drawImage", "putImageData"]) {
    const original = CanvasRenderingContext2D.prototype[name];
    CanvasRenderingContext2D.prototype[name] = function (...args) {
      const view = viewOf(this.canvas);
      if (view >= 0) stamp(view, "canvas");
      return original.apply(this, args);
    };
  }
  views.watch = (selector, root) => {
    if (selector) views.selector = selector;
    const scope = root === undefined || root === null ? document
        : document.querySelectorAll(".course-explorer")[root];
    views.elements = [...scope.querySelectorAll(views.selector)];
    if (views.observer) views.observer.disconnect();
    views.observer = new MutationObserver((records) => {
      const changed = new Set(records.map((r) => viewOf(r.target)).filter((v) => v >= 0));
      for (const view of changed) stamp(view, "dom");
    });
    views.observer.observe(document.body, { subtree: true, childList: true,
                                             attributes: true, characterData: true });
    return views.elements.length;
  };
})();
"""


def install_hooks(page) -> None:
    """Record inputs and view changes in ``page`` (call before the first ``goto``)."""
    page.add_init_script(HOOKS_JS)


def open_notebook(page, lab: JupyterLab, path: str) -> None:
    """Open ``path`` (relative to the server's root) in a fresh workspace, kernel ready."""
    page.goto(lab.url(f"lab/tree/{path}?reset"), wait_until="domcontentloaded")
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=RUN_TIMEOUT_MS)
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
    }""")
    page.wait_for_function(
        "() => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session;"
        " return k && k.kernel && k.kernel.connectionStatus === 'connected'"
        " && k.kernel.status === 'idle'; }", timeout=RUN_TIMEOUT_MS)


def run_all(page) -> None:
    """Run every cell of the open notebook and wait until all have run; raise if one failed."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        "() => { const nb = window.jupyterapp.shell.currentWidget.content;"
        " return nb.widgets.every((c) => c.model.type !== 'code'"
        " || (c.model.executionCount !== null && !c.promptNode.textContent.includes('*'))); }",
        timeout=RUN_TIMEOUT_MS, polling=250)
    errors = page.evaluate("""() => [...document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map((e) => e.textContent).filter((t) => /Error|Traceback/.test(t))""")
    if errors:
        raise RuntimeError("a cell failed:\n" + "\n".join(errors))


def watch_views(page, selector: str = ".explorer-views", explorer: int | None = None) -> int:
    """Start recording changes inside the elements matching ``selector`` (the *views*), in
    the whole page or in the ``explorer``-th explorer box (``.course-explorer``); return how
    many views there are."""
    count = page.evaluate("([s, root]) => window.__views.watch(s, root)", [selector, explorer])
    if not count:
        raise RuntimeError(f"no element matches {selector!r}: nothing to watch")
    return count


#: Reads one explorer box: its title, its views' names and a fingerprint of each view's
#: content (a hash of its markup, or its text for a read-out), and its sliders' labels.
EXPLORER_JS = r"""
(index) => {
  const root = document.querySelectorAll(".course-explorer")[index];
  const hash = (text) => { let h = 0; for (let i = 0; i < text.length; i++) {
      h = (h * 31 + text.charCodeAt(i)) | 0; } return h; };
  const views = [...root.querySelectorAll(".explorer-views")].map((view) => {
    const heading = view.querySelector(".mainheading");
    const name = view.classList.contains("explorer-readout") ? "read-out"
        : (heading ? heading.textContent.trim() : "view");
    const content = view.classList.contains("explorer-readout") ? view.textContent
        : String(hash(view.innerHTML));
    return { name, content };
  });
  const sliders = [...root.querySelectorAll(".widget-slider")].map((s) =>
      s.querySelector(".widget-label").textContent.trim());
  const title = root.querySelector("b") ? root.querySelector("b").textContent : "";
  return { title, views, sliders };
}
"""


def explorers(page) -> list[str]:
    """The titles of the explorer boxes on the page, in order."""
    return page.evaluate("""() => [...document.querySelectorAll('.course-explorer')]
        .map((e) => e.querySelector('b') ? e.querySelector('b').textContent : '')""")


def read_explorer(page, index: int) -> dict:
    """The ``index``-th explorer: ``title``, ``views`` (name and content fingerprint) and
    ``sliders`` (their labels)."""
    return page.evaluate(EXPLORER_JS, index)


def slider_handle(page, explorer: int, slider: int):
    """A locator of the knob of the ``slider``-th slider of the ``explorer``-th explorer."""
    return page.locator(".course-explorer").nth(explorer).locator(
        ".widget-slider .noUi-handle").nth(slider)


@dataclass
class Movement:
    """One movement of a slider: its latency (ms), how many view changes it caused and in
    which views (their indices)."""

    latency_ms: float
    changes: int
    views: list[int]


@dataclass
class Drag:
    """The movements of one drag, and the medians a report prints."""

    movements: list[Movement] = field(default_factory=list)
    direction: int = 1

    @property
    def latencies(self) -> list[float]:
        return [m.latency_ms for m in self.movements]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies)


def _settle(page, since: float) -> tuple[float, int, list[int]]:
    """Wait until the views have changed after ``since`` and then stayed quiet for
    :data:`QUIET_MS`: every view, or, after :data:`PATIENCE_MS`, at least one (a view whose
    picture does not depend on the slider need not change). Return the time of the last
    change, the number of changes and the views that changed."""
    try:
        result = page.wait_for_function(
            """([since, quiet, patience]) => {
                const v = window.__views;
                const changes = v.changes.filter((c) => c.t > since);
                if (!changes.length) return false;
                const now = performance.now();
                const last = changes[changes.length - 1].t;
                const seen = [...new Set(changes.map((c) => c.view))].sort();
                const all = seen.length >= v.elements.length;
                if (now - last < quiet || (!all && now - since < patience)) return false;
                return [last, changes.length, seen];
            }""", arg=[since, QUIET_MS, PATIENCE_MS], timeout=MOVEMENT_TIMEOUT_MS, polling=40)
    except Exception as error:
        seen = page.evaluate("(since) => window.__views.changes.filter((c) => c.t > since)"
                             ".map((c) => [Math.round(c.t - since), c.view, c.kind])", since)
        raise TimeoutError(f"the views did not change within {MOVEMENT_TIMEOUT_MS} ms of a "
                           f"slider movement; changes after it (ms, view, kind): {seen[:20]} "
                           f"({len(seen)} in all)") from error
    last, count, seen = result.json_value()
    return last, count, seen


def slider_value(handle) -> str:
    """The read-out of the slider whose knob is ``handle``."""
    return handle.evaluate(
        "(h) => h.closest('.widget-slider').querySelector('.widget-readout')"
        ".textContent || h.closest('.widget-slider').querySelector('.widget-readout').value")


def drag_slider(page, handle, movements: int, *, release_each: bool = False,
                pixels: float = 3.0, most: float = 80.0, direction: int | None = None) -> Drag:
    """Drag a slider's knob (``handle``, a locator) through ``movements`` changes of its
    value, waiting after each for the views to settle, and time each.

    A movement moves the mouse ``pixels`` at a time until the slider's value changes (at most
    ``most`` pixels), to the right (``direction=1``), to the left (-1), or (None) towards the
    side of the track with more room. With ``release_each`` the
    mouse is released after every movement (for sliders that update only on release,
    ``continuous_update=False``); otherwise it is held down throughout, as in a drag, and
    each movement must update the views while the mouse is still down.
    """
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    track = handle.evaluate("(h) => { const r = h.closest('.noUi-target')"
                            ".getBoundingClientRect(); return [r.left, r.right]; }")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    if direction is None:
        direction = 1 if x < (track[0] + track[1]) / 2 else -1
    step = pixels * direction
    page.mouse.move(x, y)
    page.mouse.down()
    drag = Drag(direction=direction)
    try:
        for _ in range(movements):
            before = slider_value(handle)
            moved = 0.0
            while abs(moved) < most:
                x += step
                moved += step
                page.mouse.move(x, y)
                if release_each:
                    page.mouse.up()
                if slider_value(handle) != before:
                    break
                if release_each:
                    page.mouse.down()
            else:
                break  # the end of the track: no more movements
            since = page.evaluate(
                "() => { const i = window.__views.inputs; return i[i.length - 1].t; }")
            last, count, seen = _settle(page, since)
            drag.movements.append(Movement(last - since, count, seen))
            if release_each:
                page.mouse.down()
    finally:
        page.mouse.up()
    return drag


# -- one notebook's explorers, every slider dragged -----------------------------------------------


@dataclass
class SliderRun:
    """One slider of an explorer, dragged: its label, the views' fingerprints before and after
    (view name -> content), and the drag's movements."""

    label: str
    before: dict[str, str]
    after: dict[str, str]
    drag: Drag

    @property
    def changed(self) -> set[str]:
        """The views whose content changed."""
        return {name for name, content in self.after.items() if self.before.get(name) != content}


@dataclass
class ExplorerRun:
    """An explorer, every slider dragged (and every choice changed)."""

    title: str
    views: list[str]
    sliders: list[SliderRun] = field(default_factory=list)
    choices: list[SliderRun] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return [ms for run in self.sliders for ms in run.drag.latencies]


def copy_notebooks(root: pathlib.Path, notebooks: list[str], target: pathlib.Path) -> None:
    """Copy ``notebooks`` (paths relative to ``root``) under ``target`` at the same paths, so
    the server runs copies and never writes into the course."""
    for notebook in notebooks:
        destination = target / notebook
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / notebook, destination)


def _fingerprints(page, index: int) -> dict[str, str]:
    return {view["name"]: view["content"] for view in read_explorer(page, index)["views"]}


def explore_notebook(page, lab: JupyterLab, notebook: str, titles: list[str], *,
                     movements: int, shots: pathlib.Path | None = None, reopen: bool = True,
                     directions: dict[tuple[str, str], int] | None = None,
                     choices: bool = True, backwards: bool = False) -> dict[str, ExplorerRun]:
    """Open ``notebook``, run it, and drag every slider of each explorer in ``titles`` through
    ``movements`` values; change each drop-down and toggle once (unless ``choices`` is
    False). A screenshot of each explorer goes to ``shots`` when given. With ``reopen=False``
    the notebook is already open and run in ``page``; ``directions`` may fix the direction of
    a drag by (title, slider label); ``backwards`` drags the sliders last to first (with the
    directions reversed, that retraces an earlier exploration)."""
    if reopen:
        install_hooks(page)
        open_notebook(page, lab, notebook)
        run_all(page)
    page.wait_for_function(
        "(n) => document.querySelectorAll('.course-explorer').length >= n"
        " && [...document.querySelectorAll('.course-explorer')].every("
        "    (e) => e.querySelectorAll('.bqplot .mainheading').length > 0)",
        arg=len(titles), timeout=RUN_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # fonts and the first drawing
    found = explorers(page)
    runs = {}
    for title in titles:
        if title not in found:
            raise RuntimeError(f"{notebook} shows no {title!r}; it shows {found}")
        index = found.index(title)
        box = page.locator(".course-explorer").nth(index)
        box.scroll_into_view_if_needed()
        info = read_explorer(page, index)
        run = ExplorerRun(title, [view["name"] for view in info["views"]])
        order = list(enumerate(info["sliders"]))
        for slider, label in reversed(order) if backwards else order:
            handle = slider_handle(page, index, slider)
            if not handle.is_visible():
                continue
            watch_views(page, explorer=index)
            before = _fingerprints(page, index)
            drag = drag_slider(page, handle, movements,
                               direction=(directions or {}).get((title, label)))
            page.wait_for_timeout(QUIET_MS)
            run.sliders.append(SliderRun(label, before, _fingerprints(page, index), drag))
        if choices:
            run.choices = _change_choices(page, index)
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            box.scroll_into_view_if_needed()
            box.screenshot(path=shots / f"{title.lower().replace(' ', '_')}.png")
        runs[title] = run
    return runs


def _change_choices(page, index: int) -> list[SliderRun]:
    """Pick the next option of every drop-down and press the second button of every toggle of
    the explorer; record the views before and after each."""
    box = page.locator(".course-explorer").nth(index)
    out = []
    selects = box.locator("select")
    for i in range(selects.count()):
        select = selects.nth(i)
        options = select.locator("option").all_text_contents()
        current = select.evaluate("(s) => s.options[s.selectedIndex].text")
        choice = options[(options.index(current) + 1) % len(options)]
        out.append(_after(page, index, f"choose {choice}",
                          lambda s=select, c=choice: s.select_option(label=c)))
    toggles = box.locator(".widget-toggle-buttons button")
    if toggles.count() > 1:
        out.append(_after(page, index, f"press {toggles.nth(1).inner_text()}",
                          lambda: toggles.nth(1).click()))
    return out


def _after(page, index: int, label: str, action) -> SliderRun:
    watch_views(page, explorer=index)
    before = _fingerprints(page, index)
    since = page.evaluate("() => performance.now()")
    action()
    last, count, seen = _settle(page, since)
    page.wait_for_timeout(QUIET_MS)
    drag = Drag([Movement(last - since, count, seen)])
    return SliderRun(label, before, _fingerprints(page, index), drag)
