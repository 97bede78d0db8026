# One-command set-up for the course. `make lab` opens it; `make test` checks it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed

.PHONY: setup test lab release grade validate benchmark lint clean slides site browser-builds

# Installed once; repeated only when pyproject.toml or constraints.txt change.
setup: $(STAMP)

# PyTorch's own wheel index for torch alone, e.g. its CPU-only build on Linux without a GPU:
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
# Empty (the default): torch comes from wherever pip looks (PyPI, or a local wheel).
TORCH_INDEX ?=
TORCH_FROM  := $(if $(strip $(TORCH_INDEX)),--index-url $(TORCH_INDEX),)

$(STAMP): pyproject.toml constraints.txt
	@echo "==> [1/4] Python environment in $(VENV)/"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> [2/4] torch (pinned in constraints.txt; the largest download, a minute or more)"
	$(PIP) install --progress-bar on --constraint constraints.txt $(TORCH_FROM) torch
	@echo "==> [3/4] the course (course_lib) with JupyterLab, the test and the build tools"
	$(PIP) install --progress-bar on --constraint constraints.txt --editable ".[dev]"
	@echo "==> [4/4] d2l 1.0.3, alone, for one cross-check test"
	# d2l 1.0.3 pins numpy 1.23.5 and friends: install it alone, for the cross-check test only.
	$(PIP) install --progress-bar on --no-deps d2l==1.0.3
	touch $(STAMP)
	@echo "==> set-up done: 'make lab' opens the course"

test: setup
	$(BIN)/ruff check .
	@$(MAKE) --no-print-directory browser-builds
	$(BIN)/python -m pytest

# Exercises (exercises/README.md): otter assign turns each master in exercises/masters/ into a
# student notebook (dist/student/) and a grading bundle (dist/autograder/, Gradescope-ready).
MASTERS  := $(wildcard exercises/masters/[0-9][0-9]_*.ipynb)
RELEASED := dist/.released

# lab and grade release for themselves when a master changed (without the wheel of the course
# that Gradescope needs); make release always builds everything, wheel included.
$(RELEASED): $(MASTERS) | $(STAMP)
	$(BIN)/python -m course_lib.grading release --no-wheel
	touch $@

release: setup
	$(BIN)/python -m course_lib.grading release
	touch $(RELEASED)

# Grade every *.ipynb under SUBMISSIONS into dist/grades/ (gradebook.csv, feedback/, run.json).
# GRADE_FLAGS passes options through, e.g. GRADE_FLAGS="--assignment 06_momentum --jobs 4".
ifneq ($(filter grade,$(MAKECMDGOALS)),)
ifeq ($(strip $(SUBMISSIONS)),)
$(error usage: make grade SUBMISSIONS=<folder of notebooks>)
endif
endif
grade: setup $(RELEASED)
	$(BIN)/python -m course_lib.grading grade "$(SUBMISSIONS)" $(GRADE_FLAGS)

# The learner's copies of the exercises go to exercises/ once (never overwritten); JupyterLab
# serves the whole course and opens the start page.
lab: setup $(RELEASED)
	$(BIN)/python -m course_lib.grading workspace
	$(BIN)/jupyter lab --ServerApp.root_dir=. chapters/00_start_here.ipynb

# Lecture decks and the course website (slides/README.md, site/README.md). Their front-end
# assets come from the npm registry, pinned by the lock files, installed once into
# slides/node_modules and site/node_modules (never committed).
NPM_CI        := npm ci --no-audit --no-fund --ignore-scripts --prefix
SLIDES_ASSETS := slides/node_modules/.package-lock.json
SITE_ASSETS   := site/node_modules/.package-lock.json
# The site links each chapter to its students' exercises once site/exercises.toml lists any:
# then they are released first.
SITE_RELEASE  := $(if $(shell grep -sE '^ *"?[0-9]' site/exercises.toml),$(RELEASED),)

$(SLIDES_ASSETS): slides/package.json slides/package-lock.json
	$(NPM_CI) slides

$(SITE_ASSETS): site/package.json site/package-lock.json
	$(NPM_CI) site

# dist/slides/NN_topic.html (open from disk, offline) and NN_topic.pdf (handouts, printed by
# chromium); only decks older than their notebook are rebuilt.
slides: setup $(SLIDES_ASSETS)
	$(BIN)/python -m slides.build

# dist/site/index.html: every chapter with its stored outputs, searchable, offline.
site: setup $(SITE_ASSETS) $(SITE_RELEASE)
	$(BIN)/python site/build.py

# The browser tests (tests/browser/) read dist/slides and dist/site; without a chromium they
# skip, and so do these builds.
browser-builds:
	@if $(BIN)/python -c "import sys; from slides.browser import find_chromium; sys.exit(find_chromium() is None)"; \
	then $(MAKE) --no-print-directory slides site; \
	else echo "browser tests skipped: no chromium found (apt-get install chromium, or set CHROMIUM=/path)"; fi

validate: setup
	$(BIN)/python -m course_lib validate

benchmark: setup
	$(BIN)/python benchmarks/step_time.py

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
