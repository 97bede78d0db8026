"""How fast each explorer follows its sliders, in a real browser: the median per explorer.

    python benchmarks/explorer_latency.py [--movements 8]

JupyterLab 4 (127.0.0.1, a token, a free port) runs copies of the chapters that show the
explorers (``NOTEBOOKS`` in ``tests/browser/test_explorers.py``: 03, 05, 06, 10 and 11, each
run top to bottom first), and Debian's chromium drags every slider of every explorer through
``--movements`` values with the mouse held down. Each movement is timed from the pointer event
to the last change of the explorer's views it caused, painted: the kernel's computation, the
transfer and the drawing (``tests/browser/lab_driver.py``). The target is a median of at most
100 ms per explorer.

The schedule explorer trains a network for every new setting in a background thread (about
0.1 s); its loss view follows when that run is done, so its movements are slower the first time
a setting is met. The script drags its sliders there and back again (last slider first, so
the way back meets the settings just trained), and reports both passes.

Timings depend on the machine and its load; nothing here is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/browser is the package `browser`
sys.path.insert(0, str(ROOT))

from browser import lab_driver  # noqa: E402
from browser.test_explorers import NOTEBOOKS  # noqa: E402

from slides.browser import chromium  # noqa: E402

TARGET_MS = 100.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movements", type=int, default=8,
                        help="values each slider is dragged through (default 8)")
    args = parser.parse_args(argv)
    rows: dict[str, list[float]] = {}
    blocked: list[str] = []
    with tempfile.TemporaryDirectory(prefix="explorer_latency_") as folder:
        served = pathlib.Path(folder)
        notebooks = sorted(set(NOTEBOOKS.values()))
        lab_driver.copy_notebooks(ROOT, notebooks, served)
        with lab_driver.jupyterlab(served) as lab, chromium() as browser:
            for notebook in notebooks:
                titles = [t for t, path in NOTEBOOKS.items() if path == notebook]
                page = lab_driver.offline_page(browser, width=1400, height=1000)
                try:
                    runs = lab_driver.explore_notebook(page, lab, notebook, titles,
                                                       movements=args.movements,
                                                       choices=False)
                    for title, run in runs.items():
                        rows[title] = run.latencies
                    if "Schedule explorer" in titles:  # back over the settings just trained
                        first = runs["Schedule explorer"]
                        back = {("Schedule explorer", s.label): -s.drag.direction
                                for s in first.sliders}
                        again = lab_driver.explore_notebook(
                            page, lab, notebook, ["Schedule explorer"],
                            movements=args.movements, reopen=False, directions=back,
                            choices=False, backwards=True)
                        rows["Schedule explorer, back again"] = again[
                            "Schedule explorer"].latencies
                    blocked += page.blocked_requests
                finally:
                    page.context.close()
    print(f"\n{'explorer':34s} {'median ms':>9s} {'p90':>6s} {'max':>6s} {'moves':>6s}  "
          f"target <= {TARGET_MS:.0f} ms")
    for title, values in rows.items():
        median = statistics.median(values)
        print(f"{title:34s} {median:9.0f} {percentile(values, 0.9):6.0f} {max(values):6.0f} "
              f"{len(values):6d}  {'met' if median <= TARGET_MS else 'MISSED'}")
    print(f"requests that left the machine: {len(blocked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
