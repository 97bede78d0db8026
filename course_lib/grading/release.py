"""Release: master notebooks in, student notebooks and grading bundles out, with ``otter assign``.

For each master ``exercises/masters/<set>.ipynb``, :func:`release` runs ``otter assign`` on a
staged copy and keeps:

* ``dist/student/<set>.ipynb``: the notebook a class receives (solutions replaced by ``...``
  or by a prompt, public checks in its metadata, ``grader.check`` cells);
* ``dist/autograder/<set>-autograder.zip``: otter's grading bundle (hidden checks included),
  read by ``make grade``, and importable by Gradescope as it is when the release includes the
  course's wheel (the default; ``wheel=False`` skips it, as ``make lab`` and ``make grade``
  do when they release for themselves);
* ``dist/autograder/<set>-solutions.ipynb``: the notebook with solutions and check cells (what
  otter runs its tests against; the grading tests use it as a full-marks submission).

The staged copy's configuration gains what Gradescope's image needs to run the checks: a wheel
of this course (built once per release) and the CPU build of torch.

:func:`workspace` copies each student notebook into ``exercises/`` for a learner, once: a copy
that exists is the learner's work and is never overwritten.
"""

from __future__ import annotations

import concurrent.futures
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

__all__ = ["masters_in", "release", "workspace", "build_wheel"]

CONFIG_MARK = "# ASSIGNMENT CONFIG"


def masters_in(folder: pathlib.Path, only: list[str] | None = None) -> list[pathlib.Path]:
    """The master notebooks ``NN_topic.ipynb`` in ``folder`` (only the named sets, if given)."""
    masters = sorted(pathlib.Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if only:
        unknown = sorted(set(only) - {m.stem for m in masters})
        if unknown:
            raise ValueError(f"no master notebook for {', '.join(unknown)} in {folder} "
                             f"(there are: {', '.join(m.stem for m in masters) or 'none'})")
        masters = [m for m in masters if m.stem in only]
    return masters


def build_wheel(root: pathlib.Path, out: pathlib.Path) -> pathlib.Path | None:
    """A wheel of the course (no dependencies bundled) for the grading image, or None.

    First with the environment's own setuptools (offline); where there is none (a Python 3.12+
    virtual environment), with pip's isolated build, which fetches setuptools.
    """
    out.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
           "--disable-pip-version-check", "-w", str(out), str(root)]
    for command in (pip[:4] + ["--no-build-isolation"] + pip[4:], pip):
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = sorted(out.glob("*.whl"))
        if done.returncode == 0 and wheels:
            return wheels[0]
    return None


def _torch_requirement(root: pathlib.Path) -> str:
    constraints = root / "constraints.txt"
    if constraints.exists():
        match = re.search(r"^torch==\S+", constraints.read_text(), re.M)
        if match:
            return match.group(0)
    import torch

    return f"torch=={torch.__version__.split('+')[0]}"


def _stage(master: pathlib.Path, stage: pathlib.Path, wheel: pathlib.Path | None,
           torch_requirement: str) -> pathlib.Path:
    """A copy of ``master`` whose assignment config also ships the course to the grading image."""
    import yaml

    stage.mkdir(parents=True)
    notebook = json.loads(master.read_text(encoding="utf-8"))
    if wheel is not None:
        shutil.copy(wheel, stage / wheel.name)
        (stage / "requirements.txt").write_text(
            "--extra-index-url https://download.pytorch.org/whl/cpu\n"
            f"{torch_requirement}\n/autograder/source/files/{wheel.name}\n")
        for cell in notebook["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "raw" and source.startswith(CONFIG_MARK):
                config = yaml.safe_load(source[len(CONFIG_MARK):]) or {}
                config["requirements"] = "requirements.txt"
                config["autograder_files"] = [*config.get("autograder_files", []), wheel.name]
                cell["source"] = CONFIG_MARK + "\n" + yaml.safe_dump(config, sort_keys=False)
                break
        else:
            raise ValueError(f"{master} has no '{CONFIG_MARK}' raw cell")
    staged = stage / master.name
    staged.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    return staged


def _assign(master: pathlib.Path, work: pathlib.Path, out: pathlib.Path,
            wheel: pathlib.Path | None, torch_requirement: str) -> str:
    name = master.stem
    staged = _stage(master, work / name / "stage", wheel, torch_requirement)
    result_dir = work / name / "out"
    done = subprocess.run([sys.executable, "-m", "otter", "assign", str(staged), str(result_dir)],
                          capture_output=True, text=True, cwd=staged.parent)
    if done.returncode != 0:
        raise RuntimeError(f"otter assign failed for {master}:\n{done.stdout}\n{done.stderr}")
    (out / "student").mkdir(parents=True, exist_ok=True)
    (out / "autograder").mkdir(parents=True, exist_ok=True)
    shutil.copy(result_dir / "student" / master.name, out / "student" / master.name)
    zips = sorted((result_dir / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"otter assign wrote {len(zips)} zip files for {master}")
    shutil.copy(zips[0], out / "autograder" / f"{name}-autograder.zip")
    shutil.copy(result_dir / "autograder" / master.name,
                out / "autograder" / f"{name}-solutions.ipynb")
    return name


def release(masters: pathlib.Path, out: pathlib.Path, *, only: list[str] | None = None,
            root: pathlib.Path | None = None, wheel: bool = True, jobs: int = 2) -> list[str]:
    """Release every master in ``masters`` (or ``only`` those sets) into ``out``."""
    chosen = masters_in(masters, only)
    if not chosen:
        raise ValueError(f"no master notebooks NN_topic.ipynb in {masters}")
    root = pathlib.Path(root or pathlib.Path.cwd())
    if not only:
        for sub in ("student", "autograder"):
            shutil.rmtree(out / sub, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        work = pathlib.Path(tmp)
        built = build_wheel(root, work / "wheel") if wheel else None
        if wheel and built is None:
            print("warning: no wheel of the course could be built (pip wheel failed); the "
                  "bundles grade with make grade but not on Gradescope", file=sys.stderr)
        requirement = _torch_requirement(root)
        with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
            futures = [pool.submit(_assign, m, work, out, built, requirement) for m in chosen]
            return [f.result() for f in futures]


def workspace(student: pathlib.Path, exercises: pathlib.Path) -> list[str]:
    """Copy each student notebook into ``exercises`` unless a copy is already there."""
    exercises.mkdir(parents=True, exist_ok=True)
    added = []
    for notebook in sorted(pathlib.Path(student).glob("[0-9][0-9]_*.ipynb")):
        target = exercises / notebook.name
        if not target.exists():
            shutil.copy(notebook, target)
            added.append(notebook.name)
    return added
