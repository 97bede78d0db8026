"""Build the course website (a static book of every chapter) into ``dist/site/``.

    .venv/bin/python site/build.py                          # what `make site` runs
    .venv/bin/python site/build.py chapters/06_momentum.ipynb --out /tmp/site   # one chapter

Sphinx, myst-nb and sphinx-book-theme (configured in ``site/conf.py``) render the notebooks
with their stored outputs, never re-executed. Sphinx reads a source folder that must hold the
landing page and the notebooks together, so this script first stages ``site/index.md``, the
chapter notebooks (byte-for-byte copies, mtimes kept, so a rebuild re-reads only what changed)
and the exercise notebooks of ``site/exercises.toml`` into ``build/site/src/``.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import sys
import time
import tomllib

SITE = pathlib.Path(__file__).resolve().parent
ROOT = SITE.parent
CHAPTERS = ROOT / "chapters"
EXERCISES_FILE = SITE / "exercises.toml"
DEFAULT_OUT = ROOT / "dist" / "site"
DEFAULT_WORK = ROOT / "build" / "site"


def exercise_map(path: pathlib.Path = EXERCISES_FILE) -> dict[str, list[pathlib.Path]]:
    """Chapter stem -> exercise notebooks (absolute paths) from ``site/exercises.toml``."""
    table = tomllib.loads(path.read_text(encoding="utf-8")).get("exercises", {})
    mapping = {}
    for chapter, files in table.items():
        files = [files] if isinstance(files, str) else list(files)
        paths = [(ROOT / name).resolve() for name in files]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"{path.name}: exercises of {chapter} not found: {', '.join(missing)} "
                "(run `make release` first?)"
            )
        mapping[chapter] = paths
    return mapping


def sync(files: dict[str, pathlib.Path], folder: pathlib.Path, pattern: str) -> None:
    """Make ``folder`` hold exactly ``files`` (name -> source) among its ``pattern`` files."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(pattern):
        if stale.name not in files:
            stale.unlink()
    for name, source in files.items():
        target = folder / name
        if not target.exists() or target.stat().st_mtime != source.stat().st_mtime \
                or target.stat().st_size != source.stat().st_size:
            shutil.copy2(source, target)


def stage(notebooks: list[pathlib.Path], exercises: dict[str, list[pathlib.Path]],
          src: pathlib.Path) -> None:
    """Put the landing page, the chapters and their exercises into ``src``.

    ``exercises/<chapter>.txt`` names each chapter's exercise notebooks (staged in
    ``exercises/<chapter>/``); conf.py reads it, and a chapter page is rebuilt when it changes.
    """
    sync({"index.md": SITE / "index.md"}, src, "index.md")
    sync({nb.name: nb.resolve() for nb in notebooks}, src / "chapters", "*.ipynb")
    folder = src / "exercises"
    folder.mkdir(exist_ok=True)
    stems = {nb.stem for nb in notebooks}
    for stale in folder.iterdir():
        if stale.is_dir() and stale.name not in exercises:
            shutil.rmtree(stale)
    for stem in stems:
        files = exercises.get(stem, [])
        if files:
            sync({f.name: f for f in files}, folder / stem, "*.ipynb")
        manifest = folder / f"{stem}.txt"
        names = "".join(f"{f.name}\n" for f in files)
        if not manifest.exists() or manifest.read_text(encoding="utf-8") != names:
            manifest.write_text(names, encoding="utf-8")


def build(notebooks: list[pathlib.Path], out: pathlib.Path, work: pathlib.Path = DEFAULT_WORK,
          exercises: dict[str, list[pathlib.Path]] | None = None) -> int:
    """Stage and run Sphinx; return its exit status."""
    from sphinx.cmd.build import build_main

    stage(notebooks, exercise_map() if exercises is None else exercises, work / "src")
    return build_main([
        "--builder", "html", "--conf-dir", str(SITE), "--doctree-dir", str(work / "doctrees"),
        "--jobs", "auto", "--quiet", "--fail-on-warning", "--keep-going",
        str(work / "src"), str(out),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapter notebooks (default: every chapters/NN_*.ipynb)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--work", type=pathlib.Path, default=DEFAULT_WORK,
                        help="staging and Sphinx cache folder (default build/site)")
    parser.add_argument("--exercises", type=pathlib.Path, default=EXERCISES_FILE,
                        help="chapter -> exercise notebooks (default site/exercises.toml)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    start = time.perf_counter()
    try:
        exercises = exercise_map(args.exercises)
    except FileNotFoundError as error:
        print(f"site: {error}", file=sys.stderr)
        return 2
    status = build(notebooks, args.out, args.work, exercises)
    if status == 0:
        print(f"site: {len(notebooks)} chapters in {args.out} "
              f"({time.perf_counter() - start:.1f} s); open {args.out / 'index.html'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
