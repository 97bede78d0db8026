"""The set-up files agree with each other: pyproject, environment.yml, Makefile, CI, README."""

import pathlib
import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name


def runtime_requirements():
    return [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]


def conda_specs():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.extend(dep.get("pip", []))
            continue
        name, _, spec = re.match(r"([A-Za-z0-9_.-]+)(\s*(.*))", dep).groups()
        specs[name.lower()] = SpecifierSet(spec.replace(" ", "")) if spec else SpecifierSet()
    return env, specs, pip


def test_environment_yml_has_every_runtime_dependency_with_the_same_range():
    _, specs, _ = conda_specs()
    for req in runtime_requirements():
        conda_name = CONDA_NAMES.get(req.name, req.name)
        assert conda_name in specs, f"{req.name} missing from environment.yml"
        assert specs[conda_name] == req.specifier, (req.name, specs[conda_name], req.specifier)


def test_environment_yml_python_and_pip_section():
    env, specs, pip = conda_specs()
    assert env["name"]
    assert "pip" in specs
    requires = SpecifierSet(PYPROJECT["project"]["requires-python"])
    for version in ("3.11", "3.12", "3.13"):
        assert version in specs["python"] and version in requires
    assert "3.10" not in specs["python"] and "3.10" not in requires
    assert "-e .[dev]" in pip


def test_pyproject_dependencies_are_ranges_and_dev_extra_is_complete():
    names = {req.name for req in runtime_requirements()}
    assert {"numpy", "torch", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel"} <= names
    for req in runtime_requirements():
        assert not any(s.operator == "==" for s in req.specifier), f"{req} is pinned"
    dev = {Requirement(r).name for r in PYPROJECT["project"]["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "pytest-xdist", "ruff", "pyyaml"} <= dev
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"


def test_constraints_pin_the_cpu_torch_and_the_makefile_uses_them():
    constraints = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==2\.13\.0$", constraints, re.M)
    makefile = (ROOT / "Makefile").read_text()
    assert "--constraint constraints.txt" in makefile
    for target in ("setup:", "test: setup", "lab: setup"):
        assert target in makefile
    assert '--editable ".[dev]"' in makefile


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec make test$", ci, re.M)
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert "make lab" in first_block and "make test" in first_block


@pytest.mark.parametrize("option", ["--nbval", "--nbval-current-env", "--nbval-sanitize-with",
                                    "--doctest-modules", "--dist"])
def test_pytest_runs_notebooks_strictly(option):
    assert option in PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"]
    assert "--nbval-lax" not in PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"]


def test_setup_shows_progress_and_takes_an_optional_torch_index():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(STAMP): pyproject.toml constraints.txt")[1].split("\n\n")[0]
    assert "--quiet" not in recipe  # pip's own progress is shown
    assert len(re.findall(r'@echo "==> \[\d/4\]', recipe)) == 4  # and a line per stage
    assert re.search(r"^TORCH_INDEX \?=\s*$", makefile, re.M)  # empty by default: offline wheel
    torch_lines = [line for line in recipe.splitlines() if "$(TORCH_FROM)" in line]
    assert len(torch_lines) == 1 and torch_lines[0].rstrip().endswith("torch")
    assert "--index-url $(TORCH_INDEX)" in makefile
    readme = (ROOT / "README.md").read_text()
    assert "make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu" in readme


def test_authoring_guide_is_out_of_the_learners_chapter_list():
    assert not (ROOT / "chapters" / "AUTHORING.md").exists()
    assert (ROOT / "docs" / "AUTHORING.md").is_file()
    assert "docs/AUTHORING.md" in (ROOT / "README.md").read_text()
    assert {p.suffix for p in (ROOT / "chapters").iterdir() if p.is_file()} <= {".ipynb"}
