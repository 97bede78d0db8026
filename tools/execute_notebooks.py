"""Execute chapter notebooks in place, each in a fresh kernel, so their outputs are stored.

    .venv/bin/python tools/execute_notebooks.py chapters/00_start_here.ipynb [...]
    .venv/bin/python tools/execute_notebooks.py --all

Run it after editing a chapter: nbval (in `make test`) compares a fresh run with the outputs
stored here. Cells run with the chapters folder as working directory, as in JupyterLab.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]


def execute(path: pathlib.Path, timeout: int = 600) -> float:
    """Run every cell of ``path`` top to bottom in a new kernel and save it; return seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    # nbclient emulates the Output widget of ipywidgets.interactive by talking back to the
    # kernel; with a figure inside, that exchange can stall a cell until its timeout. Without
    # the emulation the figure is stored as an ordinary output of the cell.
    client.widget_registry = {}
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)  # widget state is session noise; outputs keep their views
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--all", action="store_true", help="every notebook in chapters/")
    args = parser.parse_args(argv)
    paths = sorted((ROOT / "chapters").glob("*.ipynb")) if args.all else args.notebooks
    if not paths:
        parser.error("name notebooks or pass --all")
    for path in paths:
        print(f"{path.name}: {execute(path.resolve()):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
