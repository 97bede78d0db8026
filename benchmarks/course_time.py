"""Measure how long each chapter takes to execute, each in a fresh kernel, one after another.

    python benchmarks/course_time.py                 # every notebook in chapters/
    python benchmarks/course_time.py chapters/02_*.ipynb

It prints one line per notebook and the total, and compares the totals with the course's
budgets: chapters 01-06 at most 90 s together, the whole course at most 240 s (on 2 cores).
The notebooks are executed in memory; the files are not changed. Nothing here is asserted in
the test suite: timings are measured, not tested.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUDGETS = {"chapters 01-06": (range(1, 7), 90.0), "whole course": (range(0, 100), 240.0)}


def execute_seconds(path: pathlib.Path, timeout: int = 600) -> float:
    """Seconds to run every cell of ``path`` in a new kernel (kernel start-up included)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    # nbclient emulates the Output widget of ipywidgets.interactive by talking back to the
    # kernel; with a figure inside, that exchange can stall a cell until its timeout. Without
    # the emulation the figure is stored as an ordinary output of the cell.
    client.widget_registry = {}
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def chapter_number(path: pathlib.Path) -> int | None:
    match = re.match(r"(\d\d)_", path.name)
    return int(match.group(1)) if match else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
    times: dict[pathlib.Path, float] = {}
    for path in paths:
        times[path] = execute_seconds(path.resolve())
        print(f"{path.name:45s} {times[path]:6.1f} s", flush=True)
    print(f"{'total':45s} {sum(times.values()):6.1f} s")
    for label, (numbers, budget) in BUDGETS.items():
        chosen = [t for p, t in times.items() if chapter_number(p) in numbers]
        if chosen:
            total = sum(chosen)
            verdict = "within budget" if total <= budget else "OVER BUDGET"
            print(f"{label}: {total:.1f} s for {len(chosen)} notebook(s), budget {budget:.0f} s: "
                  f"{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
