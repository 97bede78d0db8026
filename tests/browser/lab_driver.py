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
import os
import pathlib
import secrets
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
from urllib.parse import urlparse

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

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def is_local(url: str) -> bool:
    """Whether a request stays on this machine: a file, data or blob URL, or the loopback host."""
    parsed = urlparse(url)
    if parsed.scheme in {"file", "data", "blob", "about", "chrome-extension"}:
        return True
    return parsed.scheme in {"http", "https", "ws", "wss"} and parsed.hostname in LOCAL_HOSTS


def offline_page(browser, width: int = 1280, height: int = 900):
    """A page that aborts every request leaving the machine and records it in
    ``page.blocked_requests`` (console errors in ``page.console_errors``); for scripts outside
    pytest (the test suite's ``offline_page`` fixture does the same). Close it with
    ``page.context.close()``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.blocked_requests, page.console_errors = [], []

    def route(route_):
        if is_local(route_.request.url):
            route_.continue_()
        else:
            page.blocked_requests.append(route_.request.url)
            route_.abort()

    context.route("**/*", route)
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page


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
  views.watch = (selector) => {
    if (selector) views.selector = selector;
    views.elements = [...document.querySelectorAll(views.selector)];
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


def watch_views(page, selector: str = ".explorer-views") -> int:
    """Start recording changes inside the elements matching ``selector`` (the *views*);
    return how many there are."""
    count = page.evaluate("(s) => window.__views.watch(s)", selector)
    if not count:
        raise RuntimeError(f"no element matches {selector!r}: nothing to watch")
    return count


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


def drag_slider(page, handle, pixels: list[float], *, release_each: bool = False) -> Drag:
    """Drag a slider ``handle`` (a locator of its knob) by each distance in ``pixels`` in turn,
    waiting after each movement for the views to settle.

    With ``release_each`` the mouse is released after every movement (for sliders that update
    only on release, ``continuous_update=False``); otherwise it is held down throughout, as in
    a drag, and each movement must update the views while the mouse is still down. A movement
    that does not change the slider's value (at the end of its range) is not timed.
    """
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    drag = Drag()
    try:
        for dx in pixels:
            before = slider_value(handle)
            x += dx
            page.mouse.move(x, y)
            if release_each:
                page.mouse.up()
            since = page.evaluate(
                "() => { const i = window.__views.inputs; return i[i.length - 1].t; }")
            if slider_value(handle) != before:
                last, count, seen = _settle(page, since)
                drag.movements.append(Movement(last - since, count, seen))
            if release_each:
                page.mouse.down()
    finally:
        page.mouse.up()
    return drag
